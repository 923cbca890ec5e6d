"""The calibrator interface: fit on ground-truth labels, predict match probabilities, save as JSON.

Score direction: every calibrator takes scores where **higher means closer** (similarities).
Turn a distance into one with `get_distance(name).closeness(values)` before calibrating.
Labels are ground truth (1 = the pair really matches, 0 = it does not), never a model's own
threshold decisions: fitting on those would only teach the calibrator to agree with the model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.checks import as_finite, scores_and_labels
from surematch.errors import InputError, ModelFormatError, SurematchError

FORMAT_VERSION = 1


class Calibrator(ABC):
    """Maps scores `X` ([N] or [N, F]) to probabilities [N] that the pair is a true match."""

    kind: ClassVar[str]
    multi_feature: ClassVar[bool] = False
    """Whether `X` may have more than one column (else only one score per example)."""

    def __init__(self) -> None:
        self.n_features: int | None = None

    def fit(self, scores: ArrayLike, labels: ArrayLike) -> Self:
        """Fit on scores [N] / [N, F] and labels [N] (0/1).

        Needs at least 20 examples, 5 of each class, all finite; otherwise an InputError
        says what is missing.
        """
        return self._fit_checked(scores, labels, check_enough=True)

    def _fit_checked(self, scores: ArrayLike, labels: ArrayLike, *, check_enough: bool) -> Self:
        x, y = scores_and_labels(scores, labels, ndim=(1, 2), check_enough=check_enough)
        x = self._columns(x)
        self._fit(x, y)
        self.n_features = x.shape[1]
        return self

    def predict_proba(self, scores: ArrayLike) -> np.ndarray:
        """Probability of a true match for each row, shape [N] (not sklearn's [N, 2])."""
        if self.n_features is None:
            raise SurematchError(f"{self.kind} calibrator: not fitted yet — call fit() first")
        x = self._columns(as_finite(scores, "scores", ndim=(1, 2)))
        if x.shape[1] != self.n_features:
            raise InputError(
                f"scores: calibrator was fitted on {self.n_features} feature(s), got {x.shape[1]}"
            )
        return np.clip(self._predict(x), 0.0, 1.0)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        x = x[:, None] if x.ndim == 1 else x
        if x.shape[1] != 1 and not self.multi_feature:
            raise InputError(
                f"scores: the {self.kind} calibrator takes one score per example ([N] or [N, 1]), "
                f"got {x.shape[1]} columns; use the logistic calibrator for several features"
            )
        return x

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description: kind, format version and the fitted numbers."""
        if self.n_features is None:
            raise SurematchError(f"{self.kind} calibrator: not fitted yet — nothing to save")
        return {"kind": self.kind, "format": FORMAT_VERSION, "n_features": self.n_features,
                **self._params()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Rebuild a fitted calibrator from `to_dict()` output."""
        if d.get("kind") != cls.kind:
            raise ModelFormatError(f"calibration: kind is {d.get('kind')!r}, expected {cls.kind!r}")
        if d.get("format") != FORMAT_VERSION:
            raise ModelFormatError(
                f"calibration: format {d.get('format')!r} is not supported "
                f"(this version reads {FORMAT_VERSION})"
            )
        cal = cls()
        try:
            cal._set_params(d)
            cal.n_features = int(d["n_features"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(
                f"calibration ({cls.kind}): damaged or missing field {exc}"
            ) from None
        return cal

    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        """Fit on checked x [N, F] and y [N]."""

    @abstractmethod
    def _predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities [N] for checked x [N, F]."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """The fitted numbers as plain lists and floats."""

    @abstractmethod
    def _set_params(self, d: dict[str, Any]) -> None:
        """Restore the fitted numbers from `_params()` output."""
