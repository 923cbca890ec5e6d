"""`surematch match MODEL --index DIR QUERY`: the best references, calibrated, after rules;
`--queries FILE --out FILE` matches a whole file, in resumable batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli.app import app
from surematch.cli.options import (
    AddressOpt,
    ColumnOpt,
    EngineOpt,
    IndexOpt,
    KeyOpt,
    RuntimeOpt,
    SearchEfOpt,
    UrlOpt,
    WorkersOpt,
    index_target,
    parse_columns,
    require_engine,
)
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import interactive

out = Console()


@app.command(no_args_is_help=True)
def match(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL", help="model folder")],
    queries: Annotated[list[str] | None, typer.Argument(
        metavar="QUERY", help="text to match (or --queries FILE)", show_default=False)]
    = None,
    index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    k: Annotated[int, typer.Option("-k", help="matches per query")] = 10,
    filters: Annotated[list[str], typer.Option("--filter", help="payload key=value (repeat: "
                                               "all must hold)")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    search_ef: SearchEfOpt = None,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    queries_file: Annotated[Path | None, typer.Option(
        "--queries", help="a file of queries (CSV / JSONL / Parquet, column `query`)")] = None,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="with --queries: the output file (CSV / JSONL / Parquet, by extension)")]
    = None,
    column: ColumnOpt = [],  # noqa: B006
    batch_size: Annotated[int, typer.Option(min=1, help="with --queries: queries per batch")]
    = 256,
    restart: Annotated[bool, typer.Option(
        "--restart", help="with --queries: start the output over instead of resuming")] = False,
    engine: EngineOpt = None,
    workers: WorkersOpt = 2,
    address: AddressOpt = None,
) -> None:
    """Match each QUERY against the index; with --json one object per query (JSON lines).

    With --queries FILE --out FILE every row of FILE is matched in batches and written as
    one row (query, id_1, text_1, similarity_1, probability_1, band_1, ... for the -k best,
    rules_fired, no_match); an interrupted run resumes where it stopped when rerun."""
    from surematch.index import parse_cli_filter
    from surematch.index.matcher import check_k
    from surematch.workflows.indexes import match_warned

    check_k(k, "-k")  # before the model loads or the file is read
    spec = parse_cli_filter(filters) if filters else None
    if queries_file is not None:
        if queries:
            raise InputError("give either QUERY arguments or --queries FILE, not both")
        if out_file is None:
            raise InputError("--queries FILE needs --out FILE: where the matches go")
        if as_json:
            raise InputError("--json prints single queries; with --queries the format "
                             "follows --out's extension")
        if engine is not None:
            _match_dataset(model_dir, index_target(index, qdrant_url, api_key), queries_file,
                           out_file, k, spec, search_ef, column, batch_size, restart,
                           runtime, engine, workers, address)
            return
        if address is not None:
            raise InputError("--address goes with --engine dask")
        _match_file(model_dir, index_target(index, qdrant_url, api_key), queries_file,
                    out_file, k, spec, search_ef, column, batch_size, restart, runtime)
        return
    if out_file is not None or column or restart or engine or address:
        raise InputError("--out, --column, --restart and --engine go with --queries FILE")
    if not queries:
        raise InputError("give QUERY arguments or --queries FILE")
    results, warnings = match_warned(model_dir, index_target(index, qdrant_url, api_key),
                                     queries, k, spec, search_ef, runtime)
    for result in results:
        if as_json:  # the shape of the HTTP answer: the filter's type warnings included
            print(json.dumps({**result.to_dict(), "warnings": warnings}, ensure_ascii=False))
            continue
        verdict = "no match" if result.no_match else "match"
        fired = f"; rules fired: {', '.join(result.rules_fired)}" if result.rules_fired else ""
        table = Table(title=f"{result.query!r}: {verdict} (embedding confidence "
                            f"{result.embedding_confidence:.2f}{fired})")
        for col in ("#", "id", "text", "similarity", "probability", "band"):
            table.add_column(col)
        for n, m in enumerate(result.matches, 1):
            conf = "" if m.percent is None else f"{m.percent:.1f}%"
            table.add_row(str(n), m.id, m.text, f"{m.similarity:.3f}", conf, m.band or "")
        out.print(table)


def _query_column(column: list[str]) -> str:
    columns = parse_columns(column)
    unknown = sorted(set(columns) - {"query"})
    if unknown:
        raise InputError(f"--column: only query=THEIRS can be remapped here, not "
                         f"{', '.join(unknown)}")
    return columns.get("query", "query")


def _match_dataset(model_dir: Path, target: Any, queries_file: Path, out_file: Path, k: int,
                   spec: dict[str, Any] | None, search_ef: int | None, column: list[str],
                   batch_size: int, restart: bool, runtime: str, engine: str, workers: int,
                   address: str | None) -> None:
    require_engine(engine)
    from surematch.workflows.distributed import match_dataset

    result = match_dataset(model_dir, target, queries_file, out_file, k,
                           column=_query_column(column), filter=spec, search_ef=search_ef,
                           runtime=runtime, workers=workers, address=address,
                           batch_size=batch_size, restart=restart)
    skipped = (f" ({result.partitions_skipped} of {result.partitions} partitions finished "
               "earlier)") if result.partitions_skipped else ""
    out.print(f"matched {result.rows:,} queries into {out_file} in {result.partitions} "
              f"partitions{skipped} in {result.seconds:.1f}s", highlight=False)


def _match_file(model_dir: Path, target: Any, queries_file: Path, out_file: Path, k: int,
                spec: dict[str, Any] | None, search_ef: int | None, column: list[str],
                batch_size: int, restart: bool, runtime: str) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from surematch.workflows.match_file import match_file

    query_column = _query_column(column)
    bar = Progress(TextColumn("matching"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                   disable=not interactive())
    task = bar.add_task("matching", total=None)

    def advance(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=max(total, done) if total is not None else None)

    with bar:
        result = match_file(model_dir, target, queries_file, out_file, k,
                            column=query_column, filter=spec,
                            search_ef=search_ef, batch_size=batch_size, restart=restart,
                            progress=advance, runtime=runtime)
    resumed = f" (resumed after {result.rows_skipped:,} rows)" if result.rows_skipped else ""
    out.print(f"matched {result.rows_written:,} queries into {out_file}{resumed} in "
              f"{result.seconds:.1f}s", highlight=False)
    from surematch.workflows.drift import shift_line

    if line := shift_line(result.shift, "this file's queries"):
        out.print(f"[yellow]{line}[/]", highlight=False)
