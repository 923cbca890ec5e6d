"""The traffic meter: auto-accepted share by volume, reviewer effort, audited precision per day."""

from __future__ import annotations

from pathlib import Path

import pytest

from surematch.feedback import FeedbackStore, TrafficMeter

DAY1, DAY2 = 1_700_000_000.0, 1_700_000_000.0 + 86_400.0


def top(band: str) -> dict[str, object]:
    return {"query": "q", "matches": [{"id": "a", "band": band}]}


def test_auto_share_by_volume_per_day_and_reviewer_effort(tmp_path: Path) -> None:
    meter = TrafficMeter()
    meter.observe([top("accept"), top("review"), top("accept"), {"query": "x", "matches": []}],
                  now=DAY1)
    meter.observe([top("accept")] * 3, now=DAY2)
    meter.reviewed(settled=40, now=DAY2)
    meter.reviewed(settled=0, now=DAY2)
    with FeedbackStore(tmp_path) as store:
        shown = [{"id": "a", "band": "accept"}]
        store.add("q1", "accept", shown_id="a", candidates=shown, audit=True, at=DAY2)
        store.add("q2", "reject", shown_id="a", candidates=shown, audit=True, at=DAY2)
        store.add("q3", "reject", shown_id="a", candidates=[{"id": "a", "band": "review"}],
                  audit=True, at=DAY2)  # not auto-accepted: says nothing of its precision
        summary = meter.summary(store.reviews(audit=True))
    assert (summary["queries"], summary["auto_accepted"]) == (7, 5)
    assert summary["auto_share"] == pytest.approx(5 / 7)
    assert (summary["reviews"], summary["settled"]) == (2, 40)
    first, second = summary["days"]
    assert first["auto_share"] == 0.5 and first["audited"] == 0 and first["precision"] is None
    assert second["auto_share"] == 1.0 and (second["reviews"], second["settled"]) == (2, 40)
    assert (second["audited"], second["precision"]) == (2, 0.5)
    assert 0.0 < second["low"] < 0.5 < second["high"] < 1.0
