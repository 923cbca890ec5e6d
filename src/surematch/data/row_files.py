"""Streaming row files: one column's values read row by row, and outputs written batch by batch
that a rerun resumes (CSV / JSONL / Parquet, the format from the extension).

Reading streams (memory stays bounded whatever the file's length). A writer appends a batch
and makes it durable (flushed and fsynced, or a Parquet part renamed into place) before the
next one; `resume()` counts the complete rows an earlier run wrote (a partial last line is
dropped) and `finish()` completes the file (Parquet: the parts joined, row group by row group).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from surematch.data.formats import file_format, read_csv, read_jsonl, read_parquet
from surematch.errors import InputError

ROW_GROUP = 65536  # rows per row group of a Parquet output

Located = tuple[int | None, int, Any]  # (line, or None for Parquet; 1-based data row; value)


def read_column(path: Path, column: str, what: str = "input", ours: str | None = None,
                fallback: str | None = None) -> Iterator[Located]:
    """Each row's value of `column` (or, where a file has no such column, of `fallback`),
    streamed, with its line and row; InputError (file, line) for an unreadable row or a
    missing column (a JSONL line may lack it), whose hint remaps `ours` (default: the
    column)."""
    ours = ours or column
    fmt = file_format(path, what)
    if fmt == "csv":
        header, rows = read_csv(path)
    elif fmt == "jsonl":
        header, rows = read_jsonl(path)
    else:
        header, rows = read_parquet(path, [column] if fallback is None else [column, fallback])
    if header is not None and column not in header and fallback is not None \
            and fallback in header:
        column = fallback
    if header is not None and column not in header:
        raise missing_column(path, column, header, 1 if fmt == "csv" else None, ours)
    for row, (line, values) in enumerate(rows, start=1):
        if column in values:
            yield line, row, values[column]
        elif fallback is not None and fallback in values:
            yield line, row, values[fallback]
        else:
            raise missing_column(path, column, list(values), line, ours)


def missing_column(path: Path, column: str, found: list[str], line: int | None, ours: str,
                   ) -> InputError:
    listed = ", ".join(map(repr, found)) or "(none)"
    return InputError(f'missing column "{column}"; columns found: {listed}. Rename the column '
                      "in the file", file=path, line=line, field=column, remap=ours)


def count_rows(path: Path) -> int | None:
    """The input's rows, for a progress bar: exact for Parquet, lines for text (a CSV
    field holding a newline counts twice). Read in chunks: memory stays bounded."""
    if file_format(path) == "parquet":
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
    return max(lines - (file_format(path) == "csv"), 0)


def open_writer(path: Path, columns: list[str]) -> Writer:
    """The resumable writer for `path`'s format (InputError for an unknown extension)."""
    return _WRITERS[file_format(path, "output")](path, columns)


class Writer(Protocol):
    def __init__(self, path: Path, columns: list[str]) -> None: ...
    def resume(self) -> int: ...
    def start_over(self) -> None: ...
    def write(self, rows: list[dict[str, Any]]) -> None: ...
    def tail(self, row: dict[str, Any]) -> Any: ...
    def write_tails(self, firsts: list[Any], tails: list[Any]) -> None: ...
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
        self._append(self._encode(rows))

    def tail(self, row: dict[str, Any]) -> Any:
        """The row encoded but for its first column: rows that differ only there (a file's
        repeated queries) share it, and `write_tails` writes each with its own first value."""
        raise NotImplementedError

    def write_tails(self, firsts: list[Any], tails: list[Any]) -> None:
        """`write` of the rows whose first column is firsts[i] and the rest tails[i]."""
        raise NotImplementedError

    def _append(self, data: bytes) -> None:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self.file = self.path.open("ab")
            if fresh:
                self.file.write(self._header())
        self.file.write(data)
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
        buf = io.StringIO()  # one writer for the batch: a writer per row cost 0.1 ms a row
        csv.writer(buf, lineterminator="\n").writerows(
            [_csv_value(r[c]) for c in self.columns] for r in rows)
        return buf.getvalue().encode("utf-8")

    def tail(self, row: dict[str, Any]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            ["", *(_csv_value(row[c]) for c in self.columns[1:])])
        return buf.getvalue()[:-1]  # ",v2,v3...": the first value empty, no line end

    def write_tails(self, firsts: list[Any], tails: list[Any]) -> None:
        self._append("".join(f"{_csv_first(v)}{t}\n" for v, t in zip(firsts, tails, strict=True)
                             ).encode("utf-8"))

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


def _csv_first(value: Any) -> str:
    """A row's first value as the csv writer writes it (quoted only where it must be)."""
    text = str(_csv_value(value))
    if text and not any(c in text for c in _CSV_SPECIAL):
        return text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([text, ""])
    return buf.getvalue()[:-2]  # without the "," of the empty second value and the "\n"


_CSV_SPECIAL = (",", '"', "\r", "\n")


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

    def tail(self, row: dict[str, Any]) -> str:
        rest = json.dumps({c: row[c] for c in self.columns[1:]}, ensure_ascii=False)
        return ", " + rest[1:]  # ', "column 2": ..., "last": ...}'

    def write_tails(self, firsts: list[Any], tails: list[Any]) -> None:
        head = "{" + json.dumps(self.columns[0]) + ": "
        self._append("".join(f"{head}{json.dumps(v, ensure_ascii=False)}{t}\n"
                             for v, t in zip(firsts, tails, strict=True)).encode("utf-8"))

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

    def tail(self, row: dict[str, Any]) -> dict[str, Any]:
        return {c: row[c] for c in self.columns[1:]}

    def write_tails(self, firsts: list[Any], tails: list[Any]) -> None:
        first = self.columns[0]
        self.write([{first: v, **t} for v, t in zip(firsts, tails, strict=True)])

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


_WRITERS: dict[str, type[Writer]] = {"csv": _CsvWriter, "jsonl": _JsonlWriter,
                                      "parquet": _ParquetWriter}
