"""Reference index: references and exclusion rules over a vector store, matched with calibration.

`ReferenceIndex` (reference_index.py) is the entry point; `MatchResult` (results.py) what a
match returns; exclusion rules in rules.py. The stores below it live in `stores/`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surematch.index.stores import IndexLocation, open_store
from surematch.index.stores.filters import parse_cli_filter, parse_filter
from surematch.index.stores.points import MAX_PAYLOAD_BYTES, RESERVED_KEY
from surematch.index.stores.protocol import Hit, IndexType, StoredPoint, VectorStore

if TYPE_CHECKING:
    from surematch.index.reference_index import ReferenceIndex

__all__ = ["MAX_PAYLOAD_BYTES", "RESERVED_KEY", "Hit", "IndexLocation", "IndexType",
           "ReferenceIndex", "StoredPoint", "VectorStore", "open_store", "parse_cli_filter",
           "parse_filter"]


def __getattr__(name: str) -> object:
    """ReferenceIndex loads torch (through the model): only when first asked for."""
    if name == "ReferenceIndex":
        from surematch.index.reference_index import ReferenceIndex

        return ReferenceIndex
    raise AttributeError(name)
