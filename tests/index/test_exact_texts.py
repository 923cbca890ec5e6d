"""A query equal to a stored text (case and spacing aside) is answered without the encoder,
with the similarity, evidence, probability and band of the slow path; rules and filters as
usual; texts added or removed later (learned ones included) are found or forgotten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.index import test_multitext as multitext

from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

make, index = multitext.make, multitext.index  # the fixtures: edge and local stores

STORED = ["a", "a_syn", "a_desc", "b", "b_syn", "c"]


def calibrate(index: ReferenceIndex, folder: Path) -> None:
    """A real MatchCalibration (reading the evidence too) saved beside the index's model."""
    from surematch.confidence.file.store import save_calibration
    from surematch.confidence.match_calibration import fit_match_calibration
    from surematch.index.applied_calibration import Calibration

    rng = np.random.default_rng(0)
    top1 = rng.uniform(0.2, 1.0, 400)
    sims = np.stack([top1, top1 - rng.uniform(0, 0.2, 400)], axis=1)
    correct = rng.uniform(size=400) < top1
    folder.mkdir()
    model = index.model
    assert isinstance(model, SimilarityModel)
    save_calibration(folder, fit_match_calibration(sims, correct, groups=list(range(400))),
                     model.identity())
    model.folder = folder
    index.calibration = Calibration.of(model)
    assert index.calibration.calibrated


def no_encoder(index: ReferenceIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the encoder ran")

    monkeypatch.setattr(index.model, "embed_with_confidence", fail)
    monkeypatch.setattr(index.model, "embed", fail)


def test_a_stored_text_is_matched_as_the_slow_path_without_the_encoder(
        index: ReferenceIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calibrate(index, tmp_path / "m")
    slow = [r.to_dict() for r in index.match_batch(STORED, k=3)]
    assert all(r["matches"][0]["probability"] is not None for r in slow)
    no_encoder(index, monkeypatch)
    fast = [r.to_dict() for r in index.match_batch(STORED, k=3)]
    assert fast == slow  # ids, texts, similarities, probabilities, bands: all equal
    with pytest.raises(AssertionError, match="the encoder ran"):
        index.match("q_a_syn")  # not a stored text: embedded


def test_case_and_spacing_variants_are_answered_as_the_stored_text(
        index: ReferenceIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calibrate(index, tmp_path / "m")
    slow = index.match("a_syn", k=3).to_dict()
    no_encoder(index, monkeypatch)
    variant = index.match("  A_Syn ", k=3).to_dict()
    assert variant == {**slow, "query": "  A_Syn "}
    with pytest.raises(AssertionError, match="the encoder ran"):
        index.match("a syn")  # punctuation is not normalised away


def test_filters_and_rules_apply_to_the_exact_path(index: ReferenceIndex,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    index.add_rule("b_syn", "b_syn", trigger_similarity=0.9, exclude_similarity=0.9)
    asked = [("b_syn", None), ("a_syn", {"lang": "de"})]
    slow = [index.match(q, k=3, filter=f).to_dict() for q, f in asked]
    assert slow[0]["rules_fired"] and "B" not in [m["id"] for m in slow[0]["matches"]]
    assert [m["id"] for m in slow[1]["matches"]] == ["B"]
    no_encoder(index, monkeypatch)
    assert [index.match(q, k=3, filter=f).to_dict() for q, f in asked] == slow


def test_texts_added_later_are_found_and_removed_ones_forgotten(
        index: ReferenceIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    before = index.match("new", k=2).to_dict()  # embedded: not stored yet
    index.add_texts("C", [("new", "synonym")])  # the path learned (reviewed) texts take
    version = index.version
    no_encoder(index, monkeypatch)
    after = index.match("new", k=2)
    assert after.matches[0].id == "C" and after.matches[0].kind == "synonym"
    assert after.matches[0].similarity == pytest.approx(1.0)
    assert before["matches"][0]["id"] != "C" or before["matches"][0]["text"] != "new"
    assert index.delete_text("C", "new") and index.version > version
    with pytest.raises(AssertionError, match="the encoder ran"):
        index.match("new")
    index.delete(["A"])
    with pytest.raises(AssertionError, match="the encoder ran"):
        index.match("a_syn")  # the reference is gone with its texts
    assert index.match("b_syn", k=1).matches[0].id == "B"


def test_a_text_added_after_the_lookup_was_built_is_found(
        make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make()
    first.add(multitext.refs(), progress=False)
    assert first.match("c", k=1).matches[0].id == "C"  # builds the first's lookup
    first.add_texts("B", ["t"])
    no_encoder(first, monkeypatch)
    assert first.match("t", k=1).matches[0].id == "B"


def test_a_model_with_embedding_confidence_gets_the_stored_texts_confidence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from surematch.encoders.vectors import PrecomputedVectors
    from surematch.heads import build_head

    table = multitext.TABLE
    names = list(table)
    model = SimilarityModel(PrecomputedVectors(8, names, np.array([table[n] for n in names])),
                            build_head([{"kind": "feature_groups", "groups": 4, "size": 5,
                                         "skip_dim": 8}], 8))
    assert model.has_confidence
    with ReferenceIndex.create(tmp_path / "ix", model) as index:
        index.add(multitext.refs(), progress=False)
        index.add_texts("C", ["t"])
        asked = [*STORED, "t"]
        slow = index.match_batch(asked, k=3)
        no_encoder(index, monkeypatch)
        fast = index.match_batch(asked, k=3)
    for s, f in zip(slow, fast, strict=True):
        assert [m.id for m in f.matches] == [m.id for m in s.matches]
        assert f.embedding_confidence == pytest.approx(s.embedding_confidence, abs=1e-6)
        assert f.embedding_confidence != 1.0
        assert [m.similarity for m in f.matches] == pytest.approx(
            [m.similarity for m in s.matches], abs=1e-6)


def test_the_head_words_follow_the_stored_texts(index: ReferenceIndex) -> None:
    heads = index.exact.head_words()
    assert heads is not None
    assert {"a", "a_syn", "b", "b_syn", "c"} <= set(heads)
    assert "a_desc" not in heads  # a description's last word heads nothing
    assert "t" not in heads
    index.add_texts("C", [("t", "synonym")])
    assert "t" in index.exact.head_words()  # type: ignore[operator]
    assert index.delete_text("C", "t")
    assert "t" not in index.exact.head_words()  # type: ignore[operator]
    index.delete(["A"])
    left = index.exact.head_words()
    assert left is not None and "a_syn" not in left and "b_syn" in left
