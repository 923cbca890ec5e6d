"""Finite-sample binomial bounds and fixed-sequence testing, used to certify triage cut-offs."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta, binom


def cp_upper(k: ArrayLike, n: ArrayLike, delta: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound on a rate from k events in n trials.

    With probability >= 1 - delta the true rate is <= the bound. n = 0 gives 1 (no information).
    """
    k, n = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64))
    out = np.ones(k.shape)
    ok = k < n
    out[ok] = beta.ppf(1.0 - delta, k[ok] + 1.0, n[ok] - k[ok])
    return out


def binom_pvalue(k: ArrayLike, n: ArrayLike, alpha: float) -> np.ndarray:
    """p-value of the null "rate > alpha" after k events in n trials: P(Bin(n, alpha) <= k).

    It is <= delta exactly when `cp_upper(k, n, delta)` <= alpha; n = 0 gives 1.
    """
    k, n = np.asarray(k), np.asarray(n)
    return np.where(n > 0, binom.cdf(k, n, alpha), 1.0)


def min_trials_no_event(alpha: float, delta: float) -> int:
    """Fewest trials with zero events that certify rate <= alpha: (1 - alpha)^n <= delta."""
    n = max(1, math.ceil(math.log(delta) / math.log1p(-alpha)))
    while n > 1 and (1.0 - alpha) ** (n - 1) <= delta:  # guard against rounding up too far
        n -= 1
    while (1.0 - alpha) ** n > delta:
        n += 1
    return n


def fixed_sequence(pvalues: ArrayLike, delta: float) -> int:
    """Fixed-sequence testing: how many hypotheses, taken in their given order, are rejected.

    Testing each at level delta and stopping at the first p-value > delta controls the
    family-wise error at delta, however long the (pre-ordered) sequence is.
    """
    passed = np.asarray(pvalues) <= delta
    return int(len(passed) if passed.all() else np.argmin(passed))
