"""The `evaluate` summary: retrieval metrics plus calibration and triage metrics of top matches."""

from __future__ import annotations

from typing import Any

import numpy as np

from surematch.confidence.metrics import (
    aurc,
    band_report,
    brier,
    ece,
    ece_noise_floor,
    log_loss,
    mce,
)
from surematch.confidence.retrieval import MatchCalibration
from surematch.evaluation.ranked import RankedQueries

UNCALIBRATED = ("the model has no retrieval calibration (run `surematch calibrate`): ece, brier, "
                "log_loss and the band keys are null; aurc ranks by raw top-1 similarity")


def top1_probabilities(ranked: RankedQueries, calibration: MatchCalibration) -> np.ndarray:
    """Calibrated probability [Q] that each query's top match is right."""
    return calibration.probabilities(ranked.similarity, ranked.confidence, ranked.evidence)[:, 0]


def top1_bands(ranked: RankedQueries, calibration: MatchCalibration) -> np.ndarray:
    """The band [Q] of each query's top match, as matching decides it (the no-match rule
    included)."""
    p = calibration.probabilities(ranked.similarity, ranked.confidence, ranked.evidence)
    return calibration.bands_of(p, ranked.similarity, ranked.evidence)[:, 0]


def match_summary(ranked: RankedQueries, calibration: MatchCalibration | None) -> dict[str, Any]:
    """One flat dict with the DESIGN.md `evaluate --json` keys (and a few more).

    Retrieval rates count queries with a right reference; calibration and triage metrics count
    every query (an open-set query's top match is wrong). Without a calibration, the
    calibration-dependent keys are None and `note` says so.
    """
    m = ranked.metrics()
    y = ranked.correct.astype(np.int64)
    out: dict[str, Any] = {
        "n_queries": m["n_queries"], "n_open_set": int(ranked.open_set.sum()),
        "p_at_1": m["p_at_1"], "recall_at_1": m["recall_at_k"].get(1),
        "recall_at_5": m["recall_at_k"].get(5), "recall_at_10": m["recall_at_k"].get(10),
        "mrr": m["mrr"], "top1_accuracy": float(y.mean()),
        "ece": None, "ece_equal_mass": None, "ece_noise_floor": None, "mce": None,
        "brier": None, "log_loss": None, "aurc": None, "auto_precision": None,
        "auto_coverage": None, "review_fraction": None,
        "reject_fraction": None, "calibrated": calibration is not None, "note": None,
    }
    if calibration is None:
        out["aurc"] = aurc(np.clip((ranked.similarity[:, 0] + 1.0) / 2.0, 0.0, 1.0), y)
        out["note"] = UNCALIBRATED
        return out
    p = top1_probabilities(ranked, calibration)
    bands = band_report(p, y, calibration.bands, top1_bands(ranked, calibration))
    out.update({
        "ece": ece(p, y), "ece_equal_mass": ece(p, y, strategy="quantile"),
        "ece_noise_floor": ece_noise_floor(p), "mce": mce(p, y),
        "brier": brier(p, y), "log_loss": log_loss(p, y), "aurc": aurc(p, y),
        "auto_precision": bands["accept"]["precision"],
        "auto_coverage": bands["accept"]["coverage"],
        "review_fraction": bands["review"]["coverage"],
        "reject_fraction": bands["reject"]["coverage"],
        "precision_target": calibration.bands.precision_target,
        "bands_message": calibration.bands.message,
    })
    if calibration.bands.accept_at is None:
        out["note"] = "nothing is auto-accepted: " + calibration.bands.message
    return out
