"""Percent confidence for people: probability x 100, or DeepFace-style banded percentages."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.checks import as_finite
from surematch.errors import InputError


def _probs(p: ArrayLike) -> np.ndarray:
    arr = as_finite(p, "probabilities", ndim=(0, 1))
    if np.any((arr < 0) | (arr > 1)):
        raise InputError("probabilities: values must lie in [0, 1]")
    return arr


def percent(p: ArrayLike) -> float | np.ndarray:
    """Calibrated probability as a percentage, p x 100 (a float for a scalar, else [N])."""
    out = _probs(p) * 100.0
    return float(out) if out.ndim == 0 else out


def banded_percent(p: ArrayLike, threshold: float) -> float | np.ndarray:
    """DeepFace-style display: p >= threshold ("verified") maps linearly onto [51, 100],
    p < threshold onto [0, 49).

    A presentation, not a probability: 51 % here does not mean a 51 % chance of a match,
    it only says "just over the threshold". Report `percent(p)` where a probability is meant.
    """
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold: must lie strictly between 0 and 1, got {threshold}")
    arr = _probs(p)
    above = 51.0 + 49.0 * (arr - threshold) / (1.0 - threshold)
    below = 49.0 * arr / threshold
    out = np.where(arr >= threshold, above, below)
    return float(out) if out.ndim == 0 else out
