"""`surematch feedback review|undo --index DIR`: reviews stored beside an index, taught to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import RuntimeOpt
from surematch.folder import DEFAULT_RUNTIME

out = Console()
feedback_app = typer.Typer(no_args_is_help=True, help="Reviews of an index's matches: store "
                           "one (it teaches the index), or undo one by id.")
app.add_typer(feedback_app, name="feedback")
IndexDir = Annotated[Path, typer.Option("--index", help="index folder (its feedback.sqlite3 "
                                        "holds the reviews, as `serve` keeps them)")]


@feedback_app.command("review")
def review(
    query: Annotated[str, typer.Argument(help="the query reviewed")],
    decision: Annotated[str, typer.Option(help="accept, reject or correct")],
    model: Annotated[Path, typer.Option("--model", help="the model that built the index")],
    index: IndexDir,
    shown: Annotated[str | None, typer.Option("--shown", help="the top match shown")] = None,
    corrected: Annotated[str | None, typer.Option("--corrected", help="with correct: the right "
                                                  "reference")] = None,
    reviewer: Annotated[str | None, typer.Option(help="who reviewed")] = None,
    learn_texts: Annotated[bool, typer.Option(
        "--learn-texts/--no-learn-texts", help="teach the index the query (accept: the "
        "shown reference; correct: the corrected one)")] = True,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Store one review; an accepted or corrected query becomes a text of its reference."""
    from surematch.workflows.feedback import review_into_index

    stored, learned = review_into_index(model, index, query, decision, shown_id=shown,
                                        corrected_id=corrected, reviewer=reviewer,
                                        learn_texts=learn_texts, runtime=runtime)
    if as_json:
        print(json.dumps({"stored": stored.to_dict(), "learned": learned.to_dict()}))
        return
    out.print(f"review {stored.id} stored; the index: {learned.outcome}"
              + (f" ({learned.reference})" if learned.reference else ""), highlight=False)


@feedback_app.command("undo")
def undo(
    review_id: Annotated[int, typer.Argument(help="the review's id")],
    index: IndexDir,
    model: Annotated[Path | None, typer.Option(
        "--model", help="the index's model: also applies what the query's other reviews say "
        "(without it only removals are made)")] = None,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Undo a review by id: it no longer counts, and the text it taught the index goes."""
    from surematch.workflows.feedback import undo_review

    stored, learned = undo_review(index, review_id, model, runtime)
    if as_json:
        print(json.dumps({"undone": stored.to_dict(),
                          "learned": None if learned is None else learned.to_dict()}))
        return
    removed = ", ".join(f"{t!r} from {i}" for i, t in (learned.removed if learned else []))
    out.print(f"review {stored.id} undone" + (f"; removed {removed}" if removed else "")
              + (f"; the index: {learned.outcome}" if learned else ""), highlight=False)
