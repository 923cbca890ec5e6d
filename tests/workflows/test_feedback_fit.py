"""The refit from reviews on rows ranked already: where the bands are certified."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from surematch.confidence.targets import Targets
from surematch.errors import InputError
from surematch.workflows.feedback import QUEUE_BAND_WARNING, fit_ranked_feedback


@dataclass(frozen=True)
class Ranked:
    similarity: np.ndarray
    confidence: None
    correct: np.ndarray
    expected: list[str | None]
    evidence: dict[str, np.ndarray]
    ids: list[list[str]]


def ranked(n: int, seed: int = 0) -> Ranked:
    """n queries whose top match is right more often the higher its similarity."""
    rng = np.random.default_rng(seed)
    top = rng.uniform(0.3, 1.0, n)
    sims = np.column_stack([top, top - rng.uniform(0.0, 0.3, n)])
    correct = rng.random(n) < top
    expected = [f"r{i % 50}" for i in range(n)]
    ids = [[e if c else "other", "x"] for e, c in zip(expected, correct, strict=True)]
    return Ranked(sims, None, correct, expected, {}, ids)


def test_bands_are_certified_on_audits_and_half_the_file_only():
    rows = ranked(600)
    sources = ["file"] * 200 + ["queue"] * 250 + ["audit"] * 150
    fit = fit_ranked_feedback(rows, sources, targets=Targets(0.9))
    assert fit.warnings == [] and fit.counts["audit_reviews"] == 150
    assert fit.counts["bands_certified_on"] == "audit and labelled file"
    assert 150 + 80 <= fit.calibration.report["n_band"] <= 150 + 120  # half the file by group


def test_queue_reviews_alone_certify_with_a_warning():
    fit = fit_ranked_feedback(ranked(300), ["queue"] * 300, targets=Targets(0.9))
    assert fit.warnings == [QUEUE_BAND_WARNING]
    assert fit.counts["bands_certified_on"] == "every row (queue included)"


def test_sources_must_match_the_rows():
    with pytest.raises(InputError) as err:
        fit_ranked_feedback(ranked(100), ["queue"] * 99)
    assert err.value.field == "sources"


class Letters:
    """A model embedding a text by its letters (unit vectors): equal texts embed equal."""

    has_confidence = False

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 27))
        for n, t in enumerate(texts):
            for ch in t.lower():
                out[n, ord(ch) - 97 if "a" <= ch <= "z" else 26] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_with_confidence(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.embed(texts), np.ones(len(texts))


def test_a_review_is_ranked_without_the_text_it_taught_and_later_ones_with_it():
    from surematch.data.samples import LabelledQueries, References
    from surematch.workflows.feedback import rank_reviews, without_reviewed

    refs = References(["bike", "car"], ["bicycle mechanic", "motor vehicle technician"],
                      [{}, {}], [[], [("autofixer", "reviewed")]])
    assert without_reviewed(refs).texts_of(1) == [("motor vehicle technician", "title")]
    queries = LabelledQueries(["autofixer", "AutoFixer"], ["car", "car"])
    ranked = rank_reviews(Letters(), refs, queries, teaching=[0])
    # the review that taught it sees the taxonomy only; a later repeat sees the learned text
    assert ranked.similarity[0, 0] < 0.99 and ranked.evidence["reviewed"][0].max() == 0.0
    assert ranked.ids[1][0] == "car" and ranked.similarity[1, 0] > 0.99
    assert ranked.evidence["reviewed"][1, 0] == 1.0 and ranked.evidence["exact"][1, 0] == 0.0
    assert ranked.expected == ["car", "car"] and ranked.matched[1][0] == "autofixer"
