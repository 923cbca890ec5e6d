"""Isotonic calibration: the best non-decreasing step map from one score to a probability."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

from surematch.confidence.calibrators.base import Calibrator


class IsotonicCalibrator(Calibrator):
    """Pool-adjacent-violators fit of P(match | score), linear between its knots.

    Scores below the first knot or above the last get the end values (no extrapolation).
    Its ends may be exactly 0 or 1 where the data had only one class; log loss punishes that
    when `select_calibrator` compares it on held-out data, as it should.
    """

    kind = "isotonic"

    def __init__(self) -> None:
        super().__init__()
        self.x_thresholds = np.zeros(0)
        self.y_thresholds = np.zeros(0)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(x[:, 0], y.astype(np.float64))
        self.x_thresholds = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self.y_thresholds = np.asarray(iso.y_thresholds_, dtype=np.float64)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x[:, 0], self.x_thresholds, self.y_thresholds)

    def _params(self) -> dict[str, Any]:
        return {"x_thresholds": [float(v) for v in self.x_thresholds],
                "y_thresholds": [float(v) for v in self.y_thresholds]}

    def _set_params(self, d: dict[str, Any]) -> None:
        xs = np.asarray(d["x_thresholds"], dtype=np.float64)
        ys = np.asarray(d["y_thresholds"], dtype=np.float64)
        if xs.ndim != 1 or xs.shape != ys.shape or len(xs) == 0 or np.any(np.diff(xs) <= 0):
            raise ValueError("x_thresholds/y_thresholds (need equal, non-empty, increasing lists)")
        self.x_thresholds, self.y_thresholds = xs, ys
