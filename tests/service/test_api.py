"""Every route of the HTTP API, bad input answered with the right 4xx, concurrent writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from surematch.service import create_app

KEY = "secret-key"

pytestmark = pytest.mark.slow
W = {"X-API-Key": KEY}


@pytest.fixture(scope="module")
def client(built: tuple[Path, Path, list[str]]) -> Iterator[TestClient]:
    model, index, _ = built
    # the session's shared index: reviews here must not teach it texts (test_learn_texts does
    # that on copies)
    app = create_app(model, index, api_key=KEY, max_body_bytes=100_000, max_batch=8,
                     learn_texts=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def count(client: TestClient) -> int:
    return client.get("/readyz").json()["references"]


def test_health_ready_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["references"] >= 30
    assert client.get("/docs").status_code == 200
    assert "/v1/match" in client.get("/openapi.json").json()["paths"]
    assert "review queue" in client.get("/").text.lower()


def test_match_single_and_batch(client: TestClient, built: tuple) -> None:
    ids = built[2]
    ref = client.get(f"/v1/references/{ids[0]}").json()
    one = client.post("/v1/match", json={"query": ref["text"], "k": 3}).json()
    assert one["matches"][0]["id"] == ids[0] and len(one["matches"]) == 3
    assert {"id", "payload", "similarity", "probability", "percent", "band"} <= set(
        one["matches"][0])
    assert "embedding_confidence" in one and one["rules_fired"] == []
    batch = client.post("/v1/match", json={"queries": [ref["text"], "nurse"], "k": 2}).json()
    assert len(batch["results"]) == 2 and batch["results"][0]["matches"][0]["id"] == ids[0]


def test_verify(client: TestClient) -> None:
    out = client.post("/v1/verify", json={"a": "software developer", "b": "programmer"}).json()
    assert 0 < out["similarity"] <= 1 and out["distance_metric"] == "cosine"
    assert out["probability"] is None and "pair calibration" in out["note"]


def test_references_upsert_get_delete(client: TestClient) -> None:
    before = count(client)
    body = {"references": [{"id": "x1", "text": "ship captain", "payload": {"lang": "en"}}]}
    assert client.post("/v1/references", json=body, headers=W).json()["written"] == 1
    assert client.get("/v1/references/x1").json() == {
        "id": "x1", "text": "ship captain", "payload": {"lang": "en"},
        "texts": [{"text": "ship captain", "kind": "title"}]}  # texts: issue #13
    top = client.post("/v1/match", json={"query": "ship captain", "k": 1,
                                         "filter": {"lang": "en"}}).json()
    assert top["matches"][0]["id"] == "x1"
    assert client.delete("/v1/references/x1", headers=W).status_code == 200
    assert client.get("/v1/references/x1").status_code == 404
    assert count(client) == before


def test_references_with_several_texts(client: TestClient) -> None:
    """Issue #13: texts beside text, adding texts, deleting one text, deleting the reference."""
    before = count(client)
    body = {"references": [{"id": "m1", "texts": ["ship captain", {"text": "master mariner"},
                                                  {"text": "commands a vessel",
                                                   "kind": "description"}],
                            "payload": {"lang": "en"}}]}
    assert client.post("/v1/references", json=body, headers=W).json()["written"] == 1
    got = client.get("/v1/references/m1").json()
    assert got["texts"] == [{"text": "ship captain", "kind": "title"},
                            {"text": "master mariner", "kind": "synonym"},
                            {"text": "commands a vessel", "kind": "description"}]
    top = client.post("/v1/match", json={"query": "master mariner", "k": 1}).json()["matches"][0]
    assert (top["id"], top["text"], top["kind"]) == ("m1", "master mariner", "synonym")
    added = client.post("/v1/references/m1/texts", json={"texts": ["sea captain"]}, headers=W)
    assert added.status_code == 200 and added.json()["added"] == 1
    assert len(added.json()["texts"]) == 4 and count(client) == before + 1
    assert client.post("/v1/references/m1/texts", json={"texts": ["x"]}).status_code == 401
    assert client.post("/v1/references/none-such/texts", json={"texts": ["x"]},
                       headers=W).status_code == 404
    bad = client.post("/v1/references/m1/texts", json={"texts": [{"text": "x", "kind": "nick"}]},
                      headers=W)
    assert bad.status_code == 422 and "kind" in bad.json()["detail"]
    gone = client.delete("/v1/references/m1/texts", params={"text": "master mariner"}, headers=W)
    assert gone.status_code == 200 and len(gone.json()["texts"]) == 3
    assert client.delete("/v1/references/m1/texts", params={"text": "master mariner"},
                         headers=W).status_code == 404
    assert client.delete("/v1/references/m1", headers=W).status_code == 200
    assert client.get("/v1/references/m1").status_code == 404 and count(client) == before


def test_rules_add_list_delete(client: TestClient) -> None:
    r = client.post("/v1/rules", json={"trigger": "junior", "exclude": "senior manager"},
                    headers=W)
    rule_id = r.json()["id"]
    assert rule_id in [x["id"] for x in client.get("/v1/rules").json()["rules"]]
    assert client.delete(f"/v1/rules/{rule_id}", headers=W).status_code == 200
    assert client.delete(f"/v1/rules/{rule_id}", headers=W).status_code == 404


def test_feedback_written_as_labelled_query(client: TestClient, built: tuple) -> None:
    ids = built[2]
    ok = client.post("/v1/feedback", json={"query": "q1", "id": ids[0], "accepted": True},
                     headers=W)
    no = client.post("/v1/feedback", json={"query": "q2", "id": ids[1], "accepted": False},
                     headers=W)
    assert ok.status_code == no.status_code == 200
    rows = [json.loads(x) for x in client.get("/v1/feedback/export?format=jsonl").text
            .splitlines()]
    assert {"text": "q1", "expected_id": ids[0], "rejected_id": ""}.items() <= rows[-2].items()
    assert {"text": "q2", "expected_id": "", "rejected_id": ids[1]}.items() <= rows[-1].items()
    assert client.post("/v1/feedback", json={"query": "q", "id": "nope", "accepted": True},
                       headers=W).status_code == 404
    assert client.get("/v1/review-queue").json()["items"] == []  # uncalibrated: no band


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "says"), [
    ("post", "/v1/match", {"query": 5}, {}, 422, "query"),
    ("post", "/v1/match", {"query": "   "}, {}, 422, "query"),
    ("post", "/v1/match", {"query": "a", "k": 0}, {}, 422, "k"),
    ("post", "/v1/match", {"query": "a", "k": 101}, {}, 422, "k"),
    ("post", "/v1/match", {"query": "a" * 2001}, {}, 422, "query"),
    ("post", "/v1/match", {"queries": ["a"] * 9}, {}, 422, "at most 8"),
    ("post", "/v1/match", {}, {}, 422, "exactly one"),
    ("post", "/v1/match", {"query": "a", "filter": {"must": "x"}}, {}, 422, "must"),
    ("post", "/v1/references", {"references": [{"id": "z", "text": ""}]}, W, 422, "text"),
    ("post", "/v1/references", {"references": [{"id": "z"}]}, W, 422, "text"),
    ("post", "/v1/references", {"references": [{"id": "z", "texts": ["a", ""]}]}, W, 422,
     "texts"),
    ("post", "/v1/references", {"references": [{"id": "z", "text": "a", "texts": [
        {"text": "b", "kind": "nick"}]}]}, W, 422, "kind"),
    ("post", "/v1/references", {"references": [{"id": "z", "text": "t"}]}, {}, 401, "missing"),
    ("post", "/v1/references", {"references": [{"id": "z", "text": "t"}]},
     {"X-API-Key": "bad"}, 403, "wrong"),
    ("delete", "/v1/references/none-such", None, W, 404, "none-such"),
    ("delete", "/v1/references/a", None, {}, 401, "missing"),
    ("post", "/v1/rules", {"trigger": "a"}, W, 422, "exclude"),
    ("post", "/v1/feedback", {"query": "a", "id": "b", "accepted": "maybe"}, W, 422,
     "accepted"),
])
def test_bad_input(client: TestClient, method: str, path: str, body: object, headers: dict,
                   status: int, says: str, caplog: pytest.LogCaptureFixture) -> None:
    before = count(client)
    with caplog.at_level("INFO", logger="surematch.service"):
        r = client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"] and "Traceback" not in r.text
    assert str(status) in caplog.text
    assert count(client) == before


def test_ten_megabyte_body_is_refused(client: TestClient) -> None:
    before = count(client)
    big = json.dumps({"references": [{"id": "big", "text": "x" * 10_000_000}]})
    r = client.post("/v1/references", content=big, headers={**W, "content-type":
                                                             "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the streamed body is counted
        for _ in range(200):
            yield b"x" * 1000

    r = client.post("/v1/references", content=chunks(), headers=W)
    assert r.status_code == 413 and count(client) == before


def test_concurrent_writes_lose_nothing(client: TestClient) -> None:
    before = count(client)

    def write(n: int) -> None:
        refs = [{"id": f"c{n}-{i}", "text": f"worker {n} job {i}"} for i in range(3)]
        assert client.post("/v1/references", json={"references": refs},
                           headers=W).status_code == 200
        client.post("/v1/match", json={"query": f"worker {n}", "k": 2})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(client) == before + 18
    for n in range(6):
        for i in range(3):
            assert client.delete(f"/v1/references/c{n}-{i}", headers=W).status_code == 200


def test_metrics_parse(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    routes = {s.labels["route"] for s in families["surematch_requests"].samples}
    assert {"/healthz", "/v1/match"} <= routes
    assert "surematch_request_seconds" in families


def test_crash_gives_500_with_request_id(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    state = client.app.state.service

    def boom(*_: object) -> int:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(state.index, "count", boom)
    with caplog.at_level("ERROR", logger="surematch.service"):
        r = client.get("/readyz")
    assert r.status_code == 500 and r.json()["request_id"]
    assert "secret internals" not in r.text and "secret internals" in caplog.text


def test_review_queue_keeps_review_band_matches(client: TestClient) -> None:
    state = client.app.state.service
    result = {"query": "q", "matches": [{"id": "a", "text": "A", "probability": 0.5,
                                         "band": "review"},
                                        {"id": "b", "text": "B", "probability": 0.9,
                                         "band": "accept"}]}
    state.remember_reviews([result, result])
    items = client.get("/v1/review-queue").json()["items"]
    assert [(i["id"], i["count"]) for i in items] == [("a", 2)]
    assert state.forget_review("q") == 2
    assert client.get("/v1/review-queue").json()["items"] == []


def test_read_key_required(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client.app.state, "read_key_required", True)
    assert client.post("/v1/match", json={"query": "nurse"}).status_code == 401
    assert client.get("/v1/rules", headers={"X-API-Key": "bad"}).status_code == 403
    assert client.post("/v1/match", json={"query": "nurse"}, headers=W).status_code == 200
    assert client.get("/healthz").status_code == 200
