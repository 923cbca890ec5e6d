"""Stored texts by normalised text, so a query equal to one is answered without the encoder.

The slow path embeds the query and searches with that vector. For a query whose `query_key`
(case and spacing aside) equals a stored text's, the stored row of that text is the query's
vector instead: the search, the rules, the filter, the evidence and the calibration then run
exactly as for an embedded query, so the similarity, probability and band are those of the
slow path given that vector. Where the query is the stored text itself, that vector is what
the encoder gives (up to the last bits of batched arithmetic); a case or spacing variant is
answered as the stored text it equals (the same for an uncased encoder such as the bundled
MiniLM). A stored text spelled as the query is preferred, then the first by (id, text).

It also counts the stored texts' head words (`confidence.evidence.lexical.head_words`), the
vocabulary the `head` evidence reads (`head_words()`).

The lookup is built from the store's payloads on first use (taxonomy texts and every text
added later, learned ones included) and kept true by `refresh(ids)` after each write through
this index; a reference another process changed meanwhile is found changed when its rows are
fetched, and the query then takes the slow path.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Container, Sequence
from typing import Any

import numpy as np

from surematch.confidence.evidence.lexical import head_words
from surematch.data.text_keys import query_key
from surematch.index.stores.base import BaseStore
from surematch.index.text_rows import CONFIDENCES_KEY, TextRows, split_payload

MAX_REFERENCES = 2_000_000  # a bigger index keeps no lookup (building it would scan them all)

# (reference id, its texts, which of them, its embedding confidence when stored)
Entry = tuple[str, tuple[str, ...], int, float | None]


class ExactTexts:
    """query_key -> the stored texts with that key, as (id, texts, position)."""

    def __init__(self, store: BaseStore, text_rows: TextRows) -> None:
        self.store, self.text_rows = store, text_rows
        self._by_key: dict[str, list[Entry]] | None = None
        self._too_big = False
        self._keys_of: dict[str, list[str]] = {}
        self._heads: Counter[str] = Counter()  # head word -> references whose texts use it
        self._heads_of: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def head_words(self) -> Container[str] | None:
        """The head words of the stored texts, kept true by `refresh` (None for an index
        too big to keep a lookup: the `head` evidence then says nothing)."""
        with self._lock:
            self._lookup()
            return None if self._too_big else self._heads

    def rows(self, queries: Sequence[Any], confidence: bool = False,
             ) -> list[tuple[np.ndarray, float] | None]:
        """The stored row [D] and embedding confidence (1.0 unless `confidence`: then the
        stored one) of the text each query equals; None where it equals none, is not a text,
        or (`confidence`) has none stored (an index built before they were kept)."""
        if not self.store.multivector or not any(isinstance(q, str) for q in queries):
            return [None] * len(queries)
        with self._lock:
            by_key = self._lookup()
            chosen: list[Entry | None] = []
            for q in queries:
                entries = by_key.get(query_key(q)) if isinstance(q, str) else None
                if confidence and entries:
                    entries = [e for e in entries if e[3] is not None]
                chosen.append(None if not entries else next(
                    (e for e in entries if e[1][e[2]] == q), entries[0]))
        found = [e for e in chosen if e is not None]
        rows = iter(self.text_rows.rows([(e[0], e[1]) for e in found]))
        out: list[tuple[np.ndarray, float] | None] = []
        for entry in chosen:
            stored = next(rows) if entry is not None else None
            out.append(None if entry is None or stored is None else (
                stored[entry[2]], entry[3] if confidence and entry[3] is not None else 1.0))
        return out

    def refresh(self, ids: Sequence[str]) -> None:
        """Read these references again after a write (added, changed or deleted)."""
        with self._lock:
            if self._by_key is None:
                return
            for ref_id in ids:
                self._drop(ref_id)
            for point in self.store.get(list(ids)):
                if point is not None:
                    self._put(point.id, point.payload)

    def _lookup(self) -> dict[str, list[Entry]]:
        if self._by_key is None:
            self._by_key = {}
            self._too_big = self.store.count() > MAX_REFERENCES
            if not self._too_big:
                for point in self.store.scan():
                    self._put(point.id, point.payload)
        return self._by_key

    def _put(self, ref_id: str, payload: dict[str, Any]) -> None:
        assert self._by_key is not None
        pairs = split_payload(payload)[1]
        texts = tuple(t for t, _ in pairs)
        self._heads_of[ref_id] = heads = head_words(pairs)
        self._heads.update(heads)
        sure = payload.get(CONFIDENCES_KEY)
        if not isinstance(sure, list) or len(sure) != len(texts):
            sure = [None] * len(texts)
        keys = []
        for n, text in enumerate(texts):
            key = query_key(text)
            entries = self._by_key.setdefault(key, [])
            entries.append((ref_id, texts, n, sure[n]))
            entries.sort(key=lambda e: (e[0], e[1][e[2]]))
            keys.append(key)
        self._keys_of[ref_id] = keys

    def _drop(self, ref_id: str) -> None:
        assert self._by_key is not None
        for word in self._heads_of.pop(ref_id, ()):
            self._heads[word] -= 1
            if self._heads[word] <= 0:  # no reference uses it any more
                del self._heads[word]
        for key in self._keys_of.pop(ref_id, []):
            kept = [e for e in self._by_key.get(key, []) if e[0] != ref_id]
            if kept:
                self._by_key[key] = kept
            else:
                self._by_key.pop(key, None)
