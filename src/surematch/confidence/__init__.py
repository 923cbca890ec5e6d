"""Confidence you can act on: calibrators, thresholds, triage bands, metrics, embedding confidence.

Plots live in `surematch.confidence.plots` (imported on demand: it pulls in matplotlib).
"""

from surematch.confidence.bands import TriageBands, fit_bands
from surematch.confidence.beta import BetaCalibrator
from surematch.confidence.calibration import Calibrator
from surematch.confidence.embedding import embedding_confidence, group_peakedness
from surematch.confidence.isotonic import IsotonicCalibrator
from surematch.confidence.logistic import LogisticCalibrator
from surematch.confidence.metrics import (
    aurc,
    auroc,
    band_report,
    brier,
    ece,
    eer,
    log_loss,
    mce,
    reliability_bins,
    risk_coverage_curve,
    tar_at_far,
)
from surematch.confidence.percent import banded_percent, percent
from surematch.confidence.registry import (
    CALIBRATORS,
    calibrator_from_dict,
    load_calibrator,
    make_calibrator,
)
from surematch.confidence.selection import select_calibrator
from surematch.confidence.thresholds import Threshold, choose_threshold

__all__ = [
    "CALIBRATORS",
    "BetaCalibrator",
    "Calibrator",
    "IsotonicCalibrator",
    "LogisticCalibrator",
    "Threshold",
    "TriageBands",
    "aurc",
    "auroc",
    "band_report",
    "banded_percent",
    "brier",
    "calibrator_from_dict",
    "choose_threshold",
    "ece",
    "eer",
    "embedding_confidence",
    "fit_bands",
    "group_peakedness",
    "load_calibrator",
    "log_loss",
    "make_calibrator",
    "mce",
    "percent",
    "reliability_bins",
    "risk_coverage_curve",
    "select_calibrator",
    "tar_at_far",
]
