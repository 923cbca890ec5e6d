"""Evaluate a model on labelled queries: retrieval, calibration and triage metrics, a report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.folder import DEFAULT_RUNTIME
from surematch.workflows.data import load_matching_data


@dataclass(frozen=True)
class EvaluateResult:
    summary: dict[str, Any]  # the DESIGN.md `evaluate --json` keys
    warning: str | None  # e.g. a calibration fitted for another model (then ignored)


def evaluate_model(model_dir: Path, references: Path | None, queries: Path | None,
                   fmt: str = "default", report: Path | None = None,
                   runtime: str = DEFAULT_RUNTIME, columns: dict[str, str] | None = None,
                   ref_columns: dict[str, str] | None = None) -> EvaluateResult:
    """Rank the labelled queries against the references (`columns` / `ref_columns` remap
    their files' columns, OURS: THEIRS); with `report`, write report.md and its plots there
    (its path is then `summary["report"]`)."""
    from surematch.cached_embedder import CachedEmbedder
    from surematch.confidence.file.store import calibration_for_model
    from surematch.evaluation.ranked_queries import rank_queries
    from surematch.evaluation.summary import match_summary
    from surematch.loader import load_model

    # checked before the model loads
    refs, qs = load_matching_data(references, queries, fmt, columns, ref_columns)
    model = CachedEmbedder(load_model(model_dir, runtime))  # references embedded once
    calibration, warning = calibration_for_model(model_dir, model.identity(), model.runtime)
    ranked = rank_queries(model, refs, qs, k=10)
    summary = match_summary(ranked, calibration)
    shift = _shift(model_dir if calibration is not None else None, qs.texts, ranked, calibration)
    if shift is not None:
        summary["shift"] = shift.to_dict()
    if report is not None:
        from surematch.evaluation.report import write_report

        summary["report"] = str(write_report(report, ranked, summary, calibration))
    return EvaluateResult(summary, warning)


def _shift(model_dir: Path | None, texts: list[str], ranked: Any, calibration: Any
           ) -> Any:
    """The shift monitor over these queries (None: no drift reference for the calibration)."""
    from surematch.workflows.drift import FileShift, ranked_sketch

    check = FileShift(model_dir)
    if check.reference is None:
        return None
    check.add_sketch(ranked_sketch(texts, ranked, calibration, check.basis))
    return check.check()
