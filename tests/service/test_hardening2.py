"""Issue #22 (Hardening II) over HTTP, on a tiny text model: one limits table on every path
(ids, texts, k), writes and reviews that hold the write lock only for the engine's write,
payload indexes off the request path and off every lock, cheap refusals for hostile clients
(`serve --client-requests`), every client value a 4xx, key roles, and the smaller defects.
Timing cases are measured by benchmarks/hardening_probe.py, not here."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.tiny_text_model import save_tiny_text_model
from typer.testing import CliRunner

from surematch.data import References
from surematch.errors import InputError
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import files
from surematch.limits import LIMITS
from surematch.model import SimilarityModel
from surematch.service import create_app
from surematch.service.limits import BodyLimit

KEY = "admin-key"
W = {"X-API-Key": KEY}
REFS = [("r1", "software developer"), ("r2", "nurse"), ("r3", "truck driver"),
        ("r4", "baker"), ("r5", "data scientist")]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model folder, index folder) of a tiny text model and REFS."""
    root = tmp_path_factory.mktemp("hardening2")
    model_dir = save_tiny_text_model(root)
    with ReferenceIndex.create(root / "index", SimilarityModel.load(model_dir)) as index:
        index.add(References([i for i, _ in REFS], [t for _, t in REFS],
                             [{"lang": "en"} for _ in REFS]), progress=False)
    return model_dir, root / "index"


@pytest.fixture()
def index_dir(tiny: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(tiny[1], tmp_path / "index")
    return tmp_path / "index"


@pytest.fixture()
def client(tiny: tuple[Path, Path], index_dir: Path) -> Iterator[TestClient]:
    app = create_app(tiny[0], index_dir, api_key=KEY)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def post(c: TestClient, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST body as ASCII JSON: lone surrogates travel as \\udfff escapes, as a hostile
    client sends them (httpx cannot encode them raw)."""
    return c.post(path, content=json.dumps(body).encode(),
                  headers={"content-type": "application/json", **(headers or {})})


def is_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["detail"], str) and body["request_id"]
    return body


# -- one table of limits (#19 item 4) ----------------------------------------------------------
def test_one_id_limit_on_the_cli_http_and_python(tiny: tuple[Path, Path], tmp_path: Path,
                                                 client: TestClient) -> None:
    """A 230-character id is taken by all three paths; a 257-character one is refused by all
    three with the same message."""
    from surematch.cli import load_commands

    ok, long = "a" * 230, "b" * 257
    expected = f"id {long[:40]!r}... is 257 characters long, the most is {LIMITS.id_chars}"
    # Python
    with ReferenceIndex.create(tmp_path / "py", SimilarityModel.load(tiny[0])) as index:
        assert index.add(References([ok], ["pilot"], [{}]), progress=False) == 1
        with pytest.raises(InputError) as python:
            index.add(References([long], ["pilot"], [{}]), progress=False)
    # HTTP
    assert client.post("/v1/references", json={"references": [{"id": ok, "text": "pilot"}]},
                       headers=W).status_code == 200
    http = is_error(client.post("/v1/references", json={"references": [
        {"id": long, "text": "pilot"}]}, headers=W), 422)
    feedback = is_error(client.post("/v1/feedback", json={
        "query": "q", "decision": "accept", "shown_id": long}, headers=W), 422)
    # CLI
    cli = load_commands()
    for rid, name in ((ok, "ok.csv"), (long, "long.csv")):
        (tmp_path / name).write_text(f"id,text\n{rid},pilot\n")
    taken = CliRunner().invoke(cli, ["index", str(tiny[0]), str(tmp_path / "ok.csv"),
                                     "--index", str(tmp_path / "cli")])
    assert taken.exit_code == 0, taken.output
    refused = CliRunner().invoke(cli, ["index", str(tiny[0]), str(tmp_path / "long.csv"),
                                       "--index", str(tmp_path / "cli")])
    assert isinstance(refused.exception, InputError)
    assert python.value.message == expected
    assert http["detail"].endswith(expected) and feedback["detail"].endswith(expected)
    assert refused.exception.message == expected


def test_one_k_limit_on_the_cli_http_and_python(tiny: tuple[Path, Path], client: TestClient,
                                               tmp_path: Path) -> None:
    """k = LIMITS.k is taken by every path; k = LIMITS.k + 1 is refused by HTTP, the Python
    API (match, match_batch, match_embedded) and the CLI (single queries and files, before the
    model loads) with the same message."""
    from surematch.cli import load_commands

    most = LIMITS.k
    expected = f"k is {most + 1}, the most is {most}"
    assert client.post("/v1/match", json={"query": "nurse", "k": most}).status_code == 200
    http = is_error(client.post("/v1/match", json={"query": "nurse", "k": most + 1}), 422)
    assert http["detail"].endswith(expected)
    refused: list[str] = []
    index_dir = shutil.copytree(tiny[1], tmp_path / "other")  # the client holds its own
    with ReferenceIndex.open(index_dir, SimilarityModel.load(tiny[0])) as index:
        assert index.match("nurse", k=most).matches
        for call in (lambda: index.match("nurse", k=most + 1),
                     lambda: index.match_batch(["nurse"], k=most + 1),
                     lambda: index.match_embedded(["nurse"], *index.embed_queries(["nurse"]),
                                                  k=most + 1)):
            with pytest.raises(InputError) as python:
                call()
            refused.append(python.value.message)
    cli = load_commands()
    (tmp_path / "q.csv").write_text("query\nnurse\n")
    args = [str(tiny[0]), "--index", str(index_dir)]
    taken = CliRunner().invoke(cli, ["match", *args, "nurse", "-k", str(most), "--json"])
    assert taken.exit_code == 0, taken.output
    for extra in (["nurse"], ["--queries", str(tmp_path / "q.csv"), "--out",
                              str(tmp_path / "out.csv")]):
        # a missing model folder shows the check runs before anything loads
        out = CliRunner().invoke(cli, ["match", str(tmp_path / "no-model"), "--index",
                                       str(index_dir), *extra, "-k", str(most + 1)])
        assert isinstance(out.exception, InputError), out.output
        refused.append(out.exception.message)
    assert refused == [expected] * 5
    assert not (tmp_path / "out.csv").exists()


def test_the_open_match_budget_has_one_message_in_the_table() -> None:
    """The 422 of an open match request comes from limits.over_open_budget; the Python API
    and the CLI are the operator's own (like a keyed request) and are not held to it."""
    from surematch.limits import over_open_budget

    assert over_open_budget(256, 10, 1_000) is None
    assert over_open_budget(257, 10, 1_000) == (
        "257 queries x k 10 (1,000 characters) is over what a request without a key may ask:"
        " queries x k 2560, 100,000 characters; send fewer or shorter queries, a smaller k,"
        " or a key")
    assert over_open_budget(1, 1, LIMITS.open_match_chars + 1) is not None


def test_limits_live_in_one_table() -> None:
    from surematch.feedback import store
    from surematch.index.stores import limits as store_limits
    from surematch.service import schemas

    assert store_limits.LIMITS is LIMITS
    assert not hasattr(store, "MAX_ID_CHARS")
    assert "200" not in Path(schemas.__file__).read_text()


def test_texts_over_the_limit_are_refused_with_one_message(client: TestClient,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.setattr(LIMITS, "text_chars", 10)
    out = is_error(client.post("/v1/match", json={"query": "x" * 11}), 422)
    assert "11 characters long, the most is 10" in out["detail"]
    monkeypatch.setattr(LIMITS, "texts_per_request", 3)
    out = is_error(client.post("/v1/references", json={"references": [
        {"id": "t", "texts": ["a", "b", "c", "d"]}]}, headers=W), 422)
    assert "4 texts; at most 3" in out["detail"]


# -- writes never stall reads ------------------------------------------------------------------
def test_writes_embed_outside_the_write_lock(client: TestClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts are embedded while no lock is held; the write lock covers the engine's write."""
    state = client.app.state.service
    held: list[bool] = []
    embed = state.model.embed

    def watched(texts: Any, *args: Any, **kwargs: Any) -> Any:
        held.append(state.lock._writer or state.lock._readers > 0)
        return embed(texts, *args, **kwargs)

    monkeypatch.setattr(state.model, "embed", watched)
    assert client.post("/v1/references", json={"references": [
        {"id": "w1", "texts": ["ship pilot", "harbour pilot"]}]}, headers=W).status_code == 200
    assert client.post("/v1/references/w1/texts", json={"texts": ["tug pilot"]},
                       headers=W).status_code == 200
    assert client.post("/v1/rules", json={"trigger": "pilot", "exclude": "baker"},
                       headers=W).status_code == 200
    assert held and not any(held)
    assert client.get("/v1/references/w1").json()["texts"][-1]["text"] == "tug pilot"


def test_a_review_embeds_the_text_it_teaches_outside_the_write_lock(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Learning (`feedback.learn`) holds the write lock for the engine's write only: the
    correction's text is embedded before, and still lands on the corrected reference."""
    state = client.app.state.service
    held: list[bool] = []

    def watch(name: str) -> None:
        embed = getattr(state.model, name)

        def watched(texts: Any, *args: Any, **kwargs: Any) -> Any:
            held.append(state.lock._writer)
            return embed(texts, *args, **kwargs)

        monkeypatch.setattr(state.model, name, watched)

    watch("embed")
    watch("embed_with_confidence")
    monkeypatch.setattr(state, "learn_texts", True)
    r = client.post("/v1/feedback", json={"query": "Ship  Cook", "decision": "correct",
                                          "shown_id": "r4", "corrected_id": "r2"}, headers=W)
    assert r.status_code == 200, r.text
    assert held and not any(held)
    texts = client.get("/v1/references/r2").json()["texts"]
    assert {"text": "Ship Cook", "kind": "reviewed"}.items() <= texts[-1].items()


@pytest.fixture()
def unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The payload indexer without its pause between builds (tests only)."""
    from surematch.service import indexer

    monkeypatch.setattr(indexer, "MIN_PAUSE", 0.0)
    monkeypatch.setattr(indexer, "PACE", 0.0)


def test_payload_indexes_are_made_off_the_request_path_and_bounded(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, unpaced: None) -> None:
    """A payload of many new keys: the request makes no payload index; the indexer thread
    makes at most LIMITS.payload_indexes of them, one at a time, never under the write lock."""
    state = client.app.state.service
    made: list[tuple[str, bool]] = []
    create = state.index.store.create_payload_index

    def watched(key: str, kind: Any) -> None:
        made.append((threading.current_thread().name, state.lock._writer))
        create(key, kind)

    monkeypatch.setattr(state.index.store, "create_payload_index", watched)
    payload = {f"k{n}": n for n in range(LIMITS.payload_keys)}
    r = client.post("/v1/references", json={"references": [
        {"id": "wide", "text": "lighthouse keeper", "payload": payload}]}, headers=W)
    assert r.status_code == 200, r.text
    state.indexer.wait()
    known = state.index.store.read_meta()["payload_indexes"]
    assert len(known) == LIMITS.payload_indexes  # "lang" and the first new keys
    assert made and all(name == "payload-index" and not locked for name, locked in made)
    found = client.post("/v1/match", json={"query": "lighthouse", "filter": {
        f"k{LIMITS.payload_keys - 1}": LIMITS.payload_keys - 1}}).json()
    assert [m["id"] for m in found["matches"]] == ["wide"]  # unindexed keys still filter


def test_writes_and_matches_never_wait_for_a_payload_index_build(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, unpaced: None) -> None:
    """While the indexer is inside a build (held there), a write with new keys of its own, a
    write of texts, a delete and matches all answer: none waits for the build to end."""
    state = client.app.state.service
    inside, release = threading.Event(), threading.Event()
    create = state.index.store.create_payload_index

    def held(key: str, kind: Any) -> None:
        inside.set()
        release.wait(60)
        create(key, kind)

    monkeypatch.setattr(state.index.store, "create_payload_index", held)
    first = client.post("/v1/references", json={"references": [
        {"id": "w1", "text": "harbour pilot", "payload": {"a": 1, "b": 2}}]}, headers=W)
    assert first.status_code == 200 and inside.wait(30)
    answers: list[int] = []

    def during() -> None:
        answers.append(client.post("/v1/references", json={"references": [
            {"id": "w2", "text": "tug master", "payload": {f"n{i}": "v" for i in range(20)}}]},
            headers=W).status_code)
        answers.append(client.post("/v1/references/w1/texts", json={"texts": ["pilot"]},
                                   headers=W).status_code)
        answers.append(client.post("/v1/match", json={"query": "pilot"}).status_code)
        answers.append(client.post("/v1/match", json={"queries": ["nurse", "baker"]}
                                   ).status_code)
        answers.append(client.delete("/v1/references/r4", headers=W).status_code)

    worker = threading.Thread(target=during)
    worker.start()
    worker.join(60)  # a deadlock would leave it waiting for the build
    alive = worker.is_alive()
    release.set()
    worker.join()
    assert not alive and answers == [200] * 5
    state.indexer.wait()
    assert {"a", "b"} <= set(state.index.store.read_meta()["payload_indexes"])


def test_a_server_indexes_new_keys_only_while_the_index_is_small(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, unpaced: None) -> None:
    """Past LIMITS.payload_index_points a build would pause the server too long: new keys
    are filtered without an index, and still filter right."""
    monkeypatch.setattr(LIMITS, "payload_index_points", 3)
    state = client.app.state.service
    r = client.post("/v1/references", json={"references": [
        {"id": "big", "text": "lighthouse keeper", "payload": {"shift": "night"}}]}, headers=W)
    assert r.status_code == 200
    state.indexer.wait()
    assert "shift" not in state.index.store.read_meta()["payload_indexes"]
    found = client.post("/v1/match", json={"query": "lighthouse",
                                           "filter": {"shift": "night"}}).json()
    assert [m["id"] for m in found["matches"]] == ["big"]


def test_healthz_never_waits_for_a_worker_thread() -> None:
    """/healthz runs on the event loop: the probe saw it wait seconds behind busy threads."""
    from surematch.service import routes_ops

    assert asyncio.iscoroutinefunction(routes_ops.healthz)


def test_python_add_indexes_a_bounded_number_of_keys(tiny: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    with ReferenceIndex.create(tmp_path / "ix", SimilarityModel.load(tiny[0])) as index:
        index.add(References(["p"], ["pilot"], [{f"k{n}": n for n in range(40)}]),
                  progress=False)
        assert len(index.store.read_meta()["payload_indexes"]) == LIMITS.payload_indexes


# -- unauthenticated cheapness -----------------------------------------------------------------
def test_made_up_methods_get_a_cheap_405_and_one_metrics_label(client: TestClient) -> None:
    for n in range(5):
        r = client.request("X" * (8_000 + n), "/v1/match")
        assert is_error(r, 405)
    assert client.request("PURGE", "/healthz").status_code == 405
    client.post("/v1/match", json={"query": "nurse"})
    metrics = client.get("/metrics").text
    assert "XXXX" not in metrics and "PURGE" not in metrics
    client.request("PATCH", "/v1/match")
    assert 'method="PATCH"' in client.get("/metrics").text


def test_open_match_requests_have_a_compute_budget(tiny: tuple[Path, Path],
                                                   index_dir: Path) -> None:
    from surematch.limits import over_open_budget

    app = create_app(tiny[0], index_dir, api_key=KEY, max_batch=256)
    with TestClient(app, raise_server_exceptions=False) as c:
        big = {"queries": ["nurse"] * 30, "k": 100}  # 3,000 > 2,560
        out = is_error(c.post("/v1/match", json=big), 422)
        assert out["detail"].endswith(over_open_budget(30, 100, 150))
        assert c.post("/v1/match", json=big, headers=W).status_code == 200
        assert c.post("/v1/match", json={"queries": ["nurse"] * 25, "k": 100}
                      ).status_code == 200
        long = {"queries": ["nurse " * 333] * 51, "k": 1}  # 101,898 characters
        assert "100,000 characters" in is_error(c.post("/v1/match", json=long), 422)["detail"]
        assert c.post("/v1/match", json=long, headers=W).status_code == 200


def test_a_client_past_its_requests_in_flight_gets_429() -> None:
    from surematch.service.limits import ClientLimit

    started, release = asyncio.Event(), asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/healthz":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            return
        started.set()
        await release.wait()

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        limit = ClientLimit(slow, limit=1)
        scope = {"type": "http", "path": "/v1/match", "client": ("10.0.0.1", 1), "state": {}}
        first = asyncio.ensure_future(limit(scope, None, record))
        await started.wait()
        await limit(scope, None, record)  # the second one, while the first is in flight
        await limit({**scope, "path": "/healthz"}, None, record)  # probes pass
        release.set()
        await first

    asyncio.run(run())
    assert sent[0]["status"] == 429 and (b"retry-after", b"1") in sent[0]["headers"]
    assert sent[2]["status"] == 200


def test_a_body_sent_too_slowly_gets_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LIMITS, "read_seconds", 0.05)
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not run")

    async def trickle() -> dict[str, Any]:
        await asyncio.sleep(0.02)
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [], "state": {}}
    asyncio.run(BodyLimit(app, 1_000_000)(scope, trickle, record))
    assert sent[0]["status"] == 408


def test_the_server_settings_bound_heads_and_slow_clients() -> None:
    from surematch.service.server import TimedH11Protocol, allowed_hosts, server_options

    options = server_options()
    assert options["http"] is TimedH11Protocol
    assert options["h11_max_incomplete_event_size"] == LIMITS.head_bytes <= 16 * 1024
    assert options["timeout_keep_alive"] <= 5 and options["access_log"] is False
    assert allowed_hosts("127.0.0.1", None) == ["localhost", "127.0.0.1", "::1"]
    assert allowed_hosts("10.1.2.3", None) == ["localhost", "127.0.0.1", "::1", "10.1.2.3"]
    assert allowed_hosts("0.0.0.0", None) is None and allowed_hosts("x", ["*"]) is None
    assert allowed_hosts("127.0.0.1", ["match.example"]) == ["match.example"]


def test_a_half_sent_head_is_cut_off(tiny: tuple[Path, Path], index_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A real uvicorn with our settings: a client that sends half a head is disconnected."""
    import socket

    import uvicorn

    from surematch.service.server import server_options

    monkeypatch.setattr(LIMITS, "read_seconds", 0.3)
    app = create_app(tiny[0], index_dir, api_key=KEY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", **server_options()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")  # no blank line
            assert conn.recv(100) == b""  # closed by the server, not by our 30 s timeout
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" +
                         b"X-Pad: " + b"a" * (LIMITS.head_bytes + 10) + b"\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b"X" * 16_000 + b" /v1/match HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.1 431")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            body = b'{"query": "' + b"n" * 20_000 + b'"}'  # a body larger than a head: fine
            conn.sendall(b"POST /v1/match HTTP/1.1\r\nHost: localhost\r\ncontent-type: "
                         b"application/json\r\ncontent-length: " + str(len(body)).encode() +
                         b"\r\n\r\n" + body)
            assert conn.recv(100).startswith(b"HTTP/1.1 422")  # the text limit, not the head
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# -- every client value is a 4xx ---------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    {"a": 2**63}, {"a": -(2**63) - 1}, {"must": [{"key": "a", "any": [2**64]}]},
    {"must": [{"key": "a", "range": {"gte": 10**400}}]}, {"a": "\udfff"}, {"\udfff": 1}])
def test_out_of_range_values_in_filters_are_422(client: TestClient, spec: Any) -> None:
    is_error(post(client, "/v1/match", {"query": "nurse", "filter": spec}), 422)


def test_non_finite_bound_in_a_filter_is_422(client: TestClient) -> None:
    body = b'{"query": "nurse", "filter": {"must": [{"key": "a", "range": {"gte": 1e400}}]}}'
    r = client.post("/v1/match", content=body, headers={"content-type": "application/json"})
    is_error(r, 422)


@pytest.mark.parametrize("payload", [{"\udfff": 1}, {"a": "\udfff"}, {"a": [{"b": "\ud800"}]},
                                     {"a": 2**64}])
def test_bad_unicode_and_huge_ints_in_payloads_are_422(client: TestClient,
                                                       payload: dict[str, Any]) -> None:
    body = {"references": [{"id": "u", "text": "pilot", "payload": payload}]}
    is_error(post(client, "/v1/references", body, W), 422)
    for text_body in ({"query": "\udfff"}, {"queries": ["ok", "\ud800x"]}):
        is_error(post(client, "/v1/match", text_body), 422)
    is_error(post(client, "/v1/feedback", {"query": "\udfff", "decision": "accept",
                                           "shown_id": "r1"}, W), 422)


def test_full_disk_is_507_on_every_write_route(client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.post("/v1/references/r1/texts", json={"texts": ["coder"]},
                       headers=W).status_code == 200
    monkeypatch.setattr(files, "free_bytes", lambda _: 0)
    for method, path, body in (
            ("POST", "/v1/references", {"references": [{"id": "f", "text": "pilot"}]}),
            ("POST", "/v1/references/r1/texts", {"texts": ["nursing"]}),
            ("DELETE", "/v1/references/r1/texts?text=coder", None),
            ("DELETE", "/v1/references/r2", None),
            ("POST", "/v1/rules", {"trigger": "a", "exclude": "b"}),
            ("POST", "/v1/feedback", {"query": "q", "decision": "accept", "shown_id": "r1"})):
        r = client.request(method, path, json=body, headers=W)
        assert "disk is full" in is_error(r, 507)["detail"], (method, path)
    assert len(client.app.state.service.feedback) == 0


# -- key roles ---------------------------------------------------------------------------------
def test_key_roles_bound_what_a_key_may_do(tiny: tuple[Path, Path], index_dir: Path) -> None:
    app = create_app(tiny[0], index_dir, api_key={"reader": "k-read", "rev": "k-rev",
                                                  "boss": "k-admin", "old": "k-old"},
                     key_roles={"reader": "read", "rev": "review", "boss": "admin"})
    ref = {"references": [{"id": "x1", "text": "pilot"}]}
    review = {"query": "nurse", "decision": "accept", "shown_id": "r2"}
    rule = {"trigger": "a", "exclude": "b"}
    with TestClient(app, raise_server_exceptions=False) as c:
        def h(key: str) -> dict[str, str]:
            return {"X-API-Key": key}

        for key in ("k-read", "k-rev"):
            out = is_error(c.post("/v1/references", json=ref, headers=h(key)), 403)
            assert "needs admin" in out["detail"]
            is_error(c.post("/v1/rules", json=rule, headers=h(key)), 403)
            is_error(c.delete("/v1/references/r1", headers=h(key)), 403)
            is_error(c.post("/v1/calibration/refit", json={}, headers=h(key)), 403)
        is_error(c.post("/v1/feedback", json=review, headers=h("k-read")), 403)
        stored = c.post("/v1/feedback", json=review, headers=h("k-rev"))
        assert stored.status_code == 200 and stored.json()["stored"]["reviewer"] == "rev"
        assert c.post("/v1/match", json={"query": "nurse"}, headers=h("k-read")).status_code \
            == 200
        for key in ("k-admin", "k-old"):  # admin, and a key without a role: as before
            assert c.post("/v1/references", json=ref, headers=h(key)).status_code == 200
        assert c.get("/v1/key", headers=h("k-read")).json() == {
            "name": "reader", "role": "read", "keys": True}
        assert c.get("/v1/key", headers=h("k-old")).json()["role"] == "admin"
        assert c.get("/v1/key", headers=h("wrong")).json()["role"] is None
    with pytest.raises(ValueError, match="role of key"):
        create_app(tiny[0], index_dir, api_key={"a": "k"}, key_roles={"a": "root"})


def test_serve_parses_named_keys_with_roles() -> None:
    from surematch.cli.serve import key_roles

    keys, roles = key_roles(["ann=k1:read", "bob=k2:review", "cy=k3:admin", "dee=k:4"])
    assert keys == {"ann": "k1", "bob": "k2", "cy": "k3", "dee": "k:4"}
    assert roles == {"ann": "read", "bob": "review", "cy": "admin"}
    assert key_roles(["plain-key"]) == ("plain-key", {})


def test_the_page_shows_only_what_the_role_allows() -> None:
    static = Path(__file__).parents[2] / "src" / "surematch" / "service" / "static"
    script, style = (static / "app.js").read_text(), (static / "style.css").read_text()
    assert '"/v1/key"' in script and "dataset.role" in script
    assert 'body[data-role="read"] .fb' in style and 'body:not([data-role="admin"]) #refit' \
        in style


# -- the smaller defects -----------------------------------------------------------------------
def test_a_reference_whose_id_ends_in_slash_texts_can_be_deleted(client: TestClient) -> None:
    assert client.post("/v1/references", json={"references": [
        {"id": "odd/texts", "text": "odd job"}]}, headers=W).status_code == 200
    assert client.get("/v1/references/odd%2Ftexts").status_code == 200
    r = client.delete("/v1/references/odd%2Ftexts", headers=W)
    assert r.status_code == 200 and r.json() == {"deleted": "odd/texts"}
    assert client.get("/v1/references/odd%2Ftexts").status_code == 404
    is_error(client.delete("/v1/references/r1/texts", headers=W), 422)  # ?text= missing


def test_texts_routes_strip_ids(client: TestClient) -> None:
    r = client.post("/v1/references/%20r4%20/texts", json={"texts": ["pastry cook"]},
                    headers=W)
    assert r.status_code == 200 and r.json()["id"] == "r4"
    r = client.delete("/v1/references/%20r4%20/texts?text=pastry%20cook", headers=W)
    assert r.status_code == 200 and r.json()["deleted"] == "pastry cook"


def test_csv_export_defuses_formulas(client: TestClient) -> None:
    for n, query in enumerate(("=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)",
                               "\tTAB", "plain")):
        assert client.post("/v1/feedback", json={"query": query, "decision": "accept",
                                                 "shown_id": REFS[n % 5][0]},
                           headers=W).status_code == 200
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/feedback/export?format=csv").text)))
    texts = {r["text"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in texts and "'+1+1" in texts and "'@SUM(A1)" in texts
    assert "plain" in texts and not any(t[0] in "=+-@\t\r" for t in texts)
    jsonl = client.get("/v1/feedback/export?format=jsonl").text
    assert '"=HYPERLINK' in jsonl  # JSON is data, never a formula: left as it is


def test_a_flat_body_that_is_not_json_names_it(client: TestClient) -> None:
    for body in (b"\xff\xfe not utf-8", b"plain words"):
        out = is_error(client.post("/v1/match", content=body,
                                   headers={"content-type": "application/json"}), 422)
        assert "nested" not in out["detail"] and out["field"] == "body"


def test_a_reference_deleted_during_a_match_stays_out_of_the_queue(client: TestClient) -> None:
    state = client.app.state.service
    mark = state.deletions()
    found = {"query": "nurse", "matches": [{"id": "r2", "text": "nurse", "probability": 0.5,
                                            "band": "review"}]}
    state.forget_reference("r2")  # the delete lands while the match is in flight
    state.remember_reviews([found], since=mark)
    assert all(i["id"] != "r2" for i in state.review_items())
    state.remember_reviews([found], since=state.deletions())  # a match after it: kept
    assert any(i["id"] == "r2" for i in state.review_items())


def test_hosts_not_allowed_are_refused(tiny: tuple[Path, Path], index_dir: Path) -> None:
    app = create_app(tiny[0], index_dir, allowed_hosts=["localhost", "127.0.0.1"])
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost:8000") as c:
        assert c.get("/healthz").status_code == 200
        out = is_error(c.get("/healthz", headers={"host": "evil.example:8000"}), 400)
        assert out["field"] == "host"
        assert c.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_serve_without_a_key_warns_once(tiny: tuple[Path, Path], index_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from surematch.cli import load_commands

    seen: dict[str, Any] = {}

    def fake_run(asgi: Any, **options: Any) -> None:
        seen.update(options, hosts=asgi.user_middleware[0].kwargs["allowed_hosts"])
        asgi.state.service.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.delenv("SUREMATCH_API_KEY", raising=False)
    result = CliRunner().invoke(load_commands(), ["serve", str(tiny[0]), "--index",
                                                  str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.count("no --api-key: anyone reaching 127.0.0.1:8000 can write") == 1
    assert len(result.output.strip().splitlines()) == 1
    assert seen["h11_max_incomplete_event_size"] == LIMITS.head_bytes
    assert seen["hosts"] == ["localhost", "127.0.0.1", "::1"]


@pytest.mark.parametrize(("args", "limit"), [([], 9), (["--client-requests", "3"], 3),
                                            (["--client-requests", "0"], 0)])
def test_serve_sets_the_requests_in_flight_per_client(
        tiny: tuple[Path, Path], index_dir: Path, monkeypatch: pytest.MonkeyPatch,
        args: list[str], limit: int) -> None:
    """`serve --client-requests N` (default: the limits table's) reaches the 429 guard."""
    import uvicorn

    from surematch.cli import load_commands
    from surematch.service.limits import ClientLimit

    seen: list[int] = []

    def fake_run(asgi: Any, **options: Any) -> None:
        seen.extend(m.kwargs.get("limit") for m in asgi.user_middleware if m.cls is ClientLimit)
        asgi.state.service.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(LIMITS, "client_requests", 9)  # the table's value, as the default
    result = CliRunner().invoke(load_commands(), ["serve", str(tiny[0]), "--index",
                                                  str(index_dir), "--api-key", KEY, *args])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and (LIMITS.client_requests if seen[0] is None else seen[0]
                               ) == limit


def test_match_json_carries_the_filter_type_warning(tiny: tuple[Path, Path], index_dir: Path,
                                                    tmp_path: Path) -> None:
    from surematch.cli import load_commands

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(load_commands(), [
        "match", str(tiny[0]), "nurse", "--index", str(index_dir), "--filter", "lang=1",
        "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout[result.stdout.index("{"):])
    assert any("lang" in w for w in out["warnings"])
