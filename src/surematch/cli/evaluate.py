"""`surematch evaluate`: retrieval, calibration and triage metrics on labelled queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli import app
from surematch.cli.calibrate import read_matching_data
from surematch.logs import setup_logging

out = Console()


@app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="model folder")],
    references: Annotated[Path | None, typer.Option(help="references (id, text)")] = None,
    queries: Annotated[Path | None, typer.Option(help="labelled queries (text, expected_id)")]
    = None,
    fmt: Annotated[str, typer.Option("--format", help="default or esco")] = "default",
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    report: Annotated[Path | None, typer.Option(help="write report.md + PNGs here")] = None,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Rank labelled queries against references; report P@1, recall@10, MRR, ECE, AURC, bands."""
    setup_logging(verbose)
    from surematch.confidence.labelled import rank_queries
    from surematch.confidence.store import calibrated_for, load_calibration
    from surematch.confidence.summary import match_summary
    from surematch.model import SimilarityModel

    m = SimilarityModel.load(model)
    calibration = load_calibration(model)
    fitted_for = calibrated_for(model)
    if calibration is not None and fitted_for not in (None, m.identity()):
        out.print(f"[yellow]warning:[/] calibration.json was fitted for model {fitted_for}, "
                  f"this is {m.identity()}: calibrate again", highlight=False)
    refs, qs = read_matching_data(references, queries, fmt)
    ranked = rank_queries(m, refs, qs, k=10)
    summary = match_summary(ranked, calibration)
    if report is not None:
        from surematch.confidence.report import write_report

        summary["report"] = str(write_report(report, ranked, summary, calibration))
    if json_out:
        print(json.dumps(summary))
        return
    table = Table(title=f"evaluation of {model}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key not in ("note", "bands_message"):
            table.add_row(key, "n/a" if value is None else
                          f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    if summary.get("note"):
        out.print(summary["note"], highlight=False)
