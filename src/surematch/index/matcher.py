"""Matching queries against an index: search, exclusion rules, calibration, open-set decision."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surematch.confidence.evidence.lexical import agreement, lexical_evidence
from surematch.errors import InputError
from surematch.index.applied_calibration import Calibration
from surematch.index.results import Match, MatchResult
from surematch.index.rules import Rule, RuleBook, excluded
from surematch.index.stores.base import BaseStore
from surematch.index.stores.points import check_positive_int
from surematch.index.stores.protocol import Hit
from surematch.index.text_rows import TEXTS_KEY, TextRows, split_payload
from surematch.limits import big_k

MAX_FETCH = 4096  # most references fetched for one query while rules exclude results


def check_k(k: Any, field: str = "k") -> int:
    """k if it is an int from 1 to LIMITS.k (the HTTP API's message past it), else
    InputError naming field."""
    check_positive_int(k, field)
    if (too_big := big_k(k)) is not None:
        raise InputError(too_big, field=field)
    return int(k)


def check_queries(queries: Any, k: Any) -> None:
    """InputError unless queries is a list of items (text not blank) and k an int from 1 to
    LIMITS.k."""
    if isinstance(queries, str) or not isinstance(queries, Sequence):
        raise InputError("queries must be a list", field="queries")
    check_k(k)
    for n, q in enumerate(queries):
        if isinstance(q, str) and not q.strip():
            raise InputError("a query must not be empty", field=f"queries[{n}]")


@dataclass(frozen=True)
class Found:
    """A hit with the reference's text nearest the query: its text, kind and vector [D]
    (None in a one-vector index searched without vectors), every text of the reference and
    their similarities to the query [n] (the evidence a calibration may read)."""

    hit: Hit
    payload: dict[str, Any]
    text: str
    kind: str
    vector: np.ndarray | None
    texts: list[str]
    similarities: np.ndarray
    kinds: list[str]


def best_text(hit: Hit, query: np.ndarray, rows: np.ndarray | None = None) -> Found:
    """Which of the hit's texts decided its score: the row nearest the query (argmax q · rows,
    the rows [n, D] being the hit's own or given); a one-vector point has one text."""
    payload, texts = split_payload(hit.payload)
    every, kinds = [t for t, _ in texts], [k for _, k in texts]
    vec = hit.vector if rows is None else rows
    if vec is not None and vec.ndim == 2:
        sims = vec @ query
        j = int(np.argmax(sims)) if len(texts) > 1 else 0
        return Found(hit, payload, texts[j][0], texts[j][1], vec[j], every, sims, kinds)
    return Found(hit, payload, texts[0][0], texts[0][1], vec, every, np.array([hit.score]),
                 kinds)


def _found(row: list[Hit], query: np.ndarray, text_rows: TextRows | None) -> list[Found]:
    """best_text of each hit; the rows of a multivector hit searched without vectors come
    from text_rows."""
    if text_rows is None or not row or row[0].vector is not None:
        return [best_text(h, query) for h in row]
    keys = [(h.id, tuple(h.payload[TEXTS_KEY])) for h in row]  # a multivector point's texts
    return [best_text(h, query, r) for h, r in zip(row, text_rows.rows(keys), strict=True)]


def overfetch(k: int) -> int:
    """References fetched when rules fired, so k normally remain after exclusion."""
    return 2 * k + 16


def candidate_depth(k: int, calibration: Calibration) -> int:
    """Candidates fetched for a query whose caller wants k: at least the calibration's
    evidence depth (2: the top match's margin is to the best *other* reference), so a
    match's probability and band do not depend on k; the top k of them are returned."""
    return max(k, calibration.depth)


def match_vectors(store: BaseStore, rules: RuleBook, calibration: Calibration,
                  queries: Sequence[Any], vectors: np.ndarray, confidence: np.ndarray, k: int,
                  filter: dict[str, Any] | None, text_rows: TextRows | None = None,
                  heads: Container[str] | None = None) -> list[MatchResult]:
    """Query embeddings [Q, D] and their confidence [Q] -> one MatchResult per query.
    `heads`: the head words of the index's texts (the `head` evidence; None: unknown).

    One batched rules search, one batched reference search (plus, rarely, a bigger search
    for a query whose over-fetched results the rules all but emptied). A multivector store's
    hits need their rows (which text matched): from text_rows when given, else the search
    returns them."""
    check_k(k)
    if not len(vectors):
        return []
    depth = candidate_depth(k, calibration)
    fired = rules.fired(vectors)
    fetch = overfetch(depth) if any(fired) else depth
    # which text matched is read off a hit's rows: kept ones, or returned by the search
    rows_kept = text_rows if store.multivector else None
    need = rows_kept is None and (store.multivector or any(fired))
    rows = store.search(vectors, fetch, filter, with_vectors=need)
    results = []
    rule_hits: list[tuple[Rule, np.ndarray]]
    for n, (row, rule_hits) in enumerate(zip(rows, fired, strict=True)):
        found = _found(row, vectors[n], rows_kept)
        kept, fetched = _apply_rules(found, rule_hits, depth), fetch
        while rule_hits and len(kept) < depth and len(row) == fetched and fetched < MAX_FETCH:
            fetched = min(fetched * 4, MAX_FETCH)
            row = store.search(vectors[n:n + 1], fetched, filter,
                               with_vectors=rows_kept is None)[0]
            kept = _apply_rules(_found(row, vectors[n], rows_kept), rule_hits, depth)
        results.append(_result(queries[n], float(confidence[n]), kept,
                               [rule.id for rule, _ in rule_hits], calibration, k,
                               np.asarray(vectors[n], np.float16), heads))
    return results


def _apply_rules(row: list[Found], rule_hits: list[tuple[Rule, np.ndarray]], k: int,
                 ) -> list[Found]:
    """The results the fired rules leave, at most k; a rule compares its excluded anchor
    with each result's matched (best) text."""
    judged = {n: f.vector for n, f in enumerate(row) if f.vector is not None}
    if not rule_hits or not judged:
        return row[:k]
    drop = np.zeros(len(row), dtype=bool)  # a hit without its rows (changed meanwhile) stays
    drop[list(judged)] = excluded(np.stack(list(judged.values())), rule_hits)[0]
    return [f for f, d in zip(row, drop, strict=True) if not d][:k]


def _result(query: Any, confidence: float, found: list[Found], fired: list[str],
            calibration: Calibration, k: int, embedding: np.ndarray | None = None,
            heads: Container[str] | None = None) -> MatchResult:
    """The top k of `found` (the candidate depth: the evidence read) with probabilities."""
    sims = np.array([[f.hit.score for f in found]], dtype=np.float64)
    evidence = None
    if calibration.evidence:  # computed only when the calibration reads it
        evidence = {"agreement": agreement([[f.similarities for f in found]]),
                    **lexical_evidence([str(query)], [[f.text for f in found]],
                                       [[f.texts for f in found]], [[f.kinds for f in found]],
                                       heads)}
    probs, bands = calibration.apply(sims, np.array([confidence]), evidence)
    matches = []
    for j, f in enumerate(found[:k]):
        matches.append(Match(f.hit.id, f.text, f.payload, float(f.hit.score),
                             None if probs is None else float(probs[0, j]),
                             None if bands is None else bands[0][j], f.kind))
    return MatchResult(query, confidence, matches, fired, embedding)
