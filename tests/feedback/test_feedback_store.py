"""FeedbackStore: each decision round-trips to labelled queries; bad input stores nothing."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from surematch.errors import InputError
from surematch.feedback import FeedbackStore, labelled_queries

CANDIDATES = [{"id": "r1", "text": "nurse", "probability": 0.81, "band": "review"},
              {"id": "r2", "text": "midwife", "probability": 0.07, "band": "reject"}]
KNOWN = {"r1", "r2", "r3"}


@pytest.fixture
def store(tmp_path):
    with FeedbackStore(tmp_path / "fb", known_ids=KNOWN) as s:
        yield s


def test_each_decision_round_trips_to_labelled_queries(store):
    a = store.add("staff nurse", "accept", shown_id="r1", candidates=CANDIDATES,
                  reviewer="alice", model_id="m1", calibration_id="c1", audit=True)
    store.add("midwife nurse", "correct", shown_id="r1", corrected_id="r2",
              candidates=CANDIDATES, reviewer=None, model_id="m1", calibration_id="c1")
    store.add("plumber", "reject", shown_id="r1", model_id="m1", calibration_id="c1")
    got = store.reviews()
    assert [r.decision for r in got] == ["accept", "correct", "reject"]
    assert got[0] == a and got[0].candidates == CANDIDATES and got[0].reviewer == "alice"
    assert got[0].audit and not got[1].audit and got[1].reviewer is None
    assert (got[0].model_id, got[0].calibration_id) == ("m1", "c1")
    lab = store.labelled_queries()
    assert lab.texts == ["staff nurse", "midwife nurse", "plumber"]
    assert lab.expected_ids == ["r1", "r2", None]
    assert lab.rejected_ids == [None, "r1", "r1"]
    cal = lab.labelled()
    assert (cal.texts, cal.expected_ids) == (["staff nurse", "midwife nurse"], ["r1", "r2"])
    assert [r.id for r in store.reviews(audit=True)] == [a.id]
    assert len(store.reviews(since_id=a.id)) == 2


def test_export_jsonl_and_csv(store, tmp_path):
    store.add("staff nurse", "accept", shown_id="r1")
    store.add("plumber", "reject", shown_id="r2")
    assert store.export(tmp_path / "out.jsonl") == 2
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert rows == [{"text": "staff nurse", "expected_id": "r1", "rejected_id": ""},
                    {"text": "plumber", "expected_id": "", "rejected_id": "r2"}]
    store.export(tmp_path / "out.csv")
    with (tmp_path / "out.csv").open() as f:
        assert list(csv.DictReader(f)) == rows
    with pytest.raises(InputError):
        store.export(tmp_path / "out.txt")


def test_latest_decision_per_query_wins(store):
    store.add("staff nurse", "accept", shown_id="r1")
    store.add("staff nurse", "correct", shown_id="r1", corrected_id="r3")
    assert store.labelled_queries().expected_ids == ["r3"]
    assert store.labelled_queries(latest_only=False).expected_ids == ["r1", "r3"]
    assert labelled_queries([]).texts == []


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"query": "nurse", "decision": "accept", "shown_id": "nope"}, "shown_id"),
    ({"query": "nurse", "decision": "correct", "shown_id": "r1", "corrected_id": "nope"},
     "corrected_id"),
    ({"query": "x" * 2001, "decision": "accept", "shown_id": "r1"}, "query"),
    ({"query": "   ", "decision": "accept", "shown_id": "r1"}, "query"),
    ({"query": "nurse", "decision": "maybe", "shown_id": "r1"}, "decision"),
    ({"query": "nurse", "decision": "correct", "shown_id": "r1"}, "corrected_id"),
    ({"query": "nurse", "decision": "correct", "shown_id": "r1", "corrected_id": "r1"},
     "corrected_id"),
    ({"query": "nurse", "decision": "accept"}, "shown_id"),
    ({"query": "nurse", "decision": "reject", "shown_id": ""}, "shown_id"),
    ({"query": "nurse", "decision": "reject", "shown_id": "r1", "corrected_id": "r2"},
     "corrected_id"),
    ({"query": "nurse", "decision": "accept", "shown_id": "r1", "reviewer": ""}, "reviewer"),
    ({"query": "nurse", "decision": "accept", "shown_id": "r1",
      "candidates": [{"id": "r1", "probability": 1.5}]}, "candidates[0].probability"),
    ({"query": "nurse", "decision": "accept", "shown_id": "r1",
      "candidates": [{"id": "r1", "band": "maybe"}]}, "candidates[0].band"),
    ({"query": "nurse", "decision": "accept", "shown_id": "r1", "audit": "yes"}, "audit"),
])
def test_bad_input_names_the_field_and_stores_nothing(store, kwargs, field):
    with pytest.raises(InputError) as err:
        store.add(**kwargs)
    assert err.value.field == field
    assert f'field "{field}"' in str(err.value)
    assert len(store) == 0 and store.reviews() == []


def test_known_ids_as_a_callable_and_per_call(tmp_path):
    with FeedbackStore(tmp_path, known_ids=lambda i: i.startswith("ok")) as s:
        s.add("q", "accept", shown_id="ok-1")
        with pytest.raises(InputError, match="no reference"):
            s.add("q", "accept", shown_id="bad")
        s.add("q", "accept", shown_id="bad", known_ids={"bad"})
        assert len(s) == 2


def test_reopening_keeps_reviews_and_wal_mode(tmp_path):
    with FeedbackStore(tmp_path) as s:
        s.add("q", "accept", shown_id="any-id-without-known-ids")
        mode = s._conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = s._conn.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL
    with FeedbackStore(tmp_path) as s:
        assert [r.query for r in s.reviews()] == ["q"]


def test_threads_share_one_store(store):
    def work(t: int) -> None:
        for i in range(25):
            store.add(f"query {t}-{i}", "accept", shown_id="r1")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 100 and len({r.id for r in store.reviews()}) == 100
