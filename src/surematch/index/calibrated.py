"""The one bridge to the model's saved calibration: similarities [Q, k] -> probabilities, bands."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np

from surematch.embedder import Embedder

logger = logging.getLogger(__name__)


class Calibration:
    """The model's calibration, or none: then probabilities and bands are None.

    `min_probability` sets another per-match floor for the accept band than the one it was
    calibrated with (`TriageBands.with_floor`; None: the calibrated one)."""

    def __init__(self, calibration: Any | None, min_probability: float | None = None) -> None:
        if calibration is not None and min_probability is not None:
            calibration = replace(calibration,
                                  bands=calibration.bands.with_floor(min_probability))
        self._cal = calibration
        self.min_probability = min_probability

    @property
    def evidence(self) -> tuple[str, ...]:
        """The evidence names the calibration reads, its no-match rule's included (none
        when uncalibrated)."""
        if self._cal is None:
            return ()
        return tuple(getattr(self._cal, "evidence_needed", None) or self._cal.evidence or ())

    @property
    def depth(self) -> int:
        """Candidates a match's evidence needs: 2 when calibrated (the margin to the best
        other reference), else 1."""
        return 1 if self._cal is None else int(getattr(self._cal, "candidate_depth", 2))

    @property
    def calibrated(self) -> bool:
        return self._cal is not None

    @property
    def fitted(self) -> Any | None:
        """The MatchCalibration applied (None when uncalibrated)."""
        return self._cal

    @classmethod
    def of(cls, model: Embedder, min_probability: float | None = None) -> Calibration:
        """The calibration saved in the model's folder, if the model has a folder and one
        (with another per-match floor if given)."""
        if model.folder is None:
            return cls(None)
        from surematch.confidence.store import calibration_for_model

        calibration, note = calibration_for_model(model.folder, model.identity(),
                                                  model.runtime)
        if note:
            logger.warning("%s", note)
        return cls(calibration, min_probability)

    def apply(self, similarities: np.ndarray, confidence: np.ndarray,
              evidence: dict[str, np.ndarray] | None = None,
              ) -> tuple[np.ndarray | None, list[list[str]] | None]:
        """similarities [Q, k], confidence [Q], evidence {name: [Q, k]} -> (probabilities
        [Q, k], bands [Q][k]) or Nones."""
        if self._cal is None or similarities.size == 0:
            return None, None
        probs = np.asarray(self._cal.probabilities(similarities, confidence, evidence),
                           dtype=np.float64)
        names = self._cal.bands_of(probs, similarities, evidence)
        return probs, [[str(b) for b in row] for row in names]
