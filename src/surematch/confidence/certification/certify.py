"""Learn-then-Test certification of accept and reject cut-offs on a ranking score.

Accept side: candidate cut-offs t are the distinct scores, and the candidate sets {s >= t}
are fixed before any label of the certifying data is read (the score comes from elsewhere:
a calibrator's direction fitted on other data, or a calibrated probability). The null
"error rate among s >= t exceeds alpha" is rejected when the binomial p-value
P(Bin(n, alpha) <= errors) <= delta (equivalently, the one-sided Clopper-Pearson upper bound
on the error is <= alpha). Every cut-off a procedure passes is certified jointly (family-wise
error <= delta), so any of them may be kept afterwards, for whatever reason.

Procedures (`PROCEDURES`; `benchmarks/certify_power.py` compares their power):

- "guided" (default): fixed-sequence testing from high to low cut-offs, at full delta,
  starting at the cut-off most likely to pass as judged from *independent* labelled data
  (the guide: e.g. the part that fitted the calibrator; see `guided_chance`).
- "label_free": the same, with the expected errors taken from the scores themselves read as
  probabilities, sum(1 - p) (the protocol before issue #13; needs calibrated scores).
- "multi_start": fixed sequences from several label-free starts, each at delta / m.
- "grid": Bonferroni over a coarse geometric grid of accepted counts, each at delta / G.

Reject side: cut-offs μ from low to high; the null "share of right matches with s < μ exceeds
r" is tested on the right matches only, by fixed-sequence testing from the lowest cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy.stats import binom, nbinom, poisson

from surematch.confidence.certification.bounds import (
    binom_pvalue,
    cp_upper,
    fixed_sequence,
    min_trials_no_event,
)
from surematch.errors import InputError

Procedure = Literal["guided", "label_free", "multi_start", "grid"]
PROCEDURES: tuple[str, ...] = ("guided", "label_free", "multi_start", "grid")
N_STARTS = 4
"""Starts of "multi_start": the label-free start and ones accepting 1/2, 1/4, 1/8 as many."""
N_GRID = 12
"""Cut-offs of "grid"."""


def check_procedure(procedure: str) -> None:
    """InputError unless `procedure` is one of `PROCEDURES`."""
    if procedure not in PROCEDURES:
        raise InputError(f"procedure: unknown {procedure!r}; choose one of {list(PROCEDURES)}")


@dataclass(frozen=True)
class Cut:
    """What a certification found.

    `passed`: every certified cut-off (scores, in the order tested), `bounds`: the
    Clopper-Pearson bound on the risk at each; `at` / `bound`: the most permissive of them
    (None when nothing passed). `first_*` describe the first test that was run (the start of
    the sequence; for "grid" the best grid point), for messages: its cut-off, how many it
    covered, how many were wrong (or missed) and its bound, at the delta it was tested at
    (`first_delta`). `n_needed`: the fewest trials with no error that could certify the
    target at full delta.
    """

    at: float | None
    bound: float | None
    passed: tuple[float, ...]
    bounds: tuple[float, ...]
    first_at: float | None
    first_n: int
    first_events: int
    first_bound: float | None
    first_delta: float
    n_needed: int


def accept_ladder(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate cut-offs of scores s [N] with outcomes y [N], highest first: the distinct
    scores [C], how many have s >= each [C] and how many of those are wrong (y = 0) [C]."""
    order = np.argsort(-s, kind="mergesort")
    ss, err = s[order], 1 - y[order]
    last = np.r_[np.flatnonzero(np.diff(ss) != 0), len(ss) - 1]
    return ss[last], last + 1, np.cumsum(err)[last]


@lru_cache(maxsize=64)
def _allowed_table(n_max: int, alpha: float, delta: float) -> np.ndarray:
    """The most errors [n_max + 1] that n = 0 .. n_max trials may show and still pass (-1:
    none may)."""
    n = np.arange(n_max + 1)
    allowed = binom.ppf(delta, n, alpha)  # smallest k with P(Bin <= k) >= delta ...
    allowed = np.where(binom.cdf(allowed, n, alpha) <= delta, allowed, allowed - 1)  # ... the most
    allowed[0] = -1
    return allowed


def _allowed(n: np.ndarray, alpha: float, delta: float) -> np.ndarray:
    """The most errors [C] that n [C] trials may show and still pass (-1: none may)."""
    size = 1 << max(int(n.max()), 1).bit_length()  # a few table sizes serve every n
    return _allowed_table(size, float(alpha), float(delta))[n]


def _chance(n: np.ndarray, expected_errors: np.ndarray, alpha: float, delta: float
            ) -> np.ndarray:
    """Chance [C] that a test with n [C] trials passes when `expected_errors` [C] are expected
    (Poisson approximation); 0 where even no error could not pass."""
    allowed = _allowed(n, alpha, delta)
    return np.where(allowed >= 0, poisson.cdf(allowed, expected_errors), 0.0)


def _start(chance: np.ndarray) -> int | None:
    """Index of the candidate most likely to pass (chance [C]), or None when none can pass."""
    return int(np.argmax(chance)) if chance.max() > 0 else None


def guided_chance(at: np.ndarray, n: np.ndarray, alpha: float, delta: float,
                  s_guide: np.ndarray, y_guide: np.ndarray) -> np.ndarray:
    """Chance [C] that each cut-off in `at` [C], covering n [C] certifying examples, passes,
    judged from guide scores [M] and outcomes [M]. The error rate above a cut-off, with the
    guide's e errors among its m examples there, is read as Gamma(e + 1/2, m + 1) (Jeffreys,
    so a few guide examples read as unsure), which makes the certifying errors negative
    binomial."""
    order = np.sort(s_guide)
    wrong = np.sort(s_guide[y_guide == 0])
    m = len(order) - np.searchsorted(order, at, side="left")
    e = len(wrong) - np.searchsorted(wrong, at, side="left")
    allowed = _allowed(n, alpha, delta)
    return np.where(allowed >= 0, nbinom.cdf(allowed, e + 0.5, (m + 1.0) / (m + 1.0 + n)), 0.0)


def _run(at: np.ndarray, n: np.ndarray, e: np.ndarray, alpha: float, delta: float,
         starts: list[int], level: float, needed: int) -> Cut:
    """Fixed sequences from each start (each at `level`), pooled."""
    pv = binom_pvalue(e, n, alpha)
    passed: set[int] = set()
    for j in starts:
        passed.update(range(j, j + fixed_sequence(pv[j:], level)))
    first = starts[0] if starts else None
    return _cut(at, n, e, sorted(passed), level, first, needed)


def _cut(at: np.ndarray, n: np.ndarray, e: np.ndarray, passed: list[int], level: float,
         first: int | None, needed: int) -> Cut:
    bounds = cp_upper(e[passed], n[passed], level) if passed else np.zeros(0)
    return Cut(
        at=float(at[passed[-1]]) if passed else None,
        bound=float(bounds[-1]) if passed else None,
        passed=tuple(float(at[j]) for j in passed), bounds=tuple(float(b) for b in bounds),
        first_at=None if first is None else float(at[first]),
        first_n=0 if first is None else int(n[first]),
        first_events=0 if first is None else int(e[first]),
        first_bound=None if first is None else float(cp_upper(e[first], n[first], level)),
        first_delta=level, n_needed=needed)


def certify_accept(
    s: np.ndarray, y: np.ndarray, alpha: float, delta: float,
    procedure: Procedure = "label_free",
    guide: tuple[np.ndarray, np.ndarray] | None = None,
) -> Cut:
    """Certify cut-offs t with error rate among s >= t <= alpha, on scores s [N] and outcomes
    y [N] (1 = right). "guided" needs `guide` = (scores [M], outcomes [M]) of independent data
    on the same score; "label_free" and "multi_start" read s as probabilities."""
    check_procedure(procedure)
    at, n, e = accept_ladder(s, y)
    needed = min_trials_no_event(alpha, delta)
    if procedure == "grid":
        sizes = np.unique(np.round(np.geomspace(min(needed, len(s)), len(s), N_GRID)))
        idx = np.unique(np.minimum(np.searchsorted(n, sizes, side="left"), len(n) - 1))
        level = delta / len(idx)
        ok = idx[binom_pvalue(e[idx], n[idx], alpha) <= level]
        best = int(idx[np.argmin(cp_upper(e[idx], n[idx], level))])
        return _cut(at, n, e, [int(j) for j in ok], level, best, needed)
    if procedure == "guided" and guide is None:
        raise InputError("procedure 'guided': pass guide = (scores, outcomes) of other data")
    m = N_STARTS if procedure == "multi_start" else 1
    if guide is not None and procedure == "guided":
        chance = guided_chance(at, n, alpha, delta, *guide)
    else:
        if np.any((s < 0) | (s > 1)):
            raise InputError(f"procedure {procedure!r}: scores must be probabilities in [0, 1]")
        chance = _chance(n, np.cumsum(1.0 - np.sort(s)[::-1])[n - 1], alpha, delta / m)
    j0 = _start(chance)
    if j0 is None:
        return _cut(at, n, e, [], delta / m, None, needed)
    starts = [j0]
    if procedure == "multi_start":  # more cautious starts: fewer accepted
        for f in (2, 4, 8)[: m - 1]:
            starts.append(int(min(np.searchsorted(n, n[j0] / f, side="left"), j0)))
    return _run(at, n, e, alpha, delta, starts, delta / m, needed)


def misses_below(s: np.ndarray, y: np.ndarray, cut: float) -> int:
    """How many right matches (y = 1) have s < cut."""
    return int(np.sum((y == 1) & (s < cut)))


def certify_reject(s: np.ndarray, y: np.ndarray, miss: float, delta: float) -> Cut:
    """Certify cut-offs μ, lowest first, with the share of right matches at s < μ <= miss."""
    right = np.sort(s[y == 1])
    cuts = np.unique(s)
    k = np.searchsorted(right, cuts, side="left")
    n = np.full(len(cuts), len(right))
    needed = min_trials_no_event(miss, delta)
    passed = fixed_sequence(binom_pvalue(k, n, miss), delta)
    return _cut(cuts, n, k, list(range(passed)), delta, 0, needed)
