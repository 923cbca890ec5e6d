"""`surematch index MODEL REFS --index DIR` (add or update) and `surematch index delete ID...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli import app
from surematch.cli.options import (
    ColumnOpt,
    IndexOpt,
    KeyOpt,
    UrlOpt,
    VerboseOpt,
    index_target,
    parse_columns,
)
from surematch.errors import InputError
from surematch.logs import setup_logging

out = Console()


@app.command(name="index", no_args_is_help=True)
def index_cmd(
    args: Annotated[list[str], typer.Argument(metavar="MODEL REFS | delete ID...",
                                              help="add: model folder and references file; "
                                                   "delete: the ids to remove")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="references or esco (ESCO's CSV)")] =
    "references",
    column: ColumnOpt = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="references embedded per batch")] = 256,
    optimize: Annotated[bool, typer.Option(help="build the search graph after adding")] = True,
    verbose: VerboseOpt = 0,
) -> None:
    """Add or update references (embedded in batches, stored with their payload), or delete
    them by id with `surematch index delete --index DIR ID...`."""
    from surematch.workflows.indexes import add_references, delete_references

    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    if args[0] == "delete":
        if len(args) < 2:
            raise InputError("index delete needs the ids to remove")
        removed = delete_references(target, args[1:])
        out.print(f"deleted {removed} of {len(args) - 1} ids; {target} holds the rest")
        return
    if len(args) != 2:
        raise InputError(f"expected MODEL REFS (or delete ID...), got {len(args)} arguments")
    refs_path = Path(args[1])
    result = add_references(Path(args[0]), refs_path, target, fmt=fmt,
                            columns=parse_columns(column) or None, batch_size=batch_size,
                            optimize=optimize)
    out.print(f"indexed {result.added:,} references from {refs_path}; {target} holds "
              f"{result.total:,}")
