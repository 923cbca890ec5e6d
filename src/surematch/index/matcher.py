"""Matching queries against an index: search, exclusion rules, calibration, open-set decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surematch.errors import InputError
from surematch.index.calibrated import Calibration
from surematch.index.results import Match, MatchResult
from surematch.index.rules import Rule, RuleBook, excluded
from surematch.index.stores.base import BaseStore
from surematch.index.stores.points import check_positive_int
from surematch.index.stores.protocol import Hit

TEXT_KEY = "_surematch_text"  # payload key holding the reference's text; stripped on the way out
MAX_FETCH = 4096  # most references fetched for one query while rules exclude results


def check_queries(queries: Any, k: Any) -> None:
    """InputError unless queries is a list of items (text not blank) and k a positive int."""
    if isinstance(queries, str) or not isinstance(queries, Sequence):
        raise InputError("queries must be a list", field="queries")
    check_positive_int(k, "k")
    for n, q in enumerate(queries):
        if isinstance(q, str) and not q.strip():
            raise InputError("a query must not be empty", field=f"queries[{n}]")


def overfetch(k: int) -> int:
    """References fetched when rules fired, so k normally remain after exclusion."""
    return 2 * k + 16


def match_vectors(store: BaseStore, rules: RuleBook, calibration: Calibration,
                  queries: Sequence[Any], vectors: np.ndarray, confidence: np.ndarray, k: int,
                  filter: dict[str, Any] | None) -> list[MatchResult]:
    """Query embeddings [Q, D] and their confidence [Q] -> one MatchResult per query.

    One batched rules search, one batched reference search (plus, rarely, a bigger search
    for a query whose over-fetched results the rules all but emptied)."""
    if not len(vectors):
        return []
    fired = rules.fired(vectors)
    fetch = overfetch(k) if any(fired) else k
    rows = store.search(vectors, fetch, filter, with_vectors=any(fired))
    results = []
    rule_hits: list[tuple[Rule, np.ndarray]]
    for n, (row, rule_hits) in enumerate(zip(rows, fired, strict=True)):
        kept, fetched = _apply_rules(row, rule_hits, k), fetch
        while rule_hits and len(kept) < k and len(row) == fetched and fetched < MAX_FETCH:
            fetched = min(fetched * 4, MAX_FETCH)
            row = store.search(vectors[n:n + 1], fetched, filter, with_vectors=True)[0]
            kept = _apply_rules(row, rule_hits, k)
        results.append(_result(queries[n], float(confidence[n]), kept,
                               [rule.id for rule, _ in rule_hits], calibration))
    return results


def _apply_rules(row: list[Hit], rule_hits: list[tuple[Rule, np.ndarray]], k: int) -> list[Hit]:
    if not rule_hits or not row:
        return row[:k]
    drop, _ = excluded(np.stack([h.vector for h in row if h.vector is not None]), rule_hits)
    return [h for h, d in zip(row, drop, strict=True) if not d][:k]


def _result(query: Any, confidence: float, hits: list[Hit], fired: list[str],
            calibration: Calibration) -> MatchResult:
    sims = np.array([[h.score for h in hits]], dtype=np.float64)
    probs, bands = calibration.apply(sims, np.array([confidence]))
    matches = []
    for j, h in enumerate(hits):
        payload = dict(h.payload)
        text = payload.pop(TEXT_KEY, "")
        matches.append(Match(h.id, text, payload, float(h.score),
                             None if probs is None else float(probs[0, j]),
                             None if bands is None else bands[0][j]))
    return MatchResult(query, confidence, matches, fired)
