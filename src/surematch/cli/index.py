"""`surematch index MODEL REFS --index DIR` (add or update), `surematch index delete ID...`,
`surematch index add-texts --model M ID TEXT...` and `surematch index delete-text ID TEXT`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import (
    ColumnOpt,
    IndexOpt,
    KeyOpt,
    RuntimeOpt,
    UrlOpt,
    VerboseOpt,
    index_target,
    parse_columns,
)
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import setup_logging

out = Console()


@app.command(name="index", no_args_is_help=True)
def index_cmd(
    args: Annotated[list[str], typer.Argument(
        metavar="MODEL REFS | delete ID... | add-texts ID TEXT... | delete-text ID TEXT",
        help="add: model folder and references file; delete: the ids to remove; add-texts: "
             "texts for a stored reference (with --model); delete-text: one text to remove")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="references or esco (ESCO's CSV)")] =
    "references",
    column: ColumnOpt = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="references embedded per batch")] = 256,
    optimize: Annotated[bool, typer.Option(help="build the search graph after adding")] = True,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    model: Annotated[Path | None, typer.Option(
        "--model", help="add-texts: the model that built the index")] = None,
    kind: Annotated[str, typer.Option(
        help="add-texts: the texts' kind (title, synonym, description)")] = "synonym",
    verbose: VerboseOpt = 0,
) -> None:
    """Add or update references (embedded in batches, stored with their payload; an id on
    several rows, or a texts column, gives a reference several texts), or delete them by id
    with `surematch index delete --index DIR ID...`; add texts to a stored reference with
    `index add-texts --model M --index DIR ID TEXT... [--kind synonym]`, remove one with
    `index delete-text --index DIR ID TEXT`."""
    from surematch.workflows.indexes import (
        add_references,
        add_texts,
        delete_references,
        delete_text,
    )

    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    if args[0] == "add-texts":
        if len(args) < 3:
            raise InputError("index add-texts needs ID TEXT...")
        if model is None:
            raise InputError("index add-texts needs --model (the model that built the index)",
                             field="--model")
        added, held = add_texts(model, target, args[1], args[2:], kind)
        out.print(f"added {added} of {len(args) - 2} texts to {args[1]!r}; it holds {held}")
        return
    if args[0] == "delete-text":
        if len(args) != 3:
            raise InputError(f"index delete-text needs ID TEXT, got {len(args) - 1} arguments")
        held = delete_text(target, args[1], args[2])
        out.print(f"deleted a text of {args[1]!r}; it holds {held}")
        return
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
                            optimize=optimize, runtime=runtime)
    skipped = result.read - result.added
    out.print(f"indexed {result.added:,} references from {refs_path}"
              + (f" ({skipped:,} were stored already with the same texts)" if skipped else "")
              + f"; {target} holds {result.total:,}")
