"""Match a file of queries (CSV / JSONL / Parquet) into an output file, resumably.

The input is streamed in batches (memory stays bounded whatever the file's length); each
batch's rows are written in input order, flushed and fsynced before the next batch is read.
A rerun after an interruption counts the complete rows already in the output (a partial last
line is dropped) and skips that many input rows; `restart=True` starts over.

Output columns: `query`, then for each of the k matches `id_i`, `text_i`, `similarity_i`,
`probability_i`, `band_i` (empty where a query has fewer matches), `rules_fired` (joined with
"|") and `no_match`. A Parquet output is written as one part file per batch in
`OUT.parts/` (each renamed into place when complete) and joined into OUT at the end.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from surematch.data.formats import read_csv, utf8_lines
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.results import MatchResult
from surematch.index.stores import IndexLocation

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
Progress = Callable[[int, int | None], None]  # (rows done, rows in all when known)
ROW_GROUP = 65536  # rows per row group of a Parquet output


@dataclass(frozen=True)
class MatchFileResult:
    rows_written: int  # matched and written by this run
    rows_skipped: int  # already in the output from an earlier run
    seconds: float
    shift: Any = None  # ShiftResult of this run's queries against the calibration's; or None


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


def file_format(path: Path, what: str) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"unknown {what} file type {path.suffix or '(no extension)'!r}; "
                         f"supported: {', '.join(EXTENSIONS)}", file=path)
    return fmt


def match_file(model_dir: Path, location: IndexLocation, queries_path: Path, out_path: Path,
               k: int = 10, *, column: str = "query", filter: dict[str, Any] | None = None,
               search_ef: int | None = None, batch_size: int = 256, restart: bool = False,
               progress: Progress | None = None, runtime: str = DEFAULT_RUNTIME) -> MatchFileResult:
    """Match every row of `queries_path` (its `column`) and write one row each to `out_path`.

    Raises InputError (with file and line, or row for Parquet) for an unreadable file, a
    missing column or an empty query; the rows before it are matched and kept in the output,
    so fixing the row and rerunning continues from there.
    """
    from surematch.index.stores.filters import parse_filter
    from surematch.workflows.drift import FileShift
    from surematch.workflows.indexes import open_index

    t0 = time.perf_counter()
    queries_path, out_path = Path(queries_path), Path(out_path)
    if k < 1 or batch_size < 1:
        raise InputError("k and the batch size must be positive", field="k")
    reader = _READERS[file_format(queries_path, "queries")]
    writer_cls = _WRITERS[file_format(out_path, "output")]
    if not queries_path.is_file():
        raise InputError("file not found" if not queries_path.exists() else "not a file",
                         file=queries_path)
    if queries_path.resolve() == out_path.resolve():
        raise InputError("the output would overwrite the queries file", file=out_path)
    parse_filter(filter)  # a bad filter fails before the model is loaded
    columns = output_columns(k)
    writer = writer_cls(out_path, columns)
    done = 0 if restart else writer.resume()
    if restart:
        writer.start_over()
    rows = reader(queries_path, column)
    total = _count_rows(queries_path)
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
    written = 0
    if progress:
        progress(skipped, total)
    if first is None:  # nothing (left) to match: the model is not even loaded
        writer.finish()
        return MatchFileResult(0, skipped, time.perf_counter() - t0)
    rows = itertools.chain([first], rows)
    failure: InputError | None = None
    def batches() -> Iterator[list[str]]:
        nonlocal failure
        batch: list[str] = []
        while True:
            try:
                text = next(rows, None)
            except InputError as e:
                failure, text = e, None
            if text is not None:
                batch.append(text)
            if batch and (text is None or len(batch) >= batch_size):
                yield batch
                batch = []
            if text is None:
                return

    with open_index(location, model_dir, search_ef=search_ef, runtime=runtime) as index, \
            ThreadPoolExecutor(1, thread_name_prefix="embed") as embedder:
        shift = FileShift(model_dir if index.calibration.calibrated else None)
        # the next batch is embedded (onnxruntime releases the GIL) while this one is searched
        queue = batches()
        batch = next(queue, None)
        embedded = embedder.submit(index.embed_queries, batch) if batch else None
        while batch is not None and embedded is not None:
            vectors, confidence = embedded.result()
            following = next(queue, None)
            embedded = embedder.submit(index.embed_queries, following) if following else None
            results = index.match_embedded(batch, vectors, confidence, k, filter)
            writer.write([result_row(r, k) for r in results])
            shift.add(results)
            written += len(batch)
            batch = following
            if progress:
                progress(skipped + written, total)
    writer.close()
    if failure is not None:
        raise failure
    writer.finish()
    return MatchFileResult(written, skipped, time.perf_counter() - t0, shift.check())


# ---------------------------------------------------------------- readers: the query texts


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


def _missing_column(path: Path, column: str, found: list[str], line: int | None) -> InputError:
    listed = ", ".join(map(repr, found)) or "(none)"
    return InputError(f'missing column "{column}"; columns found: {listed}. Rename the column '
                      f"in the file, or remap it: --column query=<column in your file>",
                      file=path, line=line, field=column)


def _read_csv(path: Path, column: str) -> Iterator[str]:
    header, rows = read_csv(path)
    if header is None or column not in header:
        raise _missing_column(path, column, header or [], 1)
    for row, (line, values) in enumerate(rows, start=1):
        yield _query_text(values[column], path, line, row, column)


def _read_jsonl(path: Path, column: str) -> Iterator[str]:
    row = 0
    for number, raw in enumerate(utf8_lines(path), start=1):
        if not raw.strip():
            continue
        row += 1
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", file=path,
                             line=number) from None
        if not isinstance(value, dict):
            raise InputError(f"expected a JSON object, found {type(value).__name__}",
                             file=path, line=number)
        if column not in value:
            raise _missing_column(path, column, list(value), number)
        yield _query_text(value[column], path, number, row, column)


def _read_parquet(path: Path, column: str) -> Iterator[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"not a readable Parquet file: {e}", file=path) from None
    names = file.schema_arrow.names
    if column not in names:
        raise _missing_column(path, column, names, None)
    row = 0
    with file:
        for batch in file.iter_batches(batch_size=1024, columns=[column]):
            for value in batch.column(0).to_pylist():
                row += 1
                yield _query_text(value, path, None, row, column)


_READERS: dict[str, Callable[[Path, str], Iterator[str]]] = {
    "csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


def _count_rows(path: Path) -> int | None:
    """The input's rows, for the progress bar: exact for Parquet, lines for text (a CSV
    field holding a newline counts twice). Read in chunks: memory stays bounded."""
    if file_format(path, "queries") == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # reported with its location when the rows are read
            return None
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - (path.suffix.lower() == ".csv"), 0)


# ---------------------------------------------------------------- writers: resumable output


class _Writer(Protocol):
    def __init__(self, path: Path, columns: list[str]) -> None: ...
    def resume(self) -> int: ...
    def start_over(self) -> None: ...
    def write(self, rows: list[dict[str, Any]]) -> None: ...
    def close(self) -> None: ...
    def finish(self) -> None: ...


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _LineWriter:
    """CSV or JSONL: rows appended, flushed and fsynced per batch; resume truncates a
    partial last row and counts the complete ones."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        self.file: io.BufferedWriter | None = None

    def _complete_rows(self) -> tuple[int, int]:
        """(complete rows, byte offset where they end)."""
        raise NotImplementedError

    def _encode(self, rows: list[dict[str, Any]]) -> bytes:
        raise NotImplementedError

    def _header(self) -> bytes:
        return b""

    def resume(self) -> int:
        if not self.path.exists():
            return 0
        count, end = self._complete_rows()
        if end < self.path.stat().st_size:  # a partial last row (or header) from a kill
            with self.path.open("r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        return count

    def start_over(self) -> None:
        self.path.unlink(missing_ok=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self.file = self.path.open("ab")
            if fresh:
                self.file.write(self._header())
        self.file.write(self._encode(rows))
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def finish(self) -> None:
        if self.file is None and not self.path.exists():
            self.write([])  # an output for an input without rows: the header alone
        self.close()


class _CsvWriter(_LineWriter):
    def _row_text(self, values: list[Any]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(values)
        return buf.getvalue().encode("utf-8")

    def _header(self) -> bytes:
        return self._row_text(self.columns)

    def _encode(self, rows: list[dict[str, Any]]) -> bytes:
        return b"".join(self._row_text([_csv_value(r[c]) for c in self.columns]) for r in rows)

    def _complete_rows(self) -> tuple[int, int]:
        count, end, header, start = -1, 0, None, 1
        with self.path.open("rb") as f:
            pending: list[bytes] = []
            for number, raw in enumerate(f, start=1):
                pending.append(raw)
                if not raw.endswith(b"\n"):
                    break  # a partial last line
                text = b"".join(pending).decode("utf-8", errors="replace")
                try:
                    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
                except csv.Error as e:
                    if "unexpected end of data" in str(e):
                        continue  # a quoted field spans lines (or the row was cut): read on
                    raise _not_ours(self.path, start) from None
                if len(records) != 1 or (header is not None and len(records[0]) != len(header)):
                    raise _not_ours(self.path, start)
                if header is None:
                    header = records[0]
                    if header != self.columns:
                        raise _not_ours(self.path, 1)
                count, end, pending = count + 1, end + sum(map(len, pending)), []
                start = number + 1
        return max(count, 0), end


def _not_ours(path: Path, line: int) -> InputError:
    """A complete line of the output that is not a row of this run (rows are only ever cut
    short at the end): nothing is truncated, the user decides."""
    return InputError("not a row of this run's columns (another k, or another file?); "
                      "rerun with --restart or another --out", file=path, line=line)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return value


class _JsonlWriter(_LineWriter):
    def _encode(self, rows: list[dict[str, Any]]) -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")

    def _complete_rows(self) -> tuple[int, int]:
        count, end = 0, 0
        with self.path.open("rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # a partial last line
                try:
                    row = json.loads(raw)
                except ValueError:
                    raise _not_ours(self.path, count + 1) from None
                if not isinstance(row, dict) or list(row) != self.columns:
                    raise _not_ours(self.path, count + 1)
                count, end = count + 1, end + len(raw)
        return count, end


class _ParquetWriter:
    """Each batch is a part file in OUT.parts/ (written beside, fsynced, renamed in); the
    end joins the parts, row group by row group, into OUT. A finished OUT that gets more rows
    later becomes the first part again."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        import pyarrow as pa

        self.path, self.columns = path, columns
        self.parts = path.with_name(path.name + ".parts")
        types = {"similarity": pa.float64(), "probability": pa.float64()}
        self.schema = pa.schema(
            [(c, pa.bool_() if c == "no_match" else types.get(c.rsplit("_", 1)[0], pa.string()))
             for c in columns])
        self.next_part = 0

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    def resume(self) -> int:
        if self.path.exists():  # finished earlier: keep it as the first part
            self._check(self.path)
            self.start_over(keep_output=True)
            self.parts.mkdir(parents=True)
            os.replace(self.path, self.parts / "part-000000.parquet")
            _sync_dir(self.parts)
        for stale in self.parts.glob("*.tmp") if self.parts.is_dir() else []:
            stale.unlink()
        files = self._part_files()
        count = sum(self._check(f) for f in files)
        self.next_part = int(files[-1].stem.split("-")[1]) + 1 if files else 0
        return count

    def _check(self, path: Path) -> int:
        """Rows of a finished output or part, after checking it has this run's columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(path) as f:
                names, rows = f.schema_arrow.names, f.metadata.num_rows
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"not a readable Parquet file ({e}); rerun with --restart or "
                             "another --out", file=path) from None
        if names != self.columns:
            raise InputError("not an output of this run's columns (another k, or another "
                             "file?); rerun with --restart or another --out", file=path)
        return int(rows)

    def start_over(self, keep_output: bool = False) -> None:
        if not keep_output:
            self.path.unlink(missing_ok=True)
        shutil.rmtree(self.parts, ignore_errors=True)
        self.next_part = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.parts.mkdir(parents=True, exist_ok=True)
        final = self.parts / f"part-{self.next_part:06d}.parquet"
        tmp = final.with_suffix(".tmp")
        table = pa.Table.from_pylist(rows, schema=self.schema)
        pq.write_table(table, tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _sync_dir(self.parts)
        self.next_part += 1

    def close(self) -> None:
        pass

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        tmp = self.path.with_name(self.path.name + ".tmp")
        with pq.ParquetWriter(tmp, self.schema) as out:
            held: list[pa.Table] = []  # parts gathered into row groups of ROW_GROUP rows
            for part in self._part_files():
                with pq.ParquetFile(part) as f:
                    for i in range(f.num_row_groups):
                        held.append(f.read_row_group(i))
                if sum(t.num_rows for t in held) >= ROW_GROUP:
                    table = pa.concat_tables(held)
                    full = table.num_rows // ROW_GROUP * ROW_GROUP
                    out.write_table(table.slice(0, full), row_group_size=ROW_GROUP)
                    held = [table.slice(full)] if table.num_rows > full else []
            if held:  # (no rows at all: the file holds the schema alone)
                out.write_table(pa.concat_tables(held))
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _sync_dir(self.path.parent)
        shutil.rmtree(self.parts, ignore_errors=True)


_WRITERS: dict[str, type[_Writer]] = {"csv": _CsvWriter, "jsonl": _JsonlWriter,
                                      "parquet": _ParquetWriter}
