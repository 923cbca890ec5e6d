"""`surematch match MODEL --index DIR QUERY`: the best references, calibrated, after rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli import app
from surematch.cli.options import (
    IndexOpt,
    KeyOpt,
    RuntimeOpt,
    SearchEfOpt,
    UrlOpt,
    index_target,
)

out = Console()


@app.command(no_args_is_help=True)
def match(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL", help="model folder")],
    queries: Annotated[list[str], typer.Argument(metavar="QUERY...", help="text to match")],
    index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    k: Annotated[int, typer.Option("-k", help="matches per query")] = 10,
    filters: Annotated[list[str], typer.Option("--filter", help="payload key=value (repeat: "
                                               "all must hold)")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    search_ef: SearchEfOpt = None,
    runtime: RuntimeOpt = "auto",
) -> None:
    """Match each QUERY against the index; with --json one object per query (JSON lines)."""
    from surematch.index import parse_cli_filter
    from surematch.workflows.indexes import match as match_queries

    spec = parse_cli_filter(filters) if filters else None
    results = match_queries(model_dir, index_target(index, qdrant_url, api_key), queries, k,
                            spec, search_ef, runtime)
    for result in results:
        if as_json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
            continue
        verdict = "no match" if result.no_match else "match"
        fired = f"; rules fired: {', '.join(result.rules_fired)}" if result.rules_fired else ""
        table = Table(title=f"{result.query!r}: {verdict} (embedding confidence "
                            f"{result.embedding_confidence:.2f}{fired})")
        for col in ("#", "id", "text", "similarity", "confidence", "band"):
            table.add_column(col)
        for n, m in enumerate(result.matches, 1):
            conf = "" if m.confidence is None else f"{m.confidence:.1f}%"
            table.add_row(str(n), m.id, m.text, f"{m.similarity:.3f}", conf, m.band or "")
        out.print(table)
