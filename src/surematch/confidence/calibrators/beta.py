"""Beta calibration (Kull et al. 2017): logistic regression on [ln s, -ln(1 - s)] for s in (0, 1).

Scores need not lie in (0, 1). `score_map` says how a score becomes s:

- "unit": s = the score itself, clipped to [1e-6, 1 - 1e-6] (for scores that are already
  probability-like, e.g. a classifier's output);
- "logistic": s = sigmoid((score - median) / scale), with the median and scale fitted on the
  training scores so that their middle half maps to [0.25, 0.75]; it is monotone, never clips,
  and leaves no score out of range later (a fitted min-max would have to clip unseen scores);
- "auto" (default): "unit" when every training score lies strictly inside (0, 1), else
  "logistic". The choice made is saved, so a loaded calibrator maps scores the same way.

As in Kull et al., the coefficients of both features are kept non-negative (a negative one is
dropped and the other refitted), so the map is non-decreasing in the score.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import expit, logit

from surematch.confidence.calibrators.base import Calibrator
from surematch.confidence.calibrators.logistic import fit_logit
from surematch.errors import InputError

ScoreMap = Literal["auto", "unit", "logistic"]
_EPS = 1e-6
_LN3 = float(np.log(3.0))


def _features(s: np.ndarray) -> np.ndarray:
    return np.column_stack([np.log(s), -np.log1p(-s)])


class BetaCalibrator(Calibrator):
    """p = sigmoid(a ln s - b ln(1 - s) + c), a, b >= 0, with s from `score_map` (see module)."""

    kind = "beta"

    def __init__(self, score_map: ScoreMap = "auto") -> None:
        super().__init__()
        if score_map not in ("auto", "unit", "logistic"):
            raise InputError(f"score_map: must be 'auto', 'unit' or 'logistic', got {score_map!r}")
        self.requested: ScoreMap = score_map
        self.score_map: ScoreMap = score_map
        self.center, self.scale = 0.0, 1.0
        self.a, self.b, self.c = 0.0, 0.0, 0.0

    def _unit(self, x: np.ndarray) -> np.ndarray:
        s = x if self.score_map == "unit" else expit((x - self.center) / self.scale)
        return np.clip(s, _EPS, 1.0 - _EPS)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        score = x[:, 0]
        self.score_map = self.requested
        if self.score_map == "auto":
            inside = bool(np.all((score > 0.0) & (score < 1.0)))
            self.score_map = "unit" if inside else "logistic"
        if self.score_map == "logistic":
            q25, q50, q75 = np.percentile(score, [25, 50, 75])
            spread = (q75 - q25) / (2.0 * _LN3) or float(np.std(score)) or 1.0
            self.center, self.scale = float(q50), float(spread)
        f = _features(self._unit(score))
        coef, c = fit_logit(f, y)
        a, b = float(coef[0]), float(coef[1])
        if a < 0 or b < 0:
            keep = 1 if a < 0 else 0
            (w,), c = fit_logit(f[:, [keep]], y)
            a, b = (0.0, float(w)) if keep == 1 else (float(w), 0.0)
            if w < 0:  # score carries no usable signal in this direction: predict the base rate
                n_pos = float(y.sum())
                a, b, c = 0.0, 0.0, float(logit((n_pos + 1.0) / (len(y) + 2.0)))
        self.a, self.b, self.c = a, b, float(c)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        f = _features(self._unit(x[:, 0]))
        return expit(self.a * f[:, 0] + self.b * f[:, 1] + self.c)

    def _params(self) -> dict[str, Any]:
        return {"score_map": self.score_map, "center": self.center, "scale": self.scale,
                "a": self.a, "b": self.b, "c": self.c}

    def _set_params(self, d: dict[str, Any]) -> None:
        if d["score_map"] not in ("unit", "logistic"):
            raise ValueError(f"score_map ({d['score_map']!r}; expected 'unit' or 'logistic')")
        self.score_map = d["score_map"]
        self.center, self.scale = float(d["center"]), float(d["scale"])
        self.a, self.b, self.c = float(d["a"]), float(d["b"]), float(d["c"])
