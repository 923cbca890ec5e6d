"""`surematch evaluate`: retrieval, calibration and triage metrics on labelled queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli.app import app
from surematch.cli.options import (
    ColumnOpt,
    RefColumnOpt,
    RuntimeOpt,
    parse_columns,
    references_flag,
)
from surematch.folder import DEFAULT_RUNTIME
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
    column: ColumnOpt = [],  # noqa: B006
    ref_column: RefColumnOpt = [],  # noqa: B006
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Rank labelled queries against references; report P@1, recall@10, MRR, ECE, AURC, bands."""
    from surematch.workflows.evaluate import evaluate_model

    setup_logging(verbose)
    with references_flag(references):
        result = evaluate_model(model, references, queries, fmt, report, runtime,
                                parse_columns(column) or None,
                                parse_columns(ref_column, "--ref-column") or None)
    summary = result.summary
    if result.warning:
        out.print(f"[yellow]warning:[/] {result.warning}", highlight=False)
    if json_out:
        print(json.dumps(summary))
        return
    table = Table(title=f"evaluation of {model}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key not in ("note", "bands_message", "shift"):
            table.add_row(key, "n/a" if value is None else
                          f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    if summary.get("note"):
        out.print(summary["note"], highlight=False)
    from surematch.confidence.drift import ShiftResult
    from surematch.workflows.drift import shift_line

    if summary.get("shift") and (line := shift_line(ShiftResult(**summary["shift"]),
                                                    "these queries")):
        out.print(f"[yellow]{line}[/]", highlight=False)
