"""`surematch calibrate`: fit match probabilities, threshold and triage bands into a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import RefColumnOpt, RuntimeOpt, parse_columns, references_flag
from surematch.confidence.targets import DEFAULT_TARGETS
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import setup_logging

out = Console()


THRESHOLD_USE = {
    "retrieval": "the best single cut-off by --criterion on the calibration data, no "
                 "guarantee; matching does not use it (the bands decide), reports draw it",
    "verification": "the best single cut-off by --criterion on the calibration pairs, no "
                    "guarantee, on the distance measure's closeness: `surematch verify` "
                    "answers verified = closeness >= it; the bands decide accept/review/reject",
}


def cut_offs(cal: Any) -> dict[str, Any]:
    """The cut-offs in one place, each saying what it does (`calibrate --json`)."""
    b = cal.bands
    mode = "verification" if hasattr(cal, "distance") else "retrieval"
    rule = getattr(cal, "no_match", None)
    reject = ("auto-reject (no match) when the no-match score < no_match.reject_below and the "
              "match is not auto-accepted" if rule is not None else
              "auto-reject when p < reject_below")
    return {"accept_at": b.accept_at, "min_probability": b.min_probability,
            "reject_below": b.reject_below,
            "no_match": None if rule is None else rule.to_dict(),
            "rule": "auto-accept when p >= accept_at and p >= min_probability (certified "
                    f"together), {reject}, review in between",
            "threshold": {"value": cal.threshold, "criterion": cal.report.get(
                "threshold", {}).get("criterion"), "use": THRESHOLD_USE[mode]}}


def _bands_text(cal: Any) -> str:
    b = cal.bands
    pct = f"{b.confidence * 100:g} %"
    parts = []
    if b.accept_at is not None:
        floor = "" if b.min_probability is None else \
            f" (each accepted match p >= {b.min_probability:g})"
        parts.append(f"auto-accept p >= {b.accept_at:.4f}{floor}: precision >= "
                     f"{b.precision_bound:.4f} guaranteed at {pct} confidence "
                     f"({b.accept_coverage:.1%} of calibration matches)")
    if b.reject_below is not None:
        parts.append(f"auto-reject p < {b.reject_below:.4f}: at most {b.miss_bound:.4f} of right "
                     f"matches rejected ({b.reject_coverage:.1%} of calibration matches)")
    rule = getattr(cal, "no_match", None)
    if rule is not None and rule.reject_below is not None:
        parts.append(f"no match (auto-reject) when the top match lies below where right matches "
                     f"lie (similarity, overlap, agreement): at most {rule.miss_bound:.4f} of "
                     f"right matches rejected ({b.reject_coverage:.1%} of calibration matches)")
    if not b.feasible:
        parts.append(f"target not supported: {b.message}")
    return "\n".join(parts)


@app.command()
def calibrate(
    model: Annotated[Path, typer.Argument(help="model folder (with --scores: any folder)")],
    references: Annotated[Path | None, typer.Option(help="references (id, text)")] = None,
    queries: Annotated[Path | None, typer.Option(help="labelled queries (text, expected_id)")]
    = None,
    pairs: Annotated[Path | None, typer.Option(help="labelled pairs: verification mode")] = None,
    scores: Annotated[Path | None, typer.Option(help="your own distances/similarities + label")]
    = None,
    distance: Annotated[str, typer.Option(help="measure of --scores: cosine, euclidean, "
                                          "euclidean_l2, angular, dot")] = "cosine",
    fmt: Annotated[str, typer.Option("--format", help="default or esco")] = "default",
    target_precision: Annotated[float, typer.Option(help="precision among auto-accepted")]
    = DEFAULT_TARGETS.precision,
    max_miss: Annotated[float, typer.Option(
        help="share of right matches auto-rejected (no match), certified")]
    = DEFAULT_TARGETS.max_miss,
    confidence: Annotated[float, typer.Option(help="confidence level of the guarantee")]
    = DEFAULT_TARGETS.confidence,
    min_probability: Annotated[float, typer.Option(
        help="per-match floor: no match below it is auto-accepted (certified with the band)")]
    = DEFAULT_TARGETS.min_probability,
    criterion: Annotated[str, typer.Option(help="threshold: accuracy, f1, eer or fmr")] =
    "accuracy",
    target_fmr: Annotated[float | None, typer.Option(help="with --criterion fmr")] = None,
    seed: Annotated[int, typer.Option(help="seed of the fit/band split")] = 0,
    feedback: Annotated[Path | None, typer.Option(
        help="folder with the service's feedback.sqlite3: calibrate on its reviews (with "
             "--queries too if given; references from --references or the index there)")]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    column: Annotated[list[str], typer.Option(
        "--column", help="remap a column of --queries or --pairs: OURS=THEIRS")] = [],  # noqa: B006
    ref_column: RefColumnOpt = [],  # noqa: B006
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Calibrate MODEL on labelled data and save the calibration into its folder."""
    from surematch.confidence.certificate import guarantees
    from surematch.confidence.store import calibration_document
    from surematch.confidence.targets import Targets
    from surematch.workflows.calibrate import calibrate_model

    setup_logging(verbose)
    with references_flag(references):
        result = calibrate_model(
            model, references=references, queries=queries, pairs=pairs, scores=scores,
            distance=distance, fmt=fmt,
            targets=Targets(target_precision, max_miss, confidence, min_probability),
            criterion=criterion, target_fmr=target_fmr, seed=seed, runtime=runtime,
            feedback=feedback, columns=parse_columns(column) or None,
            ref_columns=parse_columns(ref_column, "--ref-column") or None)
    cal, path = result.calibration, result.path
    sentence = guarantees(calibration_document(path.parent))[
        "verification" if hasattr(cal, "distance") else "retrieval"]
    if json_out:
        print(json.dumps({"file": str(path), "guarantee": sentence, "cut_offs": cut_offs(cal),
                          "bands": cal.bands.to_dict(), "report": cal.report,
                          "warnings": list(result.warnings)}, ensure_ascii=False))
        return
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if result.feedback:
        fb = result.feedback
        out.print(f"{fb['reviews']} reviews ({fb['audit_reviews']} audit), "
                  f"{fb['labelled_file']} labelled-file rows; {fb['rejections_kept']} "
                  f"rejections kept as wrong top matches, {fb['rejections_dropped']} dropped; "
                  f"bands certified on: {fb['bands_certified_on']}", highlight=False)
    rep = cal.report
    out.print(f"wrote [bold]{path}[/] ({rep['calibrator']} calibrator; held-out ECE "
              f"{rep['held_out']['ece']:.4f})")
    out.print(_bands_text(cal), highlight=False)
    out.print(f"guarantee: {sentence}", highlight=False)
