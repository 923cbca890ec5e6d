"""Exact top-k ranking of queries against references by cosine (numpy, in chunks)."""

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
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < block.shape[1] else \
            np.tile(np.arange(block.shape[1]), (len(block), 1))
        top_sims = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")
        rows[s: s + len(block)] = np.take_along_axis(top, order, axis=1)
        sims[s: s + len(block)] = np.take_along_axis(top_sims, order, axis=1)
    return Ranking(rows, sims)
