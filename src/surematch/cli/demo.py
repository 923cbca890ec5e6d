"""`surematch demo`: the main job on embedded defaults, on the bundled ESCO occupations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli import app
from surematch.logs import setup_logging

out = Console()

DEMO_QUERIES = ["python developer", "nurse for the elderly", "truck driver", "bookkeeper",
                "job coach", "site foreman", "data scientist", "qwerty zxcv"]
# A confusion the default model makes ("job coach" -> "sports coach"), fixed by a rule.
DEMO_RULE = {"trigger": "job coach", "exclude": "sports coach", "id": "job-coach",
             "exclude_similarity": 0.7,
             "note": "a job coach helps people find work; not a sports coach"}
BAND_STYLE = {"accept": "green", "review": "yellow", "reject": "red", None: "white"}


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its model, index and "
                                          "report")] = Path("surematch-demo"),
    retrain: Annotated[bool, typer.Option(help="train again even if a model is cached")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Train (or reuse), calibrate, index and evaluate on ESCO, then match a few queries."""
    setup_logging(verbose)
    from surematch.confidence.labelled import rank_queries
    from surematch.confidence.report import write_report
    from surematch.confidence.retrieval import fit_match_calibration
    from surematch.confidence.store import calibrated_for, load_calibration, save_calibration
    from surematch.confidence.summary import match_summary
    from surematch.config import Config
    from surematch.data.esco import (
        esco_groups,
        esco_queries,
        esco_references,
        read_esco,
        split_by_isco,
    )
    from surematch.index import ReferenceIndex
    from surematch.model import SimilarityModel
    from surematch.training import train

    occupations = read_esco()
    train_occ, held_occ = split_by_isco(occupations, held_out_fraction=0.2, seed=0)
    calib_occ, test_occ = split_by_isco(held_occ, held_out_fraction=0.5, seed=1)
    refs = esco_references(occupations)

    model_dir = workdir / "model"
    if model_dir.exists() and not retrain:
        out.print(f"1/4 reusing the model in [bold]{model_dir}[/] (--retrain to train again)")
        model = SimilarityModel.load(model_dir)
    else:
        out.print(f"1/4 training on {len(train_occ):,} occupations; {len(held_occ):,} "
                  "occupations of held-out ISCO groups are kept for calibration and testing")
        model = train(Config(), esco_groups(train_occ, taxonomy=occupations))
        model.save(model_dir)
    ref_vectors = model.embed(refs.texts)

    if load_calibration(model_dir) is None or calibrated_for(model_dir) != model.identity():
        out.print(f"2/4 calibrating on {len(calib_occ):,} occupations of held-out ISCO groups")
        queries = esco_queries(calib_occ, taxonomy=occupations)
        ranked = rank_queries(model, refs, queries, reference_vectors=ref_vectors)
        calibration = fit_match_calibration(ranked.similarity, ranked.correct, ranked.confidence,
                                            ranked.expected, precision_target=0.99)
        save_calibration(model_dir, calibration, model.identity())
    calibration = load_calibration(model_dir)
    out.print(f"2/4 calibration: {calibration.bands.message}", highlight=False)

    index_dir = workdir / "index"
    with ReferenceIndex.create(index_dir, model) as index:
        if index.count() != len(refs.ids):
            out.print(f"3/4 indexing {len(refs.ids):,} preferred titles into {index_dir}")
            index.add(refs)
        else:
            out.print(f"3/4 reusing the index in {index_dir} ({index.count():,} references)")
        if not any(r.id == DEMO_RULE["id"] for r in index.list_rules()):
            index.add_rule(**DEMO_RULE)
        results = index.match_batch(DEMO_QUERIES, k=3)

    queries = esco_queries(test_occ, taxonomy=occupations)
    ranked = rank_queries(model, refs, queries, reference_vectors=ref_vectors)
    summary = match_summary(ranked, calibration)
    report = write_report(workdir / "report", ranked, summary, calibration)
    out.print(f"4/4 test set ({len(test_occ):,} occupations of other held-out ISCO groups, "
              f"{summary['n_queries']:,} alternative titles against {len(refs.ids):,} "
              f"preferred titles): P@1 {summary['p_at_1']:.3f}, recall@10 "
              f"{summary['recall_at_10']:.3f}, ECE {_f(summary['ece'])}, AURC "
              f"{_f(summary['aurc'])}, auto-accept precision {_f(summary['auto_precision'])} "
              f"at coverage {_f(summary['auto_coverage'])}")

    table = Table(title="Matching against the index (embedded Qdrant)")
    for col in ("query", "best match", "probability", "band", "runner-up", "rules fired"):
        table.add_column(col)
    for r in results:
        best = r.matches[0] if r.matches else None
        band = best.band if best else None
        table.add_row(
            r.query, best.text if best else "-", _f(best.probability if best else None),
            f"[{BAND_STYLE[band]}]{'no match' if r.no_match else band}[/]",
            r.matches[1].text if len(r.matches) > 1 else "", ", ".join(r.rules_fired))
    out.print(table)
    out.print(f"report: [bold]{report}[/] (markdown and PNG plots)")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
