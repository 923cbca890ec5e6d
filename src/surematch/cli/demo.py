"""`surematch demo`: the product's story on the bundled ESCO occupations, in 80 columns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import VerboseOpt
from surematch.index.results import MatchResult
from surematch.logs import setup_logging

out = Console(width=80, highlight=False)
BAND_STYLE = {"accept": "green", "review": "yellow", "reject": "red", "no match": "red"}


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its model, index and "
                                          "report")] = Path("surematch-demo"),
    retrain: Annotated[bool, typer.Option(help="train again even if a model is cached")] = False,
    target_precision: Annotated[float, typer.Option(
        help="precision the auto-accept band must certify (0.99 needs far more calibration "
        "data than ESCO offers; the demo says so)")] = 0.95,
    full: Annotated[bool, typer.Option(
        help="the whole default recipe, and both ESCO protocols measured (minutes more)")]
    = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Train, calibrate, index, match, review one query and match it again, on ESCO."""
    from surematch.workflows.demo import run_demo

    setup_logging(verbose)
    out.print("[bold]surematch demo[/]: job titles -> ESCO occupations, with confidence you "
              "can act on")
    result = run_demo(workdir, retrain, target_precision, full,
                      step=lambda text: out.print(text))
    out.print(f"  {result.band_message}")
    out.print(f"  [italic]{result.guarantee}[/]")
    for r in result.matches:
        out.print(_line(r, result.titles))
    review = result.review
    out.print(f"  [bold]review[/]: {review.query!r} is "
              f"{result.titles.get(review.corrected_id, review.corrected_id)!r} "
              f"({review.learned}: the index learned the query as a reviewed text)")
    out.print(_line(review.after, result.titles, "again"))
    for p in result.protocols:
        s, band, o = p.summary, p.bands[target_precision], p.out_of_domain
        out.print(f"[bold]{p.name}[/] ({p.sizes['test']:,} test titles): P@1 "
                  f"{_f(s['p_at_1'])}, ECE {_f(s['ece'])}; auto-accepts "
                  f"{_pct(band['coverage'])} at precision {target_precision:g} (measured "
                  f"{_f(band['precision'])}); rejects {_pct(o['rejected'])} of "
                  f"non-occupations and {_pct(o['right_rejected'])} of right matches")
    out.print(f"report: {result.report}; next: surematch serve {workdir}/model "
              f"--index {workdir}/index (review page at http://127.0.0.1:8000/)")


def _line(r: MatchResult, titles: dict[str, str], label: str = "") -> str:
    """One query's best match in one line: query -> title (matched text, kind) p band."""
    best = r.matches[0] if r.matches else None
    if best is None:
        return f"  {r.query!r}: no candidate"
    band = "no match" if r.no_match else (best.band or "uncalibrated")
    p = "" if best.probability is None else f" p={best.probability:.2f}"
    title = titles.get(best.id, best.id)
    via = "" if best.text == title else f" via {best.text!r}"
    rules = f" (rule {', '.join(r.rules_fired)})" if r.rules_fired else ""
    lead = f"  {label} " if label else "  "
    return (f"{lead}{r.query!r} -> {title!r}{via} ({best.kind}){p} "
            f"[{BAND_STYLE.get(band, 'white')}]{band}[/]{rules}")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
