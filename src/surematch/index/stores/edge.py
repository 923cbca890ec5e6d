"""The embedded default store: the Qdrant engine in-process (qdrant_edge) on a local folder.

Folder layout: `store.lock` (single writer), `store.json` (dim, format), `meta.json` (the
user's metadata) and `shard/` (Qdrant's write-ahead log and segments).

Durability: qdrant_edge writes every update to its write-ahead log before applying it, so once
upsert() or delete() returns, a crash or kill -9 loses nothing: reopening replays the log.
flush() (every FLUSH_EVERY points, in optimize() and close()) persists the segments too.

Search: new points sit in an appendable segment that is searched exactly. optimize() builds
HNSW graphs for large segments and blocks until done; qdrant_edge 0.9 keeps the GIL meanwhile,
so call it from a batch job (index build), not from a thread of a serving process.

Memory: the float32 vectors are memory-mapped from disk and an int8 copy (a quarter of the
size) is kept in RAM; HNSW search walks the int8 copy for 2 k candidates and rescores them
with the float32 vectors, so similarities are exact and a million 384-dim references build
and serve within a 2 GB memory limit (BENCHMARKS.md). exact=True searches skip the int8 copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from surematch.errors import DiskFullError, ModelFormatError, SurematchError
from surematch.index.stores.base import HNSW_EF_CONSTRUCT, HNSW_M, HNSW_PAYLOAD_M, BaseStore, Raw
from surematch.index.stores.files import (
    DirLock,
    check_free_space,
    read_json,
    store_dim,
    store_multivector,
    write_json_atomic,
)
from surematch.index.stores.filters import Clause
from surematch.index.stores.protocol import IndexType
from surematch.index.stores.qdrant_filters import to_edge

FLUSH_EVERY = 20_000  # points written between flushes; bounds the log replayed on reopen
_SCHEMA = {"keyword": qe.PayloadSchemaType.Keyword, "integer": qe.PayloadSchemaType.Integer,
           "float": qe.PayloadSchemaType.Float, "bool": qe.PayloadSchemaType.Bool}
_INT8 = qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=0.99, always_ram=True)
_RESCORED = qe.QuantizationSearchParams(rescore=True, oversampling=2.0)
_FLOAT32 = qe.QuantizationSearchParams(ignore=True)


class EdgeStore(BaseStore):
    """Create or open the store in folder `path`; dim=None opens an existing one as it is.

    indexing_threshold_kb (used when creating) is the segment size from which optimize()
    builds an HNSW graph; None keeps Qdrant's default (10 MB, about 6.5k 384-dim vectors).
    hnsw = (m, ef_construct) (used when creating) sets the graph. multivector=True (used when
    creating) makes each point [n, D] rows compared by MaxSim; an existing store keeps what it
    was created as (store.json records it).
    """

    def __init__(self, path: str | Path, dim: int | None = None, *,
                 indexing_threshold_kb: int | None = None,
                 hnsw: tuple[int, int] = (HNSW_M, HNSW_EF_CONSTRUCT),
                 multivector: bool = False) -> None:
        self.path = Path(path)
        self.label = f"index {self.path}"
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SurematchError(f"cannot create index folder {self.path}: {exc}") from None
        self._lock = DirLock(self.path)
        try:
            shard = self.path / "shard"
            if (shard / "edge_config.json").exists() and not (self.path / "store.json").exists():
                raise ModelFormatError(f"index {self.path} is damaged: store.json is missing")
            # opening replays the write-ahead log into memory-mapped files: on a full disk
            # that would die of SIGBUS, so refuse to open with one clear line instead
            check_free_space(self.path, f"opening index {self.path.name}")
            self.dim = store_dim(self.path, dim, "qdrant-edge", multivector)
            self.multivector = store_multivector(self.path)
            with self._engine("open"):
                self._shard = (
                    qe.EdgeShard.load(str(shard)) if (shard / "edge_config.json").exists()
                    else qe.EdgeShard.create(str(shard), qe.EdgeConfig(
                        vectors=qe.EdgeVectorParams(
                            size=self.dim, distance=qe.Distance.Cosine, on_disk=True,
                            quantization_config=_INT8, multivector_config=qe.MultiVectorConfig(
                                comparator=qe.MultiVectorComparator.MaxSim)
                            if self.multivector else None),
                        hnsw_config=qe.HnswIndexConfig(
                            m=hnsw[0], ef_construct=hnsw[1], payload_m=HNSW_PAYLOAD_M,
                            full_scan_threshold=10_000),
                        optimizers=qe.EdgeOptimizersConfig(
                            indexing_threshold=indexing_threshold_kb),
                        # qdrant_edge holds the GIL while it searches, so a pool of search
                        # threads only adds hand-offs: one is faster, alone or under load
                        max_search_threads=1)))
        except BaseException:
            self._lock.release()
            raise
        self._unflushed = 0

    def __repr__(self) -> str:
        multi = ", multivector=True" if self.multivector else ""
        return f"EdgeStore({str(self.path)!r}, dim={self.dim}{multi})"

    def _upsert(self, uuids: list[str], vectors: np.ndarray | list[np.ndarray],
                payloads: list[dict]) -> None:
        points = [qe.Point(u, v.tolist() if self.multivector else v, p)
                  for u, v, p in zip(uuids, vectors, payloads, strict=True)]
        check_free_space(self.path, "upsert")
        with self._engine("upsert"):
            self._shard.update(qe.UpdateOperation.upsert_points(points))
        self._unflushed += len(points)
        if self._unflushed >= FLUSH_EVERY:
            self.flush()

    def _retrieve(self, uuids: list[str], with_vectors: bool) -> list[Raw | None]:
        with self._engine("get"):
            recs = self._shard.retrieve(list[Any](uuids), with_payload=True,
                                        with_vector=with_vectors)
        found = {str(r.id): (r.payload or {}, r.vector if with_vectors else None) for r in recs}
        return [found.get(u) for u in uuids]

    def _delete(self, uuids: list[str]) -> None:
        check_free_space(self.path, "delete")
        with self._engine("delete"):
            self._shard.update(qe.UpdateOperation.delete_points(list[Any](uuids)))

    def _count(self, clause: Clause | None) -> int:
        with self._engine("count"):
            return self._shard.count(qe.CountRequest(exact=True, filter=to_edge(clause)))

    def _search(self, queries: np.ndarray, k: int, clause: Clause | None, with_vectors: bool,
                exact: bool, payload_keys: list[str] | None) -> list[list[tuple[float, Raw]]]:
        flt, params = to_edge(clause), qe.SearchParams(
            hnsw_ef=max(self.search_ef, k), exact=exact,
            quantization=_FLOAT32 if exact else _RESCORED)
        batch = qe.QueryBatchRequest([
            qe.QueryRequest(limit=k, query=qe.Query.Nearest(
                [q.tolist()] if self.multivector else q.tolist()), filter=flt,
                            params=params, with_payload=payload_keys or True,
                            with_vector=with_vectors)
            for q in queries])
        with self._engine("search"):
            rows = self._shard.query_batch(batch)
        return [[(h.score, (h.payload or {}, h.vector if with_vectors else None)) for h in row]
                for row in rows]

    def _scroll(self, clause: Clause | None, offset: Any, limit: int, with_vectors: bool,
                ) -> tuple[list[Raw], Any]:
        request = qe.ScrollRequest(offset=offset, limit=limit, filter=to_edge(clause),
                                   with_payload=True, with_vector=with_vectors)
        with self._engine("scan"):
            recs, nxt = self._shard.scroll(request)
        return [(r.payload or {}, r.vector if with_vectors else None) for r in recs], nxt

    def _create_index(self, key: str, type: IndexType) -> None:
        check_free_space(self.path, "indexing a payload key")
        with self._engine(f"indexing payload key {key!r}"):
            self._shard.update(qe.UpdateOperation.create_field_index(key, _SCHEMA[type]))

    def optimize(self) -> None:
        with self._open()._engine("optimize"):
            self._shard.optimize()
        self.flush()

    def stats(self) -> dict[str, int]:
        """Points, segments, and vectors an HNSW graph covers (the rest are searched exactly)."""
        with self._open()._engine("info"):
            info = self._shard.info()
        return {"points": info.points_count, "segments": info.segments_count,
                "indexed_vectors": info.indexed_vectors_count}

    def flush(self) -> None:
        """Persist segments now, so reopening has less of the log to replay. Skipped when the
        disk is short of the margin: the write-ahead log already holds every write."""
        if not self._room():
            return
        with self._open()._engine("flush"):
            self._shard.flush()
        self._unflushed = 0

    def _room(self) -> bool:
        try:
            check_free_space(self.path, "flush")
        except DiskFullError:
            return False
        return True

    def read_meta(self) -> dict[str, Any]:
        return read_json(self._open().path / "meta.json") or {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json_atomic(self._open().path / "meta.json", meta)

    def close(self) -> None:
        if self.closed:
            return
        try:
            with self._engine("close"):
                if self._room():
                    self._shard.flush()
                self._shard.close()
        finally:
            self.closed = True
            self._lock.release()
