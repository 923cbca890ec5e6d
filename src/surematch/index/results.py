"""What a match returns: matches with calibrated probability and band, as objects and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Reference:
    """One stored reference: the user's id, its first text, its payload, every text with
    its kind (the first text included), and where each reviewed text came from
    ({text: {"review", "reviewer", "time"}})."""

    id: str
    text: str
    payload: dict[str, Any]
    texts: list[tuple[str, str]] = field(default_factory=list)
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "payload": self.payload,
                "texts": [{"text": t, "kind": k,
                           **({"learned_from": self.provenance[t]} if t in self.provenance
                              else {})} for t, k in self.texts]}


@dataclass(frozen=True)
class Match:
    """One reference matched to a query; probability and band are None when uncalibrated.

    `text` is the reference's text nearest the query (its similarity is the match's), `kind`
    that text's kind (title, synonym, description)."""

    id: str
    text: str
    payload: dict[str, Any]
    similarity: float  # cosine similarity, higher is closer
    probability: float | None = None  # calibrated probability that this is the right match
    band: str | None = None  # "accept", "review" or "reject"
    kind: str | None = None  # the kind of `text`

    @property
    def percent(self) -> float | None:
        """The probability as a percentage (0 to 100), for people to read."""
        return None if self.probability is None else self.probability * 100.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "payload": self.payload,
                "similarity": self.similarity, "probability": self.probability,
                "percent": self.percent, "band": self.band, "kind": self.kind}


@dataclass(frozen=True)
class MatchResult:
    """The matches of one query, best first, and what the index decided about them.

    `no_match` (open set) is True when the top match's probability falls in the reject band,
    or, for an uncalibrated model, when nothing is returned.
    """

    query: str
    embedding_confidence: float
    matches: list[Match]
    rules_fired: list[str] = field(default_factory=list)
    # the query's embedding (float16), for the shift monitor; not part of the JSON answer
    embedding: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def no_match(self) -> bool:
        if not self.matches:
            return True
        return self.matches[0].band == "reject"

    @property
    def best(self) -> Match | None:
        """The top match, None when there is none or it is rejected."""
        return None if self.no_match else self.matches[0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md's /v1/match answer (plus query and no_match)."""
        return {"query": self.query, "matches": [m.to_dict() for m in self.matches],
                "embedding_confidence": self.embedding_confidence,
                "rules_fired": list(self.rules_fired), "no_match": self.no_match}
