"""What users feel, counted live: the share of traffic auto-accepted, by day, and reviewer effort.

`TrafficMeter` counts the queries matched and those whose top match was auto-accepted (band
"accept"), and the reviews made and the traffic they settled (the queue item's count), per UTC
day. `audited_by_day` gives the audited precision of the auto-accepts per day, with its
interval, from the stored audit reviews. The meter lives in memory (a restart starts it over);
the reviews it is read beside are stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from surematch.feedback.audit import cp_interval, shown_band
from surematch.feedback.store import Review

DAY = 86_400.0


def day_of(t: float) -> str:
    """The UTC day of a time (seconds since the epoch), as YYYY-MM-DD."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))


@dataclass
class DayCounts:
    """One day's counts."""

    queries: int = 0
    auto_accepted: int = 0
    reviews: int = 0
    settled: int = 0


class TrafficMeter:
    """Queries, auto-accepts, reviews and traffic settled per day; thread-safe."""

    def __init__(self) -> None:
        self._days: dict[str, DayCounts] = {}
        self._lock = threading.Lock()

    def _day(self, now: float | None) -> DayCounts:
        return self._days.setdefault(day_of(time.time() if now is None else now), DayCounts())

    def observe(self, results: Iterable[Mapping[str, Any]], now: float | None = None) -> None:
        """Count match results ({"matches": [{"band"}, ...]}): one query each, auto-accepted
        when its top match is in the accept band."""
        with self._lock:
            day = self._day(now)
            for result in results:
                matches = result["matches"]
                day.queries += 1
                day.auto_accepted += bool(matches) and matches[0].get("band") == "accept"

    def reviewed(self, settled: int, now: float | None = None) -> None:
        """Count one review and the traffic it settled (its queue item's count; 0: none)."""
        with self._lock:
            day = self._day(now)
            day.reviews += 1
            day.settled += int(settled)

    def summary(self, audits: Iterable[Review] = ()) -> dict[str, Any]:
        """{"queries", "auto_accepted", "auto_share", "reviews", "settled", "days": [{"day",
        "queries", "auto_share", "reviews", "settled", "audited", "precision", "low",
        "high"}, ...]} oldest day first; the audited precision per day comes from `audits`."""
        with self._lock:
            days = {d: DayCounts(**vars(c)) for d, c in self._days.items()}
        audited = audited_by_day(audits)
        rows = []
        for d in sorted(set(days) | set(audited)):
            c = days.get(d, DayCounts())
            rows.append({"day": d, "queries": c.queries, "auto_accepted": c.auto_accepted,
                         "auto_share": c.auto_accepted / c.queries if c.queries else None,
                         "reviews": c.reviews, "settled": c.settled,
                         **audited.get(d, _precision(0, 0))})
        queries = sum(c.queries for c in days.values())
        auto = sum(c.auto_accepted for c in days.values())
        return {"queries": queries, "auto_accepted": auto,
                "auto_share": auto / queries if queries else None,
                "reviews": sum(c.reviews for c in days.values()),
                "settled": sum(c.settled for c in days.values()), "days": rows}


def _precision(right: int, n: int) -> dict[str, Any]:
    low, high = cp_interval(right, n)
    return {"audited": n, "precision": right / n if n else None, "low": low, "high": high}


def audited_by_day(reviews: Iterable[Review]) -> dict[str, dict[str, Any]]:
    """{day: {"audited", "precision", "low", "high"}} over the audit reviews of auto-accepted
    top matches (accept: right), the 95 % two-sided interval of each day's precision."""
    counts: dict[str, list[int]] = {}
    for r in reviews:
        if r.audit and shown_band(r) == "accept":
            c = counts.setdefault(day_of(r.time), [0, 0])
            c[0] += r.decision == "accept"
            c[1] += 1
    return {d: _precision(right, n) for d, (right, n) in counts.items()}
