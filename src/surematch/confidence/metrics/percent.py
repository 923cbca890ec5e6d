"""A calibrated probability shown to people as a percentage (probability x 100)."""

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
