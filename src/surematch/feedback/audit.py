"""Running proof of auto-accept precision from the audit sample's auto-accepted matches.

The audit sample is a seeded random sample of every query's top match, whatever its band
(`feedback.queue.audit_draw`): its auto-accepted part is a random sample of the auto-accepts,
the running proof here; all of it is a random sample of the traffic, which certifies bands at
any cut-off (`workflows.feedback.fit_feedback_calibration`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import beta

from surematch.confidence.certification.bounds import cp_upper
from surematch.errors import InputError
from surematch.feedback.store import Review


@dataclass(frozen=True)
class AuditResult:
    """Observed auto-accept precision, its two-sided interval, and whether it alarms."""

    n: int
    right: int
    precision: float | None
    low: float
    high: float
    target: float
    alarm: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cp_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval on a rate from k events in n trials (n = 0: 0, 1)."""
    a = (1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1.0 - a, k + 1, n - k))
    return low, high


def alarm_delta(n: np.ndarray | int, confidence: float, anytime: bool) -> np.ndarray | float:
    """Error level of the alarm's test after n audits: 1 - confidence for one look; with
    `anytime`, (1 - confidence) / (n (n + 1)), which sums to 1 - confidence over all n."""
    delta = 1.0 - confidence
    return delta / (np.asarray(n) * (np.asarray(n) + 1.0)) if anytime else delta


def audit_precision(right: int, wrong: int, target: float, confidence: float = 0.95,
                    anytime: bool = False) -> AuditResult:
    """Audit `right` + `wrong` auto-accepted matches against the certified precision `target`.

    `alarm` is True when the one-sided Clopper-Pearson upper bound on precision at `confidence`
    lies below `target`: the data show the certificate no longer holds. That holds for one
    look; checked after every audit, the chance of some false alarm grows with the number of
    checks. `anytime=True` spends the error over the looks (`alarm_delta`), so that checking
    after every audit, forever, false-alarms with probability at most 1 - confidence, at the
    price of a later alarm. The interval `low`-`high` is the plain two-sided one.
    """
    for name, value in (("right", right), ("wrong", wrong)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"must be a count (an integer >= 0), got {value!r}", field=name)
    for name, share in (("target", target), ("confidence", confidence)):
        if not 0.0 < share < 1.0:
            raise InputError(f"must lie strictly between 0 and 1, got {share}", field=name)
    right, n = int(right), int(right) + int(wrong)
    low, high = cp_interval(right, n, confidence)
    upper = float(cp_upper(right, n, float(alarm_delta(max(n, 1), confidence, anytime))))
    alarm = n > 0 and upper < target
    pct = f"{confidence * 100:g} %"
    if n == 0:
        message = "no audited auto-accepted matches yet"
    elif alarm:
        message = (f"ALARM: {right} of {n} audited auto-accepts right; precision is below the "
                   f"certified {target:g} at {pct} confidence (at most {upper:.3f}): "
                   "recalibrate or stop auto-accepting")
    else:
        message = (f"{right} of {n} audited auto-accepts right (precision {right / n:.3f}, "
                   f"{pct} interval {low:.3f}-{high:.3f}); consistent with the certified "
                   f"{target:g}")
    return AuditResult(n, right, right / n if n else None, low, high, target, alarm, message)


def shown_band(review: Review) -> str | None:
    """The band the reviewed top match was shown in: that of the stored candidate with the
    shown id (the first candidate when no id was shown); None when none was recorded."""
    for c in review.candidates:
        if review.shown_id is None or c.get("id") == review.shown_id:
            band = c.get("band")
            return band if isinstance(band, str) else None
    return None


def audit_reviews(reviews: Iterable[Review], target: float, confidence: float = 0.95,
                  calibration_id: str | None = None, anytime: bool = False) -> AuditResult:
    """`audit_precision` over the audit-sample reviews of auto-accepted top matches (accept:
    right; reject/correct: wrong), optionally only those made under one calibration;
    `anytime`: see `audit_precision`.

    An audit review counts only when its shown top match was in the accept band
    (`shown_band`): the audit samples every band, and the others say nothing about the
    auto-accepts. A review that records no band for it is left out too."""
    audited = [r for r in reviews if r.audit and shown_band(r) == "accept"
               and (calibration_id is None or r.calibration_id == calibration_id)]
    right = sum(r.decision == "accept" for r in audited)
    return audit_precision(right, len(audited) - right, target, confidence, anytime)


def first_alarm(outcomes: np.ndarray, target: float, confidence: float = 0.95,
                anytime: bool = False) -> int | None:
    """The number of audited matches after which the alarm first fires, checking after each
    one of the outcomes [N] (1 = right) in order; None if it never fires."""
    y = np.asarray(outcomes, dtype=np.int64)
    n = np.arange(1, len(y) + 1)
    k = np.cumsum(y)
    if anytime:  # cp_upper with one error level per look
        delta = np.asarray(alarm_delta(n, confidence, True))
        upper, ok = np.ones(len(n)), k < n
        upper[ok] = beta.ppf(1.0 - delta[ok], k[ok] + 1.0, n[ok] - k[ok])
    else:
        upper = cp_upper(k, n, 1.0 - confidence)
    fired = upper < target
    return int(np.argmax(fired)) + 1 if fired.any() else None
