"""Preparing references for an index: checks, payload indexes for filtering, a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surematch.data import References
from surematch.data.samples import TEXT_KINDS
from surematch.errors import InputError
from surematch.index.stores.base import BaseStore
from surematch.index.stores.filters import payload_path
from surematch.index.stores.points import RESERVED_KEY, check_ids, check_payload
from surematch.index.stores.protocol import IndexType
from surematch.limits import LIMITS


def check_references(refs: Any, reserved: Sequence[str],
                     ) -> tuple[list[str], list[list[tuple[str, str]]], list[dict]]:
    """(ids, each reference's (text, kind) pairs, payloads) of References, every one checked
    before any work is done. A text given twice for one reference is kept once."""
    if not isinstance(refs, References):
        raise InputError(f"expected surematch.data.References, got {type(refs).__name__}")
    ids = check_ids(refs.ids, unique=True)
    for n, (i, text) in enumerate(zip(ids, refs.texts, strict=True)):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"reference {i!r} has no text ({text!r})", field=f"texts[{n}]")
    texts = []
    for n, i in enumerate(ids):
        if refs.text_kinds is not None:
            check_kind(refs.text_kinds[n], f"text_kinds[{n}]")
        extra = refs.extra_texts[n] if refs.extra_texts is not None else []
        if not isinstance(extra, list | tuple):
            raise InputError(f"further texts of reference {i!r} must be a list of (text, kind)",
                             field=f"extra_texts[{n}]")
        pairs = [refs.texts_of(n)[0]]
        for j, pair in enumerate(extra):
            pairs.append(check_text(pair, i, f"extra_texts[{n}][{j}]"))
        texts.append(check_count(unique_texts(pairs), i, f"extra_texts[{n}]"))
    payloads = []
    for i, p in zip(ids, refs.payloads, strict=True):
        for key in reserved:
            if isinstance(p, dict) and key in p:
                raise InputError(f"payload of id {i!r} uses the reserved key {key!r}",
                                 field=f"payload.{key}")
        checked = check_payload(i, p)
        checked.pop(RESERVED_KEY)
        payloads.append(checked)
    return ids, texts, payloads


def check_kind(kind: Any, field: str) -> str:
    """A text's kind: one of TEXT_KINDS."""
    if kind not in TEXT_KINDS:
        raise InputError(f"unknown kind {kind!r}; a text's kind is one of "
                         f"{', '.join(TEXT_KINDS)}", field=field)
    return str(kind)


def check_text(item: Any, ref_id: str, field: str, default_kind: str = "synonym",
               ) -> tuple[str, str]:
    """(text, kind) from a text (kind: default_kind) or a (text, kind) pair, both checked."""
    text, kind = (item, default_kind) if isinstance(item, str) else (
        tuple(item) if isinstance(item, list | tuple) and len(item) == 2 else (None, None))
    if text is None and kind is None:
        raise InputError(f"a text of reference {ref_id!r} must be a string or a (text, kind) "
                         f"pair, got {item!r}", field=field)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"reference {ref_id!r} has an empty text ({text!r})", field=field)
    return text, check_kind(kind, f"{field}.kind")


def check_count(pairs: list[tuple[str, str]], ref_id: str, field: str
                ) -> list[tuple[str, str]]:
    """pairs, unless they are more than LIMITS.texts_per_reference."""
    if len(pairs) > LIMITS.texts_per_reference:
        raise InputError(f"reference {ref_id!r} has {len(pairs)} texts, the most is "
                         f"{LIMITS.texts_per_reference}", field=field)
    return pairs


def unique_texts(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs with a text seen before dropped (the first one's kind stays)."""
    seen: set[str] = set()
    out = []
    for text, kind in pairs:
        if text not in seen:
            seen.add(text)
            out.append((text, kind))
    return out


def _index_type(values: list[Any]) -> IndexType | None:
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return "keyword"
    if kinds == {bool}:
        return "bool"
    if kinds == {int}:
        return "integer"
    if kinds <= {int, float}:
        return "float"
    return None


def new_keys(payloads: list[dict], known: dict[str, str]) -> dict[str, str]:
    """The new top-level payload keys an index would index, with their types: those whose
    values share one scalar type and that a payload path can name (not one holding '"'),
    in order of appearance, while the index holds fewer than LIMITS.payload_indexes."""
    values: dict[str, list[Any]] = {}
    for p in payloads:
        for key, value in p.items():
            if key not in known:
                values.setdefault(key, []).append(value)
    room = max(0, LIMITS.payload_indexes - len(known))
    out: dict[str, str] = {}
    for key, vals in values.items():
        if len(out) >= room:
            break
        if (kind := _index_type(vals)) is not None and payload_path(key) is not None:
            out[key] = kind
    return out


def auto_index(store: BaseStore, payloads: list[dict], known: dict[str, str],
               at_most: int | None = None) -> dict[str, str]:
    """Index new top-level payload keys (`new_keys`; at most `at_most` of them now), so
    filters on them stay fast and type mismatches can be named; returns the keys indexed now
    and their types. Keys past the bound are filtered unindexed. Each index is built over
    every stored point: the server does it off the request path, one key at a time."""
    new = dict(list(new_keys(payloads, known).items())[:at_most])
    for key, kind in new.items():
        path = payload_path(key)  # a key holding spaces or dots is quoted
        assert path is not None
        store.create_payload_index(path, kind)  # type: ignore[arg-type]
    return new
