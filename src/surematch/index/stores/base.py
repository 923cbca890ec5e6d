"""Shared half of every backend: checks all input, then calls the backend's `_` methods.

Backends implement the `_` methods on Qdrant point ids (UUID strings) and raw payloads that
still carry RESERVED_KEY; because every check happens here, before them, both backends accept
and refuse the same things with the same errors, and store nothing when input is bad.
"""

from __future__ import annotations

import contextlib
import errno
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Self, get_args

import numpy as np

from surematch.errors import (
    DiskFullError,
    EngineError,
    InputError,
    ModelFormatError,
    SurematchError,
)
from surematch.index.stores.filters import Clause, check_key, parse_filter
from surematch.index.stores.points import (
    RESERVED_KEY,
    check_ids,
    check_multivectors,
    check_payload,
    check_positive_int,
    check_vectors,
    point_uuid,
)
from surematch.index.stores.protocol import Hit, IndexType, StoredPoint

Raw = tuple[dict[str, Any], Any]  # (payload with RESERVED_KEY, vector list or None)
SEARCH_EF = 64  # candidates an HNSW search examines: recall@10 0.99 at 100k (BENCHMARKS.md)
# the graph, set when a store is created (Qdrant's defaults: 16, 100, 16): links per point,
# build width, and links per point among those sharing an indexed payload value (filtering)
HNSW_M, HNSW_EF_CONSTRUCT, HNSW_PAYLOAD_M = 32, 128, 16


def _point(raw: Raw) -> StoredPoint:
    payload = dict(raw[0])
    pid = payload.pop(RESERVED_KEY, None)
    if pid is None:
        raise ModelFormatError(f"a stored point has no {RESERVED_KEY!r}: the collection holds "
                               "points that surematch did not write")
    vec = raw[1]
    if vec is not None:  # a multivector's rows one by one: faster than one nested asarray
        vec = (np.array([np.asarray(r, dtype=np.float32) for r in vec])
               if len(vec) and isinstance(vec[0], list) else np.asarray(vec, dtype=np.float32))
    return StoredPoint(pid, payload, vec)


class BaseStore(ABC):
    """Input checks and result assembly shared by the backends; they implement the rest."""

    dim: int
    label: str  # where the points live, for messages: "index DIR" or "Qdrant at URL, ..."
    closed: bool = False
    multivector: bool = False  # each point holds [n, D] rows; its score is the best row's
    _search_ef: int = SEARCH_EF

    @property
    def search_ef(self) -> int:
        """Candidates an HNSW search examines (k where k is larger): wider is slower and finds
        more of the exact top k. A search setting: the graph stays as it is."""
        return self._search_ef

    @search_ef.setter
    def search_ef(self, ef: int) -> None:
        self._search_ef = check_positive_int(ef, "search_ef")

    def upsert(self, ids: Sequence[str], vectors: Any, payloads: Sequence[Any] | None = None,
               ) -> None:
        """Insert or replace points: vectors [N, D], one payload dict (or None) per id.

        A multivector store takes one [n_i, D] array per id (n_i >= 1) instead."""
        ids = check_ids(ids, unique=True)
        vecs: np.ndarray | list[np.ndarray] = (
            check_multivectors(vectors, self.dim, ids) if self.multivector
            else check_vectors(vectors, self.dim, ids))
        payloads = [None] * len(ids) if payloads is None else list(payloads)
        if len(payloads) != len(ids):
            raise InputError(f"{len(ids)} ids but {len(payloads)} payloads", field="payloads")
        full = [check_payload(i, p) for i, p in zip(ids, payloads, strict=True)]
        if ids:
            self._open()._upsert([point_uuid(i) for i in ids], vecs, full)

    def delete(self, ids: Sequence[str]) -> int:
        """Remove points by id; returns how many existed."""
        uuids = list(dict.fromkeys(point_uuid(i) for i in check_ids(ids)))
        found = [u for u, raw in zip(uuids, self._open()._retrieve(uuids, False), strict=True)
                 if raw is not None]
        if found:
            self._delete(found)
        return len(found)

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint | None]:
        """The points in the order asked, None where an id is not stored."""
        uuids = [point_uuid(i) for i in check_ids(ids)]
        raws = self._open()._retrieve(uuids, with_vectors) if uuids else []
        return [None if raw is None else _point(raw) for raw in raws]

    def count(self, filter: dict[str, Any] | None = None) -> int:
        """Exact number of points, of those matching the filter when one is given."""
        return self._open()._count(parse_filter(filter))

    def search(self, vectors: Any, k: int, filter: dict[str, Any] | None = None, *,
               with_vectors: bool = False, exact: bool = False,
               payload_keys: Sequence[str] | None = None) -> list[list[Hit]]:
        """The k nearest points to each query row of vectors [Q, D], best first.

        exact=True scans every point even where an HNSW graph is built. In a multivector
        store a point's score is that of its best row (MaxSim), and hits' vectors are [n, D].
        payload_keys: only these top-level keys of each hit's payload (None: all of it), so
        that large values nobody reads are not handed over.
        """
        queries = check_vectors(vectors, self.dim)
        check_positive_int(k, "k")
        clause = parse_filter(filter)
        if not len(queries):
            return []
        keys = None if payload_keys is None else [RESERVED_KEY, *payload_keys]
        hits = self._open()._search(queries, k, clause, with_vectors, exact, keys)
        return [[Hit(p.id, float(s), p.payload, p.vector) for s, p in
                 ((s, _point(raw)) for s, raw in row)] for row in hits]

    def scan(self, filter: dict[str, Any] | None = None, *, with_vectors: bool = False,
             batch_size: int = 256) -> Iterator[StoredPoint]:
        """Every point (matching the filter), in storage order, fetched batch_size at a time."""
        clause = parse_filter(filter)  # checked now, not at the first next()

        def pages() -> Iterator[StoredPoint]:
            offset = None
            while True:
                raws, offset = self._open()._scroll(clause, offset, batch_size, with_vectors)
                yield from (_point(raw) for raw in raws)
                if offset is None:
                    return

        return pages()

    def ids(self, filter: dict[str, Any] | None = None) -> Iterator[str]:
        """Every stored id (matching the filter)."""
        return (p.id for p in self.scan(filter, batch_size=1024))

    def create_payload_index(self, key: str, type: IndexType) -> None:
        """Index a payload key for fast filtering; filters work without one, only slower."""
        if type not in get_args(IndexType):
            raise InputError(f"index type must be one of {get_args(IndexType)}, got {type!r}",
                             field="type")
        self._open()._create_index(check_key(key, "key"), type)

    def _open(self) -> Self:
        if self.closed:
            raise SurematchError(f"{self!r} is closed")
        return self

    @contextlib.contextmanager
    def _engine(self, what: str) -> Iterator[None]:
        """Turns the engine's or the client's own exceptions into an EngineError (a full disk
        into a DiskFullError). qdrant_edge raises bare Exceptions, and a Rust panic arrives as
        pyo3's PanicException, a BaseException: it is caught here too."""
        try:
            yield
        except SurematchError:
            raise
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:
            if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
                    "No space left on device" in str(exc)):
                raise DiskFullError(f"{self.label}: {what} failed: the disk is full") from exc
            raise EngineError(f"{self.label}: {what} failed: {exc}") from exc

    def __enter__(self) -> BaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def optimize(self) -> None:
        """Build HNSW graphs and merge segments now; blocks until done."""

    @abstractmethod
    def read_meta(self) -> dict[str, Any]:
        """The small JSON dict stored beside the points ({} when none was written)."""

    @abstractmethod
    def write_meta(self, meta: dict[str, Any]) -> None:
        """Replace that dict, atomically."""

    @abstractmethod
    def close(self) -> None:
        """Make everything durable and release the store; closing twice is harmless."""

    @abstractmethod
    def _upsert(self, uuids: list[str], vectors: np.ndarray | list[np.ndarray],
                payloads: list[dict]) -> None: ...

    @abstractmethod
    def _retrieve(self, uuids: list[str], with_vectors: bool) -> list[Raw | None]: ...

    @abstractmethod
    def _create_index(self, key: str, type: IndexType) -> None: ...

    @abstractmethod
    def _delete(self, uuids: list[str]) -> None: ...

    @abstractmethod
    def _count(self, clause: Clause | None) -> int: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, clause: Clause | None, with_vectors: bool,
                exact: bool, payload_keys: list[str] | None) -> list[list[tuple[float, Raw]]]:
        """payload_keys: the payload's keys to return (None: every key)."""

    @abstractmethod
    def _scroll(self, clause: Clause | None, offset: Any, limit: int, with_vectors: bool,
                ) -> tuple[list[Raw], Any]: ...
