"""ReferenceIndex: references embedded by one model, with payloads, rules and calibrated matching.

    index = ReferenceIndex.create("my-index", model)      # a folder, or a Qdrant server URL
    index.add(read_references("refs.csv"))                # re-adding an id replaces it
    index.add_texts("r1", [("python dev", "synonym")])    # more texts for a stored reference
    index.match("python developer", k=5, filter={"lang": "en"}).to_dict()

A reference is one point with one vector per text (a Qdrant multivector compared by MaxSim),
so its similarity to a query is that of its best text, and counting, filters, rules and
deletion stay per reference. The texts and their kinds ride in the point's payload, aligned
with its rows. An index built before this (one vector per point) opens, matches and deletes
as before; it refuses a second text for a reference (rebuild it to get them).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from surematch.data import References
from surematch.embedder import Embedder
from surematch.errors import InputError, SurematchError
from surematch.index.calibrated import Calibration
from surematch.index.matcher import check_queries, match_vectors
from surematch.index.model_binding import bind_model
from surematch.index.payloads import (
    auto_index,
    check_references,
    check_text,
    progress_bar,
    unique_texts,
)
from surematch.index.results import MatchResult, Reference
from surematch.index.rules import Rule, RuleBook, new_rule
from surematch.index.stores import IndexLocation, open_store
from surematch.index.stores.base import BaseStore
from surematch.index.stores.filters import parse_filter, type_mismatches
from surematch.index.stores.points import check_id
from surematch.index.text_rows import (
    KINDS_KEY,
    REVIEWED_KEY,
    TEXT_KEY,
    TEXT_KEYS,
    TEXTS_KEY,
    TextRows,
    split_payload,
)
from surematch.index.text_rows import provenance as provenance_of

log = logging.getLogger(__name__)


class ReferenceIndex:
    """References and exclusion rules in two collections, bound to the model that embeds them."""

    def __init__(self, location: IndexLocation, model: Embedder, *,
                 search_ef: int | None = None, create: bool) -> None:
        self.location, self.model = location, model
        self.target = location.target
        self.calibration = Calibration.of(model)  # a damaged calibration fails before any lock
        if not create:
            location.require()
        self.store = open_store(location, model.dim if create else None, multivector=True)
        try:
            if search_ef is not None:
                self.store.search_ef = search_ef
            bind_model(self.store, model, self.target)
            self.text_rows = TextRows(self.store)
            self.rules = RuleBook(open_store(location, self.store.dim, collection="rules"))
        except BaseException:
            self.store.close()
            raise

    @classmethod
    def create(cls, where: IndexLocation | str | Path, model: Embedder, *,
               api_key: str | None = None, search_ef: int | None = None) -> ReferenceIndex:
        """Create an index for this model, or open the one there if this model built it.

        `where`: an IndexLocation, or a folder or server URL (then `api_key` is the server's);
        search_ef: candidates each search examines (default SEARCH_EF, see VectorStore)."""
        return cls(_location(where, api_key), model, search_ef=search_ef, create=True)

    @classmethod
    def open(cls, where: IndexLocation | str | Path, model: Embedder, *,
             api_key: str | None = None, search_ef: int | None = None) -> ReferenceIndex:
        """Open an existing index; SurematchError if none is there or another model built it."""
        return cls(_location(where, api_key), model, search_ef=search_ef, create=False)

    @property
    def model_id(self) -> str:
        return str(self.store.read_meta()["model"])

    # -- references ------------------------------------------------------------------------
    def add(self, references: References, batch_size: int = 256, progress: bool = True) -> int:
        """Embed and store references with all their texts (batch_size texts embedded at a
        time); an id stored already is replaced. Returns how many references were written.
        Everything is checked before anything is embedded. A reference stored already with
        the same texts and payload is skipped, not embedded again, so rerunning an
        interrupted import only does what is missing."""
        ids, texts, payloads = check_references(references, TEXT_KEYS)
        if not self.store.multivector:
            for i, pairs in zip(ids, texts, strict=True):
                if len(pairs) > 1:
                    raise SurematchError(_one_vector_index(self.target, i))
        meta = self.store.read_meta()
        if new := auto_index(self.store, payloads, meta.get("payload_indexes", {})):
            self.store.write_meta({**meta, "payload_indexes": {**meta.get(
                "payload_indexes", {}), **new}})
        written = done = 0
        # (references in the batch, those to write, their embedding under way)
        pending: tuple[int, list[int], Future[np.ndarray] | None] | None = None
        with progress_bar(progress, len(ids), "embedding references") as advance, \
                ThreadPoolExecutor(1, thread_name_prefix="embed") as embedder:
            # the next batch is embedded (onnxruntime and torch release the GIL) while this
            # one is written
            for span in [*_batches([len(t) for t in texts], batch_size), None]:
                following = None
                if span is not None:
                    start, end = span
                    same = self._stored_as(ids[start:end], texts[start:end],
                                           payloads[start:end])
                    todo = [n for n, done in zip(range(start, end), same, strict=True)
                            if not done]
                    flat = [text for n in todo for text, _ in texts[n]]
                    following = (end - start, todo, embedder.submit(
                        self.model.embed, flat, batch_size=batch_size) if todo else None)
                if pending is not None:
                    size, todo, embedded = pending
                    if embedded is not None:
                        self._write([ids[n] for n in todo], [texts[n] for n in todo],
                                    [payloads[n] for n in todo],
                                    np.asarray(embedded.result()))
                    written, done = written + len(todo), done + size
                    advance(size)
                    log.debug("stored %d of %d references", done, len(ids))
                pending = following
        if written < len(ids):
            log.info("%d of %d references were stored already with the same texts and "
                     "payload: not embedded again", len(ids) - written, len(ids))
        return written

    def _stored_as(self, ids: list[str], texts: list[list[tuple[str, str]]],
                   payloads: list[dict[str, Any]]) -> list[bool]:
        """For each id: is it stored with exactly these texts (and kinds) and payload?"""
        return [point is not None and split_payload(point.payload) == (payload, pairs)
                for point, pairs, payload in zip(self.store.get(ids), texts, payloads,
                                                 strict=True)]

    def _write(self, ids: list[str], texts: list[list[tuple[str, str]]],
               payloads: list[dict[str, Any]], vectors: np.ndarray) -> None:
        """Store references whose texts, in order, are the rows of vectors [sum n_i, D]."""
        if not self.store.multivector:
            self.store.upsert(ids, vectors, [{**p, TEXT_KEY: pairs[0][0]} for p, pairs in
                                             zip(payloads, texts, strict=True)])
            return
        bounds = np.cumsum([0, *(len(pairs) for pairs in texts)])
        rows = [vectors[a:b] for a, b in itertools.pairwise(bounds)]
        self.store.upsert(ids, rows, [
            {**p, TEXTS_KEY: [t for t, _ in pairs], KINDS_KEY: [k for _, k in pairs]}
            for p, pairs in zip(payloads, texts, strict=True)])

    def add_texts(self, ref_id: str, texts: Sequence[str | tuple[str, str]],
                  provenance: Mapping[str, dict[str, Any]] | None = None) -> int:
        """Append texts to a stored reference: each a text (kind "synonym") or (text, kind).
        Only the new texts are embedded; one the reference holds already is skipped. Returns
        how many were added; InputError if the id is not stored. `provenance`: {text: where it
        came from} for reviewed texts (`feedback.learn`), kept in the payload beside them."""
        ref_id = check_id(ref_id)
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
            raise InputError("texts must be a non-empty list of texts or (text, kind) pairs",
                             field="texts")
        pairs = unique_texts([check_text(t, ref_id, f"texts[{n}]") for n, t in
                              enumerate(texts)])
        point = self.store.get([ref_id], with_vectors=True)[0]
        if point is None:
            raise InputError(f"no reference with id {ref_id!r}", field="id")
        if not self.store.multivector:
            raise SurematchError(_one_vector_index(self.target, ref_id))
        payload, stored = split_payload(point.payload)
        have = {t for t, _ in stored}
        new = [(t, k) for t, k in pairs if t not in have]
        if not new:
            return 0
        learned = {**provenance_of(point.payload),
                   **{t: dict(p) for t, p in (provenance or {}).items()
                      if t in {n for n, _ in new}}}
        if learned:
            payload = {**payload, REVIEWED_KEY: learned}
        rows = np.asarray(self.model.embed([t for t, _ in new]))
        assert point.vector is not None
        self._write([ref_id], [stored + new], [payload], np.vstack([point.vector, rows]))
        return len(new)

    def delete_text(self, ref_id: str, text: str) -> bool:
        """Remove one text of a stored reference; False if the reference has no such text.
        Removing its last text is refused: delete the reference instead."""
        return remove_text(self.store, ref_id, text)

    def delete(self, ids: Sequence[str]) -> int:
        """Remove references, each with all its texts, by id; returns how many existed."""
        return self.store.delete(ids)

    def get(self, ids: Sequence[str]) -> list[Reference | None]:
        """The references in the order asked (each with all its texts and their kinds), None
        where an id is not stored."""
        out: list[Reference | None] = []
        for p in self.store.get(ids):
            if p is None:
                out.append(None)
                continue
            payload, texts = split_payload(p.payload)
            out.append(Reference(p.id, texts[0][0], payload, texts, provenance_of(p.payload)))
        return out

    def count(self, filter: dict[str, Any] | None = None) -> int:
        return self.store.count(filter)

    def optimize(self) -> None:
        """Build the search graph now (embedded store: blocks, minutes for 100k references)."""
        self.store.optimize()

    # -- rules -----------------------------------------------------------------------------
    def add_rules(self, rules: Sequence[Rule]) -> list[str]:
        """Embed each rule's trigger and excluded text once and store the rules; their ids."""
        rules = list(rules)
        if rules:
            self.rules.add(rules, self.model.embed([r.trigger for r in rules]),
                           self.model.embed([r.exclude for r in rules]))
        return [r.id for r in rules]

    def add_rule(self, trigger: str, exclude: str, **options: Any) -> str:
        """One rule (options: id, trigger_similarity, exclude_similarity, note); its id."""
        return self.add_rules([new_rule(trigger, exclude, **options)])[0]

    def list_rules(self) -> list[Rule]:
        return self.rules.list()

    def delete_rules(self, ids: Sequence[str]) -> int:
        return self.rules.delete(ids)

    # -- matching --------------------------------------------------------------------------
    def match(self, query: Any, k: int = 10, filter: dict[str, Any] | None = None,
              ) -> MatchResult:
        """The k best references for one query, after rules, with probabilities and bands."""
        return self.match_batch([query], k, filter)[0]

    def filter_warnings(self, filter: dict[str, Any] | None) -> list[str]:
        """Why this filter would match nothing: a value whose type differs from what its key
        holds in this index (the number 2 for a key holding the string "2"); [] if none seen."""
        clause = parse_filter(filter)
        if clause is None:
            return []
        return type_mismatches(clause, self.store.read_meta().get("payload_indexes", {}))

    def match_batch(self, queries: Sequence[Any], k: int = 10,
                    filter: dict[str, Any] | None = None) -> list[MatchResult]:
        """Matches of each query; a filter that cannot match because of a type mismatch is
        logged as a warning (filter_warnings() gives the same lines)."""
        check_queries(queries, k)
        parse_filter(filter)  # a bad filter fails before anything is embedded
        for warning in self.filter_warnings(filter):
            log.warning("%s", warning)
        if not queries:
            return []
        return self.match_embedded(queries, *self.embed_queries(queries), k, filter)

    def embed_queries(self, queries: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings [Q, D] and embedding confidence [Q] of queries, for `match_embedded`
        (a batch job embeds the next batch while this one is searched)."""
        vectors, confidence = self.model.embed_with_confidence(list(queries))
        return np.asarray(vectors), np.asarray(confidence)

    def match_embedded(self, queries: Sequence[Any], vectors: np.ndarray,
                       confidence: np.ndarray, k: int = 10,
                       filter: dict[str, Any] | None = None) -> list[MatchResult]:
        """`match_batch` of queries already embedded by `embed_queries`."""
        return match_vectors(self.store, self.rules, self.calibration, queries, vectors,
                             confidence, k, filter, self.text_rows)

    def close(self) -> None:
        self.store.close()
        if hasattr(self, "rules"):
            self.rules.store.close()

    def __enter__(self) -> ReferenceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_text(store: BaseStore, ref_id: str, text: str) -> bool:
    """Remove one text (and its row) of reference ref_id in a references store; False if the
    reference has no such text. Needs no model: the other rows stay as they are."""
    ref_id = check_id(ref_id)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the text to delete must be non-empty, got {text!r}", field="text")
    point = store.get([ref_id], with_vectors=True)[0]
    if point is None:
        raise InputError(f"no reference with id {ref_id!r}", field="id")
    payload, texts = split_payload(point.payload)
    keep = [n for n, (t, _) in enumerate(texts) if t != text]
    if len(keep) == len(texts):
        return False
    if not keep:
        raise InputError(f"{text!r} is the last text of reference {ref_id!r}; delete the "
                         "reference instead", field="text")
    assert point.vector is not None and point.vector.ndim == 2  # several texts: multivector
    learned = {t: p for t, p in provenance_of(point.payload).items() if t != text}
    store.upsert([ref_id], [point.vector[keep]], [{
        **payload, TEXTS_KEY: [texts[n][0] for n in keep], KINDS_KEY: [texts[n][1] for n in keep],
        **({REVIEWED_KEY: learned} if learned else {})}])
    return True


def _one_vector_index(target: str, ref_id: str) -> str:
    return (f"index {target} was built with one text per reference; it cannot hold a second "
            f"text for {ref_id!r}. Rebuild it: `surematch index MODEL REFS --index NEW_DIR` "
            "into a new folder (or collection)")


def _batches(sizes: list[int], budget: int) -> list[tuple[int, int]]:
    """Consecutive (start, end) ranges of references whose texts add up to at most budget
    (a reference with more texts than that is a batch of its own)."""
    out, start, total = [], 0, 0
    for n, size in enumerate(sizes):
        if n > start and total + size > budget:
            out.append((start, n))
            start, total = n, 0
        total += size
    if start < len(sizes):
        out.append((start, len(sizes)))
    return out


def _location(where: IndexLocation | str | Path, api_key: str | None) -> IndexLocation:
    if isinstance(where, IndexLocation):
        return where
    return IndexLocation(str(where), api_key)
