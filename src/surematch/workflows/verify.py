"""Verify a pair of texts: distance, calibrated probability and band (`verify --json`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surematch.confidence.percent import percent
from surematch.confidence.store import pair_calibration_for_model
from surematch.distances import get_distance
from surematch.embedder import Embedder
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.loader import load_model

NOT_CALIBRATED = ("the model has no pair calibration (run `surematch calibrate MODEL --pairs "
                  "PAIRS`): verified, threshold, probability, percent and band are null")


class Verifier:
    """Pair calibration read once from the model folder; `__call__(a, b)` -> verify object."""

    def __init__(self, model: Embedder, model_dir: Path) -> None:
        self.model = model
        self.cal, self.note = pair_calibration_for_model(model_dir, model.identity(),
                                                         model.runtime)

    def __call__(self, text_a: str, text_b: str) -> dict[str, Any]:
        if not text_a.strip() or not text_b.strip():
            raise InputError("both texts must be non-empty")
        a, b = self.model.embed([text_a]), self.model.embed([text_b])
        cal = self.cal
        name = cal.distance if cal is not None else "cosine"
        value = float(get_distance(name).paired(a, b)[0])
        similarity = float(1.0 - get_distance("cosine").paired(a, b)[0])
        result: dict[str, Any] = {"verified": None, "distance": value, "distance_metric": name,
                                  "similarity": similarity, "threshold": None,
                                  "probability": None, "percent": None, "band": None,
                                  "note": None}
        if cal is None:
            result["note"] = self.note or NOT_CALIBRATED
            return result
        p = float(cal.probability([value])[0])
        result.update({"verified": bool(cal.verified([value])[0]), "threshold": cal.threshold,
                       "probability": p, "percent": float(percent(p)),
                       "band": str(cal.bands.band(p))})
        return result


def verify_texts(model_dir: Path, text_a: str, text_b: str,
                 runtime: str = DEFAULT_RUNTIME) -> dict[str, Any]:
    """The DESIGN.md `verify --json` object for one pair of texts."""
    return Verifier(load_model(model_dir, runtime), model_dir)(text_a, text_b)
