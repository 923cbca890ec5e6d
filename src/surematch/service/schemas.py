"""Request bodies of the HTTP API, with the limits of the one table (`surematch/limits.py`:
ids, texts, k, texts per reference), refused with the messages the Python API gives.

Payloads and filters are checked by the store layer (index/stores/limits.py) before the
engine sees them; ids are stripped of surrounding spaces here and in the URL routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from surematch.limits import big_k, long_id, long_text


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("unicode", "holds a lone surrogate (not valid Unicode)"
                                  ) from None
    return value


def _text(value: str) -> str:
    if (too_long := long_text(value)) is not None:
        raise PydanticCustomError("too_long", too_long)
    return _unicode(value)


def _id(value: str) -> str:
    if (too_long := long_id(value)) is not None:
        raise PydanticCustomError("too_long", too_long)
    return _unicode(value)


def _k(value: int) -> int:
    if (too_big := big_k(value)) is not None:
        raise PydanticCustomError("too_large", too_big)
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                 AfterValidator(_text)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_id)]
K = Annotated[StrictInt, Field(ge=1), AfterValidator(_k)]  # true and "5" are not numbers


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


class TextIn(Strict):
    text: Text
    kind: str | None = None  # title, synonym or description (checked by the index); None:
    # the default for its place (a reference's first text is its title, the others synonyms)


class ReferenceIn(Strict):
    """A reference: `text` (its title), `texts` (further texts, strings or {"text", "kind"}),
    or both; with `texts` alone the first one is the title unless its kind says otherwise."""

    id: Id
    text: Text | None = None
    texts: list[Text | TextIn] | None = Field(default=None, min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_text(self) -> ReferenceIn:
        if self.text is None and not self.texts:
            raise ValueError("give text, texts or both")
        return self

    def pairs(self) -> list[tuple[str, str | None]]:
        """Every text with its kind (None: the default for its place)."""
        out: list[tuple[str, str | None]] = [] if self.text is None else [(self.text, None)]
        for t in self.texts or []:
            out.append((t, None) if isinstance(t, str) else (t.text, t.kind))
        return out


class TextsRequest(Strict):
    texts: list[Text | TextIn] = Field(min_length=1)


class ReferencesRequest(Strict):
    references: list[ReferenceIn] = Field(min_length=1)


class RuleRequest(Strict):
    trigger: Text
    exclude: Text
    id: Id | None = None
    trigger_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    exclude_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    note: Text | None = None


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
