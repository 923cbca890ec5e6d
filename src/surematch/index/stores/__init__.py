"""Vector stores: the store protocol, its two Qdrant backends, and the one place that decides
whether an index is a folder (embedded qdrant-edge) or a Qdrant server (URL).

    loc = IndexLocation.of(folder="my-index")                 embedded: my-index/references/
    loc = IndexLocation.of(url="https://qdrant.example:6333")  a Qdrant server or cluster
    open_store(loc, 384)                                       the references collection
    open_store(loc, 384, collection="rules")                   a second collection
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from surematch.errors import InputError, SurematchError
from surematch.index.stores.base import BaseStore
from surematch.index.stores.files import check_collection
from surematch.index.stores.protocol import Hit, IndexType, StoredPoint, VectorStore

__all__ = ["BaseStore", "Hit", "IndexLocation", "IndexType", "StoredPoint", "VectorStore",
           "open_store"]

_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class IndexLocation:
    """Where an index lives: a local folder, or a Qdrant server URL (with its API key)."""

    target: str
    api_key: str | None = None

    @classmethod
    def of(cls, folder: str | Path | None = None, url: str | None = None,
           api_key: str | None = None) -> IndexLocation:
        """Exactly one of a folder and a server URL; a folder given as an http(s) string is
        read as a URL too, so `IndexLocation.of(text)` accepts whatever a user typed."""
        if (folder is None) == (url is None):
            raise InputError("give exactly one of --index DIR and --qdrant-url URL",
                             field="--index")
        target = str(url if url is not None else folder)
        if url is not None and not target.startswith(_SCHEMES):
            raise InputError(f"a Qdrant URL starts with http:// or https://, got {url!r}",
                             field="--qdrant-url")
        return cls(target, api_key)

    @property
    def is_server(self) -> bool:
        return self.target.startswith(_SCHEMES)

    @property
    def folder(self) -> Path | None:
        """The index folder (None for a server): where files beside the index may live."""
        return None if self.is_server else Path(self.target)

    def exists(self, collection: str = "references") -> bool:
        """Whether the collection was created (a server is asked when it is opened)."""
        return self.is_server or (Path(self.target) / collection / "store.json").exists()

    def require(self, collection: str = "references") -> None:
        """SurematchError unless the collection exists (never creates one)."""
        if not self.exists(collection):
            raise SurematchError(f"no index in {self.target}; build one with `surematch index`")

    def __str__(self) -> str:
        return self.target


def open_store(location: IndexLocation | str | Path, dim: int | None, *,
               collection: str = "references", multivector: bool = False) -> BaseStore:
    """Open (dim given: create if absent) one collection of the index at `location`.

    dim=None opens an existing store with whatever dimension it has. multivector=True creates
    a store of [n, D] rows per point (MaxSim); an existing store stays what it was created as.
    """
    loc = location if isinstance(location, IndexLocation) else IndexLocation(str(location))
    if loc.is_server:
        from surematch.index.stores.server import ServerStore

        if multivector:
            return ServerStore(url=loc.target, api_key=loc.api_key, collection=collection,
                               dim=dim, multivector=True)
        return ServerStore(url=loc.target, api_key=loc.api_key, collection=collection, dim=dim)
    from surematch.index.stores.edge import EdgeStore

    path = Path(loc.target) / check_collection(collection)
    return EdgeStore(path, dim, multivector=True) if multivector else EdgeStore(path, dim)
