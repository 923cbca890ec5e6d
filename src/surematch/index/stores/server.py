"""The server store: one collection of a Qdrant server or cluster, through qdrant-client.

`path` (a folder, or ":memory:") runs qdrant-client's local mode instead: the same client API
without a server, slow and meant for tests (it warns above 20k points). Metadata lives in the
collection's own metadata (Qdrant server 1.16 or later). The server builds HNSW graphs in the
background by itself, and search stays correct meanwhile, so optimize() has nothing to do.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as m

from surematch.errors import InputError, ModelFormatError, SurematchError
from surematch.index.stores.base import HNSW_EF_CONSTRUCT, HNSW_M, HNSW_PAYLOAD_M, BaseStore, Raw
from surematch.index.stores.files import check_collection, meta_json
from surematch.index.stores.filters import Clause
from surematch.index.stores.points import check_positive_int
from surematch.index.stores.protocol import IndexType
from surematch.index.stores.qdrant_filters import to_client

# as in the embedded store: float32 vectors on disk, an int8 copy in RAM, rescored results
_INT8 = m.ScalarQuantization(scalar=m.ScalarQuantizationConfig(
    type=m.ScalarType.INT8, quantile=0.99, always_ram=True))
_RESCORED = m.QuantizationSearchParams(rescore=True, oversampling=2.0)
_FLOAT32 = m.QuantizationSearchParams(ignore=True)
META_KEY = "surematch_meta"  # collection metadata key; its value is our metadata as JSON text
_SCHEMA = {"keyword": m.PayloadSchemaType.KEYWORD, "integer": m.PayloadSchemaType.INTEGER,
           "float": m.PayloadSchemaType.FLOAT, "bool": m.PayloadSchemaType.BOOL}


class ServerStore(BaseStore):
    """Create or open `collection` at url (or in local mode at path); dim=None opens as is."""

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 path: str | None = None, collection: str = "references",
                 dim: int | None = None, *, timeout: int = 30, multivector: bool = False,
                 ) -> None:
        if (url is None) == (path is None):
            raise InputError("give exactly one of url (a Qdrant server) and path (local mode)")
        self.collection, self.where = check_collection(collection), str(url or path)
        self._local = url is None
        self.label = f"Qdrant at {self.where}, collection {self.collection!r}"
        try:
            self._client = (QdrantClient(url=url, api_key=api_key, timeout=timeout) if url
                            else QdrantClient(location=":memory:") if path == ":memory:"
                            else QdrantClient(path=path))
        except RuntimeError as exc:  # local mode's folder lock
            raise SurematchError(f"index {path} is open in another process: {exc}") from None
        try:
            self.dim = self._collection_dim(dim, multivector)
        except BaseException:
            self._client.close()
            raise

    def _collection_dim(self, dim: int | None, multivector: bool) -> int:
        """Create the collection if absent (multivector: [n, D] rows per point, MaxSim) or
        check the one there; sets self.multivector from the collection's own config."""
        with self._engine("open"):
            if not self._client.collection_exists(self.collection):
                if dim is None:
                    raise SurematchError(f"no collection {self.collection!r} at {self.where}")
                self._client.create_collection(self.collection, vectors_config=m.VectorParams(
                    size=check_positive_int(dim, "dim"), distance=m.Distance.COSINE, on_disk=True,
                    multivector_config=m.MultiVectorConfig(
                        comparator=m.MultiVectorComparator.MAX_SIM) if multivector else None),
                    quantization_config=_INT8,
                    hnsw_config=m.HnswConfigDiff(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT,
                                                 payload_m=HNSW_PAYLOAD_M))
                self.multivector = multivector
                return dim
            params = self._client.get_collection(self.collection).config.params.vectors
        if not isinstance(params, m.VectorParams) or params.distance != m.Distance.COSINE:
            raise ModelFormatError(f"collection {self.collection!r} at {self.where} is not one "
                                   f"unnamed cosine vector per point: {params}")
        self.multivector = params.multivector_config is not None
        if dim is not None and dim != params.size:
            raise ModelFormatError(f"collection {self.collection!r} at {self.where} holds "
                                   f"{params.size}-dim vectors, not {dim}-dim ones")
        return params.size

    def __repr__(self) -> str:
        multi = ", multivector=True" if self.multivector else ""
        return (f"ServerStore({self.where!r}, collection={self.collection!r}, dim={self.dim}"
                f"{multi})")

    def _upsert(self, uuids: list[str], vectors: np.ndarray | list[np.ndarray],
                payloads: list[dict]) -> None:
        batch = m.Batch(ids=list(uuids), vectors=[v.tolist() for v in vectors],
                        payloads=payloads)
        with self._engine("upsert"):
            self._client.upsert(self.collection, points=batch, wait=True)

    def _retrieve(self, uuids: list[str], with_vectors: bool) -> list[Raw | None]:
        with self._engine("get"):
            recs = self._client.retrieve(self.collection, ids=uuids, with_payload=True,
                                         with_vectors=with_vectors)
        found = {str(r.id): (r.payload or {}, r.vector) for r in recs}
        return [found.get(u) for u in uuids]

    def _delete(self, uuids: list[str]) -> None:
        with self._engine("delete"):
            ids: list[m.ExtendedPointId] = list(uuids)
            self._client.delete(self.collection, points_selector=m.PointIdsList(points=ids),
                                wait=True)

    def _count(self, clause: Clause | None) -> int:
        with self._engine("count"):
            return self._client.count(self.collection, count_filter=to_client(clause),
                                      exact=True).count

    def _search(self, queries: np.ndarray, k: int, clause: Clause | None, with_vectors: bool,
                exact: bool, payload_keys: list[str] | None) -> list[list[tuple[float, Raw]]]:
        flt = to_client(clause)
        params = None if self._local else m.SearchParams(  # local mode is always exact
            hnsw_ef=max(self.search_ef, k), exact=exact,
            quantization=_FLOAT32 if exact else _RESCORED)
        requests = [m.QueryRequest(query=[q.tolist()] if self.multivector else q.tolist(),
                                   limit=k, filter=flt, params=params,
                                   with_payload=payload_keys or True,
                                   with_vector=with_vectors) for q in queries]
        with self._engine("search"):
            rows = self._client.query_batch_points(self.collection, requests=requests)
        return [[(h.score, (h.payload or {}, h.vector)) for h in row.points] for row in rows]

    def _scroll(self, clause: Clause | None, offset: Any, limit: int, with_vectors: bool,
                ) -> tuple[list[Raw], Any]:
        with self._engine("scan"):
            recs, nxt = self._client.scroll(self.collection, scroll_filter=to_client(clause),
                                            limit=limit, offset=offset, with_payload=True,
                                            with_vectors=with_vectors)
        return [(r.payload or {}, r.vector) for r in recs], nxt

    def _create_index(self, key: str, type: IndexType) -> None:
        if not self._local:  # local mode has no payload indexes (and warns)
            with self._engine(f"indexing payload key {key!r}"):
                self._client.create_payload_index(self.collection, field_name=key,
                                                  field_schema=_SCHEMA[type], wait=True)

    def optimize(self) -> None:
        self._open()

    def read_meta(self) -> dict[str, Any]:
        with self._open()._engine("reading metadata"):
            meta = self._client.get_collection(self.collection).config.metadata or {}
        return json.loads(meta[META_KEY]) if META_KEY in meta else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        text = meta_json(meta)
        with self._open()._engine("writing metadata"):
            self._client.update_collection(self.collection, metadata={META_KEY: text})

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._client.close()
