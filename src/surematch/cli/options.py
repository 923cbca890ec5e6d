"""Options several commands share, and turning their raw values into arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from surematch.errors import InputError

if TYPE_CHECKING:
    from surematch.index.stores import IndexLocation

IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder (embedded store)")]
UrlOpt = Annotated[str | None, typer.Option("--qdrant-url", help="a Qdrant server instead")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", envvar="QDRANT_API_KEY",
                                            help="the Qdrant server's API key")]
SearchEfOpt = Annotated[int | None, typer.Option(
    "--search-ef", min=1, help="candidates each search examines (default 64): wider is slower "
    "and finds more of the exact top k")]
ColumnOpt = Annotated[list[str], typer.Option("--column", help="remap a column: OURS=THEIRS")]
VerboseOpt = Annotated[int, typer.Option("-v", count=True, help="more log output")]
EngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="run the job's partitions on a cluster (dask; install "
    "surematch[distributed])")]
WorkersOpt = Annotated[int, typer.Option(
    min=1, help="with --engine: worker processes of a local cluster")]
AddressOpt = Annotated[str | None, typer.Option(
    "--address", help="with --engine: an existing cluster's scheduler instead")]
RuntimeOpt = Annotated[str, typer.Option(
    "--runtime", help="what runs the model: torch, onnx, onnx-int8 (after `surematch export`) "
    "or auto (the fastest the model folder has)")]


def index_target(index: Path | None, qdrant_url: str | None,
                 api_key: str | None = None) -> IndexLocation:
    """Where the index lives: exactly one of --index DIR and --qdrant-url URL."""
    from surematch.index.stores import IndexLocation

    return IndexLocation.of(index, qdrant_url, api_key)


RefColumnOpt = Annotated[list[str], typer.Option(
    "--ref-column", help="remap a column of the references file: OURS=THEIRS")]


def parse_columns(pairs: list[str], flag: str = "--column") -> dict[str, str]:
    """`--column OURS=THEIRS` values as a mapping."""
    columns = {}
    for item in pairs:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            raise InputError(f"{flag} {item!r}: expected OURS=THEIRS, e.g. text=title")
        columns[ours] = theirs
    return columns


@contextmanager
def references_flag(references: Path | None) -> Iterator[None]:
    """Errors about the references file hint at --ref-column (the other file's: --column)."""
    try:
        yield
    except InputError as exc:
        if references is not None and exc.file is not None \
                and Path(exc.file) == Path(references):
            exc.remap_flag = "--ref-column"
        raise


def require_engine(engine: str) -> None:
    """--engine names one we run on, and it is installed."""
    if engine != "dask":
        raise InputError(f"--engine: unknown {engine!r}; the engine is dask", field="--engine")
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise InputError("--engine dask needs Dask: pip install 'surematch[distributed]'",
                         field="--engine") from None
