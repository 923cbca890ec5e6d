"""Match a file of queries (CSV / JSONL / Parquet) into an output file, resumably.

The input is streamed in batches (memory stays bounded whatever the file's length); each
batch's rows are written in input order and made durable before the next batch is read
(`surematch.data.row_files`). A rerun after an interruption counts the complete rows already
in the output and skips that many input rows; `restart=True` starts over.

Repeated queries cost nothing: rows whose queries have one key (`query_key`: case and spacing
aside) are matched once, and the result is written for each row (with the row's own query),
from a cache of the last `repeat_cache` distinct queries. A query equal to a stored text skips
the encoder (`ReferenceIndex.embed_queries`).

Output columns: `query`, then for each of the k matches `id_i`, `text_i`, `similarity_i`,
`probability_i`, `band_i` (empty where a query has fewer matches), `rules_fired` (joined with
"|") and `no_match`. A Parquet output is written as one part file per batch in
`OUT.parts/` (each renamed into place when complete) and joined into OUT at the end.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from surematch.data.formats import file_format
from surematch.data.row_files import count_rows, open_writer, read_column
from surematch.data.text_keys import query_key
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.embed_ahead import embed_ahead
from surematch.index.results import MatchResult
from surematch.index.stores import IndexLocation

Progress = Callable[[int, int | None], None]  # (rows done, rows in all when known)
REPEAT_CACHE = 20_000  # distinct queries whose results a file job keeps for their repeats


@dataclass(frozen=True)
class MatchFileResult:
    rows_written: int  # matched and written by this run
    rows_skipped: int  # already in the output from an earlier run
    seconds: float
    shift: Any = None  # ShiftResult of this run's queries against the calibration's; or None
    rows_matched: int = 0  # distinct queries matched (the others repeated one)


def output_columns(k: int) -> list[str]:
    per = [f"{name}_{i}" for i in range(1, k + 1)
           for name in ("id", "text", "similarity", "probability", "band")]
    return ["query", *per, "rules_fired", "no_match"]


def result_row(result: MatchResult, k: int) -> dict[str, Any]:
    """One output row: the query's top k matches flattened, then rules_fired and no_match."""
    row: dict[str, Any] = {"query": result.query}
    for i in range(1, k + 1):
        m = result.matches[i - 1] if i <= len(result.matches) else None
        row[f"id_{i}"] = None if m is None else m.id
        row[f"text_{i}"] = None if m is None else m.text
        row[f"similarity_{i}"] = None if m is None else float(m.similarity)
        row[f"probability_{i}"] = None if m is None or m.probability is None else \
            float(m.probability)
        row[f"band_{i}"] = None if m is None else m.band
    row["rules_fired"] = "|".join(result.rules_fired)
    row["no_match"] = bool(result.no_match)
    return row


@dataclass
class _Batch:
    """A batch of rows: their queries and keys, and the distinct new queries to match."""

    queries: list[str]
    keys: list[str]
    todo: list[str] = field(default_factory=list)
    todo_keys: list[str] = field(default_factory=list)


def match_file(model_dir: Path, location: IndexLocation, queries_path: Path, out_path: Path,
               k: int = 10, *, column: str = "query", filter: dict[str, Any] | None = None,
               search_ef: int | None = None, batch_size: int = 256, restart: bool = False,
               progress: Progress | None = None, runtime: str = DEFAULT_RUNTIME,
               repeat_cache: int = REPEAT_CACHE, index: Any = None) -> MatchFileResult:
    """Match every row of `queries_path` (its `column`) and write one row each to `out_path`.
    `index`: a ReferenceIndex opened already (kept open), else the one at `location` is
    opened with the model of `model_dir` for this file.

    Raises InputError (with file and line, or row for Parquet) for an unreadable file, a
    missing column or an empty query; the rows before it are matched and kept in the output,
    so fixing the row and rerunning continues from there.
    """
    from surematch.index.stores.filters import parse_filter
    from surematch.workflows.drift import FileShift, match_summary
    from surematch.workflows.indexes import open_index

    t0 = time.perf_counter()
    queries_path, out_path = Path(queries_path), Path(out_path)
    if k < 1 or batch_size < 1:
        raise InputError("k and the batch size must be positive", field="k")
    file_format(queries_path, "queries")
    writer = open_writer(out_path, output_columns(k))
    if not queries_path.is_file():
        raise InputError("file not found" if not queries_path.exists() else "not a file",
                         file=queries_path)
    if queries_path.resolve() == out_path.resolve():
        raise InputError("the output would overwrite the queries file", file=out_path)
    parse_filter(filter)  # a bad filter fails before the model is loaded
    done = 0 if restart else writer.resume()
    if restart:
        writer.start_over()
    rows = read_queries(queries_path, column)
    total = count_rows(queries_path)
    skipped = 0
    if done:
        for _ in rows:  # the rows an earlier run wrote (still read: their count is checked)
            skipped += 1
            if skipped == done:
                break
        if skipped < done:
            raise InputError(f"the output holds {done} rows but the queries file only "
                             f"{skipped}: it is another file's output; rerun with --restart",
                             file=out_path)
    first = next(rows, None)  # a missing column or unreadable file fails before the model loads
    if progress:
        progress(skipped, total)
    if first is None:  # nothing (left) to match: the model is not even loaded
        writer.finish()
        return MatchFileResult(0, skipped, time.perf_counter() - t0)
    # a batch's results wait for its repeats in the next batch (planned while it is matched)
    seen: OrderedDict[str, _Done] = OrderedDict()
    size = max(repeat_cache, 4 * batch_size)
    batches = _plan(itertools.chain([first], rows), batch_size, seen)
    written = matched = 0
    with (nullcontext(index) if index is not None else
          open_index(location, model_dir, search_ef=search_ef, runtime=runtime)) as index:
        def embed(batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
            return index.embed_queries(batch.todo) if batch.todo else _NONE

        shift = FileShift(model_dir if index.calibration.calibrated else None)
        try:
            for batch, (vectors, confidence) in embed_ahead(batches, embed):
                new = index.match_embedded(batch.todo, vectors, confidence, k, filter)
                for key, result in zip(batch.todo_keys, new, strict=True):
                    seen[key] = _Done(writer.tail(result_row(result, k)),
                                      match_summary(result, shift.basis))
                    seen.move_to_end(key)
                out = [seen[key] for key in batch.keys]  # kept: the last 4 batches' are
                writer.write_tails(batch.queries, [d.tail for d in out])
                shift.add(batch.queries, [d.summary for d in out])  # repeats included
                while len(seen) > size:
                    seen.popitem(last=False)
                written, matched = written + len(batch.queries), matched + len(new)
                if progress:
                    progress(skipped + written, total)
        finally:
            writer.close()
    writer.finish()
    return MatchFileResult(written, skipped, time.perf_counter() - t0, shift.check(), matched)


@dataclass(frozen=True)
class _Done:
    """A distinct query matched: its output row but for the query (`Writer.tail`), written
    for every row that repeats it, and its `match_summary` for the shift check."""

    tail: Any
    summary: tuple[float, ...]  # `match_summary`, content features included


_NONE = (np.zeros((0, 0), np.float32), np.zeros(0, np.float32))


def _plan(rows: Iterator[str], batch_size: int, done: OrderedDict[str, _Done],
          ) -> Iterator[_Batch]:
    """Batches of batch_size rows; each matches only the queries (by `query_key`) neither
    matched already (`done`, touched here so that it stays until the batch is written) nor
    by the batch before it (still under way when this one is planned). A row that cannot be
    read ends the batches after the rows before it, then raises."""
    before: set[str] = set()
    while True:
        batch, error = _Batch([], []), None
        try:
            for query in itertools.islice(rows, batch_size):
                batch.queries.append(query)
        except InputError as e:
            error = e
        mine: set[str] = set()
        for query in batch.queries:
            key = query_key(query)
            batch.keys.append(key)
            if key in mine or key in before:
                continue
            if key in done:
                done.move_to_end(key)
                continue
            mine.add(key)
            batch.todo.append(query)
            batch.todo_keys.append(key)
        before = mine
        if batch.queries:
            yield batch
        if error is not None:
            raise error
        if len(batch.queries) < batch_size:
            return


def read_queries(path: Path, column: str = "query") -> Iterator[str]:
    """The query text of each row (InputError with file and line, or row, for an empty one):
    column `query`, or `text` in a file without one (a labelled file's queries), unless
    remapped to `column`."""
    fallback = "text" if column == "query" else None
    for line, row, value in read_column(path, column, "queries", ours="query",
                                        fallback=fallback):
        yield _query_text(value, path, line, row, column)


def _query_text(value: Any, path: Path, line: int | None, row: int, column: str) -> str:
    where = "" if line is not None else f"row {row}: "
    if isinstance(value, float) and math.isnan(value):
        value = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{where}empty query", file=path, line=line, field=column)
    if not isinstance(value, str):
        raise InputError(f"{where}expected text, found {type(value).__name__}", file=path,
                         line=line, field=column)
    return value


