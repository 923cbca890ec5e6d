"""ResultCache: keyed by normalised query, k and filter; bounded; emptied by a new generation."""

from __future__ import annotations

import pytest

from surematch.index.result_cache import ResultCache
from surematch.index.results import MatchResult


def result(query: str) -> MatchResult:
    return MatchResult(query, 1.0, [], [])


def test_keys_ignore_case_and_spacing_not_punctuation_k_or_filter() -> None:
    key = ResultCache.key
    assert key("Ship  Captain ", 3, None) == key("ship captain", 3, None)
    assert key("C++ developer", 3, None) != key("C developer", 3, None)
    assert key("a", 3, None) != key("a", 4, None) != key("a", 4, {"lang": "en"})
    assert key("a", 3, {"x": 1, "y": 2}) == key("a", 3, {"y": 2, "x": 1})
    assert key(b"image bytes", 3, None) is None


def test_least_recently_used_go_first_and_a_new_generation_empties_it() -> None:
    cache = ResultCache(2)
    for q in ("a", "b"):
        cache.put(ResultCache.key(q, 1, None), result(q), 0)
    assert cache.get(ResultCache.key("A", 1, None), "A", 0) == result("A")  # its own spelling
    cache.put(ResultCache.key("c", 1, None), result("c"), 0)  # "b" was least recently used
    assert cache.get(ResultCache.key("b", 1, None), "b", 0) is None
    assert len(cache) == 2
    assert cache.get(ResultCache.key("a", 1, None), "a", 1) is None and len(cache) == 0
    with pytest.raises(ValueError):
        ResultCache(0)
