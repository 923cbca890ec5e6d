"""Rejected top matches become hard negatives: paired with their query's right reference,
named as the joined training groups are."""

from __future__ import annotations

from pathlib import Path

from surematch.data.samples import GroupedTexts, References
from surematch.feedback.store import FeedbackStore
from surematch.workflows.feedback import feedback_groups
from surematch.workflows.train import join_feedback, join_negatives

REFS = References(["A", "B", "C", "D"], ["a title", "b title", "c title", "d title"],
                  [{}, {}, {}, {}],
                  [[("a syn", "synonym")], [], [("c syn", "synonym")], []])


def test_a_corrected_review_pairs_the_right_reference_with_the_wrong_one(tmp_path: Path) -> None:
    with FeedbackStore(tmp_path) as store:
        store.add("q corrected", "correct", shown_id="B", corrected_id="A")
        store.add("q later right", "reject", shown_id="C")
        store.add("q later right", "accept", shown_id="D")  # the right answer came later
        store.add("q rejected", "reject", shown_id="B")  # no right answer: unused
        store.add("q taken back", "reject", shown_id="A")
        store.add("q taken back", "accept", shown_id="A")  # the reviewer changed their mind
        reviews = store.reviews()
    found = feedback_groups(reviews, REFS)
    assert found.negatives == [("feedback/A", "feedback/B"), ("feedback/D", "feedback/C")]
    assert found.unpaired == 1
    assert found.queries == {"q corrected", "q later right", "q taken back"}
    groups = found.groups
    members = {g: {t for t, h in zip(groups.texts, groups.groups, strict=True) if h == g}
               for g in set(groups.groups)}
    assert members == {"feedback/A": {"a title", "a syn", "q corrected", "q taken back"},
                       "feedback/D": {"d title", "q later right"},
                       "feedback/B": {"b title"},  # the wrong references' own texts
                       "feedback/C": {"c title", "c syn"}}
    assert "q rejected" not in groups.texts


def test_uncorrected_rejections_give_no_pairs(tmp_path: Path) -> None:
    with FeedbackStore(tmp_path) as store:
        store.add("q1", "reject", shown_id="A")
        store.add("q2", "reject", shown_id="B")
        store.add("q2", "reject", shown_id="C")
        store.add("q3", "accept", shown_id="D")
        reviews = store.reviews()
    found = feedback_groups(reviews, REFS)
    assert found.negatives == [] and found.unpaired == 3
    assert set(found.groups.groups) == {"feedback/D"}


def test_negatives_are_named_by_the_groups_the_join_gives(tmp_path: Path) -> None:
    with FeedbackStore(tmp_path) as store:
        store.add("q1", "correct", shown_id="B", corrected_id="A")
        store.add("q2", "correct", shown_id="C", corrected_id="D")
        reviews = store.reviews()
    found = feedback_groups(reviews, REFS)
    train = GroupedTexts.from_labels(["a title", "a two", "c title", "c two"],
                                     ["A", "A", "C", "C"], "esco")
    joined = join_feedback(train, found.groups)
    pairs = join_negatives(train, found.negatives)
    assert pairs == [("esco/A", "feedback/B"), ("feedback/D", "esco/C")]
    assert {g for pair in pairs for g in pair} <= set(joined.groups)
