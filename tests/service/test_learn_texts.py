"""Reviews that teach the index over HTTP: a correction answers the next identical query, in the
accept band once a refit certifies it; conflicts, undo, bad reviews, learning off; the queue of
one item per normalised query; the traffic share in /v1/audit and /metrics."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from tests.service.test_feedback_loop import labelled, review_all

from surematch.feedback import FeedbackStore
from surematch.service import create_app

pytestmark = pytest.mark.slow
ALICE = {"X-API-Key": "k-alice"}
KEYS = {"alice": "k-alice"}
QUERY = "repairer of motor cars"


@pytest.fixture()
def copies(built: tuple[Path, Path, list[str]], tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "index")
    for name in ("feedback.sqlite3", "feedback.sqlite3-wal", "feedback.sqlite3-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    return tmp_path / "model", tmp_path / "index"


@pytest.fixture()
def client(copies: tuple[Path, Path]) -> Iterator[TestClient]:
    with TestClient(create_app(*copies, api_key=KEYS), raise_server_exceptions=False) as c:
        yield c


def top(client: TestClient, query: str) -> dict:
    r = client.post("/v1/match", json={"query": query, "k": 3})
    assert r.status_code == 200, r.text
    return r.json()["matches"][0]


def reviewed_texts(client: TestClient, ref_id: str) -> list[dict]:
    ref = client.get(f"/v1/references/{ref_id}").json()
    return [t for t in ref["texts"] if t["kind"] == "reviewed"]


def correct(client: TestClient, query: str, shown: str, right: str) -> dict:
    r = client.post("/v1/feedback", json={"query": query, "decision": "correct",
                                          "shown_id": shown, "corrected_id": right},
                    headers=ALICE)
    assert r.status_code == 200, r.text
    return r.json()


def wrong_reference(client: TestClient, ids: list[str], query: str) -> tuple[str, str]:
    """(the shown top match of `query`, another reference to correct it to)."""
    shown = top(client, query)["id"]
    return shown, next(i for i in ids if i != shown)


def test_a_correction_answers_the_next_identical_query(client: TestClient,
                                                       built: tuple) -> None:
    ids = built[2]
    shown, right = wrong_reference(client, ids, QUERY)
    out = correct(client, QUERY, shown, right)
    assert out["learned"]["outcome"] == "added" and out["learned"]["reference"] == right
    match = top(client, "Repairer of motor-cars")  # same text key: the learned text decides
    assert (match["id"], match["text"], match["kind"]) == (right, QUERY, "reviewed")
    [learned] = reviewed_texts(client, right)
    assert learned["text"] == QUERY
    assert learned["learned_from"]["review"] == out["stored"]["id"]
    assert learned["learned_from"]["reviewer"] == "alice"


def test_a_learned_text_reaches_the_accept_band_once_a_refit_certifies_it(
        client: TestClient, built: tuple) -> None:
    ids = built[2]
    review_all(client, labelled(ids, 120))  # every reviewed query is now a learned text
    refit = client.post("/v1/calibration/refit", json={"target_precision": 0.8}, headers=ALICE)
    assert refit.status_code == 200, refit.text
    assert refit.json()["calibration"]["retrieval"]["bands"]["accept_at"] is not None
    shown, right = wrong_reference(client, ids, QUERY)
    correct(client, QUERY, shown, right)
    match = top(client, QUERY)
    assert (match["id"], match["band"]) == (right, "accept")


def test_conflicting_reviews_add_nothing_and_are_queued(client: TestClient,
                                                        built: tuple) -> None:
    ids = built[2]
    shown, right = wrong_reference(client, ids, QUERY)
    other = next(i for i in ids if i not in (shown, right))
    correct(client, QUERY, shown, right)
    out = correct(client, QUERY.upper(), shown, other)
    assert out["learned"]["outcome"] == "conflict"
    assert sorted(out["learned"]["references"]) == sorted([right, other])
    assert reviewed_texts(client, right) == [] and reviewed_texts(client, other) == []
    items = client.get("/v1/review-queue").json()["items"]
    assert [sorted(i["conflict"]) for i in items if i["conflict"]] == [sorted([right, other])]


def test_undo_removes_the_learned_text(client: TestClient, built: tuple) -> None:
    shown, right = wrong_reference(client, built[2], QUERY)
    review_id = correct(client, QUERY, shown, right)["stored"]["id"]
    r = client.delete(f"/v1/feedback/{review_id}", headers=ALICE)
    assert r.status_code == 200, r.text
    assert r.json()["learned"]["removed"] == [{"id": right, "text": QUERY}]
    assert reviewed_texts(client, right) == [] and top(client, QUERY)["id"] == shown
    assert client.delete("/v1/feedback/99999", headers=ALICE).status_code == 404
    assert client.delete(f"/v1/feedback/{review_id}").status_code == 401  # a write


@pytest.mark.parametrize("body, status", [
    ({"decision": "correct", "shown_id": "SHOWN", "corrected_id": "no-such-id"}, 404),
    ({"decision": "accept", "shown_id": "no-such-id"}, 404),
    ({"decision": "maybe", "shown_id": "SHOWN"}, 422),
    ({"decision": "accept", "shown_id": "SHOWN", "query": "x" * 5000}, 422),
])
def test_bad_reviews_store_nothing_and_add_nothing(client: TestClient, built: tuple,
                                                   copies: tuple[Path, Path], body: dict,
                                                   status: int) -> None:
    shown = top(client, QUERY)["id"]
    before = client.get(f"/v1/references/{shown}").json()["texts"]
    body = {"query": QUERY, **{k: (shown if v == "SHOWN" else v) for k, v in body.items()}}
    assert client.post("/v1/feedback", json=body, headers=ALICE).status_code == status
    assert client.get(f"/v1/references/{shown}").json()["texts"] == before
    assert all(reviewed_texts(client, i) == [] for i in built[2])
    with FeedbackStore(copies[1]) as store:
        assert len(store) == 0


def test_learning_off_stores_the_review_and_adds_nothing(copies: tuple[Path, Path],
                                                         built: tuple) -> None:
    with TestClient(create_app(*copies, api_key=KEYS, learn_texts=False)) as client:
        shown, right = wrong_reference(client, built[2], QUERY)
        out = correct(client, QUERY, shown, right)
        assert out["learned"]["outcome"] == "off" and out["stored"]["id"] >= 1
        assert reviewed_texts(client, right) == [] and top(client, QUERY)["id"] == shown


def test_identical_queries_are_one_queue_item_with_their_count(copies: tuple[Path, Path]
                                                               ) -> None:
    with TestClient(create_app(*copies, api_key=KEYS, audit_fraction=1.0)) as client:
        for q in ["Nurse", "nurse ", "NURSE!", "nurses"]:
            top(client, q)
        client.post("/v1/match", json={"queries": ["nurse", "welder"]})
        items = client.get("/v1/review-queue", params={"limit": 1}).json()
        assert items["total"] == 2 and len(items["items"]) == 1
        every = client.get("/v1/review-queue").json()["items"]
        assert sorted((i["key"], i["count"]) for i in every) == [("nurse", 5), ("welder", 1)]
        assert client.get("/v1/review-queue", params={"limit": 0}).status_code == 422
        r = client.post("/v1/feedback", json={"query": "nurse", "decision": "accept",
                                              "shown_id": every[0]["id"] if every[0]["key"]
                                              == "nurse" else every[1]["id"]}, headers=ALICE)
        assert r.status_code == 200
        assert [i["key"] for i in client.get("/v1/review-queue").json()["items"]] == ["welder"]
        traffic = client.get("/v1/audit").json()["traffic"]
        assert (traffic["queries"], traffic["reviews"], traffic["settled"]) == (6, 1, 5)
        metrics = {s.name: s.value for f in text_string_to_metric_families(
            client.get("/metrics").text) for s in f.samples}
        assert metrics["surematch_traffic_auto_share"] == traffic["auto_share"] == 0.0
