"""Input checks for calibrators, thresholds, bands and metrics, with messages a user can act on."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from surematch.errors import InputError

MIN_SAMPLES = 20
"""Fewest examples a calibrator, threshold or selection is fitted on."""
MIN_PER_CLASS = 5
"""Fewest matched (label 1) and unmatched (label 0) examples each."""


def as_finite(values: ArrayLike, name: str, *, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """`values` as a float64 array of one of the allowed ranks, non-empty and free of NaN/inf."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if arr.ndim not in ndim:
        shapes = " or ".join("[N]" if d == 1 else "[N, F]" if d == 2 else f"{d}-D" for d in ndim)
        raise InputError(f"{name}: expected shape {shapes}, got {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name}: empty — no values given")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.argwhere(bad)[0]
        where = int(first[0]) if len(first) == 1 else tuple(int(i) for i in first)
        raise InputError(
            f"{name}: {int(bad.sum())} value(s) are NaN or infinite (first at index {where})"
        )
    return arr


def as_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """Labels [N] as an int array of 0 (unmatched / wrong) and 1 (matched / right)."""
    raw = np.asarray(labels)
    if raw.ndim != 1:
        raise InputError(f"{name}: expected shape [N], got {raw.shape}")
    if raw.size == 0:
        raise InputError(f"{name}: empty — no values given")
    if raw.dtype == bool:
        return raw.astype(np.int64)
    arr = as_finite(raw, name)
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{name}: values must be 0/1 or True/False, got {raw[i].item()!r} at index {i}"
        )
    return arr.astype(np.int64)


def as_probs(probs: ArrayLike, name: str = "probabilities") -> np.ndarray:
    """Probabilities [N] as float64, each checked to lie in [0, 1]."""
    arr = as_finite(probs, name)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name}: values must lie in [0, 1], got {arr[i]} at index {i}")
    return arr


def same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise when two per-example arrays disagree on the number of examples."""
    if len(a) != len(b):
        raise InputError(f"{name_a} and {name_b} have different lengths ({len(a)} vs {len(b)})")


def enough_data(
    y: np.ndarray, *, min_samples: int = MIN_SAMPLES, min_per_class: int = MIN_PER_CLASS
) -> None:
    """Raise unless `y` [N] holds both classes, `min_samples` in all and `min_per_class` of each."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InputError(
            f"labels: only one class (all {int(y[0])}) — need matched and unmatched examples"
        )
    if len(y) < min_samples:
        raise InputError(f"too few samples: {len(y)} (need at least {min_samples})")
    counts = ((n_pos, "matched examples (label 1)"), (n_neg, "unmatched examples (label 0)"))
    for count, what in counts:
        if count < min_per_class:
            raise InputError(
                f"labels: only {count} {what}; need at least {min_per_class} of each class"
            )


def scores_and_labels(
    scores: ArrayLike, labels: ArrayLike, *, ndim: tuple[int, ...] = (1,), check_enough: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Checked (scores [N] or [N, F], labels [N]); with `check_enough`, also the minimum counts."""
    x = as_finite(scores, "scores", ndim=ndim)
    y = as_labels(labels)
    same_length(x, y, "scores", "labels")
    if check_enough:
        enough_data(y)
    return x, y
