"""Calibrate a model: fit match probabilities, threshold and bands, save them in its folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from surematch.confidence.retrieval import MatchCalibration
from surematch.confidence.targets import DEFAULT_TARGETS, Targets
from surematch.confidence.thresholds import CRITERIA, Criterion
from surematch.confidence.verification import PairCalibration, distance_named
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.workflows.data import load_matching_data


@dataclass(frozen=True)
class CalibrateResult:
    path: Path
    calibration: MatchCalibration | PairCalibration
    warnings: tuple[str, ...] = ()  # e.g. bands certified on queue-chosen reviews
    feedback: dict[str, object] = field(default_factory=dict)  # what the reviews gave


def calibrate_model(model_dir: Path, *, references: Path | None = None,
                    queries: Path | None = None, pairs: Path | None = None,
                    scores: Path | None = None, distance: str = "cosine",
                    fmt: str = "default", targets: Targets = DEFAULT_TARGETS,
                    criterion: str = "accuracy", target_fmr: float | None = None,
                    seed: int = 0, runtime: str = DEFAULT_RUNTIME,
                    feedback: Path | None = None, columns: dict[str, str] | None = None,
                    ref_columns: dict[str, str] | None = None) -> CalibrateResult:
    """Calibrate on one of: labelled queries against references (retrieval), labelled pairs
    (verification), or your own distances with labels (`scores`, any folder); or on the
    reviews stored in `feedback` (a folder holding feedback.sqlite3), with `queries` too if
    given, ranked against `references` or, without them, the index in that folder (see
    `workflows.feedback`). `columns` / `ref_columns` remap the labelled file's and the
    references file's columns (OURS: THEIRS). The model's
    embeddings come from `runtime` ("torch", "onnx", "onnx-int8", "auto"), which the
    calibration records: matching with another runtime runs uncalibrated."""
    from surematch.confidence.certificate import file_source
    from surematch.confidence.store import save_calibration
    from surematch.confidence.verification import fit_pair_calibration

    if criterion not in CRITERIA:
        raise InputError(f"--criterion: unknown {criterion!r}; choose one of {list(CRITERIA)}")
    crit: Criterion = criterion  # type: ignore[assignment]
    distance_named(distance)
    cal: MatchCalibration | PairCalibration
    model_id: str | None = None
    fitted_on: str | None = None  # no model, no runtime, for distances brought as scores
    source = None
    if feedback is not None:
        return _calibrate_on_feedback(model_dir, feedback, references, queries, fmt, targets,
                                      crit, seed, runtime, columns, ref_columns)
    if scores is not None:
        from surematch.confidence.scores_file import read_scores

        values, labels = read_scores(scores, distance)
        cal = fit_pair_calibration(values, labels, distance, criterion=crit,
                                   target_fmr=target_fmr, seed=seed, targets=targets)
        model_dir.mkdir(parents=True, exist_ok=True)
        source = file_source(scores)
    else:
        from surematch.cached_embedder import CachedEmbedder
        from surematch.data import read_pairs
        from surematch.loader import load_model

        # the files are read and checked first: a bad line fails in a second, not after the
        # model has loaded
        p = read_pairs(pairs, columns=columns) if pairs is not None else None
        if p is None:
            refs, qs = load_matching_data(references, queries, fmt, columns, ref_columns)
        model = CachedEmbedder(load_model(model_dir, runtime))  # references embedded once
        model_id, fitted_on = model.identity(), model.runtime
        if p is not None:
            from surematch.evaluation.ranked import pair_similarity

            cal = fit_pair_calibration(1.0 - pair_similarity(model, p), p.labels, "cosine",
                                       criterion=crit, target_fmr=target_fmr, seed=seed,
                                       targets=targets)
            source = file_source(pairs) if pairs is not None else None
        else:
            from surematch.confidence.retrieval import fit_match_calibration
            from surematch.evaluation.ranked import rank_queries

            r = rank_queries(model, refs, qs, k=10)
            cal = fit_match_calibration(r.similarity, r.correct, r.confidence, r.expected,
                                        criterion=crit, seed=seed, targets=targets,
                                        evidence=r.evidence)
            source = file_source(queries) if queries is not None else None
            path = save_calibration(model_dir, cal, model_id, fitted_on, source)
            from surematch.workflows.drift import record_reference

            record_reference(model_dir, qs.texts, r, cal, str(queries or references))
            return CalibrateResult(path, cal)
    return CalibrateResult(save_calibration(model_dir, cal, model_id, fitted_on, source), cal)


def _calibrate_on_feedback(model_dir: Path, feedback: Path, references: Path | None,
                           queries: Path | None, fmt: str, targets: Targets, criterion: str,
                           seed: int, runtime: str, columns: dict[str, str] | None,
                           ref_columns: dict[str, str] | None) -> CalibrateResult:
    from surematch.loader import load_model
    from surematch.workflows.feedback import references_for, refit_calibration, reviews_in

    if fmt != "default":
        raise InputError("--feedback reads our own files only; leave --format out",
                         field="--format")
    labelled = None
    if queries is not None:  # the files are read and checked before the model loads
        from surematch.data import read_queries

        labelled = read_queries(queries, columns=columns)
    reviews = reviews_in(feedback)
    model = load_model(model_dir, runtime)
    refs, learned, rows = references_for(model, None if references is not None else feedback,
                                         references, ref_columns)
    path, fit = refit_calibration(model, model_dir, refs, reviews, labelled,
                                  targets=targets, criterion=criterion, seed=seed,
                                  learned=learned, labelled_file=queries, reference_vectors=rows)
    return CalibrateResult(path, fit.calibration, tuple(fit.warnings), fit.counts)
