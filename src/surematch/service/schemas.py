"""Request bodies of the HTTP API, with their limits (k 1..100, texts up to 2000 characters).

Payloads and filters are checked by the store layer (index/stores/limits.py) before the
engine sees them; ids are stripped of surrounding spaces here and in the URL routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
K = Annotated[StrictInt, Field(ge=1, le=100)]  # true and "5" are not numbers


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchRequest(Strict):
    """One query (`query`) or a batch (`queries`); `filter` is a DESIGN.md payload filter."""

    query: Text | None = None
    queries: list[Text] | None = Field(default=None, min_length=1)
    k: K = 10
    filter: dict[str, Any] | None = None


class VerifyRequest(Strict):
    a: Text
    b: Text


class ReferenceIn(Strict):
    id: Id
    text: Text
    payload: dict[str, Any] = Field(default_factory=dict)


class ReferencesRequest(Strict):
    references: list[ReferenceIn] = Field(min_length=1)


class RuleRequest(Strict):
    trigger: Text
    exclude: Text
    id: Id | None = None
    trigger_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    exclude_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    note: str | None = Field(default=None, max_length=2000)


class FeedbackRequest(Strict):
    """{"query", "decision": accept|reject|correct, "shown_id", "corrected_id"?, "candidates"?,
    "audit"?}; the older {"query", "id", "accepted"} still works (true: accept)."""

    query: Text
    decision: str | None = None
    shown_id: Id | None = None
    corrected_id: Id | None = None
    candidates: list[Any] = Field(default_factory=list, max_length=100)
    audit: StrictBool = False
    id: Id | None = None
    accepted: StrictBool | None = None


class RefitRequest(Strict):
    """Optional settings of POST /v1/calibration/refit (the current bands' targets by default)."""

    target_precision: float | None = Field(default=None, gt=0.0, lt=1.0)
    max_miss: float | None = Field(default=None, gt=0.0, lt=1.0)
    confidence: float | None = Field(default=None, gt=0.0, lt=1.0)
    seed: StrictInt = 0
