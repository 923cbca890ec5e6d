"""Verification thresholds on scores chosen by accuracy, F1, equal error rate or a target FMR."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.checks import scores_and_labels
from surematch.confidence.metrics.roc import eer_point, sweep
from surematch.errors import InputError

Criterion = Literal["accuracy", "f1", "eer", "fmr"]
CRITERIA = ("accuracy", "f1", "eer", "fmr")


@dataclass(frozen=True)
class Threshold:
    """A pair is declared a match when score >= `threshold` (scores: higher is closer).

    `value` is the criterion measured on the data the threshold was chosen on (accuracy, F1,
    the interpolated EER, or the false-match rate reached); `fmr` and `fnmr` are the false
    match and false non-match rates there, on the same data.
    """

    threshold: float
    criterion: str
    value: float
    fmr: float
    fnmr: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_threshold(
    scores: ArrayLike,
    labels: ArrayLike,
    criterion: Criterion = "accuracy",
    target_fmr: float | None = None,
) -> Threshold:
    """Pick a threshold on scores [N] against ground-truth labels [N] (1 = same, 0 = different).

    - "accuracy": most pairs decided right; "f1": best F1 of the match class;
    - "eer": where false-match and false-non-match rates are closest;
    - "fmr": the lowest threshold whose false-match rate is <= `target_fmr` (most matches kept).

    Ties go to the higher threshold. Candidate thresholds lie midway between neighbouring
    distinct scores. Needs at least 20 pairs, 5 of each class.
    """
    if criterion not in CRITERIA:
        raise InputError(f"criterion: unknown {criterion!r}; choose one of {list(CRITERIA)}")
    if criterion == "fmr" and (target_fmr is None or not 0.0 <= target_fmr <= 1.0):
        raise InputError(f"target_fmr: criterion 'fmr' needs a rate in [0, 1], got {target_fmr}")
    s, y = scores_and_labels(scores, labels)
    sw = sweep(s, y)
    fn, tn = sw.n_pos - sw.tp, sw.n_neg - sw.fp
    if criterion == "accuracy":
        values = (sw.tp + tn) / len(y)
        i = int(np.argmax(values))
        value = float(values[i])
    elif criterion == "f1":
        values = 2 * sw.tp / (2 * sw.tp + sw.fp + fn)
        i = int(np.argmax(values))
        value = float(values[i])
    elif criterion == "eer":
        i, value = eer_point(sw)
    else:
        i = int(np.sum(sw.far <= target_fmr)) - 1  # FAR never decreases as more is accepted
        value = float(sw.far[i])
    return Threshold(float(sw.thresholds[i]), criterion, value, float(sw.far[i]),
                     float(1.0 - sw.tar[i]))
