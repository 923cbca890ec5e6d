"""The one limits table (surematch/limits.py): its messages, and the Python API and feedback
store refusing the same id with the same message (HTTP and CLI: tests/service/
test_hardening2.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from surematch.errors import InputError
from surematch.feedback import FeedbackStore
from surematch.index.stores.points import check_id
from surematch.limits import LIMITS, long_id, long_text


def test_messages_name_the_length_and_the_limit() -> None:
    assert long_id("a" * LIMITS.id_chars) is None and long_text("t" * LIMITS.text_chars) is None
    assert long_id("b" * 257) == f"id {'b' * 40!r}... is 257 characters long, the most is 256"
    assert long_text("t" * 2001) == "a text is 2001 characters long, the most is 2000"


def test_the_store_and_the_feedback_store_give_the_same_refusal(tmp_path: Path) -> None:
    long = "c" * 257
    with pytest.raises(InputError) as store:
        check_id(long)
    with FeedbackStore(tmp_path) as feedback, pytest.raises(InputError) as review:
        feedback.add("q", "accept", shown_id=long)
    assert store.value.message == review.value.message == long_id(long)
    with FeedbackStore(tmp_path) as feedback:  # 230 characters: taken by both
        assert feedback.add("q", "accept", shown_id="d" * 230).shown_id == "d" * 230
    assert check_id("d" * 230) == "d" * 230


def test_a_limit_changed_for_the_process_holds_everywhere(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    monkeypatch.setattr(LIMITS, "id_chars", 8)
    with pytest.raises(InputError, match="the most is 8"):
        check_id("123456789")
    with FeedbackStore(tmp_path) as feedback, pytest.raises(InputError, match="the most is 8"):
        feedback.add("q", "accept", shown_id="123456789")
