"""Raw row readers for CSV, JSONL and Parquet: rows as dicts, each with the line it starts on,
and the one map from a file's extension to its format."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from surematch.errors import InputError

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
              ".pq": "parquet"}  # the one extension -> format map (file_format)


def file_format(path: Path, what: str = "input", allowed: tuple[str, ...] | None = None) -> str:
    """"csv", "jsonl" or "parquet", from the path's extension; InputError naming the file and
    the extensions supported (of `allowed` formats, default all) for any other."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None or (allowed is not None and fmt not in allowed):
        supported = [ext for ext, f in EXTENSIONS.items() if allowed is None or f in allowed]
        raise InputError(f"unknown {what} file type {path.suffix or '(no extension)'!r}; "
                         f"supported: {', '.join(supported)}", file=path)
    return fmt


# (the file's column names, or None where each row has its own keys; rows as (line, values))
RawRows = tuple[list[str] | None, Iterator[tuple[int | None, dict[str, Any]]]]


def read_utf8(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 are reported with their line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        start = e.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise InputError(
            f"byte 0x{data[start]:02x} at column {column} is not valid UTF-8; "
            "save the file as UTF-8",
            file=path,
            line=line,
        ) from None


def _check_header(path: Path, header: list[str], line: int | None) -> None:
    duplicated = [name for name, n in Counter(header).items() if n > 1]
    if duplicated:
        raise InputError(f"duplicate column names: {', '.join(duplicated)}", file=path, line=line)


def utf8_lines(path: Path) -> Iterator[str]:
    """The file's lines (endings kept), decoded as they are read, so memory stays bounded
    whatever the file's length; bytes that are not UTF-8 name their line."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"byte 0x{raw[e.start]:02x} at column {e.start + 1} is not "
                                 "valid UTF-8; save the file as UTF-8", file=path,
                                 line=number) from None


def _csv_error(e: csv.Error) -> str:
    if "unexpected end of data" in str(e):
        return ("a quoted field opened on this line is never closed: the file ends inside "
                "its quotes; close the quote or double the quote characters inside it")
    return f"unreadable CSV: {e}"


def read_csv(path: Path) -> RawRows:
    """CSV with a header row, streamed; empty fields become None; quoted fields may hold
    newlines; a quote never closed (which would swallow the rows after it) is an error
    naming the line it opens on."""
    reader = csv.reader(utf8_lines(path), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise InputError(f"unreadable CSV header: {_csv_error(e)}", file=path,
                         line=1) from None
    if not header:
        raise InputError("the file is empty: no header row", file=path, line=1)
    _check_header(path, header, 1)

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        start = reader.line_num + 1
        while True:
            try:
                fields = next(reader, None)
            except csv.Error as e:
                raise InputError(_csv_error(e), file=path, line=start) from None
            if fields is None:
                return
            if fields:  # blank lines are skipped
                if len(fields) != len(header):
                    raise InputError(
                        f"the row has {len(fields)} fields but the header has {len(header)}; "
                        "quote fields that contain commas",
                        file=path,
                        line=start,
                    )
                values = dict(zip(header, fields, strict=True))
                yield start, {k: (v if v != "" else None) for k, v in values.items()}
            start = reader.line_num + 1

    return header, rows()


def read_jsonl(path: Path) -> RawRows:
    """One JSON object per line, streamed; blank lines are skipped."""

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        for number, raw in enumerate(utf8_lines(path), start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as e:
                raise InputError(
                    f"invalid JSON: {e.msg} (column {e.colno})", file=path, line=number
                ) from None
            if not isinstance(value, dict):
                raise InputError(
                    f"expected a JSON object, found {type(value).__name__}", file=path, line=number
                )
            yield number, {k: _missing_as_none(v) for k, v in value.items()}

    return None, rows()


def read_parquet(path: Path, columns: list[str] | None = None) -> RawRows:
    """A Parquet table (only `columns` when given), streamed by record batch; rows have no
    line (None), nulls and NaN become None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"not a readable Parquet file: {e}", file=path) from None
    names = list(file.schema_arrow.names)
    _check_header(path, names, None)
    wanted = [c for c in columns if c in names] if columns is not None else None

    def rows() -> Iterator[tuple[int | None, dict[str, Any]]]:
        with file:
            for batch in file.iter_batches(batch_size=1024, columns=wanted):
                for row in batch.to_pylist():
                    yield None, {k: _missing_as_none(v) for k, v in row.items()}

    return names, rows()


def _missing_as_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def csv_numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CSV payload columns that are numeric throughout, as numbers (DESIGN.md, file formats).

    A column whose every present value is an integer (no leading zero, no plus sign, within
    64 bits) becomes ints; one whose every value is a decimal number (1.5, -2, 3e4) with at
    least one that is not an integer becomes floats. A column holding anything else ("007",
    "1,5", "n/a") stays strings in every row, so one column never mixes types.
    """
    columns: dict[str, list[str]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    convert: dict[str, type] = {}
    for key, values in columns.items():
        if not all(isinstance(v, str) for v in values):
            continue
        if all(_INTEGER.fullmatch(v) and -(2**63) <= int(v) < 2**63 for v in values):
            convert[key] = int
        elif all(_DECIMAL.fullmatch(v) and math.isfinite(float(v)) for v in values):
            convert[key] = float
    if not convert:
        return rows
    return [{k: convert[k](v) if k in convert else v for k, v in row.items()} for row in rows]
