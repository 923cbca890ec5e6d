"""`surematch calibrate`: fit match probabilities, threshold and triage bands into a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from surematch.cli import app
from surematch.errors import InputError
from surematch.logs import setup_logging

out = Console()


def read_matching_data(references: Path | None, queries: Path | None, fmt: str) -> tuple[Any, Any]:
    """(References, LabelledQueries) from our files or, with fmt "esco", ESCO CSVs: references =
    every preferred title of REFS, queries = the alternative titles of QUERIES."""
    if references is None or queries is None:
        raise InputError("give both --references and --queries (or --pairs / --scores)")
    if fmt == "esco":
        from surematch.data.esco import esco_queries, esco_references, read_esco

        ref_occ = read_esco(references)
        return esco_references(ref_occ), esco_queries(read_esco(queries), taxonomy=ref_occ)
    if fmt != "default":
        raise InputError(f"--format: unknown {fmt!r}; choose 'default' or 'esco'")
    from surematch.data import read_queries, read_references

    return read_references(references), read_queries(queries)


def _bands_text(b: Any) -> str:
    pct = f"{b.confidence * 100:g} %"
    parts = []
    if b.accept_at is not None:
        parts.append(f"auto-accept p >= {b.accept_at:.4f}: precision >= {b.precision_bound:.4f} "
                     f"guaranteed at {pct} confidence ({b.accept_coverage:.1%} of calibration "
                     "matches)")
    if b.reject_below is not None:
        parts.append(f"auto-reject p < {b.reject_below:.4f}: at most {b.miss_bound:.4f} of right "
                     f"matches rejected ({b.reject_coverage:.1%} of calibration matches)")
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
    target_precision: Annotated[float, typer.Option(help="precision among auto-accepted")] = 0.99,
    max_miss: Annotated[float, typer.Option(help="share of right matches auto-rejected")] = 0.01,
    confidence: Annotated[float, typer.Option(help="confidence level of the guarantee")] = 0.95,
    criterion: Annotated[str, typer.Option(help="threshold: accuracy, f1, eer or fmr")] =
    "accuracy",
    target_fmr: Annotated[float | None, typer.Option(help="with --criterion fmr")] = None,
    seed: Annotated[int, typer.Option(help="seed of the fit/band split")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Calibrate MODEL on labelled data and save calibration.json into its folder."""
    setup_logging(verbose)
    from surematch.confidence.store import save_calibration
    from surematch.confidence.thresholds import CRITERIA
    from surematch.confidence.verification import distance_named, fit_pair_calibration

    if criterion not in CRITERIA:
        raise InputError(f"--criterion: unknown {criterion!r}; choose one of {list(CRITERIA)}")
    distance_named(distance)
    targets = {"precision_target": target_precision, "miss_target": max_miss,
               "confidence_level": confidence}
    model_id = None
    if scores is not None:
        from surematch.confidence.scores_file import read_scores

        values, labels = read_scores(scores, distance)
        cal: Any = fit_pair_calibration(values, labels, distance, criterion=criterion,
                                        target_fmr=target_fmr, seed=seed, **targets)
        model.mkdir(parents=True, exist_ok=True)
    else:
        from surematch.model import SimilarityModel

        m = SimilarityModel.load(model)
        model_id = m.identity()
        if pairs is not None:
            from surematch.confidence.labelled import pair_similarity
            from surematch.data import read_pairs

            p = read_pairs(pairs)
            cal = fit_pair_calibration(1.0 - pair_similarity(m, p), p.labels, "cosine",
                                       criterion=criterion, target_fmr=target_fmr, seed=seed,
                                       **targets)
        else:
            from surematch.confidence.labelled import rank_queries
            from surematch.confidence.retrieval import fit_match_calibration

            refs, qs = read_matching_data(references, queries, fmt)
            r = rank_queries(m, refs, qs, k=10)
            cal = fit_match_calibration(r.similarity, r.correct, r.confidence, r.expected,
                                        criterion=criterion, seed=seed, **targets)  # type: ignore[arg-type]
    path = save_calibration(model, cal, model_id)
    if json_out:
        print(json.dumps({"file": str(path), "threshold": cal.threshold,
                          "bands": cal.bands.to_dict(), "report": cal.report}))
        return
    rep = cal.report
    out.print(f"wrote [bold]{path}[/] ({rep['calibrator']} calibrator; held-out ECE "
              f"{rep['held_out']['ece']:.4f}, threshold {cal.threshold:.4f})")
    out.print(_bands_text(cal.bands), highlight=False)
