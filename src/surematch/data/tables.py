"""Read a CSV / JSONL / Parquet table into located records, with column remapping and checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.data.formats import RawRows, file_format, read_csv, read_jsonl, read_parquet
from surematch.errors import InputError

FORMATS: dict[str, Callable[[Path], RawRows]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "parquet": read_parquet,
}


def raw_rows(path: Path) -> RawRows:
    """The file's raw rows, read as its extension says (InputError for an unknown one)."""
    return FORMATS[file_format(path)](path)


@dataclass(frozen=True)
class Record:
    """One row: its values under our column names, the file's other columns, and where it is.

    `line` is the 1-based physical line the record starts on (CSV, JSONL) or None (Parquet,
    where `row`, the 1-based data row, locates it). Missing and empty values are None.
    """

    file: Path
    line: int | None
    row: int
    values: dict[str, Any]
    extra: dict[str, Any]
    columns: dict[str, str]

    def error(self, message: str, field: str | None = None) -> InputError:
        """An InputError located at this record; `field` is our name, reported as the file's."""
        if self.line is None:
            message = f"row {self.row}: {message}"
        name = self.columns.get(field, field) if field is not None else None
        return InputError(message, file=self.file, line=self.line, field=name)


def read_records(
    path: str | Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    columns: dict[str, str] | None = None,
) -> list[Record]:
    """Read every row of a table; `columns` maps our column names to the file's names.

    The format follows the extension: .csv, .jsonl / .ndjson, .parquet. Raises InputError for
    an unknown extension, a missing or empty file, a missing required column, bytes that are
    not UTF-8, and (JSONL) a line that is not a JSON object.
    """
    path = Path(path)
    reader = FORMATS[file_format(path)]
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", file=path)
    names = _column_names(path, [*required, *optional], columns or {})
    header, raw_rows = reader(path)
    if header is not None:
        for ours in required:
            if names[ours] not in header:
                line = 1 if reader is read_csv else None
                raise _missing_column(path, ours, names[ours], header, line)
    used = set(names.values())
    records = []
    for row, (line, raw) in enumerate(raw_rows, start=1):
        for ours in required:
            if names[ours] not in raw:  # JSONL: keys may differ from line to line
                raise _missing_column(path, ours, names[ours], list(raw), line)
        records.append(
            Record(
                file=path,
                line=line,
                row=row,
                values={ours: raw.get(theirs) for ours, theirs in names.items()},
                extra={k: v for k, v in raw.items() if k not in used and v is not None},
                columns=names,
            )
        )
    if not records:
        raise InputError("the file holds no data rows", file=path)
    return records


def _column_names(path: Path, known: list[str], columns: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise InputError(
            f"cannot remap unknown column(s) {', '.join(unknown)}; known: {', '.join(known)}",
            file=path,
        )
    names = {ours: columns.get(ours, ours) for ours in known}
    if len(set(names.values())) < len(names):
        raise InputError(f"two columns are mapped to the same file column: {names}", file=path)
    return names


def _missing_column(
    path: Path, ours: str, theirs: str, found: list[str], line: int | None
) -> InputError:
    what = f'"{theirs}" (remapped from "{ours}")' if theirs != ours else f'"{ours}"'
    listed = ", ".join(map(repr, found)) or "(none)"
    return InputError(
        f"missing required column {what}; columns found: {listed}. Rename the column in "
        "the file", file=path, line=line, field=theirs, remap=ours)
