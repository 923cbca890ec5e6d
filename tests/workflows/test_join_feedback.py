"""Feedback groups join the training group of their reference, never its negatives."""

from surematch.data.samples import GroupedTexts
from surematch.workflows.train import join_feedback


def test_a_review_joins_its_references_training_group() -> None:
    train = GroupedTexts.from_labels(["nurse", "rn", "chef", "cook"], ["u1", "u1", "u2", "u2"],
                                     "esco")
    reviews = GroupedTexts.from_labels(["nurse", "staff nurse", "pilot", "aviator"],
                                       ["u1", "u1", "u9", "u9"], "feedback")
    out = join_feedback(train, reviews)
    pairs = list(zip(out.texts, out.groups, strict=True))
    assert ("staff nurse", "esco/u1") in pairs  # joined, not a rival group of u1
    assert pairs.count(("nurse", "esco/u1")) == 1  # texts it holds already are left out
    assert "feedback/u1" not in out.groups
    assert ("pilot", "feedback/u9") in pairs and ("aviator", "feedback/u9") in pairs
    assert len(out) == 7


def test_only_the_reviewed_queries_join_a_training_group() -> None:
    train = GroupedTexts.from_labels(["nurse", "rn", "chef", "cook"], ["u1", "u1", "u2", "u2"],
                                     "esco")
    reviews = GroupedTexts.from_labels(
        ["nurse", "Cares for patients in a hospital.", "staff nurse", "pilot", "aviator"],
        ["u1", "u1", "u1", "u9", "u9"], "feedback")
    out = join_feedback(train, reviews, only={"staff nurse", "pilot"})
    pairs = list(zip(out.texts, out.groups, strict=True))
    assert ("staff nurse", "esco/u1") in pairs
    assert "Cares for patients in a hospital." not in out.texts  # the reference's own text
    # a group of its own keeps its reference's texts: they are its only positives
    assert ("aviator", "feedback/u9") in pairs and ("pilot", "feedback/u9") in pairs
