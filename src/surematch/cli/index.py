"""`surematch index MODEL REFS --index DIR` (add or update) and `surematch index delete ID...`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from surematch.cli import app
from surematch.errors import InputError
from surematch.logs import setup_logging

if TYPE_CHECKING:
    from surematch.index import VectorStore
    from surematch.index.stores import IndexLocation

out = Console()

IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder (embedded store)")]
UrlOpt = Annotated[str | None, typer.Option("--qdrant-url", help="a Qdrant server instead")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", envvar="QDRANT_API_KEY",
                                            help="the Qdrant server's API key")]
SearchEfOpt = Annotated[int | None, typer.Option(
    "--search-ef", min=1, help="candidates each search examines (default 64): wider is slower "
    "and finds more of the exact top k")]


def index_target(index: Path | None, qdrant_url: str | None,
                 api_key: str | None = None) -> IndexLocation:
    """Where the index lives: exactly one of --index DIR and --qdrant-url URL."""
    from surematch.index.stores import IndexLocation

    return IndexLocation.of(index, qdrant_url, api_key)


def open_existing(location: IndexLocation, collection: str = "references") -> VectorStore:
    """The store of an existing index (never creates one)."""
    from surematch.index.stores import open_store

    location.require(collection)
    return open_store(location, None, collection=collection)


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
    column: Annotated[list[str], typer.Option(help="remap a column: OURS=THEIRS")] = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(help="references embedded per batch")] = 256,
    optimize: Annotated[bool, typer.Option(help="build the search graph after adding")] = True,
    verbose: Annotated[int, typer.Option("-v", count=True, help="more log output")] = 0,
) -> None:
    """Add or update references (embedded in batches, stored with their payload), or delete
    them by id with `surematch index delete --index DIR ID...`."""
    setup_logging(verbose)
    target = index_target(index, qdrant_url, api_key)
    if args[0] == "delete":
        if len(args) < 2:
            raise InputError("index delete needs the ids to remove")
        with open_existing(target) as store:
            removed = store.delete(args[1:])
        out.print(f"deleted {removed} of {len(args) - 1} ids; {target} holds the rest")
        return
    if len(args) != 2:
        raise InputError(f"expected MODEL REFS (or delete ID...), got {len(args)} arguments")
    from surematch.cli.train import parse_columns
    from surematch.data import read_references
    from surematch.index.reference_index import ReferenceIndex
    from surematch.model import SimilarityModel

    model_dir, refs_path = Path(args[0]), Path(args[1])
    if fmt == "esco":
        from surematch.data.esco import esco_references, read_esco

        refs = esco_references(read_esco(refs_path))
    elif fmt == "references":
        refs = read_references(refs_path, columns=parse_columns(column) or None)
    else:
        raise InputError(f"--format must be references or esco, got {fmt!r}", field="--format")
    model = SimilarityModel.load(model_dir)
    with ReferenceIndex.create(target, model) as idx:
        idx.add(refs, batch_size=batch_size)
        if optimize:
            idx.optimize()
        total = idx.count()
    out.print(f"indexed {len(refs):,} references from {refs_path}; {target} holds {total:,}")
