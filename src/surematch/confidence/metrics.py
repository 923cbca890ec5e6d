"""How good probabilities are: ECE, MCE, Brier, log loss, risk-coverage, per-band precision.

Every function takes probabilities (or confidences) [N] and 0/1 outcomes [N] (1 = the match
was right). AUROC, EER and TAR@FAR (on raw scores) live in `roc` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import brier_score_loss

from surematch.confidence.checks import as_labels, as_probs, same_length
from surematch.confidence.roc import auroc, eer, tar_at_far
from surematch.errors import InputError

if TYPE_CHECKING:
    from surematch.confidence.bands import TriageBands

Strategy = Literal["uniform", "quantile"]
__all__ = ["aurc", "auroc", "band_report", "brier", "ece", "ece_noise_floor", "eer", "log_loss",
           "mce",
           "reliability_bins", "risk_coverage_curve", "tar_at_far"]


def _checked(probs: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, y = as_probs(probs), as_labels(labels)
    same_length(p, y, "probabilities", "labels")
    return p, y


@dataclass(frozen=True)
class ReliabilityBins:
    """Per bin [B]: mean confidence, observed accuracy (NaN when empty) and count."""

    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray


def reliability_bins(
    probs: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: Strategy = "uniform"
) -> ReliabilityBins:
    """Bin probabilities: "uniform" = equal-width bins on [0, 1] (1.0 falls in the last),
    "quantile" = equal-mass bins of the sorted probabilities (ties may straddle two bins)."""
    p, y = _checked(probs, labels)
    if n_bins < 1:
        raise InputError(f"n_bins: must be at least 1, got {n_bins}")
    if strategy == "uniform":
        idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    elif strategy == "quantile":
        idx = np.empty(len(p), dtype=np.int64)
        for b, part in enumerate(np.array_split(np.argsort(p, kind="mergesort"), n_bins)):
            idx[part] = b
    else:
        raise InputError(f"strategy: must be 'uniform' or 'quantile', got {strategy!r}")
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(idx, weights=p, minlength=n_bins) / counts
        acc = np.bincount(idx, weights=y, minlength=n_bins) / counts
    return ReliabilityBins(conf, acc, counts)


def ece(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: Strategy = "uniform"
        ) -> float:
    """Expected calibration error: sum over bins of (count / N) * |accuracy - confidence|."""
    r = reliability_bins(probs, labels, n_bins, strategy)
    full = r.counts > 0
    gap = np.abs(r.accuracy[full] - r.confidence[full])
    return float(np.sum(r.counts[full] * gap) / r.counts.sum())


def ece_noise_floor(probs: ArrayLike, n_bins: int = 15, strategy: Strategy = "uniform",
                    draws: int = 200, seed: int = 0) -> float:
    """The ECE that sampling noise alone gives these probabilities [N]: the mean ECE over
    `draws` outcome sets drawn from the probabilities themselves (a perfectly calibrated model
    on N items). A measured ECE near it cannot be told apart from perfect calibration."""
    p = as_probs(probs)
    rng = np.random.default_rng(seed)
    return float(np.mean([ece(p, rng.random(len(p)) < p, n_bins, strategy)
                          for _ in range(draws)]))


def mce(probs: ArrayLike, labels: ArrayLike, n_bins: int = 15, strategy: Strategy = "uniform"
        ) -> float:
    """Maximum calibration error: the largest |accuracy - confidence| over non-empty bins."""
    r = reliability_bins(probs, labels, n_bins, strategy)
    full = r.counts > 0
    return float(np.max(np.abs(r.accuracy[full] - r.confidence[full])))


def brier(probs: ArrayLike, labels: ArrayLike) -> float:
    """Mean squared difference between probability and outcome (0 is perfect)."""
    p, y = _checked(probs, labels)
    return float(brier_score_loss(y, p, labels=[0, 1]))


def log_loss(probs: ArrayLike, labels: ArrayLike, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood, probabilities clipped to [eps, 1 - eps] (one class is fine)."""
    p, y = _checked(probs, labels)
    p = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def risk_coverage_curve(confidence: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(coverage [N], risk [N]): answer the k most confident (k = 1..N), coverage = k / N and
    risk = share of wrong answers among them. Ties keep input order (stable sort)."""
    c, y = _checked(confidence, correct)
    order = np.argsort(-c, kind="mergesort")
    k = np.arange(1, len(c) + 1)
    return k / len(c), np.cumsum(1 - y[order]) / k


def aurc(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Area under the risk-coverage curve, defined as the mean of the N risks of
    `risk_coverage_curve` (lower is better; a perfect ranker with error rate e still scores
    above 0 once coverage passes 1 - e)."""
    return float(np.mean(risk_coverage_curve(confidence, correct)[1]))


def band_report(probs: ArrayLike, correct: ArrayLike, bands: TriageBands,
                names: ArrayLike | None = None) -> dict[str, Any]:
    """Per band ("accept", "review", "reject"): n, coverage (n / N) and precision (share of
    right matches, None when the band is empty). `names` [N]: the bands already decided
    (`MatchCalibration.bands_of`, the no-match rule included); else `bands` on probs."""
    p, y = _checked(probs, correct)
    names = np.asarray(bands.band(p) if names is None else names)
    report: dict[str, Any] = {}
    for name in ("accept", "review", "reject"):
        inside = names == name
        n = int(inside.sum())
        report[name] = {"n": n, "coverage": n / len(p),
                        "precision": float(y[inside].mean()) if n else None}
    return report
