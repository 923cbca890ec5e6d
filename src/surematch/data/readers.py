"""Readers for the five tabular inputs: groups, pairs, references, labelled queries and rules.

Each takes a path (.csv, .jsonl / .ndjson, .parquet) and `columns`, a dict mapping our column
names to the file's; bad input raises InputError naming the file, line and field.
"""

from __future__ import annotations

import logging
from pathlib import Path

from surematch.data.fields import check_unique, label, number, text
from surematch.data.formats import csv_numbers
from surematch.data.samples import (
    GroupedTexts,
    LabelledQueries,
    References,
    Rules,
    TextPairs,
    drop_singletons,
)
from surematch.data.tables import Record, read_records
from surematch.errors import InputError

logger = logging.getLogger(__name__)


def read_groups(
    path: str | Path,
    *,
    columns: dict[str, str] | None = None,
    dataset: str | None = None,
    keep_singletons: bool = False,
) -> GroupedTexts:
    """Texts with their group: columns `text`, `group`, optional `dataset`.

    Group ids become "dataset/group"; a row's `dataset` value wins over the `dataset` argument,
    which defaults to the file's stem. Groups with a single member teach nothing about
    similarity and are dropped, with one warning giving their count; to get the count as a
    value, read with `keep_singletons=True` and call `samples.drop_singletons`.
    """
    default = dataset if dataset is not None else Path(path).stem
    if not default or "/" in default:
        raise InputError(f'a data set name must be non-empty and hold no "/": {default!r}')
    texts, groups = [], []
    for record in read_records(path, ["text", "group"], ["dataset"], columns=columns):
        texts.append(text(record, "text"))
        name = label(record, "dataset", required=False) or default
        if "/" in name:
            raise record.error(f'a data set name must hold no "/": {name!r}', "dataset")
        groups.append(f"{name}/{label(record, 'group', required=True)}")
    samples = GroupedTexts(texts, groups)
    if keep_singletons:
        return samples
    kept, dropped = drop_singletons(samples)
    if dropped:
        logger.warning(
            "%s: dropped %d groups with a single member (%d rows); %d rows in %d groups remain",
            path, dropped, dropped, len(kept), kept.n_groups(),
        )  # fmt: skip
    if not len(kept):
        raise InputError("no group has two or more texts", file=path)
    return kept


def read_pairs(path: str | Path, *, columns: dict[str, str] | None = None) -> TextPairs:
    """Text pairs: columns `text_a`, `text_b`, `label` (1 / 0, or a similarity in [0, 1])."""
    records = read_records(path, ["text_a", "text_b", "label"], columns=columns)
    return TextPairs(
        [text(r, "text_a") for r in records],
        [text(r, "text_b") for r in records],
        [number(r, "label", 0.0, 1.0, low_open=False, required=True) or 0.0 for r in records],
    )


def read_references(path: str | Path, *, columns: dict[str, str] | None = None,
                    numbers: bool = True) -> References:
    """References: columns `id` (unique), `text`; every other column goes into the payload.

    Payload values keep the type the format gives them (JSONL, Parquet: their own types; CSV:
    strings, except a column that is numeric throughout, which holds numbers: see
    formats.csv_numbers; numbers=False keeps every CSV value a string); empty CSV fields and
    nulls are left out of the payload.
    """
    records = read_records(path, ["id", "text"], columns=columns)
    ids = [label(r, "id", required=True) or "" for r in records]
    check_unique(records, ids, "id")
    payloads = [dict(r.extra) for r in records]
    if numbers and Path(path).suffix.lower() == ".csv":
        payloads = csv_numbers(payloads)
    return References(ids, [text(r, "text") for r in records], payloads)


def read_queries(path: str | Path, *, columns: dict[str, str] | None = None) -> LabelledQueries:
    """Labelled queries: columns `text`, `expected_id` (empty or missing: nothing should match)."""
    records = read_records(path, ["text"], ["expected_id"], columns=columns)
    expected = [label(r, "expected_id", required=False) for r in records]
    if all(e is None for e in expected):
        raise InputError(
            f'no query has an expected id (column "{records[0].columns["expected_id"]}"); '
            f"other columns: {', '.join(map(repr, records[0].extra)) or '(none)'}; remap with "
            "columns={'expected_id': '<column in your file>'}",
            file=path,
        )
    return LabelledQueries([text(r, "text") for r in records], expected)


def read_rules(path: str | Path, *, columns: dict[str, str] | None = None) -> Rules:
    """Exclusion rules: `trigger`, `exclude`, optional `id`, `trigger_similarity`,
    `exclude_similarity` (each in (-1, 1]) and `note`."""
    optional = ["id", "trigger_similarity", "exclude_similarity", "note"]
    records = read_records(path, ["trigger", "exclude"], optional, columns=columns)
    ids = [label(r, "id", required=False) for r in records]
    check_unique(records, ids, "id")

    def similarity(r: Record, field: str) -> float | None:
        return number(r, field, -1.0, 1.0, low_open=True, required=False)

    return Rules(
        [text(r, "trigger") for r in records],
        [text(r, "exclude") for r in records],
        ids,
        [similarity(r, "trigger_similarity") for r in records],
        [similarity(r, "exclude_similarity") for r in records],
        [_note(r.values.get("note")) for r in records],
    )


def _note(value: object) -> str | None:
    return None if value is None or not str(value).strip() else str(value)
