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
BAND_STYLE = {"accept": "green", "review": "yellow", "reject": "red", None: "white"}


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its model, index and "
                                          "report")] = Path("surematch-demo"),
    retrain: Annotated[bool, typer.Option(help="train again even if a model is cached")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Train (or reuse), calibrate, index and evaluate on ESCO, then match a few queries."""
    from surematch.workflows.demo import run_demo

    setup_logging(verbose)
    result = run_demo(workdir, retrain, step=lambda text: out.print(text, highlight=False))
    s = result.summary
    out.print(f"4/4 test set ({result.n_test_occupations:,} occupations of other held-out ISCO "
              f"groups, {s['n_queries']:,} alternative titles against "
              f"{result.n_references:,} preferred titles): P@1 {s['p_at_1']:.3f}, recall@10 "
              f"{s['recall_at_10']:.3f}, ECE {_f(s['ece'])}, AURC {_f(s['aurc'])}, auto-accept "
              f"precision {_f(s['auto_precision'])} at coverage {_f(s['auto_coverage'])}")
    table = Table(title="Matching against the index (embedded Qdrant)")
    for col in ("query", "best match", "probability", "band", "runner-up", "rules fired"):
        table.add_column(col)
    for r in result.matches:
        best = r.matches[0] if r.matches else None
        band = best.band if best else None
        table.add_row(
            r.query, best.text if best else "-", _f(best.probability if best else None),
            f"[{BAND_STYLE[band]}]{'no match' if r.no_match else band}[/]",
            r.matches[1].text if len(r.matches) > 1 else "", ", ".join(r.rules_fired))
    out.print(table)
    out.print(f"report: [bold]{result.report}[/] (markdown and PNG plots)")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
