"""Reviews teach the index: an accepted or corrected query becomes a text of its reference.

An `accept` gives the review's query to the shown reference, a `correct` to the corrected one;
the text gets kind "reviewed" and its provenance (review id, reviewer, time) rides in the
index payload beside it, so it lasts and works with a Qdrant server too. Guardrails, all kept
by one idempotent step (`settle`) over the live reviews of the query's normalised key
(`text_key`: case, punctuation, plural s):

- a reference holding a text with that key already gets no second one;
- reviews that give the key to two different references (or more) teach neither: any text
  learned for it goes, and the query is a conflict for a second look;
- a later `reject` of a reference withdraws what earlier reviews gave it; a `reject` alone
  teaches nothing;
- undoing a review (`undo`) withdraws it, and `settle` applies what the others still say.

The index is anything with `get`, `add_texts(ref_id, pairs, provenance)` and `delete_text`
(`surematch.index.ReferenceIndex`; the benchmarks' in-memory index).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from surematch.confidence.evidence.lexical import REVIEWED
from surematch.data.text_keys import text_key
from surematch.errors import InputError
from surematch.feedback.store import FeedbackStore, Review


class LearnedReference(Protocol):
    """What `settle` reads of a stored reference."""

    @property
    def id(self) -> str: ...

    @property
    def texts(self) -> list[tuple[str, str]]: ...


class TextIndex(Protocol):
    """The index operations learning needs."""

    def get(self, ids: Sequence[str]) -> Sequence[LearnedReference | None]: ...

    def add_texts(self, ref_id: str, texts: Sequence[str | tuple[str, str]],
                  provenance: Any = None) -> int: ...

    def delete_text(self, ref_id: str, text: str) -> bool: ...


@dataclass(frozen=True)
class Learned:
    """What a review did to the index.

    outcome: "added" (the query is now a text of `reference`), "known" (the reference holds a
    text with its key already), "conflict" (reviews give it to several `references`: learned by
    none), "withdrawn" (no live review gives it to any reference now), "pending" (it should be
    added but no model was at hand to embed it), "off" (learning is turned off).
    `removed`: the reviewed texts taken out of references now."""

    outcome: str
    query: str
    reference: str | None = None
    references: list[str] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "removed": [{"id": i, "text": t} for i, t in self.removed]}


def provenance(review: Review) -> dict[str, Any]:
    """Where a learned text came from: {"review", "reviewer", "time"}."""
    return {"review": review.id, "reviewer": review.reviewer, "time": review.time}


def given(reviews: Iterable[Review], key: str) -> dict[str, Review]:
    """{reference: the latest live review giving it the key}: an accept gives the shown id,
    a correct the corrected id (a correct disagreeing with an earlier accept makes two: a
    conflict); a later reject of a reference takes back what was given to it."""
    out: dict[str, Review] = {}
    for r in reviews:
        if text_key(r.query) != key:
            continue
        if r.decision == "reject" and r.shown_id is not None:
            out.pop(r.shown_id, None)
        if r.expected_id is not None:
            out[r.expected_id] = r
    return out


def settle(index: TextIndex, reviews: Iterable[Review], query: str,
           places: Iterable[str | None] = (), can_add: bool = True) -> Learned:
    """Make the index say what the live `reviews` of the query's key say: the one reference
    they give it to holds it (added from the latest such review unless it holds a text with
    that key), no other reference holds a reviewed text with that key. `places`: further
    references that may hold one (those a review just undone named). `can_add` False: only
    removes (no model to embed with); an addition due is "pending"."""
    key = text_key(query)
    if not key:
        return Learned("withdrawn", query)
    support = given(reviews, key)
    target = next(iter(support)) if len(support) == 1 else None
    wanted = sorted({*support, *(p for p in places if p is not None)})
    removed: list[tuple[str, str]] = []
    held = False
    for ref in index.get(wanted):
        if ref is None:
            continue
        for text, kind in ref.texts:
            if text_key(text) != key:
                continue
            if ref.id == target:
                held = True
            elif kind == REVIEWED and len(ref.texts) > 1 and index.delete_text(ref.id, text):
                removed.append((ref.id, text))
    if len(support) > 1:
        return Learned("conflict", query, None, sorted(support), removed)
    if target is None:
        return Learned("withdrawn", query, None, [], removed)
    if held:
        return Learned("known", query, target, [target], removed)
    if not can_add:
        return Learned("pending", query, target, [target], removed)
    source = support[target]
    text = " ".join(source.query.split())
    index.add_texts(target, [(text, REVIEWED)], provenance={text: provenance(source)})
    return Learned("added", query, target, [target], removed)


def learn(index: TextIndex, store: FeedbackStore, review: Review) -> Learned:
    """Teach the index what a review just stored says (`settle` over the store's live
    reviews); a reject changes nothing unless it withdraws an earlier review's text."""
    return settle(index, store.reviews(), review.query,
                  (review.shown_id, review.corrected_id))


def undo(index: TextIndex | None, store: FeedbackStore, review_id: int,
         can_add: bool = True) -> tuple[Review, Learned | None]:
    """Undo a review by id: stored as undone, its text withdrawn and what the other live
    reviews of its query say applied (`settle`). InputError (field "id") for an unknown id.
    `index` None: only the store is changed."""
    review = store.undo(review_id)
    if review is None:
        raise InputError(f"no review with id {review_id}", field="id")
    if index is None:
        return review, None
    return review, settle(index, store.reviews(), review.query,
                          (review.shown_id, review.corrected_id), can_add)
