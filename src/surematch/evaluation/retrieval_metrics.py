"""Retrieval metrics from ranked results: P@1, recall@k and MRR against one expected id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surematch.errors import InputError


def _check(ranked_ids: Sequence[Sequence[str]], expected: Sequence[str | None]) -> None:
    if len(ranked_ids) != len(expected):
        raise InputError(
            f"ranked_ids and expected have different lengths ({len(ranked_ids)} vs {len(expected)})"
        )


def _rank(ranked: Sequence[str], want: str) -> int | None:
    """1-based position of `want` in `ranked`, None when absent."""
    for i, item in enumerate(ranked):
        if item == want:
            return i + 1
    return None


def retrieval_metrics(
    ranked_ids: Sequence[Sequence[str]],
    expected: Sequence[str | None],
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, Any]:
    """Metrics over Q queries: `ranked_ids[q]` best first, `expected[q]` the right id or None.

    Queries whose expected id is None (no right answer exists) are left out of p_at_1,
    recall_at_k and mrr and counted in "n_no_expected". Returns {"n_queries", "n_evaluated",
    "n_no_expected", "p_at_1", "recall_at_k": {k: value}, "mrr"}; the rates are None when no
    query has an expected id. MRR counts 0 for an expected id not in the list.
    """
    _check(ranked_ids, expected)
    if not ks or any(not isinstance(k, int) or k < 1 for k in ks):
        raise InputError(f"ks: need positive whole numbers, got {list(ks)}")
    ranks = [_rank(r, e) for r, e in zip(ranked_ids, expected, strict=True) if e is not None]
    n = len(ranks)
    out: dict[str, Any] = {"n_queries": len(expected), "n_evaluated": n,
                           "n_no_expected": len(expected) - n}
    if n == 0:
        return {**out, "p_at_1": None, "recall_at_k": {k: None for k in ks}, "mrr": None}
    found = np.array([r if r is not None else 0 for r in ranks])
    hit = found > 0
    out["p_at_1"] = float(np.mean(found == 1))
    out["recall_at_k"] = {k: float(np.mean(hit & (found <= k))) for k in ks}
    out["mrr"] = float(np.mean(np.where(hit, 1.0 / np.maximum(found, 1), 0.0)))
    return out


def top1_correct(
    ranked_ids: Sequence[Sequence[str]], expected: Sequence[str | None]
) -> np.ndarray:
    """Whether each query's top result is its expected id, bool [Q].

    A query with no expected id (None) or an empty result list counts as False: any top-1
    returned for it is a wrong match. These are the labels for calibrating top-1 confidence.
    """
    _check(ranked_ids, expected)
    return np.array([e is not None and len(r) > 0 and r[0] == e
                     for r, e in zip(ranked_ids, expected, strict=True)], dtype=bool)
