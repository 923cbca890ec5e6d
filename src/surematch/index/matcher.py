"""Matching queries against an index: search, exclusion rules, calibration, open-set decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surematch.confidence.evidence import agreement, lexical_evidence
from surematch.errors import InputError
from surematch.index.calibrated import Calibration
from surematch.index.results import Match, MatchResult
from surematch.index.rules import Rule, RuleBook, excluded
from surematch.index.stores.base import BaseStore
from surematch.index.stores.points import check_positive_int
from surematch.index.stores.protocol import Hit

TEXT_KEY = "_surematch_text"  # one-vector index: payload key holding the reference's text
TEXTS_KEY = "_surematch_texts"  # multivector index: the texts, aligned with the point's rows
KINDS_KEY = "_surematch_kinds"  # and their kinds; all three are stripped on the way out
TEXT_KEYS = (TEXT_KEY, TEXTS_KEY, KINDS_KEY)
MAX_FETCH = 4096  # most references fetched for one query while rules exclude results


def check_queries(queries: Any, k: Any) -> None:
    """InputError unless queries is a list of items (text not blank) and k a positive int."""
    if isinstance(queries, str) or not isinstance(queries, Sequence):
        raise InputError("queries must be a list", field="queries")
    check_positive_int(k, "k")
    for n, q in enumerate(queries):
        if isinstance(q, str) and not q.strip():
            raise InputError("a query must not be empty", field=f"queries[{n}]")


def split_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A stored payload -> (the user's payload, the reference's (text, kind) pairs)."""
    user = {key: v for key, v in payload.items() if key not in TEXT_KEYS}
    if TEXTS_KEY in payload:
        return user, list(zip(payload[TEXTS_KEY], payload[KINDS_KEY], strict=True))
    return user, [(payload.get(TEXT_KEY, ""), "title")]


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


def best_text(hit: Hit, query: np.ndarray) -> Found:
    """Which of the hit's texts decided its score: the row nearest the query (argmax q · rows);
    a one-vector point has one text."""
    payload, texts = split_payload(hit.payload)
    every = [t for t, _ in texts]
    vec = hit.vector
    if vec is not None and vec.ndim == 2:
        sims = vec @ query
        j = int(np.argmax(sims)) if len(texts) > 1 else 0
        return Found(hit, payload, texts[j][0], texts[j][1], vec[j], every, sims)
    return Found(hit, payload, texts[0][0], texts[0][1], vec, every, np.array([hit.score]))


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
    # a multivector store returns each hit's rows: which text matched is read off them
    rows = store.search(vectors, fetch, filter, with_vectors=any(fired) or store.multivector)
    results = []
    rule_hits: list[tuple[Rule, np.ndarray]]
    for n, (row, rule_hits) in enumerate(zip(rows, fired, strict=True)):
        found = [best_text(h, vectors[n]) for h in row]
        kept, fetched = _apply_rules(found, rule_hits, k), fetch
        while rule_hits and len(kept) < k and len(row) == fetched and fetched < MAX_FETCH:
            fetched = min(fetched * 4, MAX_FETCH)
            row = store.search(vectors[n:n + 1], fetched, filter, with_vectors=True)[0]
            kept = _apply_rules([best_text(h, vectors[n]) for h in row], rule_hits, k)
        results.append(_result(queries[n], float(confidence[n]), kept,
                               [rule.id for rule, _ in rule_hits], calibration))
    return results


def _apply_rules(row: list[Found], rule_hits: list[tuple[Rule, np.ndarray]], k: int,
                 ) -> list[Found]:
    """The results the fired rules leave, at most k; a rule compares its excluded anchor
    with each result's matched (best) text."""
    if not rule_hits or not row:
        return row[:k]
    drop, _ = excluded(np.stack([f.vector for f in row if f.vector is not None]), rule_hits)
    return [f for f, d in zip(row, drop, strict=True) if not d][:k]


def _result(query: Any, confidence: float, found: list[Found], fired: list[str],
            calibration: Calibration) -> MatchResult:
    sims = np.array([[f.hit.score for f in found]], dtype=np.float64)
    evidence = None
    if calibration.evidence:  # computed only when the calibration reads it
        evidence = {"agreement": agreement([[f.similarities for f in found]]),
                    **lexical_evidence([str(query)], [[f.text for f in found]],
                                       [[f.texts for f in found]])}
    probs, bands = calibration.apply(sims, np.array([confidence]), evidence)
    matches = []
    for j, f in enumerate(found):
        matches.append(Match(f.hit.id, f.text, f.payload, float(f.hit.score),
                             None if probs is None else float(probs[0, j]),
                             None if bands is None else bands[0][j], f.kind))
    return MatchResult(query, confidence, matches, fired)
