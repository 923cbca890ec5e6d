"""`surematch demo`: the main job on embedded defaults, on the bundled ESCO occupations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli.app import app
from surematch.logs import setup_logging

out = Console()
BAND_STYLE = {"accept": "green", "review": "yellow", "reject": "red", None: "white"}


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its model, index and "
                                          "report")] = Path("surematch-demo"),
    retrain: Annotated[bool, typer.Option(help="train again even if a model is cached")] = False,
    target_precision: Annotated[float, typer.Option(
        help="precision the auto-accept band must certify (0.99 needs far more calibration "
        "data than ESCO offers; the demo says so)")] = 0.95,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Train (or reuse), calibrate, index and evaluate on ESCO, then match a few queries."""
    from surematch.workflows.demo import run_demo

    setup_logging(verbose)
    result = run_demo(workdir, retrain, target_precision,
                      step=lambda text: out.print(text, highlight=False))
    table = Table(title="Matching against the index (embedded Qdrant)")
    for col in ("query", "best match", "matched text", "probability", "band", "rules fired"):
        table.add_column(col)
    for r in result.matches:
        best = r.matches[0] if r.matches else None
        band = best.band if best else None
        table.add_row(
            r.query, result.titles.get(best.id, best.id) if best else "-",
            f"{best.text} ({best.kind})" if best else "", _f(best.probability if best else None),
            f"[{BAND_STYLE[band]}]{'no match' if r.no_match else band}[/]",
            ", ".join(r.rules_fired))
    out.print(table)
    out.print("[bold]Both ESCO protocols, on their test titles[/]")
    for p in result.protocols:
        s, first, o = p.summary, p.bands[target_precision], p.out_of_domain
        out.print(f"- {p.name}: {p.sizes['test']:,} test titles, P@1 {_f(s['p_at_1'])}, ECE "
                  f"{_f(s['ece'])}; auto-accepts {_pct(first['coverage'])} at "
                  f"{target_precision:g} (test precision {_f(first['precision'])}), "
                  f"{_pct(p.bands[0.99]['coverage'])} at 0.99; rejects "
                  f"{_pct(o['rejected'])} of strings that are no occupation and "
                  f"{_pct(o['right_rejected'])} of right matches", highlight=False)
    out.print(f"report: [bold]{result.report}[/] (markdown and PNG plots)")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
