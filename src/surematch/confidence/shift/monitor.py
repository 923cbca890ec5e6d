"""Label-free shift monitor: are the live queries still like the calibration queries?

A certificate holds for queries drawn like the calibration queries. Each query is sketched by
a few numbers (`query_sketch`): what the calibrator reads about its top match (`MATCH`:
similarity, margin to the runner-up, calibrated probability), the form of its text
(`FORM`: length, tokens, case, digits, punctuation) and, where the embedding is at hand, what
it means (`drift_content`: coordinates on the calibration queries' principal axes). The
calibration queries' sketch is the reference; `ShiftMonitor` compares live queries with it,
one at a time, on whichever features the reference holds.

The test, per feature j (a sequential conformal rank test): live query t gets the randomised
rank u_t of its value among the reference values and the live values before it (ties broken
at random). If the live queries are exchangeable with the calibration queries (drawn from
the same population, in any number), u_1, u_2, ... are independent and uniform on [0, 1]
(Vovk's conformal p-values). A gambler bets on x_t = 2 u_t - 1 with a stake chosen from the
earlier x only (aGRAPA: the running mean over the running second moment, shrunk towards 0
and capped at `MAX_BET`); its wealth W_t = prod (1 + lambda_s x_s) is then a nonnegative
martingale with W_0 = 1, and by Ville's inequality P(sup_t W_t >= 1/a) <= a. The alarm fires
when some feature's log-wealth reaches log(2 J / alpha) (J features, Bonferroni, half of
alpha). A shift that moves a feature's values up or down relative to the calibration's makes
E[x] != 0, and the wealth grows exponentially in the number of live queries.

Beside it, for shifts that show in several features at once, a classifier two-sample test
looks every `LOOK_EVERY` live queries: the last (up to `WINDOW`) live queries against as many
reference queries drawn at random, a linear classifier (`direction`) fitted on half of each,
and the one-sided Mann-Whitney p-value of its scores on the other halves (the held-out AUC). Look j
alarms below (alpha / 2) / (j (j + 1)), which sums to alpha / 2 over all looks. Each look is
valid whatever the ones before it said, so the union bound holds: however long the monitor
runs and however often it is read, the chance of any false alarm is at most `alpha` (2.5 % by
default; measured: `benchmarks/shift.py`). Both parts report on one scale, `statistic`: the
evidence in nats, Bonferroni-adjusted, that alarms at `threshold` = log(1 / alpha).

What it cannot see: a change that leaves every feature's ranks centred and no linear score
apart (a change of spread only); and queries that come in bursts (a query repeated many
times in a row is not an exchangeable draw: it can alarm though each copy is typical).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sortedcontainers import SortedList  # type: ignore[import-untyped]

from surematch.errors import InputError

MATCH = ("similarity", "margin", "probability")
FORM = ("characters", "tokens", "token_length", "upper_share", "digit_share", "other_share",
        "lower_case", "capitalised")
FEATURES = MATCH + FORM
ALPHA = 0.025  # false alarms over a whole run, however long; BENCHMARKS.md (shift) measures it
MAX_BET = 0.5
PRIOR = 20.0  # pseudo-observations of x = 0 (variance 1/3) that each stake starts from
LOOK_EVERY = 100  # live queries between the classifier test's looks
WINDOW = 1000  # live queries (at most) the classifier test compares


def form_sketch(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """The form features [Q] of each text: characters, tokens (split on white space), mean
    token length, share of letters in upper case, share of characters that are digits, share
    that are neither letters, digits nor spaces, 1 when it holds letters all in lower case,
    share of tokens starting with a capital."""
    rows = []
    for text in texts:
        tokens = text.split()
        letters = [c for c in text if c.isalpha()]
        n = max(len(text), 1)
        upper = sum(c.isupper() for c in letters)
        rows.append((
            len(text), len(tokens), sum(map(len, tokens)) / max(len(tokens), 1),
            upper / max(len(letters), 1), sum(c.isdigit() for c in text) / n,
            sum(not (c.isalnum() or c.isspace()) for c in text) / n,
            float(bool(letters) and upper == 0),
            sum(t[:1].isupper() for t in tokens) / max(len(tokens), 1)))
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FORM))
    return {name: values[:, j] for j, name in enumerate(FORM)}


def query_sketch(texts: Sequence[str], top: ArrayLike, second: ArrayLike | None = None,
                 probability: ArrayLike | None = None) -> dict[str, np.ndarray]:
    """Every feature [Q] of queries `texts` [Q] with their top match's similarity [Q], the
    runner-up's [Q] (NaN or None: no runner-up) and the top match's calibrated probability
    [Q] (None: uncalibrated). Missing values are NaN; the monitor skips them."""
    q = len(texts)
    s = _column(top, q, "top")
    r = np.full(q, np.nan) if second is None else _column(second, q, "second")
    p = np.full(q, np.nan) if probability is None else _column(probability, q, "probability")
    return {"similarity": s, "margin": s - r, "probability": p, **form_sketch(texts)}


def _column(values: ArrayLike, n: int, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(a) != n:
        raise InputError(f"{len(a)} values for {n} queries", field=name)
    return a


@dataclass(frozen=True)
class ShiftResult:
    """Where the monitor stands: `alarm` (latched once `statistic` reached `threshold`),
    `statistic` (the evidence now, in nats), `n` live queries seen, `alarm_at` (the live query
    at which it fired; None: not fired), the features that differ most and the classifier
    test's last held-out AUC (0.5: alike)."""

    alarm: bool
    statistic: float
    threshold: float
    n: int
    alarm_at: int | None
    alpha: float
    top_differences: list[dict[str, Any]] = field(default_factory=list)
    auc: float | None = None  # the classifier test's held-out AUC at its last look

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Feature:
    """One feature's bag of values (reference and live so far) and its gambler."""

    def __init__(self, reference: np.ndarray) -> None:
        self.bag = SortedList(reference.tolist())
        self.reference_mean = float(reference.mean())
        self.log_wealth = 0.0
        self.k, self.sum_x, self.sum_x2, self.sum_value = 0, 0.0, 0.0, 0.0

    def step(self, value: float, tie: float) -> None:
        below = self.bag.bisect_left(value)
        equal = self.bag.bisect_right(value) - below
        u = (below + tie * (equal + 1)) / (len(self.bag) + 1)
        x = 2.0 * u - 1.0
        mean = self.sum_x / (PRIOR + self.k)
        second = (self.sum_x2 + PRIOR / 3.0) / (PRIOR + self.k)
        bet = max(-MAX_BET, min(MAX_BET, mean / second))
        self.log_wealth += math.log1p(bet * x)
        self.k += 1
        self.sum_x += x
        self.sum_x2 += x * x
        self.sum_value += value
        self.bag.add(value)


class ShiftMonitor:
    """Sequential test that live queries are exchangeable with the reference (the
    calibration queries), checked after every query; see the module text.

    `reference`: {feature: values [N]} (NaN: missing); features with fewer than 20 values
    are left out. `alpha`: the false-alarm rate over the whole (unbounded) run. `looks`:
    False runs the rank test alone, at the whole alpha (for comparison)."""

    def __init__(self, reference: Mapping[str, ArrayLike], alpha: float = ALPHA,
                 seed: int = 0, looks: bool = True) -> None:
        if not 0.0 < alpha < 1.0:
            raise InputError(f"must lie strictly between 0 and 1, got {alpha}", field="alpha")
        self.alpha = alpha
        self._features: dict[str, _Feature] = {}
        columns = {}
        for name, values in reference.items():
            v = np.asarray(values, dtype=np.float64).reshape(-1)
            if np.isfinite(v).sum() >= 20:
                self._features[name] = _Feature(v[np.isfinite(v)])
                columns[name] = v
        if not self._features:
            raise InputError("the reference holds no feature with 20 values or more",
                             field="reference")
        self.threshold = math.log(1.0 / alpha)
        self._rank_offset = math.log((2.0 if looks else 1.0) * len(self._features))
        self._rng = np.random.default_rng(seed)
        self.n = 0
        self.alarm_at: int | None = None
        # the classifier test reads rows: the reference's, missing values set to the mean
        same = len({len(c) for c in columns.values()}) == 1
        self._reference_rows = _rows(columns) if looks and same else None
        self._live: deque[np.ndarray] = deque(maxlen=WINDOW)
        self._looks = 0
        self._look_evidence = -math.inf
        self.auc: float | None = None

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self._features)

    @property
    def alarm(self) -> bool:
        return self.alarm_at is not None

    @property
    def statistic(self) -> float:
        """The evidence against "alike" now, in nats: the larger of the largest log-wealth
        less log(2 J) and the last classifier look's -log(p) less log(2 j (j + 1)); the alarm
        fires when it reaches `threshold` = log(1 / alpha)."""
        ranks = max(f.log_wealth for f in self._features.values()) - self._rank_offset
        return max(ranks, self._look_evidence)

    def update(self, sketch: Mapping[str, ArrayLike]) -> bool:
        """Feed live queries in order: {feature: values [n]} (a `query_sketch`); features the
        reference lacks are ignored, NaN values skipped. Returns `alarm`."""
        columns = {name: np.asarray(sketch[name], dtype=np.float64).reshape(-1)
                   for name in self._features if name in sketch}
        n = len(next(iter(columns.values()))) if columns else 0
        if any(len(c) != n for c in columns.values()):
            raise InputError("the sketch's features have different lengths", field="sketch")
        ties = self._rng.random((n, len(columns)))
        level = self.threshold + self._rank_offset
        for i in range(n):
            self.n += 1
            for j, (name, column) in enumerate(columns.items()):
                value = column[i]
                if value == value:  # not NaN
                    feature = self._features[name]
                    feature.step(float(value), float(ties[i, j]))
                    if self.alarm_at is None and feature.log_wealth >= level:
                        self.alarm_at = self.n
            if self._reference_rows is not None:
                self._live.append(np.array([columns[name][i] if name in columns else np.nan
                                            for name in self._features]))
                if self.n % LOOK_EVERY == 0:
                    self._look()
        return self.alarm

    def _look(self) -> None:
        """One look of the classifier test at the last live queries."""
        from scipy.stats import mannwhitneyu

        assert self._reference_rows is not None
        live = np.array(self._live)
        mean = self._reference_rows.mean(axis=0)
        live = np.where(np.isfinite(live), live, mean)
        m = min(len(live), len(self._reference_rows))
        live = live[-m:]
        ref = self._reference_rows[self._rng.choice(len(self._reference_rows), m,
                                                    replace=False)]
        half = m // 2
        if half < 10:
            return
        self._looks += 1
        coef = direction(ref[:half], live[:half])
        a, b = ref[half:] @ coef, live[half:] @ coef
        test = mannwhitneyu(b, a, alternative="greater")
        self.auc = float(test.statistic) / (len(a) * len(b))
        p = max(float(test.pvalue), 1e-300)
        self._look_evidence = -math.log(p) - math.log(2.0 * self._looks * (self._looks + 1.0))
        if self.alarm_at is None and self._look_evidence >= self.threshold:
            self.alarm_at = self.n

    def top_differences(self, m: int = 5) -> list[dict[str, Any]]:
        """The `m` features whose live values differ most from the reference's (highest
        log-wealth first): the live queries' mean rank among the reference (0.5 when alike),
        whether live values run higher or lower, and both means."""
        out: list[dict[str, Any]] = []
        for name, f in self._features.items():
            if f.k == 0:
                continue
            rank = 0.5 + f.sum_x / (2.0 * f.k)
            out.append({"feature": name, "log_wealth": round(f.log_wealth, 3),
                        "live_rank": round(rank, 3),
                        "direction": "higher" if rank >= 0.5 else "lower",
                        "calibration_mean": round(f.reference_mean, 4),
                        "live_mean": round(f.sum_value / f.k, 4), "n": f.k})
        out.sort(key=lambda d: -d["log_wealth"])
        return out[:m]

    def result(self) -> ShiftResult:
        return ShiftResult(self.alarm, round(self.statistic, 4), round(self.threshold, 4),
                           self.n, self.alarm_at, self.alpha, self.top_differences(),
                           None if self.auc is None else round(self.auc, 4))


def direction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The linear classifier of rows b [n, F] against rows a [m, F]: the difference of the
    means over the pooled variances (diagonal linear discriminant; closed form, so a look
    costs a millisecond)."""
    var = (a.var(axis=0) + b.var(axis=0)) / 2.0
    return (b.mean(axis=0) - a.mean(axis=0)) / np.where(var > 0, var, 1.0)


def _rows(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rows [N, F] of equally long columns, missing values set to their column's mean."""
    x = np.column_stack(list(columns.values()))
    mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
    return np.where(np.isfinite(x), x, mean)


def shift_message(result: ShiftResult, what: str = "these queries") -> str:
    """One line: whether `what` differ from the calibration queries, and in what."""
    if not result.alarm:
        return (f"{what} look like the calibration queries ({result.n:,} checked; evidence "
                f"{result.statistic:.1f} < {result.threshold:.1f})")
    top = result.top_differences[0] if result.top_differences else None
    why = (f", most in {top['feature']} ({top['direction']}: mean {top['live_mean']:g} vs "
           f"{top['calibration_mean']:g})") if top else ""
    return (f"SHIFT: {what} differ from the calibration queries (after {result.alarm_at:,} of "
            f"{result.n:,}{why}); the certified precision may not hold for them")
