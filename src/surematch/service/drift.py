"""The live shift monitor: every matched query against the calibration queries' sketch
(GET /v1/drift, gauges in /metrics); it starts over when a new calibration is swapped in."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, Request
from prometheus_client import Gauge

from surematch.confidence.shift.monitor import FEATURES, ShiftMonitor, shift_message
from surematch.confidence.shift.reference_file import load_basis, load_reference, save_reference
from surematch.service.security import read_key
from surematch.workflows.drift import results_sketch

router = APIRouter(prefix="/v1")
log = logging.getLogger("surematch.service")
RECENT = 5000  # live queries kept to become the reference of a calibration refitted on audits
MIN_RECENT = 200


class DriftWatch:
    """The monitor of the calibration in use (none when the model folder holds no drift
    reference for it); `observe` feeds it match results, `reset` starts over. The sketches of
    the last RECENT live queries are kept: a calibration refitted on the audits (a random
    sample of that traffic) takes them as its reference (`keep_recent`)."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._recent: deque[np.ndarray] = deque(maxlen=RECENT)
        self.reset()

    def keep_recent(self) -> bool:
        """Save the recent live queries' sketch as the reference of the calibration just saved
        in the folder (refitted on audits of that traffic), without their probabilities (the
        old calibration's); False, and nothing saved, with fewer than MIN_RECENT of them."""
        with self._lock:
            names, basis = self.names, self.basis
            rows = np.array(self._recent).reshape(-1, len(names))
        if len(rows) < MIN_RECENT:
            return False
        sketch = {name: rows[:, j] for j, name in enumerate(names) if name != "probability"}
        save_reference(self.model_dir, sketch, f"the {len(rows):,} live queries before the "
                       "refit on audit reviews", basis)
        return True

    def reset(self) -> None:
        """Start over against the drift reference of the calibration in the folder now."""
        reference, info = load_reference(self.model_dir)
        basis = load_basis(self.model_dir) if reference is not None else None
        with self._lock:
            self.monitor = None if reference is None else ShiftMonitor(reference)
            self.info = info
            self.basis = basis
            self.names = tuple(reference) if reference is not None else FEATURES
            if len(self._recent) and len(self._recent[0]) != len(self.names):
                self._recent.clear()  # sketched with other features
            self.since = datetime.now(UTC).isoformat(timespec="seconds")

    def observe(self, results: Sequence[dict[str, Any]],
                embeddings: Sequence[np.ndarray | None] | None = None) -> None:
        """Feed these match results (JSON dicts), in order, with their queries' embeddings
        (the content features; None: unknown)."""
        if not results:
            return
        sketch = results_sketch(results)
        if self.basis is not None and embeddings is not None:
            sketch.update(self.basis.project_rows(embeddings))
        with self._lock:
            n = len(results)
            self._recent.extend(np.column_stack([sketch.get(name, np.full(n, np.nan))
                                                 for name in self.names]))
            monitor = self.monitor
            if monitor is None:
                return
            before = monitor.alarm
            monitor.update(sketch)
            if monitor.alarm and not before:
                log.warning("drift alarm: %s", shift_message(monitor.result(), "live queries"))

    def report(self) -> dict[str, Any]:
        """The /v1/drift answer."""
        with self._lock:
            if self.monitor is None:
                return {"alarm": False, "statistic": None, "threshold": None, "n": 0,
                        "since": self.since, "top_differences": [], "alarm_at": None,
                        "alpha": None, "auc": None, "reference": self.info,
                        "message": self.info.get("note", "no drift reference")}
            result = self.monitor.result()
        return {**result.to_dict(), "since": self.since, "reference": self.info,
                "message": shift_message(result, "live queries")}


@router.get("/drift", dependencies=[Depends(read_key)])
def drift(request: Request) -> dict[str, Any]:
    """Whether the live queries since the calibration in use was swapped in differ from its
    calibration queries: {"alarm", "statistic", "threshold", "n", "since", "top_differences",
    ...}; the alarm false-alarms with probability at most "alpha" over the whole run."""
    return request.app.state.service.drift.report()


def install_drift_metrics(app: FastAPI) -> None:
    """Gauges read at each scrape: the monitor's statistic (NaN: no reference) and alarm."""
    watch: DriftWatch = app.state.service.drift

    def statistic() -> float:
        monitor = watch.monitor
        return math.nan if monitor is None else float(monitor.statistic)

    def alarm() -> float:
        monitor = watch.monitor
        return float(monitor is not None and monitor.alarm)

    Gauge("surematch_drift_statistic", "largest log-wealth of the shift monitor (alarm at "
          "its threshold)", registry=app.state.registry).set_function(statistic)
    Gauge("surematch_drift_alarm", "1 when the live queries differ from the calibration "
          "queries", registry=app.state.registry).set_function(alarm)
