"""Readers for the five tabular inputs: groups, pairs, references, labelled queries and rules.

Each takes a path (.csv, .jsonl / .ndjson, .parquet) and `columns`, a dict mapping our column
names to the file's; bad input raises InputError naming the file, line and field.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from surematch.data.fields import check_unique, label, number, text
from surematch.data.formats import csv_numbers
from surematch.data.samples import (
    TEXT_KINDS,
    GroupedTexts,
    LabelledQueries,
    References,
    Rules,
    TextPairs,
    drop_singletons,
)
from surematch.data.tables import Record, _missing_column, read_records
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
    """References: columns `id`, `text`; every other column goes into the payload.

    A reference may have several texts: its id repeated on consecutive rows, one text each
    (optional column `kind`: title, synonym or description; by default the first row's text
    is the title and the others synonyms), and in JSONL / Parquet a list column `texts` of
    strings or {"text", "kind"} objects (in CSV: that list as JSON), beside or instead of
    `text`. The payload is the id's first row's; a later row of the id repeats it or leaves
    it empty. A text that two ids share is allowed, with one warning giving the count.

    Payload values keep the type the format gives them (JSONL, Parquet: their own types; CSV:
    strings, except a column that is numeric throughout, which holds numbers: see
    formats.csv_numbers; numbers=False keeps every CSV value a string); empty CSV fields and
    nulls are left out of the payload.
    """
    records = read_records(path, ["id"], ["text", "kind", "texts"], columns=columns)
    if all(r.values["text"] is None and r.values["texts"] is None for r in records):
        _require_text_column(path, records[0])
    ids: list[str] = []
    payloads: list[dict] = []
    texts: list[list[tuple[str, str | None]]] = []
    first: dict[str, Record] = {}
    last = None
    for r in records:
        rid = label(r, "id", required=True) or ""
        row = _row_texts(r)
        if rid in first:
            seen = first[rid]
            if rid != last:
                where = f"line {seen.line}" if seen.line is not None else f"row {seen.row}"
                raise r.error(f"duplicate id {rid!r}, first seen on {where}; the rows of one "
                              "id must be consecutive", "id")
            if r.extra and r.extra != payloads[-1]:
                key = next(k for k in sorted({*r.extra, *payloads[-1]})
                           if r.extra.get(k) != payloads[-1].get(k))
                raise r.error(f"id {rid!r} has another payload here than on its first row "
                              f"({key!r}: {r.extra.get(key)!r}, not {payloads[-1].get(key)!r}); "
                              "repeat the first row's values or leave them empty", key)
            texts[-1].extend(row)
        else:
            first[rid] = r
            ids.append(rid)
            payloads.append(dict(r.extra))
            texts.append(row)
        last = rid
    if numbers and Path(path).suffix.lower() == ".csv":
        payloads = csv_numbers(payloads)
    kinded = [_default_kinds(pairs) for pairs in texts]
    shared = _shared_texts(ids, kinded)
    if shared:
        logger.warning("%s: %d texts appear under more than one id (%r under %s); a query "
                       "near one of them matches those references alike", path, len(shared),
                       *next(iter(shared.items())))
    refs = References(ids, [pairs[0][0] for pairs in kinded], payloads,
                      [pairs[1:] for pairs in kinded] if any(len(p) > 1 for p in kinded)
                      else None,
                      [pairs[0][1] for pairs in kinded] if any(p[0][1] != "title" for p in kinded)
                      else None)
    return refs


def _require_text_column(path: str | Path, record: Record) -> None:
    """No row has a text: a file without a `text` (or `texts`) column gets the missing-column
    error of a required column (the header read again only then)."""
    from surematch.data.tables import raw_rows

    path, names = Path(path), record.columns
    header = raw_rows(path)[0]
    found = header if header is not None else [names["id"], *record.extra]
    if names["text"] not in found and names["texts"] not in found:
        raise _missing_column(path, "text", names["text"], found,
                              1 if path.suffix.lower() == ".csv" else record.line)


def _row_texts(r: Record) -> list[tuple[str, str | None]]:
    """A row's texts as (text, kind or None for the default), `text` first, then `texts`."""
    out: list[tuple[str, str | None]] = []
    kind = r.values.get("kind")
    if kind is not None and kind not in TEXT_KINDS:
        raise r.error(f"unknown kind {kind!r}; one of {', '.join(TEXT_KINDS)}", "kind")
    listed = r.values.get("texts")
    if r.values.get("text") is not None or listed is None:
        out.append((text(r, "text"), kind))
    if listed is None:
        return out
    if isinstance(listed, str):
        try:
            listed = json.loads(listed)
        except ValueError:
            raise r.error("texts must be a JSON list of strings or {\"text\", \"kind\"} "
                          f"objects, found {listed[:60]!r}", "texts") from None
    if not isinstance(listed, list | tuple) or not listed:
        raise r.error("texts must be a non-empty list of strings or {\"text\", \"kind\"} "
                      f"objects, found {listed!r}", "texts")
    for j, item in enumerate(listed):
        value, item_kind = (item.get("text"), item.get("kind")) if isinstance(item, dict) else (
            item, None)
        if not isinstance(value, str) or not value.strip():
            raise r.error(f"texts[{j}]: empty text ({value!r})", "texts")
        if item_kind is not None and item_kind not in TEXT_KINDS:
            raise r.error(f"texts[{j}]: unknown kind {item_kind!r}; one of "
                          f"{', '.join(TEXT_KINDS)}", "texts")
        out.append((value, item_kind))
    return out


def _default_kinds(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """Kinds filled in (the first text a title, the others synonyms); a repeated text once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for n, (value, kind) in enumerate(pairs):
        if value not in seen:
            seen.add(value)
            out.append((value, kind or ("title" if n == 0 else "synonym")))
    return out


def _shared_texts(ids: list[str], texts: list[list[tuple[str, str]]]) -> dict[str, str]:
    """Texts (case and surrounding space ignored) under two or more ids -> "'id1' and 'id2'"."""
    owners: dict[str, list[str]] = {}
    for rid, pairs in zip(ids, texts, strict=True):
        for key in {value.strip().casefold() for value, _ in pairs}:
            owners.setdefault(key, []).append(rid)
    return {key: f"{who[0]!r} and {who[1]!r}" for key, who in owners.items() if len(who) > 1}


def read_queries(path: str | Path, *, columns: dict[str, str] | None = None) -> LabelledQueries:
    """Labelled queries: columns `text`, `expected_id` (empty or missing: nothing should match)."""
    records = read_records(path, ["text"], ["expected_id"], columns=columns)
    expected = [label(r, "expected_id", required=False) for r in records]
    if all(e is None for e in expected):
        raise InputError(
            f'no query has an expected id (column "{records[0].columns["expected_id"]}"); '
            f"other columns: {', '.join(map(repr, records[0].extra)) or '(none)'}",
            file=path, remap="expected_id")
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
