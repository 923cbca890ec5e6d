"""Learn-then-Test certification of the accept and reject cut-offs on calibrated probabilities.

Accept side: candidate cut-offs λ are the distinct probabilities, tested from high to low.
The null "error rate among pairs with p >= λ exceeds alpha" is rejected when the binomial
p-value P(Bin(n, alpha) <= errors) <= delta (equivalently, the one-sided Clopper-Pearson upper
bound on the error is <= alpha). Fixed-sequence testing stops at the first failure and keeps
the lowest cut-off passed; the family-wise error is <= delta however many cut-offs there are.

Where the sequence starts matters, since one failure ends it, and the highest cut-offs accept
too few pairs to pass at all. It starts at the cut-off most likely to pass judged from the
probabilities alone: the errors expected there, sum(1 - p), against the most errors the test
allows (Poisson approximation). The labels play no part in that choice; a miscalibrated
model can only make the start fail (nothing certified), not make a promise false.

Reject side: cut-offs μ from low to high; the null "share of right matches with p < μ exceeds
r" is tested on the right matches only, and the highest cut-off passed is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom, poisson

from surematch.confidence.bounds import binom_pvalue, cp_upper, fixed_sequence, min_trials_no_event


@dataclass(frozen=True)
class Cut:
    """A certified cut-off and the Clopper-Pearson bound on the risk there (both None if none
    could be certified; then `best_bound` is the lowest such bound any cut-off reaches,
    pointwise, for messages) and `n_needed`, the fewest trials with no error that could
    certify the target."""

    at: float | None
    bound: float | None
    best_bound: float | None
    n_needed: int


def _start(n: np.ndarray, expected_errors: np.ndarray, alpha: float, delta: float) -> int | None:
    """Index of the candidate most likely to pass, or None when no candidate can pass."""
    allowed = binom.ppf(delta, n, alpha)  # smallest k with P(Bin <= k) >= delta ...
    allowed = np.where(binom.cdf(allowed, n, alpha) <= delta, allowed, allowed - 1)  # ... the most
    chance = np.where(allowed >= 0, poisson.cdf(allowed, expected_errors), 0.0)
    return int(np.argmax(chance)) if chance.max() > 0 else None


def certify_accept(p: np.ndarray, y: np.ndarray, alpha: float, delta: float) -> Cut:
    """Lowest λ with error rate among p >= λ certified <= alpha (p [N] probabilities, y [N] 0/1)."""
    order = np.argsort(-p, kind="mergesort")
    ps, err = p[order], 1 - y[order]
    last = np.r_[np.flatnonzero(np.diff(ps) != 0), len(ps) - 1]
    n, e = last + 1, np.cumsum(err)[last]
    needed = min_trials_no_event(alpha, delta)
    start = _start(n, np.cumsum(1.0 - ps)[last], alpha, delta)
    passed = 0 if start is None else fixed_sequence(
        binom_pvalue(e[start:], n[start:], alpha), delta)
    if start is None or passed == 0:
        return Cut(None, None, float(cp_upper(e, n, delta).min()), needed)
    j = start + passed - 1
    return Cut(float(ps[last[j]]), float(cp_upper(e[j], n[j], delta)), None, needed)


def misses_below(p: np.ndarray, y: np.ndarray, cut: float) -> int:
    """How many right matches (y = 1) have p < cut."""
    return int(np.sum((y == 1) & (p < cut)))


def certify_reject(p: np.ndarray, y: np.ndarray, miss: float, delta: float) -> Cut:
    """Highest μ with the share of right matches at p < μ certified <= miss."""
    right = np.sort(p[y == 1])
    cuts = np.unique(p)
    k = np.searchsorted(right, cuts, side="left")
    needed = min_trials_no_event(miss, delta)
    passed = fixed_sequence(binom_pvalue(k, len(right), miss), delta)
    if passed == 0:
        return Cut(None, None, float(cp_upper(0, len(right), delta)), needed)
    j = passed - 1
    return Cut(float(cuts[j]), float(cp_upper(k[j], len(right), delta)), None, needed)
