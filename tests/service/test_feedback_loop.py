"""Closing the loop over HTTP: reviews stored as data and exported as labelled queries, bad
feedback refused with nothing stored, the calibration refit from reviews, the audit alarm,
and `surematch calibrate --feedback`."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from surematch.confidence.file.store import calibration_document
from surematch.data.esco import esco_queries, read_esco
from surematch.feedback import FeedbackStore
from surematch.service import create_app

pytestmark = pytest.mark.slow
ALICE, BOB = {"X-API-Key": "k-alice"}, {"X-API-Key": "k-bob"}
KEYS = {"alice": "k-alice", "bob": "k-bob"}


def labelled(ids: list[str], n: int = 90) -> list[tuple[str, str | None]]:
    """ESCO alternative titles: two thirds whose occupation is among the index's references,
    one third of other occupations (no right reference: None)."""
    occupations = read_esco()
    qs = esco_queries(occupations, taxonomy=occupations)
    known = set(ids)
    pairs = list(zip(qs.texts, qs.expected_ids, strict=True))
    inside = [(t, e) for t, e in pairs if e in known][: n - n // 3]
    outside = [(t, None) for t, e in pairs if e not in known][: n // 3]
    return inside + outside


@pytest.fixture()
def copies(built: tuple[Path, Path, list[str]], tmp_path: Path) -> tuple[Path, Path]:
    """Own copies of the model (refits write its calibration) and the index folders."""
    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "index")
    for name in ("feedback.sqlite3", "feedback.sqlite3-wal", "feedback.sqlite3-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    return tmp_path / "model", tmp_path / "index"


@pytest.fixture()
def client(copies: tuple[Path, Path]) -> Iterator[TestClient]:
    app = create_app(copies[0], copies[1], api_key=KEYS)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def stored(index: Path) -> int:
    with FeedbackStore(index) as store:
        return len(store)


def review_all(client: TestClient, rows: list[tuple[str, str | None]],
               audit: bool = False) -> None:
    """The reviewer answers from ground truth: accept a right top match, else correct it
    (reject it when no reference is right)."""
    results = client.post("/v1/match", json={"queries": [t for t, _ in rows], "k": 5},
                          headers=ALICE).json()["results"]
    for (text, expected), result in zip(rows, results, strict=True):
        top = result["matches"][0]["id"]
        body = {"query": text, "decision": "accept", "shown_id": top, "audit": audit}
        if expected is None:
            body.update(decision="reject")
        elif top != expected:
            body.update(decision="correct", corrected_id=expected)
        assert client.post("/v1/feedback", json=body, headers=ALICE).status_code == 200


def test_each_decision_round_trips_to_labelled_queries(client: TestClient,
                                                       built: tuple) -> None:
    ids = built[2]
    cands = [{"id": ids[0], "text": "x", "probability": 0.7, "band": "review"}]
    bodies = [
        ({"query": "q-accept", "decision": "accept", "shown_id": ids[0], "candidates": cands},
         ALICE, (ids[0], "")),
        ({"query": "q-reject", "decision": "reject", "shown_id": ids[1]}, BOB, ("", ids[1])),
        ({"query": "q-correct", "decision": "correct", "shown_id": ids[2],
          "corrected_id": ids[3]}, ALICE, (ids[3], ids[2])),
        ({"query": "q-old-yes", "id": ids[4], "accepted": True}, BOB, (ids[4], "")),
        ({"query": "q-old-no", "id": ids[5], "accepted": False}, BOB, ("", ids[5])),
    ]
    for body, key, _ in bodies:
        r = client.post("/v1/feedback", json=body, headers=key)
        assert r.status_code == 200, r.text
        review = r.json()["stored"]
        assert review["reviewer"] == ("alice" if key is ALICE else "bob")
        assert review["model_id"] == client.app.state.service.model.identity()
        assert review["calibration_id"] == ""  # the copy is uncalibrated
    assert client.post("/v1/feedback", json=bodies[0][0], headers=ALICE).json()[
        "stored"]["candidates"] == cands
    rows = [json.loads(x) for x in client.get("/v1/feedback/export?format=jsonl").text
            .splitlines()]
    want = {b["query"]: exp for b, _, exp in bodies}
    assert {r["text"]: (r["expected_id"], r["rejected_id"]) for r in rows} == want
    table = list(csv.DictReader(io.StringIO(client.get("/v1/feedback/export?format=csv").text)))
    assert {r["text"]: (r["expected_id"], r["rejected_id"]) for r in table} == want
    bad = client.get("/v1/feedback/export?format=xml")
    assert bad.status_code == 422 and bad.json()["field"] == "format"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"query": "q", "decision": "accept", "shown_id": "nope"}, 404, "shown_id"),
    ({"query": "q", "decision": "correct", "shown_id": 0, "corrected_id": "nope"}, 404,
     "corrected_id"),
    ({"query": "q", "id": "nope", "accepted": True}, 404, "id"),
    ({"query": "q" * 2001, "decision": "accept", "shown_id": 0}, 422, "query"),
    ({"query": "q", "decision": "maybe", "shown_id": 0}, 422, "decision"),
    ({"query": "q", "shown_id": 0}, 422, "decision"),
    ({"query": "q", "decision": "correct", "shown_id": 0}, 422, "corrected_id"),
    ({"query": "q", "decision": "accept", "shown_id": 0, "candidates": [{"id": 0, "x": 1}]},
     422, "candidates[0]"),
    ({"query": "q", "decision": "accept", "id": 0, "accepted": True}, 422, "id"),
])
def test_bad_feedback_names_the_field_and_stores_nothing(
        client: TestClient, copies: tuple[Path, Path], built: tuple, body: dict, status: int,
        field: str) -> None:
    body = {k: (built[2][v] if isinstance(v, int) and not isinstance(v, bool) else v)
            for k, v in body.items()}
    if body.get("candidates"):
        body["candidates"] = [{"id": built[2][0], "x": 1}]
    before = stored(copies[1])
    r = client.post("/v1/feedback", json=body, headers=ALICE)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.json()
    assert stored(copies[1]) == before


def test_legacy_feedback_log_imported_once(copies: tuple[Path, Path], built: tuple) -> None:
    log = copies[1] / "feedback.jsonl"
    log.write_text(json.dumps({"text": "old q", "expected_id": built[2][0], "rejected_id": "",
                               "accepted": True, "time": 1.0}) + "\n")
    for _ in range(2):
        app = create_app(copies[0], copies[1], api_key=KEYS)
        with TestClient(app) as c:
            rows = c.get("/v1/feedback/export").text.splitlines()
        assert [json.loads(x)["text"] for x in rows] == ["old q"]
    assert not log.exists() and (copies[1] / "feedback.jsonl.imported").exists()


def test_refit_swaps_bands_and_keeps_the_old_on_failure(
        client: TestClient, copies: tuple[Path, Path], built: tuple) -> None:
    assert client.post("/v1/calibration/refit").status_code == 401
    assert client.get("/v1/calibration").json() == {}
    review_all(client, labelled(built[2], 5))
    r = client.post("/v1/calibration/refit", headers=ALICE)
    assert r.status_code == 422 and "unchanged" in r.json()["detail"], r.text
    assert client.get("/v1/calibration").json() == {}  # the old (no) calibration stays
    review_all(client, labelled(built[2]))
    r = client.post("/v1/calibration/refit", json={"target_precision": 0.9}, headers=ALICE)
    assert r.status_code == 200, r.text
    out = r.json()
    assert any("review queue chose" in w for w in out["warnings"])
    cal = client.get("/v1/calibration").json()
    assert cal["retrieval"]["bands"]["precision_target"] == 0.9
    assert cal["retrieval"]["report"]["feedback"]["reviews"] == out["counts"]["reviews"]
    assert out["calibration_id"] and out["calibration_id"] == client.app.state.service \
        .calibration_id
    match = client.post("/v1/match", json={"query": "nurse", "k": 3}).json()
    assert match["matches"][0]["band"] in ("accept", "review", "reject")  # swapped in, live
    # a second refit with other targets swaps again; a failing one leaves it
    r = client.post("/v1/calibration/refit", json={"target_precision": 0.8}, headers=BOB)
    assert r.status_code == 200
    assert client.get("/v1/calibration").json()["retrieval"]["bands"]["precision_target"] == 0.8
    with FeedbackStore(copies[1]) as store:
        store._conn.execute("DELETE FROM reviews")
    before = client.get("/v1/calibration").json()
    assert client.post("/v1/calibration/refit", headers=ALICE).status_code == 422
    assert client.get("/v1/calibration").json() == before


def test_audit_alarm_in_audit_and_metrics(client: TestClient, built: tuple,
                                          caplog: pytest.LogCaptureFixture) -> None:
    review_all(client, labelled(built[2]))
    assert client.post("/v1/calibration/refit", json={"target_precision": 0.9},
                       headers=ALICE).status_code == 200
    quiet = client.get("/v1/audit").json()
    assert quiet["n"] == 0 and not quiet["alarm"]
    # a broken calibration: every audited auto-accept is wrong
    ids = built[2]
    with caplog.at_level("WARNING", logger="surematch.service"):
        for i in range(12):
            r = client.post("/v1/feedback", json={
                "query": f"audited {i}", "decision": "reject", "shown_id": ids[i % 30],
                "candidates": [{"id": ids[i % 30], "band": "accept"}], "audit": True},
                headers=BOB)
            assert r.status_code == 200
    audit = client.get("/v1/audit").json()
    assert audit["n"] == 12 and audit["right"] == 0 and audit["alarm"], audit
    assert "ALARM" in audit["message"] and "audit alarm" in caplog.text
    metrics = {s.name: s.value for f in text_string_to_metric_families(
        client.get("/metrics").text) for s in f.samples}
    assert metrics["surematch_audit_alarm"] == 1.0
    assert metrics["surematch_audit_reviews"] == 12.0
    assert metrics["surematch_audit_precision"] == 0.0
    assert metrics["surematch_audit_precision_high"] < 0.9


def test_review_queue_orders_and_samples_audits(copies: tuple[Path, Path],
                                                built: tuple) -> None:
    app = create_app(copies[0], copies[1], api_key=KEYS, audit_fraction=1.0)
    with TestClient(app) as c:
        state = c.app.state.service
        review_all(c, labelled(built[2]))
        refit = c.post("/v1/calibration/refit", json={"target_precision": 0.8}, headers=ALICE)
        assert refit.status_code == 200 and state.match_calibration is not None
        result = {"query": "q", "matches": [
            {"id": "a", "text": "A", "probability": 0.99, "band": "accept"},
            {"id": "b", "text": "B", "probability": 0.5, "band": "review"}]}
        far = {"query": "q2", "matches": [{"id": "c", "text": "C", "probability": 0.5,
                                           "band": "review"}]}
        state.queue.clear()
        state.remember_reviews([result, far])
        items = c.get("/v1/review-queue").json()["items"]
        # every query's top match sampled (100 %), whatever its band: audits first, oldest first
        assert [(i["id"], i["band"], i["audit"]) for i in items] == [
            ("a", "accept", True), ("c", "review", True)]
        state.audit_fraction = 0.0
        state.queue.clear()
        state.remember_reviews([result, far])
        items = c.get("/v1/review-queue").json()["items"]
        # only a review-band top match is in question now
        assert [(i["id"], i["audit"]) for i in items] == [("c", False)]


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: object
        ) -> tuple[int, str, str]:
    from surematch.cli import main

    monkeypatch.setattr(sys, "argv", ["surematch", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def test_calibrate_feedback_cli(copies: tuple[Path, Path], built: tuple,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture) -> None:
    model, index = copies
    client_app = create_app(model, index, api_key=KEYS, learn_texts=False)  # index unchanged
    with TestClient(client_app) as c:
        review_all(c, labelled(built[2]))
        top = c.post("/v1/match", json={"query": "plain rejection", "k": 1},
                     headers=ALICE).json()["matches"][0]["id"]
        not_top = next(i for i in built[2] if i != top)  # a rejection the model no longer ranks
        c.post("/v1/feedback", json={"query": "plain rejection", "decision": "reject",
                                     "shown_id": not_top}, headers=ALICE)
    code, stdout, err = cli(monkeypatch, capsys, "calibrate", model, "--feedback", index,
                            "--target-precision", "0.9", "--json")
    assert code == 0, err
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out["bands"]["precision_target"] == 0.9
    assert any("review queue chose" in w for w in out["warnings"])
    fb = calibration_document(model)["retrieval"]["report"]["feedback"]
    assert fb["reviews"] >= 40
    assert (fb["rejections_kept"], fb["rejections_dropped"]) == (30, 1)  # not its top-1
    empty = copies[1].parent / "empty"
    empty.mkdir()
    code, _, err = cli(monkeypatch, capsys, "calibrate", model, "--feedback", empty)
    assert code == 2 and "feedback.sqlite3" in err


def test_train_feedback_adds_review_queries_to_their_reference_group(
        copies: tuple[Path, Path], built: tuple, caplog: pytest.LogCaptureFixture) -> None:
    from surematch.data.samples import GroupedTexts
    from surematch.workflows.train import _with_feedback

    ids, index = built[2], copies[1]
    with FeedbackStore(index) as store:
        store.add("q accepted", "accept", shown_id=ids[0])
        store.add("q corrected", "correct", shown_id=ids[1], corrected_id=ids[2])
        store.add("q rejected", "reject", shown_id=ids[3])
    base = GroupedTexts.from_labels(["a", "b"], ["x", "x"], "mine")
    with caplog.at_level("INFO", logger="surematch.workflows.train"):
        out, negatives = _with_feedback(base, index, None)
    groups = dict(zip(out.texts, out.groups, strict=True))
    assert groups["q accepted"] == f"feedback/{ids[0]}"
    assert groups["q corrected"] == f"feedback/{ids[2]}"
    assert "q rejected" not in groups and groups["a"] == "mine/x"
    # each group holds its reference's text too
    assert sum(g == f"feedback/{ids[0]}" for g in out.groups) == 2
    # the corrected query's wrong top match is a hard negative of the right reference
    assert negatives == [(f"feedback/{ids[2]}", f"feedback/{ids[1]}")]
    assert f"feedback/{ids[1]}" in out.groups  # its texts are a group to batch with
    assert "1 rejected top matches batched with the right reference" in caplog.text
    assert "1 left out" in caplog.text


def test_refit_certifies_bands_on_audit_reviews_when_there_are_enough(
        copies: tuple[Path, Path], built: tuple) -> None:
    with TestClient(create_app(*copies, api_key=KEYS, learn_texts=False)) as client:
        _certify_on_audits(client, built)


def _certify_on_audits(client: TestClient, built: tuple) -> None:
    rows = labelled(built[2], 120)
    review_all(client, rows[0::2])
    review_all(client, rows[1::2], audit=True)
    r = client.post("/v1/calibration/refit", json={"target_precision": 0.9}, headers=ALICE)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["counts"]["bands_certified_on"] == "audit", out
    assert out["warnings"] == []
    report = client.get("/v1/calibration").json()["retrieval"]["report"]
    assert report["n_band"] == out["counts"]["audit_reviews"] == 60
