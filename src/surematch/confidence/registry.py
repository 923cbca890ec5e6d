"""Calibrators by name: make a fresh one, rebuild one from its dict or from a JSON file."""

from __future__ import annotations

from typing import Any

from surematch.confidence.beta import BetaCalibrator
from surematch.confidence.calibration import Calibrator
from surematch.confidence.isotonic import IsotonicCalibrator
from surematch.confidence.logistic import LogisticCalibrator
from surematch.errors import ModelFormatError
from surematch.registry import Registry

CALIBRATORS: Registry[type[Calibrator]] = Registry("calibrator", "calibrators",
                                                   option="calibrator")
for _cls in (LogisticCalibrator, IsotonicCalibrator, BetaCalibrator):
    CALIBRATORS.add(_cls.kind, _cls)


def make_calibrator(name: str) -> Calibrator:
    """A fresh, unfitted calibrator of kind `name`."""
    return CALIBRATORS[name]()


def calibrator_from_dict(d: dict[str, Any]) -> Calibrator:
    """Rebuild a fitted calibrator from its `to_dict()` output (no pickle involved)."""
    if not isinstance(d, dict):
        raise ModelFormatError(f"calibration: expected a JSON object, got {type(d).__name__}")
    kind = d.get("kind")
    if kind not in CALIBRATORS:
        raise ModelFormatError(
            f"calibration: unknown kind {kind!r}; expected one of {sorted(CALIBRATORS)}"
        )
    return CALIBRATORS[kind].from_dict(d)
