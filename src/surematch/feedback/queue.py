"""What to review next: the review queue (one item per normalised query, ordered by the traffic a
review would settle), the band-edge order, and a seeded audit sampler.

The audit sample is a random sample of every query's top match, whatever its band: a random
sample of all top matches certifies a band at any cut-off, including below the current one,
and its auto-accepted part is the running proof of auto-accept precision (`audit_reviews`)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from surematch.data.text_keys import text_key
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


Order = Literal["traffic", "edge", "random"]
ORDERS: tuple[str, ...] = ("traffic", "edge", "random")
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class QueueItem:
    """One query awaiting a review: its latest text and top match (`id`, `text`,
    `probability`, `band`, the first candidates), how often its key was seen and when last,
    whether it is an audit draw, and the references reviews disagree on (a conflict)."""

    key: str
    query: str
    id: str | None
    text: str | None
    probability: float | None
    band: str | None
    candidates: list[dict[str, Any]]
    count: int = 1
    first_seen: float = 0.0
    last_seen: float = 0.0
    audit: bool = False
    conflict: list[str] = field(default_factory=list)

    @property
    def settles(self) -> float:
        """The traffic a review would settle: count x (1 - probability of the top match)."""
        return self.count * (1.0 - min(1.0, max(0.0, self.probability or 0.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "key": self.key, "id": self.id, "text": self.text,
                "probability": self.probability, "band": self.band,
                "candidates": self.candidates, "count": self.count,
                "first_seen": self.first_seen, "last_seen": self.last_seen,
                "audit": self.audit, "conflict": self.conflict, "settles": self.settles}


def _rank_key(key: str, seed: int) -> bytes:
    return hashlib.sha256(f"order\x00{seed}\x00{key}".encode()).digest()


def order_items(items: Sequence[QueueItem], order: Order = "traffic",
                accept_at: Cutoff = None, reject_below: Cutoff = None, seed: int = 0,
                ) -> list[QueueItem]:
    """Audit items first (oldest first: each a random draw, none to skip), then conflicts,
    then the rest by `order`: "traffic" (most traffic settled first, `QueueItem.settles`),
    "edge" (nearest a band edge first, `review_order`) or "random" (a seeded shuffle)."""
    if order not in ORDERS:
        raise InputError(f"must be one of {list(ORDERS)}, got {order!r}", field="order")
    audits = sorted((i for i in items if i.audit), key=lambda i: i.first_seen)
    conflicts = [i for i in items if i.conflict and not i.audit]
    rest = [i for i in items if not i.audit and not i.conflict]
    if order == "traffic":
        rest.sort(key=lambda i: (-i.settles, -i.last_seen))
    elif order == "random":
        rest.sort(key=lambda i: _rank_key(i.key, seed))
    elif rest:
        probs = [min(1.0, max(0.0, float(i.probability or 0.0))) for i in rest]
        rest = [rest[j] for j in review_order(probs, accept_at, reject_below)]
    return audits + conflicts + rest


class ReviewQueue:
    """The queries awaiting a review, one item per normalised query (`text_key`: case,
    spacing, punctuation, plural s), thread-safe. A match result enters it when its top match
    is in the review band or is drawn for audit (`audit_draw`, `audit_fraction` of the keys,
    whatever their band); seen again, its count grows and its top match is the latest. An
    item leaves once a review resolves it (`resolve`); past `max_items` the least recently
    seen goes."""

    def __init__(self, audit_fraction: float = 0.02, seed: int = 0,
                 max_items: int = MAX_ITEMS) -> None:
        audit_draw("", audit_fraction)  # checks the fraction
        self.audit_fraction, self.seed, self.max_items = audit_fraction, seed, max_items
        self._items: OrderedDict[str, QueueItem] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def observe(self, results: Iterable[Mapping[str, Any]], now: float | None = None) -> None:
        """Take match results ({"query", "matches": [{"id", "text", "probability", "band"},
        ...]}, best first, as `MatchResult.to_dict` gives them)."""
        now = time.time() if now is None else now
        with self._lock:
            for result in results:
                query, matches = str(result["query"]), list(result["matches"])
                key = text_key(query)
                if not key:
                    continue
                top = matches[0] if matches else {}
                old = self._items.get(key)
                audit = old.audit if old is not None else bool(matches) and audit_draw(
                    f"{key}\x00{top['id']}", self.audit_fraction, self.seed)
                conflict = old.conflict if old is not None else []
                if top.get("band") != "review" and not audit and not conflict:
                    if old is not None:
                        del self._items[key]  # no longer in question
                    continue
                item = QueueItem(
                    key, query, top.get("id"), top.get("text"), top.get("probability"),
                    top.get("band"),
                    [{"id": c["id"], "text": c.get("text"), "probability": c.get("probability"),
                      "band": c.get("band")} for c in matches[:10]],
                    (old.count + 1) if old is not None else 1,
                    old.first_seen if old is not None else now, now, audit, conflict)
                self._items[key] = item
                self._items.move_to_end(key)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)

    def conflict(self, query: str, references: Sequence[str], now: float | None = None) -> None:
        """Queue a query that reviews give to several references, for a second look."""
        key, now = text_key(query), time.time() if now is None else now
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                self._items[key] = replace(old, conflict=list(references), last_seen=now)
            else:
                self._items[key] = QueueItem(key, query, None, None, None, None, [],
                                             first_seen=now, last_seen=now,
                                             conflict=list(references))
            self._items.move_to_end(key)

    def resolve(self, query: str) -> QueueItem | None:
        """Take the query's item out (a review resolved it); the item, None if none."""
        with self._lock:
            return self._items.pop(text_key(query), None)

    def forget_reference(self, ref_id: str) -> None:
        """Drop the items whose top match is a deleted reference."""
        with self._lock:
            for key in [k for k, i in self._items.items() if i.id == ref_id]:
                del self._items[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def items(self, limit: int | None = None, order: Order = "traffic",
              accept_at: Cutoff = None, reject_below: Cutoff = None) -> list[QueueItem]:
        """Up to `limit` items in review order (`order_items`)."""
        with self._lock:
            items = list(self._items.values())
        ordered = order_items(items, order, accept_at, reject_below, self.seed)
        return ordered if limit is None else ordered[:limit]
