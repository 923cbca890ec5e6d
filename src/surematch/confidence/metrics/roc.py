"""Verification metrics over all score thresholds: AUROC, EER, TAR@FAR and the sweep behind them.

Scores are "higher is closer"; a pair is accepted as a match when score >= threshold.
FAR (= FMR) is the share of non-matching pairs accepted, TAR the share of matching pairs
accepted, FRR (= FNMR) = 1 - TAR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from surematch.confidence.checks import scores_and_labels
from surematch.errors import InputError


@dataclass(frozen=True)
class Sweep:
    """Counts for every distinct cut: cut k accepts the k highest distinct scores (k = 0..M).

    `thresholds [M+1]` reproduce cut k with the rule score >= threshold (midway between
    neighbouring distinct scores); `tp [M+1]`, `fp [M+1]` count accepted matches / non-matches.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_pos: int
    n_neg: int

    @property
    def tar(self) -> np.ndarray:
        return self.tp / self.n_pos

    @property
    def far(self) -> np.ndarray:
        return self.fp / self.n_neg


def _checked(scores: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, y = scores_and_labels(scores, labels, check_enough=False)
    if y.min() == y.max():
        raise InputError(
            f"labels: only one class (all {int(y[0])}) — need matched and unmatched examples"
        )
    return s, y


def sweep(scores: ArrayLike, labels: ArrayLike) -> Sweep:
    """All distinct thresholds of scores [N] with their counts; needs both classes."""
    s, y = _checked(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    uniq = s[last]
    tp = np.r_[0, np.cumsum(y)[last]]
    fp = np.r_[0, np.cumsum(1 - y)[last]]
    mid = (uniq[:-1] + uniq[1:]) / 2.0
    mid = np.where(mid > uniq[1:], mid, uniq[:-1])
    thresholds = np.r_[np.nextafter(uniq[0], np.inf), mid, uniq[-1]]
    return Sweep(thresholds, tp, fp, int(y.sum()), int(len(y) - y.sum()))


def auroc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve (0.5 = chance, 1 = matches always score above non-matches)."""
    s, y = _checked(scores, labels)
    return float(roc_auc_score(y, s))


def eer_point(sw: Sweep) -> tuple[int, float]:
    """Index of the cut where FAR and FRR are closest, and the EER interpolated between cuts."""
    frr, far = 1.0 - sw.tar, sw.far
    d = frr - far  # starts at 1 (accept none), ends at -1 (accept all)
    i = int(np.argmax(d <= 0))
    t = d[i - 1] / (d[i - 1] - d[i])
    value = far[i - 1] + t * (far[i] - far[i - 1])
    return int(np.argmin(np.abs(d))), float(value)


def eer(scores: ArrayLike, labels: ArrayLike) -> float:
    """Equal error rate: where FAR = FRR, linearly interpolated between neighbouring cuts."""
    return eer_point(sweep(scores, labels))[1]


def tar_at_far(scores: ArrayLike, labels: ArrayLike, far: float) -> float:
    """Highest TAR of any threshold whose FAR on these data is <= `far`."""
    if not 0.0 <= far <= 1.0:
        raise InputError(f"far: must lie in [0, 1], got {far}")
    sw = sweep(scores, labels)
    return float(sw.tar[sw.far <= far].max())

