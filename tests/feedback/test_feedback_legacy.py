"""The older feedback.jsonl imports into the store as accept / reject reviews."""

from __future__ import annotations

import pytest

from surematch.errors import InputError
from surematch.feedback import FeedbackStore
from surematch.feedback.legacy import import_feedback_log


def test_import_feedback_log(tmp_path):
    log = tmp_path / "feedback.jsonl"  # the lines the older service wrote
    log.write_text(
        '{"text": "staff nurse", "expected_id": "r1", "rejected_id": "", "accepted": true, '
        '"time": 1.5}\n\n'
        '{"text": "plumber", "expected_id": "", "rejected_id": "r2", "accepted": false, '
        '"time": 2.5}\n')
    with FeedbackStore(tmp_path / "store") as store:
        assert import_feedback_log(store, log) == 2
        lab = store.labelled_queries()
        assert (lab.texts, lab.expected_ids, lab.rejected_ids) == (
            ["staff nurse", "plumber"], ["r1", None], [None, "r2"])
        assert [r.time for r in store.reviews()] == [1.5, 2.5]
        (tmp_path / "bad.jsonl").write_text('{"text": "", "accepted": true, "expected_id": "r"}\n')
        with pytest.raises(InputError) as err:
            import_feedback_log(store, tmp_path / "bad.jsonl")
        assert (err.value.line, err.value.field) == (1, "query")
        assert len(store) == 2
