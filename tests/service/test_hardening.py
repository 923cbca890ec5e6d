"""Issue #12 regressions over HTTP: limits as 422, engine failures as JSON with a request id,
a full disk as 507, read keys, type warnings, strict ints, ids, headers and offline docs."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from surematch.errors import EngineError, SurematchError
from surematch.index.stores import files
from surematch.service import create_app

KEY = "secret-key"
W = {"X-API-Key": KEY}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index_copy(built: tuple[Path, Path, list[str]],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("hardening") / "index"
    shutil.copytree(built[1], copy)
    return copy


@pytest.fixture(scope="module")
def client(built: tuple[Path, Path, list[str]], index_copy: Path) -> Iterator[TestClient]:
    app = create_app(built[0], index_copy, api_key=KEY, max_batch=8)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def nested(levels: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def is_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["request_id"] and r.headers["x-request-id"] == body["request_id"]
    return body


def test_poison_payload_is_refused_and_the_index_survives_a_restart(
        built: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    """Finding 1: one keyed write of a 130-level payload bricked the index."""
    folder = tmp_path / "index"
    shutil.copytree(built[1], folder)
    app = create_app(built[0], folder, api_key=KEY)
    with TestClient(app, raise_server_exceptions=False) as c:
        body = {"references": [{"id": "poison", "text": "p", "payload": nested(130)}]}
        out = is_error(c.post("/v1/references", json=body, headers=W), 422)
        assert out["field"] == "payload" and "32 levels" in out["detail"]
        assert c.get("/v1/references/poison").status_code == 404
        assert c.delete("/v1/references/poison", headers=W).status_code == 404
        assert c.post("/v1/match", json={"query": "nurse", "filter": {"x": 1}}).status_code == 200
    app = create_app(built[0], folder, api_key=KEY)  # the restart
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/v1/match", json={"query": "nurse", "filter": {"x": 1}}).status_code == 200
        assert c.get("/readyz").json()["references"] == len(built[2])


def test_huge_filter_is_refused_while_healthz_answers(client: TestClient) -> None:
    """Finding 2: a 9,000-clause should filter froze the server, /healthz included."""
    huge = {"should": [{"key": "a", "match": n} for n in range(9000)]}
    answers: dict[str, Any] = {}

    def send() -> None:
        answers["match"] = client.post("/v1/match", json={"query": "nurse", "filter": huge})

    thread = threading.Thread(target=send)
    thread.start()
    health = client.get("/healthz")
    thread.join()
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    out = is_error(answers["match"], 422)
    assert out["field"] == "filter.should" and "at most 100" in out["detail"]


@pytest.mark.parametrize("key", ["a[", "a..b", ".a", " ", "a\u0000b"])
def test_bad_filter_keys_are_422(client: TestClient, key: str) -> None:
    """Finding 4: keys that are not payload paths answered 500."""
    out = is_error(client.post("/v1/match", json={"query": "nurse", "filter": {key: 1}}), 422)
    assert out["field"] == f"filter.{key}" and "payload path" in out["detail"]


def test_deep_must_is_422(client: TestClient) -> None:
    spec: Any = {"x": 1}
    for _ in range(300):
        spec = {"must": [spec]}
    out = is_error(client.post("/v1/match", json={"query": "nurse", "filter": spec}), 422)
    assert "nested more than 8 levels" in out["detail"]
    deep = b'{"query": "nurse", "filter": ' + b'{"must": [' * 50_000 + b'{"x": 1}' + \
        b"]}" * 50_000 + b"}"
    r = client.post("/v1/match", content=deep, headers={"content-type": "application/json"})
    assert is_error(r, 422)["field"] == "body"


def test_engine_errors_hide_paths_and_words(client: TestClient, index_copy: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 5: 400 bodies held absolute index paths and the engine's messages; a panic
    answered text/plain without a request id."""
    index = client.app.state.service.index

    def engine(*_: object) -> None:
        raise EngineError(f"index {index_copy}/references: get failed: Service internal error")

    monkeypatch.setattr(index, "get", engine)
    out = is_error(client.get("/v1/references/x"), 500)
    assert str(index_copy) not in json.dumps(out) and "Service internal" not in json.dumps(out)

    def refused(*_: object) -> None:
        raise SurematchError(f"index {index_copy}/references is damaged")

    monkeypatch.setattr(index, "get", refused)
    out = is_error(client.get("/v1/references/x"), 400)
    assert str(index_copy) not in out["detail"] and "<path>" in out["detail"]

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic(*_: object) -> None:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(index, "get", panic)
    out = is_error(client.get("/v1/references/x"), 500)
    assert "index out of bounds" not in json.dumps(out)


def test_full_disk_answers_507_and_reads_work(client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 3: a write on a nearly full disk killed the server with SIGBUS."""
    ok = {"references": [{"id": "before-full", "text": "harbour pilot"}]}
    assert client.post("/v1/references", json=ok, headers=W).status_code == 200
    monkeypatch.setattr(files, "free_bytes", lambda _: 0)
    refused = {"references": [{"id": "while-full", "text": "tug captain"}]}
    out = is_error(client.post("/v1/references", json=refused, headers=W), 507)
    assert "disk is full" in out["detail"]
    is_error(client.post("/v1/rules", json={"trigger": "a", "exclude": "b"}, headers=W), 507)
    is_error(client.delete("/v1/references/before-full", headers=W), 507)
    assert client.post("/v1/match", json={"query": "harbour pilot", "k": 1}).json()[
        "matches"][0]["id"] == "before-full"
    assert client.get("/v1/references/before-full").status_code == 200
    monkeypatch.undo()
    assert client.get("/v1/references/while-full").status_code == 404
    assert client.delete("/v1/references/before-full", headers=W).status_code == 200


def test_start_up_on_a_full_disk_exits_2_with_one_line(
        built: tuple[Path, Path, list[str]], index_copy: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from surematch.cli import main

    monkeypatch.setattr(files, "free_bytes", lambda _: 1024)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)
    other = index_copy.parent / "startup"
    shutil.copytree(built[1], other)
    monkeypatch.setattr(sys, "argv", ["surematch", "serve", str(built[0]), "--index",
                                      str(other)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    lines = [x for x in capsys.readouterr().err.splitlines()  # less the model's load bars
             if x.strip() and "Loading weights" not in x]
    assert len(lines) == 1 and "MiB free" in lines[0], lines


def test_read_key_required_locks_every_read(built: tuple[Path, Path, list[str]],
                                            index_copy: Path) -> None:
    """Finding 6: reads could not be locked from the CLI; named keys say who reviewed."""
    from surematch.cli import load_commands

    seen: dict[str, Any] = {}

    def fake_app(model: Path, index: Path | None, **options: Any) -> str:
        seen.update(options)
        return "app"

    runner_app = load_commands()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("surematch.service.create_app", fake_app)
        mp.setattr(uvicorn, "run", lambda *_, **__: None)
        result = CliRunner().invoke(runner_app, [
            "serve", str(built[0]), "--index", str(index_copy), "--read-key-required",
            "--api-key", "alice=k-alice", "--api-key", "bob=k-bob"])
    assert result.exit_code == 0, result.output
    assert seen["read_key_required"] is True
    assert seen["api_key"] == {"alice": "k-alice", "bob": "k-bob"}
    result = CliRunner().invoke(runner_app, ["serve", str(built[0]), "--index",
                                             str(index_copy), "--read-key-required"])
    assert "needs --api-key" in str(result.exception)

    folder = index_copy.parent / "readkey"
    shutil.copytree(built[1], folder)
    app = create_app(built[0], folder, api_key={"alice": "k-alice", "bob": "k-bob"},
                     read_key_required=True)
    with TestClient(app, raise_server_exceptions=False) as c:
        for path in ("/v1/review-queue", "/v1/rules", "/v1/calibration", "/metrics",
                     f"/v1/references/{built[2][0]}"):
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers={"X-API-Key": "k-bob"}).status_code == 200, path
        assert c.post("/v1/match", json={"query": "nurse"}).status_code == 401
        assert c.get("/healthz").status_code == 200
        r = c.post("/v1/feedback", json={"query": "q", "id": built[2][0], "accepted": True},
                   headers={"X-API-Key": "k-alice"})
        assert r.json()["stored"]["reviewer"] == "alice"
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                       "description": schemes["APIKeyHeader"]["description"]}


def test_filter_type_mismatch_warns(client: TestClient, tmp_path: Path) -> None:
    """Finding 7: {"isco_major": 2} against stored strings matched nothing, silently."""
    out = client.post("/v1/match", json={"query": "nurse", "filter": {"isco_major": 2}}).json()
    assert out["no_match"] is True and out["matches"] == []
    assert "'isco_major' holds strings" in out["warnings"][0]
    good = client.post("/v1/match", json={"query": "nurse", "filter": {"isco_major": "2"}})
    assert good.json()["warnings"] == []


def test_csv_numbers_match_a_numeric_cli_filter(built: tuple[Path, Path, list[str]],
                                                tmp_path: Path) -> None:
    from surematch.data import read_references
    from surematch.index.reference_index import ReferenceIndex
    from surematch.index.stores.filters import parse_cli_filter
    from surematch.model import SimilarityModel

    path = tmp_path / "refs.csv"
    path.write_text("id,text,major,code\na,nurse,2,0110\nb,welder,7,7212\n", encoding="utf-8")
    refs = read_references(path)
    assert refs.payloads == [{"major": 2, "code": "0110"}, {"major": 7, "code": "7212"}]
    with ReferenceIndex.create(tmp_path / "ix", SimilarityModel.load(built[0])) as index:
        index.add(refs, progress=False)
        result = index.match("nurse", 5, parse_cli_filter(["major=2"]))
        assert [m.id for m in result.matches] == ["a"]
        assert index.filter_warnings(parse_cli_filter(["code=110"])) != []


@pytest.mark.parametrize(("body", "field"), [
    ({"query": "a", "k": True}, "k"), ({"query": "a", "k": "5"}, "k"),
    ({"query": "a", "k": 2.0}, "k")])
def test_k_is_a_strict_integer(client: TestClient, body: dict, field: str) -> None:
    """Finding 8: "k": true was read as 1 and "k": "5" as 5."""
    assert is_error(client.post("/v1/match", json=body), 422)["field"] == field


def test_ids_are_stripped_on_read_as_on_write(client: TestClient) -> None:
    body = {"references": [{"id": " spaced ", "text": "lighthouse keeper"}]}
    assert client.post("/v1/references", json=body, headers=W).status_code == 200
    assert client.get("/v1/references/%20spaced%20").json()["id"] == "spaced"
    assert client.delete("/v1/references/%20spaced%20", headers=W).status_code == 200


def test_truncated_json_names_the_body(client: TestClient) -> None:
    r = client.post("/v1/match", content=b'{"query": "nur', headers={
        "content-type": "application/json"})
    assert is_error(r, 422)["field"] == "body"


def test_page_sends_security_headers(client: TestClient) -> None:
    r = client.get("/")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self';" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_review_queue_forgets_a_deleted_reference(client: TestClient) -> None:
    body = {"references": [{"id": "queued", "text": "canal lock keeper"}]}
    assert client.post("/v1/references", json=body, headers=W).status_code == 200
    state = client.app.state.service
    state.remember_reviews([{"query": "q", "matches": [{"id": "queued", "band": "review"}]}])
    assert "queued" in [i["id"] for i in client.get("/v1/review-queue").json()["items"]]
    assert client.delete("/v1/references/queued", headers=W).status_code == 200
    assert "queued" not in [i["id"] for i in client.get("/v1/review-queue").json()["items"]]


def test_docs_are_served_offline(client: TestClient, built: tuple[Path, Path, list[str]],
                                 tmp_path: Path) -> None:
    page = client.get("/docs").text
    assert "cdn." not in page and "fonts.googleapis" not in page
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/openapi.json").json()["paths"]
    assert client.get("/redoc").status_code == 404
    folder = tmp_path / "index"
    shutil.copytree(built[1], folder)
    with TestClient(create_app(built[0], folder, docs=False)) as c:
        assert c.get("/docs").status_code == 404


def test_cli_match_warns_about_a_type_mismatch(built: tuple[Path, Path, list[str]],
                                               tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Finding 7 in the CLI: `match --filter isco_major=2` on strings said nothing."""
    from surematch.cli import load_commands

    folder = tmp_path / "index"
    shutil.copytree(built[1], folder)
    result = CliRunner().invoke(load_commands(), [
        "match", str(built[0]), "--index", str(folder), "nurse", "--filter", "isco_major=2",
        "--json"])
    assert result.exit_code == 0, result.output
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("'isco_major' holds strings" in r.getMessage() for r in warned)
