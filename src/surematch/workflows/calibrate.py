"""Calibrate a model: fit match probabilities, threshold and bands, save them in its folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from surematch.confidence.retrieval import MatchCalibration
from surematch.confidence.thresholds import CRITERIA, Criterion
from surematch.confidence.verification import PairCalibration, distance_named
from surematch.errors import InputError
from surematch.workflows.data import load_matching_data


@dataclass(frozen=True)
class Targets:
    """What the bands must certify: precision among auto-accepted, share of right matches
    auto-rejected, at this confidence level."""

    precision: float = 0.99
    max_miss: float = 0.01
    confidence: float = 0.95


@dataclass(frozen=True)
class CalibrateResult:
    path: Path
    calibration: MatchCalibration | PairCalibration


def calibrate_model(model_dir: Path, *, references: Path | None = None,
                    queries: Path | None = None, pairs: Path | None = None,
                    scores: Path | None = None, distance: str = "cosine",
                    fmt: str = "default", targets: Targets = Targets(),
                    criterion: str = "accuracy", target_fmr: float | None = None,
                    seed: int = 0, runtime: str = "torch") -> CalibrateResult:
    """Calibrate on one of: labelled queries against references (retrieval), labelled pairs
    (verification), or your own distances with labels (`scores`, any folder). The model's
    embeddings come from `runtime` ("torch", "onnx", "onnx-int8", "auto"), which the
    calibration records: matching with another runtime runs uncalibrated."""
    from surematch.confidence.store import save_calibration
    from surematch.confidence.verification import fit_pair_calibration

    if criterion not in CRITERIA:
        raise InputError(f"--criterion: unknown {criterion!r}; choose one of {list(CRITERIA)}")
    crit: Criterion = criterion  # type: ignore[assignment]
    distance_named(distance)
    cal: MatchCalibration | PairCalibration
    model_id = None
    if scores is not None:
        from surematch.confidence.scores_file import read_scores

        values, labels = read_scores(scores, distance)
        cal = fit_pair_calibration(values, labels, distance, criterion=crit,
                                   target_fmr=target_fmr, seed=seed,
                                   precision_target=targets.precision,
                                   miss_target=targets.max_miss,
                                   confidence_level=targets.confidence)
        model_dir.mkdir(parents=True, exist_ok=True)
    else:
        from surematch.model import SimilarityModel

        model = SimilarityModel.load(model_dir, runtime)
        model_id, runtime = model.identity(), model.runtime
        if pairs is not None:
            from surematch.data import read_pairs
            from surematch.evaluation.ranked import pair_similarity

            p = read_pairs(pairs)
            cal = fit_pair_calibration(1.0 - pair_similarity(model, p), p.labels, "cosine",
                                       criterion=crit, target_fmr=target_fmr, seed=seed,
                                       precision_target=targets.precision,
                                       miss_target=targets.max_miss,
                                       confidence_level=targets.confidence)
        else:
            from surematch.confidence.retrieval import fit_match_calibration
            from surematch.evaluation.ranked import rank_queries

            refs, qs = load_matching_data(references, queries, fmt)
            r = rank_queries(model, refs, qs, k=10)
            cal = fit_match_calibration(r.similarity, r.correct, r.confidence, r.expected,
                                        criterion=crit, seed=seed,
                                        precision_target=targets.precision,
                                        miss_target=targets.max_miss,
                                        confidence_level=targets.confidence)
    return CalibrateResult(save_calibration(model_dir, cal, model_id, runtime), cal)
