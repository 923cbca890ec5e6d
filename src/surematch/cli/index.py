"""`surematch index`: add or update references (the default: `index MODEL REFS --index DIR`),
`index delete ID...`, `index add-texts --model M ID TEXT...`, `index delete-text ID TEXT`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from surematch.cli.app import app
from surematch.cli.options import (
    AddressOpt,
    ColumnOpt,
    EngineOpt,
    IndexOpt,
    KeyOpt,
    RuntimeOpt,
    UrlOpt,
    VerboseOpt,
    WorkersOpt,
    index_target,
    parse_columns,
    require_engine,
)
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import setup_logging

out = Console()


class AddByDefault(TyperGroup):
    """Sub-commands, with `add` run when the first argument names none of them, so that
    `surematch index MODEL REFS` keeps adding references."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


index_app = typer.Typer(cls=AddByDefault, no_args_is_help=True, rich_markup_mode="markdown",
                        help="Add or update references (`index MODEL REFS --index DIR`), "
                             "delete them, or add and delete a stored reference's texts.")
app.add_typer(index_app, name="index")


@index_app.command(name="add")
def add(
    model: Annotated[Path, typer.Argument(help="model folder")],
    refs: Annotated[Path, typer.Argument(help="references file (id, text, payload columns)")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="references or esco (ESCO's CSV)")] =
    "references",
    column: ColumnOpt = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="references embedded per batch")] = 256,
    optimize: Annotated[bool, typer.Option(help="build the search graph after adding")] = True,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    engine: EngineOpt = None,
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Add or update references (the default: `surematch index MODEL REFS --index DIR`),
    embedded in batches and stored with their payload; an id on several rows, or a texts
    column, gives a reference several texts. With --engine dask the references are embedded
    in partitions on a cluster's workers and written by this process; a rerun embeds only
    what is missing."""
    from surematch.workflows.indexes import IndexResult, add_references

    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    columns = parse_columns(column) or None
    result: IndexResult
    if engine is not None:
        require_engine(engine)
        from surematch.workflows.distributed_index import index_dataset

        result = index_dataset(model, refs, target, fmt=fmt, columns=columns,
                               runtime=runtime, workers=workers, address=address,
                               batch_size=batch_size, optimize=optimize)
    elif address is not None:
        raise InputError("--address goes with --engine dask", field="--address")
    else:
        result = add_references(model, refs, target, fmt=fmt, columns=columns,
                                batch_size=batch_size, optimize=optimize, runtime=runtime)
    skipped = result.read - result.added
    out.print(f"indexed {result.added:,} references from {refs}"
              + (f" ({skipped:,} were stored already with the same texts)" if skipped else "")
              + f"; {target} holds {result.total:,}")


@index_app.command(name="delete")
def delete(
    ids: Annotated[list[str], typer.Argument(help="the ids to remove")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Delete references by id, with all their texts."""
    from surematch.workflows.indexes import delete_references

    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    removed = delete_references(target, ids)
    out.print(f"deleted {removed} of {len(ids)} ids; {target} holds the rest")


@index_app.command(name="add-texts")
def add_texts(
    ref_id: Annotated[str, typer.Argument(metavar="ID", help="a stored reference")],
    texts: Annotated[list[str], typer.Argument(metavar="TEXT...", help="texts to add")],
    model: Annotated[Path, typer.Option("--model", help="the model that built the index")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    kind: Annotated[str, typer.Option(
        help="the texts' kind (title, synonym, description)")] = "synonym",
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    verbose: VerboseOpt = 0,
) -> None:
    """Add texts to a stored reference, embedding only the new ones."""
    from surematch.workflows.indexes import add_texts as add

    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    added, held = add(model, target, ref_id, texts, kind, runtime=runtime)
    out.print(f"added {added} of {len(texts)} texts to {ref_id!r}; it holds {held}")


@index_app.command(name="delete-text")
def delete_text(
    ref_id: Annotated[str, typer.Argument(metavar="ID", help="a stored reference")],
    text: Annotated[str, typer.Argument(help="the text to remove (not its last)")],
    index: IndexOpt = None,
    qdrant_url: UrlOpt = None,
    api_key: KeyOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Remove one text of a stored reference (its last: delete the reference instead)."""
    from surematch.workflows.indexes import delete_text as remove

    setup_logging(verbose)
    held = remove(index_target(index, qdrant_url, api_key), ref_id, text)
    out.print(f"deleted a text of {ref_id!r}; it holds {held}")


