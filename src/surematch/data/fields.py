"""Typed values out of a record's fields: texts, ids and numbers, each error naming where it is."""

from __future__ import annotations

import math
from collections.abc import Sequence

from surematch.data.tables import Record


def text(record: Record, field: str) -> str:
    """A non-empty string (kept as written); whitespace only counts as empty."""
    value = record.values.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise record.error("empty text", field)
    if not isinstance(value, str):
        raise record.error(f"expected text, found {type(value).__name__} {value!r}", field)
    return value


def label(record: Record, field: str, *, required: bool) -> str | None:
    """An id or group label: a string or an integer (turned into its string); None if empty."""
    value = record.values.get(field)
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        if required:
            raise record.error("empty value; every row needs one", field)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise record.error(f"expected a string or integer, found {value!r}", field)
    return str(value)


def number(
    record: Record, field: str, low: float, high: float, *, low_open: bool, required: bool
) -> float | None:
    """A finite number in [low, high] (or (low, high] if `low_open`); None if empty."""
    value = record.values.get(field)
    if isinstance(value, str):
        if not value.strip():
            value = None
        else:
            try:
                value = float(value)
            except ValueError:
                raise record.error(f"expected a number, found {value!r}", field) from None
    if value is None:
        if required:
            raise record.error("empty value; every row needs a number", field)
        return None
    if not isinstance(value, int | float):
        raise record.error(f"expected a number, found {value!r}", field)
    value = float(value)
    below = value <= low if low_open else value < low
    if not math.isfinite(value) or below or value > high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise record.error(f"{value!r} is outside {interval}", field)
    return value


def check_unique(records: list[Record], values: Sequence[str | None], field: str) -> None:
    """Raise at the second record holding a value already seen (None is not checked)."""
    first: dict[str, Record] = {}
    for record, value in zip(records, values, strict=True):
        if value is None:
            continue
        if value in first:
            seen = first[value]
            where = f"line {seen.line}" if seen.line is not None else f"row {seen.row}"
            raise record.error(f"duplicate {field} {value!r}, first seen on {where}", field)
        first[value] = record
