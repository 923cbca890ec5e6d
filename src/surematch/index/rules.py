"""Neural exclusion rules: a query near a rule's trigger never matches references near its
excluded anchor. All rules together cost one vector search per query (batch).

A rule is stored as one point of the `rules` collection beside the references: its vector is
the embedded trigger text, its payload holds the texts, both radii, the note, and the
embedded excluded text as a list of floats (so firing rules need no second lookup).

Radii are cosine similarities; a point exactly on a radius is inside (`>=`, with a tolerance
of EDGE_TOLERANCE for float32 rounding). The defaults (0.8 / 0.8) fire on close paraphrases
of the trigger and drop near-duplicates of the excluded text; widen them (lower values) to
cover more.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surematch.errors import InputError
from surematch.index.stores.base import BaseStore

TRIGGER_SIMILARITY = 0.8
EXCLUDE_SIMILARITY = 0.8
RULES_FETCHED = 256  # rules looked at per query: its 256 nearest triggers (more never fire)
EDGE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Rule:
    """A query within trigger_similarity of `trigger` excludes results within
    exclude_similarity of `exclude`."""

    id: str
    trigger: str
    exclude: str
    trigger_similarity: float = TRIGGER_SIMILARITY
    exclude_similarity: float = EXCLUDE_SIMILARITY
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "trigger": self.trigger, "exclude": self.exclude,
                "trigger_similarity": self.trigger_similarity,
                "exclude_similarity": self.exclude_similarity, "note": self.note}


def new_rule(trigger: str, exclude: str, *, id: str | None = None,
             trigger_similarity: float | None = None, exclude_similarity: float | None = None,
             note: str | None = None) -> Rule:
    """A checked rule; missing radii take the defaults, a missing id is derived from the two
    texts (so adding the same rule twice replaces it)."""
    for name, text in (("trigger", trigger), ("exclude", exclude)):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"a rule's {name} must be non-empty text, got {text!r}", field=name)
    radii = []
    for name, value, default in (("trigger_similarity", trigger_similarity, TRIGGER_SIMILARITY),
                                 ("exclude_similarity", exclude_similarity, EXCLUDE_SIMILARITY)):
        value = default if value is None else value
        if isinstance(value, bool) or not isinstance(value, int | float) or not -1 < value <= 1:
            raise InputError(f"{name} must be a number in (-1, 1], got {value!r}", field=name)
        radii.append(float(value))
    if note is not None and not isinstance(note, str):
        raise InputError(f"a rule's note must be text, got {note!r}", field="note")
    digest = hashlib.sha1(f"{trigger}\0{exclude}".encode()).hexdigest()[:12]
    rule_id = id if id is not None else f"rule-{digest}"
    return Rule(rule_id, trigger, exclude, radii[0], radii[1], note)


class RuleBook:
    """The rules of one index, in their own store (vectors: embedded triggers [N, D])."""

    def __init__(self, store: BaseStore) -> None:
        self.store = store

    def add(self, rules: Sequence[Rule], triggers: np.ndarray, excludes: np.ndarray) -> None:
        """Store rules with their embedded triggers [N, D] and excluded texts [N, D];
        a rule whose id is stored already is replaced."""
        payloads = [{**r.to_dict(), "exclude_vector": v.astype(np.float32).tolist()}
                    for r, v in zip(rules, np.asarray(excludes), strict=True)]
        for p in payloads:
            p.pop("id")
        self.store.upsert([r.id for r in rules], triggers, payloads)

    def list(self) -> builtins.list[Rule]:
        return [_rule(p.id, p.payload) for p in self.store.scan()]

    def delete(self, ids: Sequence[str]) -> int:
        return self.store.delete(ids)

    def fired(self, queries: np.ndarray) -> builtins.list[builtins.list[tuple[Rule, np.ndarray]]]:
        """For each query [Q, D] the rules it triggers, with their excluded anchors [D].

        One batched search of the rules store, whatever the number of rules, returning only
        each rule's trigger radius; the rules that fire are then read whole (their excluded
        anchor is a vector in the payload, too large to hand over for every near rule)."""
        hits = self.store.search(queries, RULES_FETCHED, payload_keys=["trigger_similarity"])
        near = [[h for h in row if h.score >= h.payload["trigger_similarity"] - EDGE_TOLERANCE]
                for row in hits]
        ids = sorted({h.id for row in near for h in row})
        whole = {i: p for i, p in zip(ids, self.store.get(ids), strict=True) if p is not None}
        return [[(_rule(h.id, whole[h.id].payload),
                  np.asarray(whole[h.id].payload["exclude_vector"], np.float32))
                 for h in row if h.id in whole] for row in near]


def excluded(vectors: np.ndarray, fired: list[tuple[Rule, np.ndarray]],
             ) -> tuple[np.ndarray, list[str]]:
    """Which of the results vectors [N, D] the fired rules drop: mask [N], and the ids of the
    rules that dropped something or simply fired (every fired rule is listed)."""
    drop = np.zeros(len(vectors), dtype=bool)
    for rule, anchor in fired:
        if len(vectors):
            drop |= vectors @ anchor >= rule.exclude_similarity - EDGE_TOLERANCE
    return drop, [rule.id for rule, _ in fired]


def _rule(rule_id: str, payload: dict[str, Any]) -> Rule:
    return Rule(rule_id, payload["trigger"], payload["exclude"], payload["trigger_similarity"],
                payload["exclude_similarity"], payload.get("note"))
