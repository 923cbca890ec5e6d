"""Our checked filters turned into the two Qdrant flavours: qdrant_edge's and qdrant-client's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from surematch.index.stores.filters import Clause, Condition


def _all(cond: Callable[[Condition | Clause], Any], items: tuple[Condition | Clause, ...],
         ) -> list[Any] | None:
    return [cond(c) for c in items] or None


def to_edge(clause: Clause | None) -> Any:
    """The filter as a `qdrant_edge.Filter` (None stays None)."""
    if clause is None:
        return None
    import qdrant_edge as qe

    def cond(c: Condition | Clause) -> Any:
        if isinstance(c, Clause):
            return to_edge(c)
        if c.kind == "range":
            return qe.FieldCondition(key=c.key, range=qe.RangeFloat(**c.value))
        if c.kind == "any":
            return qe.FieldCondition(key=c.key, match=qe.MatchAny(c.value))
        # qdrant_edge 0.9 reads a Python bool as the integer 0 or 1 (it tries int before bool),
        # which then matches no boolean; a numpy bool is read as a bool.
        value = np.bool_(c.value) if isinstance(c.value, bool) else c.value
        return qe.FieldCondition(key=c.key, match=qe.MatchValue(value))  # type: ignore[arg-type]

    return qe.Filter(must=_all(cond, clause.must), must_not=_all(cond, clause.must_not),
                     should=_all(cond, clause.should))


def to_client(clause: Clause | None) -> Any:
    """The filter as a `qdrant_client.models.Filter` (None stays None)."""
    if clause is None:
        return None
    from qdrant_client import models as m

    def cond(c: Condition | Clause) -> Any:
        if isinstance(c, Clause):
            return to_client(c)
        if c.kind == "range":
            return m.FieldCondition(key=c.key, range=m.Range(**c.value))
        match = m.MatchValue(value=c.value) if c.kind == "match" else m.MatchAny(any=c.value)
        return m.FieldCondition(key=c.key, match=match)

    return m.Filter(must=_all(cond, clause.must), must_not=_all(cond, clause.must_not),
                    should=_all(cond, clause.should))
