"""Preparing references for an index: checks, payload indexes for filtering, a progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from surematch.data import References
from surematch.errors import InputError
from surematch.index.stores.base import BaseStore
from surematch.index.stores.filters import payload_path
from surematch.index.stores.points import RESERVED_KEY, check_ids, check_payload
from surematch.index.stores.protocol import IndexType


def check_references(refs: Any, text_key: str) -> tuple[list[str], list[str], list[dict]]:
    """(ids, texts, payloads) of References, every one checked before any work is done."""
    if not isinstance(refs, References):
        raise InputError(f"expected surematch.data.References, got {type(refs).__name__}")
    ids = check_ids(refs.ids, unique=True)
    for n, (i, text) in enumerate(zip(ids, refs.texts, strict=True)):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"reference {i!r} has no text ({text!r})", field=f"texts[{n}]")
    payloads = []
    for i, p in zip(ids, refs.payloads, strict=True):
        if isinstance(p, dict) and text_key in p:
            raise InputError(f"payload of id {i!r} uses the reserved key {text_key!r}",
                             field=f"payload.{text_key}")
        checked = check_payload(i, p)
        checked.pop(RESERVED_KEY)
        payloads.append(checked)
    return ids, list(refs.texts), payloads


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


def auto_index(store: BaseStore, payloads: list[dict], known: dict[str, str]) -> dict[str, str]:
    """Index every new top-level payload key whose values share one scalar type, so filters
    on it stay fast (and type mismatches can be named); returns the keys indexed now and
    their types. A key no payload path can name (holding '"') is filtered unindexed."""
    values: dict[str, list[Any]] = {}
    for p in payloads:
        for key, value in p.items():
            if key not in known:
                values.setdefault(key, []).append(value)
    new: dict[str, str] = {}
    for key, vals in values.items():
        path = payload_path(key)  # a key holding spaces or dots is quoted; '"' cannot be
        if (kind := _index_type(vals)) is not None and path is not None:
            store.create_payload_index(path, kind)
            new[key] = kind
    return new


@contextlib.contextmanager
def progress_bar(show: bool, total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (nothing when show is False); yields advance(n)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not show) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)
