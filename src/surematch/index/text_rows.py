"""The embedded rows of references' texts, fetched once and kept, so a match learns which text
decided without the engine sending every hit's vectors back.

A multivector search returns each hit's score (its best row's cosine) but not which row; that
needs the rows [n, D]. Returned with every hit, they cost more than the search itself (the
engine hands them over as Python lists). `TextRows` fetches the rows of the references it has
not seen, by id, and keeps them keyed by (id, texts): a reference whose texts change gets a
new key, and the same texts embedded by the index's one model give the same rows, so a kept
entry is never stale, whatever process wrote it. Least recently used entries go first once
`max_bytes` is reached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from surematch.index.stores.base import BaseStore

TEXT_KEY = "_surematch_text"  # one-vector index: payload key holding the reference's text
TEXTS_KEY = "_surematch_texts"  # multivector index: the texts, aligned with the point's rows
KINDS_KEY = "_surematch_kinds"  # and their kinds; all are stripped on the way out
CONFIDENCES_KEY = "_surematch_confidences"  # and their embedding confidence, when the model
# has one (a query equal to a stored text then needs no encoder: index/exact_texts.py)
REVIEWED_KEY = "_surematch_reviewed"  # reviewed text -> its provenance {review, reviewer, time}
TEXT_KEYS = (TEXT_KEY, TEXTS_KEY, KINDS_KEY, CONFIDENCES_KEY, REVIEWED_KEY)
MAX_BYTES = 128 * 2**20  # rows kept: the demo's 2,326 ESCO references (17,807 texts) use 46 MB

Key = tuple[str, tuple[str, ...]]


def split_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A stored payload -> (the user's payload, the reference's (text, kind) pairs)."""
    user = {key: v for key, v in payload.items() if key not in TEXT_KEYS}
    if TEXTS_KEY in payload:
        return user, list(zip(payload[TEXTS_KEY], payload[KINDS_KEY], strict=True))
    return user, [(payload.get(TEXT_KEY, ""), "title")]


def provenance(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A stored payload -> {reviewed text: {"review", "reviewer", "time"}} of the texts that
    reviews taught the reference (kind "reviewed")."""
    found = payload.get(REVIEWED_KEY)
    return dict(found) if isinstance(found, dict) else {}


class TextRows:
    """Rows [n, D] of references' texts by (id, texts), least recently used dropped first."""

    def __init__(self, store: BaseStore, max_bytes: int = MAX_BYTES) -> None:
        self.store, self.max_bytes = store, max_bytes
        self._rows: OrderedDict[Key, np.ndarray] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, wanted: Sequence[Key]) -> list[np.ndarray | None]:
        """The rows of each (id, texts), fetched from the store where not kept; None where the
        store holds other texts under that id now (changed since the search) or none."""
        missing = list(dict.fromkeys(key for key in wanted if key not in self._rows))
        if missing:
            points = self.store.get([i for i, _ in missing], with_vectors=True)
            for key, point in zip(missing, points, strict=True):
                if point is None or point.vector is None or point.vector.ndim != 2:
                    continue
                if tuple(t for t, _ in split_payload(point.payload)[1]) == key[1]:
                    self._keep(key, point.vector)
        out: list[np.ndarray | None] = []
        for key in wanted:
            vec = self._rows.get(key)
            if vec is not None:
                self._rows.move_to_end(key)
            out.append(vec)
        return out

    def _keep(self, key: Key, vec: np.ndarray) -> None:
        old = self._rows.pop(key, None)
        self._bytes += vec.nbytes - (0 if old is None else old.nbytes)
        self._rows[key] = vec
        while self._bytes > self.max_bytes and len(self._rows) > 1:
            _, dropped = self._rows.popitem(last=False)
            self._bytes -= dropped.nbytes
