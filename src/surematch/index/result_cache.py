"""Recent match results by normalised query, so a repeated query is matched once."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from surematch.data.text_keys import query_key
from surematch.index.results import MatchResult

CacheKey = tuple[str, int, str]


class ResultCache:
    """At most `size` MatchResults by (query key, k, filter), least recently used dropped
    first. A result holds only while the `generation` it was matched under (the index's
    version, the calibration's id) is the current one: a write or a recalibration empties
    the cache. Thread-safe."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a result cache holds at least one result")
        self.size = size
        self._results: OrderedDict[CacheKey, MatchResult] = OrderedDict()
        self._generation: Hashable = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(query: Any, k: int, filter: dict[str, Any] | None) -> CacheKey | None:
        """The key of a text query (`query_key`), None for anything else (an image)."""
        if not isinstance(query, str):
            return None
        return query_key(query), k, json.dumps(filter, sort_keys=True)

    def __len__(self) -> int:
        return len(self._results)

    def get(self, key: CacheKey | None, query: Any, generation: Hashable) -> MatchResult | None:
        """The result kept for key, as a result of `query` (the spelling asked); None if none."""
        with self._lock:
            self._check(generation)
            result = self._results.get(key) if key is not None else None
            if key is None or result is None:
                self.misses += 1
                return None
            self._results.move_to_end(key)
            self.hits += 1
        return result if result.query == query else replace(result, query=query)

    def put(self, key: CacheKey | None, result: MatchResult, generation: Hashable) -> None:
        if key is None:
            return
        with self._lock:
            self._check(generation)
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > self.size:
                self._results.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()

    def _check(self, generation: Hashable) -> None:
        if generation != self._generation:
            self._results.clear()
            self._generation = generation
