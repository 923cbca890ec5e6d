"""Logistic (Platt) calibration on a score, optionally with more features (margin, confidence)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from surematch.confidence.calibrators.base import Calibrator

_C = 1e4
"""Inverse L2 strength on standardised features: only there to keep the solver well-posed."""


def fit_logit(features: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression of y [N] on features [N, F] with Platt's smoothed targets.

    Platt (1999) replaces the 0/1 labels by (N+ + 1)/(N+ + 2) and 1/(N- + 2), which keeps the
    fit finite on separable data and removes the small-sample overconfidence of 0/1 targets.
    Soft targets are fitted by giving every example a weight t on label 1 and 1 - t on label 0.
    Features are standardised for the solver; the returned coefficients [F] and intercept act
    on the raw features.
    """
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    target = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (features - mean) / scale
    model = LogisticRegression(C=_C, max_iter=1000)
    model.fit(
        np.vstack([z, z]),
        np.concatenate([np.ones(len(y)), np.zeros(len(y))]),
        sample_weight=np.concatenate([target, 1.0 - target]),
    )
    coef = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - np.sum(coef * mean))
    return coef, intercept


class LogisticCalibrator(Calibrator):
    """p = sigmoid(X @ coef + intercept): Platt scaling for X [N], logistic regression for [N, F].

    Extra columns (e.g. the margin to the second candidate, the embedding confidence) let the
    probability depend on more than the score; the first column should be the score itself.
    """

    kind = "logistic"
    multi_feature = True

    def __init__(self) -> None:
        super().__init__()
        self.coef = np.zeros(0)
        self.intercept = 0.0

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.coef, self.intercept = fit_logit(x, y)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return expit(x @ self.coef + self.intercept)

    def _params(self) -> dict[str, Any]:
        return {"coef": [float(c) for c in self.coef], "intercept": float(self.intercept)}

    def _set_params(self, d: dict[str, Any]) -> None:
        self.coef = np.asarray(d["coef"], dtype=np.float64)
        self.intercept = float(d["intercept"])
