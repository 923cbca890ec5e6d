"""The storage interface every index backend implements: points in, nearest points out.

A point is (id, vector, payload): the id any non-empty printable string (at most 256
characters), the vector [D] stored L2-normalised, the payload a JSON object (at most 64 KiB).
A multivector store (chosen when it is created) holds [n, D] rows per point instead, and a
point's score is that of its best row (Qdrant's MaxSim with a one-row query).
Similarity is cosine: a hit's `score` is the cosine similarity, higher is closer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

IndexType = Literal["keyword", "integer", "float", "bool"]


@dataclass(frozen=True)
class StoredPoint:
    id: str
    payload: dict[str, Any]
    vector: np.ndarray | None = None  # [D] ([n, D] if multivector) float32, unit rows; or None


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # cosine similarity, higher is closer
    payload: dict[str, Any]
    vector: np.ndarray | None = None  # [D] ([n, D] if multivector) float32, unit rows; or None


@runtime_checkable
class VectorStore(Protocol):
    """A collection of points, open until close() (or the end of a `with` block)."""

    dim: int
    multivector: bool  # [n, D] rows per point (set when created)
    search_ef: int  # candidates an HNSW search examines (k where larger); settable

    def upsert(self, ids: Sequence[str], vectors: Any, payloads: Sequence[Any] | None = None,
               ) -> None:
        """Insert or replace points: vectors [N, D], one payload dict (or None) per id."""

    def delete(self, ids: Sequence[str]) -> int:
        """Remove points by id; returns how many existed."""

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint | None]:
        """The points in the order asked, None where an id is not stored."""

    def count(self, filter: dict[str, Any] | None = None) -> int:
        """Exact number of points (matching the filter, see `filters`)."""

    def search(self, vectors: Any, k: int, filter: dict[str, Any] | None = None, *,
               with_vectors: bool = False, exact: bool = False,
               payload_keys: Sequence[str] | None = None) -> list[list[Hit]]:
        """The k nearest points to each row of vectors [Q, D], best first.

        exact=True compares with every point even where an HNSW graph is built;
        payload_keys: only these top-level keys of each hit's payload (None: all of it).
        """

    def scan(self, filter: dict[str, Any] | None = None, *, with_vectors: bool = False,
             batch_size: int = 256) -> Iterator[StoredPoint]:
        """Every point (matching the filter), in storage order."""

    def ids(self, filter: dict[str, Any] | None = None) -> Iterator[str]:
        """Every stored id (matching the filter)."""

    def create_payload_index(self, key: str, type: IndexType) -> None:
        """Index a payload key for fast filtering; filters work without one, only slower."""

    def optimize(self) -> None:
        """Build HNSW graphs and merge segments now; blocks until done."""

    def read_meta(self) -> dict[str, Any]:
        """The small JSON dict stored beside the points ({} when none was written)."""

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Replace that dict, atomically."""

    def close(self) -> None:
        """Make everything durable and release the store; closing twice is harmless."""

    def __enter__(self) -> VectorStore: ...

    def __exit__(self, *exc: object) -> None: ...
