"""Confidence you can act on: calibrators, thresholds, triage bands, metrics, embedding confidence.

Pure statistics on arrays, and the calibration store of a model folder: nothing here imports
the model or the index. Ranking labelled queries with a model, summaries, reports and plots
live in `surematch.evaluation`.
"""

from surematch.confidence.bands import TriageBands, certify_bands, fit_bands
from surematch.confidence.beta import BetaCalibrator
from surematch.confidence.calibration import Calibrator
from surematch.confidence.isotonic import IsotonicCalibrator
from surematch.confidence.logistic import LogisticCalibrator
from surematch.confidence.metrics import (
    aurc,
    auroc,
    band_report,
    brier,
    ece,
    ece_noise_floor,
    eer,
    log_loss,
    mce,
    reliability_bins,
    risk_coverage_curve,
    tar_at_far,
)
from surematch.confidence.percent import percent
from surematch.confidence.registry import (
    CALIBRATORS,
    calibrator_from_dict,
    make_calibrator,
)
from surematch.confidence.retrieval import MatchCalibration, fit_match_calibration
from surematch.confidence.selection import select_calibrator
from surematch.confidence.store import load_calibration, load_pair_calibration, save_calibration
from surematch.confidence.thresholds import Threshold, choose_threshold
from surematch.confidence.verification import PairCalibration, fit_pair_calibration

__all__ = [
    "CALIBRATORS",
    "BetaCalibrator",
    "Calibrator",
    "IsotonicCalibrator",
    "LogisticCalibrator",
    "MatchCalibration",
    "PairCalibration",
    "Threshold",
    "TriageBands",
    "aurc",
    "auroc",
    "band_report",
    "brier",
    "calibrator_from_dict",
    "certify_bands",
    "choose_threshold",
    "ece",
    "ece_noise_floor",
    "eer",
    "fit_bands",
    "fit_match_calibration",
    "fit_pair_calibration",
    "load_calibration",
    "load_pair_calibration",
    "log_loss",
    "make_calibrator",
    "mce",
    "percent",
    "reliability_bins",
    "risk_coverage_curve",
    "save_calibration",
    "select_calibrator",
    "tar_at_far",
]
