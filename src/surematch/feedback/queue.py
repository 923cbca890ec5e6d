"""What to review next: items nearest a band edge first, and a seeded audit sampler.

The audit sample is a random sample of every query's top match, whatever its band: a random
sample of all top matches certifies a band at any cut-off, including below the current one,
and its auto-accepted part is the running proof of auto-accept precision (`audit_reviews`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from surematch.errors import InputError

Cutoff = float | None | ArrayLike


def _cutoffs(value: Cutoff, n: int, field: str) -> np.ndarray:
    """Per-item cut-offs [n] as floats, NaN where the band is empty (None)."""
    if value is None:
        return np.full(n, np.nan)
    if np.ndim(value) == 0:
        return np.full(n, float(np.asarray(value)))
    out = np.array([np.nan if v is None else v for v in value],  # type: ignore[union-attr]
                   dtype=np.float64)
    if len(out) != n:
        raise InputError(f"{len(out)} cut-offs for {n} items", field=field)
    return out


def edge_distance(probabilities: ArrayLike, accept_at: Cutoff, reject_below: Cutoff
                  ) -> np.ndarray:
    """Distance [N] of each top probability to its nearest band edge (accept_at or
    reject_below, scalars or one per item; None: no such edge); with no edge at all, to 0.5."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if not np.isfinite(p).all() or ((p < 0) | (p > 1)).any():
        raise InputError("must be finite numbers in [0, 1]", field="probabilities")
    edges = np.column_stack([_cutoffs(accept_at, len(p), "accept_at"),
                             _cutoffs(reject_below, len(p), "reject_below")])
    dist = np.abs(edges - p[:, None])
    none = np.isnan(dist).all(axis=1)
    out = np.full(len(p), np.inf)
    out[~none] = np.nanmin(dist[~none], axis=1)
    out[none] = np.abs(p[none] - 0.5)
    return out


def review_order(probabilities: ArrayLike, accept_at: Cutoff, reject_below: Cutoff
                 ) -> np.ndarray:
    """Item indices, most instructive label first: nearest a band edge first, ties in input
    order. A label near the edge decides where the edge lies; one far from it changes little."""
    return np.argsort(edge_distance(probabilities, accept_at, reject_below), kind="stable")


def audit_draw(key: str, fraction: float = 0.02, seed: int = 0) -> bool:
    """Whether the top match named by `key` (any band) is audited: True for about `fraction`
    of keys, the same answer for the same (key, seed) on every machine and run."""
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"must lie in [0, 1], got {fraction}", field="fraction")
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def audit_sample(keys: Sequence[str], fraction: float = 0.02, seed: int = 0) -> np.ndarray:
    """`audit_draw` for each key: a bool mask [N] marking the top matches to audit."""
    return np.array([audit_draw(k, fraction, seed) for k in keys], dtype=bool)
