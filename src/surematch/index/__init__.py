"""Vector storage: the store interface, its two Qdrant backends, and opening the right one.

    open_store("my-index", 384)                      embedded: folder my-index/references/
    open_store("my-index", 384, collection="rules")  a second collection: my-index/rules/
    open_store("https://qdrant.example:6333", 384, api_key=...)   a Qdrant server or cluster

The matching layer on top: `ReferenceIndex` (reference_index.py), `MatchResult` (results.py),
exclusion rules (rules.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from surematch.index.files import check_collection
from surematch.index.filters import parse_cli_filter, parse_filter
from surematch.index.points import MAX_PAYLOAD_BYTES, RESERVED_KEY
from surematch.index.store import Hit, IndexType, StoredPoint, VectorStore

if TYPE_CHECKING:
    from surematch.index.edge import EdgeStore
    from surematch.index.reference_index import ReferenceIndex
    from surematch.index.server import ServerStore

__all__ = ["MAX_PAYLOAD_BYTES", "RESERVED_KEY", "EdgeStore", "Hit", "IndexType", "ReferenceIndex",
           "ServerStore", "StoredPoint", "VectorStore", "open_store", "parse_cli_filter",
           "parse_filter"]


def open_store(path_or_url: str | Path, dim: int | None, *, api_key: str | None = None,
               collection: str = "references") -> VectorStore:
    """An http(s) URL opens that collection on a Qdrant server; anything else is a folder
    holding one embedded (qdrant_edge) store per collection, in `path/collection/`.

    dim=None opens an existing store with whatever dimension it has.
    """
    target = str(path_or_url)
    if target.startswith(("http://", "https://")):
        from surematch.index.server import ServerStore

        return ServerStore(url=target, api_key=api_key, collection=collection, dim=dim)
    from surematch.index.edge import EdgeStore

    return EdgeStore(Path(target) / check_collection(collection), dim)


def __getattr__(name: str) -> object:
    """EdgeStore, ServerStore and ReferenceIndex load their libraries only when first used."""
    if name == "EdgeStore":
        from surematch.index.edge import EdgeStore

        return EdgeStore
    if name == "ServerStore":
        from surematch.index.server import ServerStore

        return ServerStore
    if name == "ReferenceIndex":  # it loads torch (through the model): only when asked for
        from surematch.index.reference_index import ReferenceIndex

        return ReferenceIndex
    raise AttributeError(name)
