"""Exact top-k ranking of queries against references by cosine (numpy, in chunks); a reference
with several texts is as close as its best text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ranking:
    """Top-k reference rows per query: `rows` [Q, k] best first and their `similarity` [Q, k]."""

    rows: np.ndarray
    similarity: np.ndarray

    def ids(self, reference_ids: list[str]) -> list[list[str]]:
        return [[reference_ids[r] for r in row] for row in self.rows]


def rank_exact(queries: np.ndarray, references: np.ndarray, k: int = 10,
               chunk: int = 1024) -> Ranking:
    """Exact top-k by cosine of L2-normalised queries [Q, D] against references [R, D].

    Memory stays O(chunk x R): the full [Q, R] matrix is never built.
    """
    k = min(k, len(references))
    rows = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    for s in range(0, len(queries), chunk):
        block = queries[s: s + chunk] @ references.T
        top = rank_exact_scores(block, k)
        rows[s: s + len(block)] = top
        sims[s: s + len(block)] = np.take_along_axis(block, top, axis=1)
    return Ranking(rows, sims)


@dataclass(frozen=True)
class ReferenceRanking(Ranking):
    """Top-k references per query, each scored by its best text: `rows` [Q, k] reference rows,
    `similarity` [Q, k], `text` [Q, k] the best text's index into the flat text list, and
    `text_similarities` [Q][k] the similarities of all that reference's texts."""

    text: np.ndarray
    text_similarities: list[list[np.ndarray]]


def rank_references(queries: np.ndarray, texts: np.ndarray, owner: np.ndarray, k: int = 10,
                    chunk: int = 512) -> ReferenceRanking:
    """Exact top-k references for L2-normalised queries [Q, D], from the vectors of every text
    [T, D] and the reference row owning each text `owner` [T] (texts grouped by reference,
    rows 0..R-1 in order). Memory stays O(chunk x T)."""
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], len(owner)]
    n_refs = len(starts)
    k = min(k, n_refs)
    rows = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    best_text = np.empty((len(queries), k), dtype=np.int64)
    text_sims: list[list[np.ndarray]] = []
    for s in range(0, len(queries), chunk):
        block = queries[s: s + chunk] @ texts.T  # [c, T]
        per_ref = np.maximum.reduceat(block, starts, axis=1)  # [c, R]
        ranked = rank_exact_scores(per_ref, k)
        rows[s: s + len(block)] = ranked
        sims[s: s + len(block)] = np.take_along_axis(per_ref, ranked, axis=1)
        for i, row in enumerate(ranked):
            parts = [block[i, starts[r]: ends[r]] for r in row]
            text_sims.append(parts)
            best_text[s + i] = [starts[r] + int(np.argmax(p)) for r, p in zip(row, parts,
                                                                               strict=True)]
    return ReferenceRanking(rows, sims, best_text, text_sims)


def rank_exact_scores(scores: np.ndarray, k: int) -> np.ndarray:
    """The columns of the k highest scores of each row of [N, M], best first (ties stable)."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)
