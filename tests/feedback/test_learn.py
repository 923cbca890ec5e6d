"""Reviews teach the index: what each decision adds, the guardrails, undo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from surematch.errors import InputError
from surematch.feedback import FeedbackStore, learn, settle, undo


@dataclass
class Ref:
    id: str
    texts: list[tuple[str, str]]
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeIndex:
    """The `TextIndex` operations over plain lists (no model: a text is its own row)."""

    def __init__(self, **titles: str) -> None:
        self.refs = {i: Ref(i, [(t, "title")]) for i, t in titles.items()}

    def get(self, ids: Sequence[str]) -> list[Ref | None]:
        return [self.refs.get(i) for i in ids]

    def add_texts(self, ref_id: str, texts: Sequence[Any], provenance: Any = None) -> int:
        ref = self.refs[ref_id]
        new = [(t, k) for t, k in texts if t not in {x for x, _ in ref.texts}]
        ref.texts += new
        ref.provenance.update(provenance or {})
        return len(new)

    def delete_text(self, ref_id: str, text: str) -> bool:
        ref = self.refs[ref_id]
        before = len(ref.texts)
        ref.texts = [(t, k) for t, k in ref.texts if t != text]
        ref.provenance.pop(text, None)
        return len(ref.texts) < before

    def reviewed(self, ref_id: str) -> list[str]:
        return [t for t, k in self.refs[ref_id].texts if k == "reviewed"]


@pytest.fixture()
def store(tmp_path: Path) -> FeedbackStore:
    with FeedbackStore(tmp_path) as s:
        yield s


@pytest.fixture()
def index() -> FakeIndex:
    return FakeIndex(bike="bicycle mechanic", car="motor vehicle technician", cook="chef")


def test_accept_and_correct_teach_the_query_with_provenance(index: FakeIndex,
                                                            store: FeedbackStore) -> None:
    r1 = store.add("cycle  repairer", "accept", shown_id="bike", reviewer="alice")
    assert learn(index, store, r1).outcome == "added"
    assert index.reviewed("bike") == ["cycle repairer"]
    assert index.refs["bike"].provenance["cycle repairer"] == {
        "review": r1.id, "reviewer": "alice", "time": r1.time}
    r2 = store.add("auto mechanic", "correct", shown_id="bike", corrected_id="car")
    learned = learn(index, store, r2)
    assert (learned.outcome, learned.reference) == ("added", "car")
    assert index.reviewed("car") == ["auto mechanic"] and index.reviewed("bike") == [
        "cycle repairer"]


def test_reject_records_and_adds_nothing(index: FakeIndex, store: FeedbackStore) -> None:
    r = store.add("auto mechanic", "reject", shown_id="bike")
    assert learn(index, store, r).outcome == "withdrawn"
    assert all(index.reviewed(i) == [] for i in index.refs) and len(store) == 1


def test_a_normalised_duplicate_is_not_added_twice(index: FakeIndex,
                                                   store: FeedbackStore) -> None:
    assert learn(index, store, store.add("Auto Mechanic", "correct", shown_id="bike",
                                         corrected_id="car")).outcome == "added"
    again = learn(index, store, store.add("auto mechanics!", "correct", shown_id="bike",
                                          corrected_id="car"))
    assert again.outcome == "known" and index.reviewed("car") == ["Auto Mechanic"]
    # a query equal to the reference's own title is not added either
    assert learn(index, store, store.add("Chef", "accept", shown_id="cook")).outcome == "known"
    assert index.reviewed("cook") == []


def test_conflicting_reviews_teach_neither_until_one_is_undone(index: FakeIndex,
                                                               store: FeedbackStore) -> None:
    first = store.add("mechanic", "accept", shown_id="bike")
    assert learn(index, store, first).outcome == "added"
    second = store.add("MECHANIC", "correct", shown_id="bike", corrected_id="car")
    learned = learn(index, store, second)
    assert learned.outcome == "conflict" and learned.references == ["bike", "car"]
    assert learned.removed == [("bike", "mechanic")]
    assert index.reviewed("bike") == [] and index.reviewed("car") == []
    _, after = undo(index, store, second.id)
    assert after is not None and after.outcome == "added" and index.reviewed("bike") == [
        "mechanic"]


def test_undo_removes_the_learned_text(index: FakeIndex, store: FeedbackStore) -> None:
    r = store.add("auto mechanic", "correct", shown_id="bike", corrected_id="car")
    learn(index, store, r)
    review, learned = undo(index, store, r.id)
    assert review.id == r.id and learned is not None and learned.outcome == "withdrawn"
    assert learned.removed == [("car", "auto mechanic")] and index.reviewed("car") == []
    assert store.reviews() == [] and [x.id for x in store.reviews(undone=True)] == [r.id]
    with pytest.raises(InputError) as bad:
        undo(index, store, 999)
    assert bad.value.field == "id"


def test_a_later_rejection_withdraws_what_was_given(index: FakeIndex,
                                                    store: FeedbackStore) -> None:
    learn(index, store, store.add("mechanic", "accept", shown_id="bike"))
    assert learn(index, store, store.add("mechanic", "reject", shown_id="bike")
                 ).outcome == "withdrawn"
    assert index.reviewed("bike") == []


def test_without_a_model_an_addition_is_pending(index: FakeIndex,
                                                store: FeedbackStore) -> None:
    r = store.add("mechanic", "accept", shown_id="bike")
    assert settle(index, store.reviews(), r.query, can_add=False).outcome == "pending"
    assert index.reviewed("bike") == []
