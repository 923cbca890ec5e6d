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

import contextlib
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from surematch.data import References
from surematch.embedder import Embedder
from surematch.errors import InputError, SurematchError
from surematch.index.applied_calibration import Calibration
from surematch.index.embed_ahead import embed_ahead
from surematch.index.exact_texts import ExactTexts
from surematch.index.matcher import check_queries, match_vectors
from surematch.index.model_binding import bind_model
from surematch.index.payloads import (
    auto_index,
    check_count,
    check_references,
    check_text,
    unique_texts,
)
from surematch.index.results import MatchResult, Reference
from surematch.index.rules import Rule, RuleBook, new_rule
from surematch.index.stores import IndexLocation, open_store
from surematch.index.stores.base import BaseStore
from surematch.index.stores.filters import parse_filter, type_mismatches
from surematch.index.stores.points import check_id
from surematch.index.text_rows import (
    CONFIDENCES_KEY,
    KINDS_KEY,
    REVIEWED_KEY,
    TEXT_KEY,
    TEXT_KEYS,
    TEXTS_KEY,
    TextRows,
    split_payload,
)
from surematch.index.text_rows import provenance as provenance_of
from surematch.logs import progress_bar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """References checked and embedded, not yet written (`ReferenceIndex.prepare`): those
    stored already with the same texts and payload are left out. `pending` leaves `vectors`
    empty (someone else embeds them)."""

    ids: list[str]
    texts: list[list[tuple[str, str]]]
    payloads: list[dict[str, Any]]
    vectors: np.ndarray  # [sum of each reference's texts, D]
    given: int  # references asked for, those left out included
    confidence: np.ndarray | None = None  # [sum of texts]: embedding confidence, if any
    positions: tuple[int, ...] = ()  # each one's row in the references asked for


class ReferenceIndex:
    """References and exclusion rules in two collections, bound to the model that embeds them."""

    def __init__(self, location: IndexLocation, model: Embedder, *,
                 search_ef: int | None = None, create: bool,
                 min_probability: float | None = None) -> None:
        self.location, self.model = location, model
        self.target = location.target
        # a damaged calibration fails before any lock
        self.calibration = Calibration.of(model, min_probability)
        if not create:
            location.require()
        self.store = open_store(location, model.dim if create else None, multivector=True)
        try:
            if search_ef is not None:
                self.store.search_ef = search_ef
            bind_model(self.store, model, self.target)
            self.text_rows = TextRows(self.store)
            self.exact = ExactTexts(self.store, self.text_rows)  # queries equal to a text
            self.version = 0  # writes through this object: a result cache's generation
            self._runtime_noted = False  # this model's runtime is in the meta's `runtimes`
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
             api_key: str | None = None, search_ef: int | None = None,
             min_probability: float | None = None) -> ReferenceIndex:
        """Open an existing index; SurematchError if none is there or another model built it.
        `min_probability`: another per-match floor for the accept band than the calibrated
        one (a higher floor auto-accepts fewer)."""
        return cls(_location(where, api_key), model, search_ef=search_ef, create=False,
                   min_probability=min_probability)

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
        ids, texts, payloads = self._checked(references)
        self.index_payloads(payloads)
        written = done = 0

        def todo() -> Iterator[tuple[int, list[int]]]:
            """(references in the batch, those not stored already with the same texts)."""
            for start, end in _batches([len(t) for t in texts], batch_size):
                same = self._stored_as(ids[start:end], texts[start:end], payloads[start:end])
                yield end - start, [n for n, s in zip(range(start, end), same, strict=True)
                                    if not s]

        def embed(batch: tuple[int, list[int]]) -> tuple[np.ndarray, np.ndarray | None] | None:
            flat = [text for n in batch[1] for text, _ in texts[n]]
            return self._embed_texts(flat, batch_size) if flat else None

        with progress_bar(progress, len(ids), "embedding references") as advance:
            # the next batch is embedded while this one is written
            for (size, kept), embedded in embed_ahead(todo(), embed):
                if embedded is not None:
                    self._write([ids[n] for n in kept], [texts[n] for n in kept],
                                [payloads[n] for n in kept], *embedded)
                written, done = written + len(kept), done + size
                advance(size)
                log.debug("stored %d of %d references", done, len(ids))
        if written < len(ids):
            log.info("%d of %d references were stored already with the same texts and "
                     "payload: not embedded again", len(ids) - written, len(ids))
        return written

    def _checked(self, references: References
                 ) -> tuple[list[str], list[list[tuple[str, str]]], list[dict[str, Any]]]:
        ids, texts, payloads = check_references(references, TEXT_KEYS)
        if not self.store.multivector:
            for i, pairs in zip(ids, texts, strict=True):
                if len(pairs) > 1:
                    raise SurematchError(_one_vector_index(self.target, i))
        return ids, texts, payloads

    def index_payloads(self, payloads: list[dict[str, Any]], at_most: int | None = None,
                       ) -> dict[str, str]:
        """Create payload indexes for the new top-level keys of these payloads (at most
        `at_most` now; LIMITS.payload_indexes in all) and record them; returns those made."""
        meta = self.store.read_meta()
        if new := auto_index(self.store, payloads, meta.get("payload_indexes", {}), at_most):
            self.store.write_meta({**meta, "payload_indexes": {**meta.get(
                "payload_indexes", {}), **new}})
        return new

    def pending(self, references: References,
                reading: AbstractContextManager[Any] | None = None) -> Prepared:
        """Check references and leave out those stored already with the same texts and
        payload, embedding nothing (`vectors` empty; `positions` says which are left). The
        store is read under `reading`, e.g. the server's read lock."""
        ids, texts, payloads = self._checked(references)
        with reading or contextlib.nullcontext():
            same = self._stored_as(ids, texts, payloads)
        todo = [n for n, done in enumerate(same) if not done]
        return Prepared([ids[n] for n in todo], [texts[n] for n in todo],
                        [payloads[n] for n in todo], np.zeros((0, self.store.dim), np.float32),
                        len(ids), None, tuple(todo))

    def prepare(self, references: References, batch_size: int = 256,
                reading: AbstractContextManager[Any] | None = None) -> Prepared:
        """Check and embed references, writing nothing (`write_prepared` stores them): a
        server embeds outside its write lock (see `pending`)."""
        pending = self.pending(references, reading)
        flat = [text for pairs in pending.texts for text, _ in pairs]
        if not flat:
            return pending
        vectors, confidence = self._embed_texts(flat, batch_size)
        return replace(pending, vectors=vectors, confidence=confidence)

    def write_prepared(self, prepared: Prepared) -> int:
        """Store prepared references (no payload index is made: see `index_payloads`);
        returns how many were written."""
        if prepared.ids:
            self._write(prepared.ids, prepared.texts, prepared.payloads, prepared.vectors,
                        prepared.confidence)
        return len(prepared.ids)

    def _stored_as(self, ids: list[str], texts: list[list[tuple[str, str]]],
                   payloads: list[dict[str, Any]]) -> list[bool]:
        """For each id: is it stored with exactly these texts (and kinds) and payload?"""
        return [point is not None and split_payload(point.payload) == (payload, pairs)
                for point, pairs, payload in zip(self.store.get(ids), texts, payloads,
                                                 strict=True)]

    def _embed_texts(self, texts: list[str], batch_size: int = 256,
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows [n, D] of texts, and their embedding confidence [n] if the model has one."""
        if not self.model.has_confidence:
            return np.asarray(self.model.embed(texts, batch_size=batch_size)), None
        vectors, confidence = self.model.embed_with_confidence(texts, batch_size=batch_size)
        return np.asarray(vectors), np.asarray(confidence)

    def _write(self, ids: list[str], texts: list[list[tuple[str, str]]],
               payloads: list[dict[str, Any]], vectors: np.ndarray,
               confidence: np.ndarray | None = None) -> None:
        """Store references whose texts, in order, are the rows of vectors [sum n_i, D]
        (with their embedding confidence [sum n_i], kept in the payload, when given)."""
        self._note_runtime()
        if not self.store.multivector:
            self.store.upsert(ids, vectors, [{**p, TEXT_KEY: pairs[0][0]} for p, pairs in
                                             zip(payloads, texts, strict=True)])
            self._changed(ids)
            return
        bounds = np.cumsum([0, *(len(pairs) for pairs in texts)])
        rows = [vectors[a:b] for a, b in itertools.pairwise(bounds)]
        sure = [{} if confidence is None else {CONFIDENCES_KEY: confidence[a:b].tolist()}
                for a, b in itertools.pairwise(bounds)]
        self.store.upsert(ids, rows, [
            {**p, TEXTS_KEY: [t for t, _ in pairs], KINDS_KEY: [k for _, k in pairs], **c}
            for p, pairs, c in zip(payloads, texts, sure, strict=True)])
        self._changed(ids)

    def _note_runtime(self) -> None:
        """Record in the meta (`runtimes`) that this model's runtime embeds rows written now,
        once per opened index; an index holding rows written before runtimes were recorded
        gets "unknown" first."""
        if self._runtime_noted:
            return
        meta = self.store.read_meta()
        seen = list(meta.get("runtimes") or ([] if not self.store.count() else ["unknown"]))
        if self.model.runtime not in seen:
            self.store.write_meta({**meta, "runtimes": [*seen, self.model.runtime]})
        self._runtime_noted = True

    @property
    def runtimes(self) -> list[str]:
        """The runtimes that embedded the stored rows (`_note_runtime`): [] for an empty
        index, ["unknown", ...] where some were written before runtimes were recorded."""
        recorded = self.store.read_meta().get("runtimes")
        if recorded is None:
            return ["unknown"] if self.store.count() else []
        return list(recorded)

    def add_texts(self, ref_id: str, texts: Sequence[str | tuple[str, str]],
                  provenance: Mapping[str, dict[str, Any]] | None = None) -> int:
        """Append texts to a stored reference: each a text (kind "synonym") or (text, kind).
        Only the new texts are embedded; one the reference holds already is skipped. Returns
        how many were added; InputError if the id is not stored. `provenance`: {text: where it
        came from} for reviewed texts (`feedback.learn`), kept in the payload beside them."""
        ref_id, pairs = self.check_texts(ref_id, texts)
        new = self.new_texts(ref_id, pairs)
        return self.write_texts(ref_id, new, self.embed_texts(new), provenance) if new else 0

    def check_texts(self, ref_id: str, texts: Sequence[str | tuple[str, str]],
                    ) -> tuple[str, list[tuple[str, str]]]:
        """(id, (text, kind) pairs) for `add_texts`, checked; the store is not read."""
        ref_id = check_id(ref_id)
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
            raise InputError("texts must be a non-empty list of texts or (text, kind) pairs",
                             field="texts")
        pairs = unique_texts([check_text(t, ref_id, f"texts[{n}]") for n, t in
                              enumerate(texts)])
        return ref_id, check_count(pairs, ref_id, "texts")

    def new_texts(self, ref_id: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The pairs whose text the stored reference lacks; InputError if it is not stored."""
        point = self.store.get([ref_id])[0]
        if point is None:
            raise InputError(f"no reference with id {ref_id!r}", field="id")
        have = {t for t, _ in split_payload(point.payload)[1]}
        return [(t, k) for t, k in pairs if t not in have]

    def embed_texts(self, pairs: list[tuple[str, str]]
                    ) -> dict[str, tuple[np.ndarray, float | None]]:
        """{text: (its row, its embedding confidence or None)} of checked pairs (a server
        embeds them outside its write lock)."""
        rows, confidence = self._embed_texts([t for t, _ in pairs])
        return {t: (row, None if confidence is None else float(confidence[n]))
                for n, ((t, _), row) in enumerate(zip(pairs, rows, strict=True))}

    def write_texts(self, ref_id: str, pairs: list[tuple[str, str]],
                    rows: dict[str, tuple[np.ndarray, float | None]],
                    provenance: Mapping[str, dict[str, Any]] | None = None) -> int:
        """Append the pairs the reference lacks, with their embedded `rows` (a pair without
        a row is left out) and the `provenance` of reviewed ones; how many."""
        point = self.store.get([ref_id], with_vectors=True)[0]
        if point is None:
            raise InputError(f"no reference with id {ref_id!r}", field="id")
        if not self.store.multivector:
            raise SurematchError(_one_vector_index(self.target, ref_id))
        payload, stored = split_payload(point.payload)
        have = {t for t, _ in stored}
        new = [(t, k) for t, k in pairs if t not in have and t in rows]
        if not new:
            return 0
        check_count(stored + new, ref_id, "texts")
        learned = {**provenance_of(point.payload),
                   **{t: dict(p) for t, p in (provenance or {}).items()
                      if t in {n for n, _ in new}}}
        if learned:
            payload = {**payload, REVIEWED_KEY: learned}
        assert point.vector is not None
        kept = point.payload.get(CONFIDENCES_KEY)  # (none in an index built before them)
        sure = [rows[t][1] for t, _ in new]
        self._write([ref_id], [stored + new], [payload],
                    np.vstack([point.vector, *(rows[t][0][None] for t, _ in new)]),
                    None if kept is None or any(c is None for c in sure) else
                    np.asarray([*kept, *sure], np.float32))
        return len(new)

    def delete_text(self, ref_id: str, text: str) -> bool:
        """Remove one text of a stored reference; False if the reference has no such text.
        Removing its last text is refused: delete the reference instead."""
        removed = remove_text(self.store, ref_id, text)
        self._changed([ref_id])
        return removed

    def delete(self, ids: Sequence[str]) -> int:
        """Remove references, each with all its texts, by id; returns how many existed."""
        deleted = self.store.delete(ids)
        self._changed(ids)
        return deleted

    def _changed(self, ids: Sequence[str]) -> None:
        """After a write: a new version, and the exact-text lookup read again for ids."""
        self.version += 1
        self.exact.refresh(list(ids))

    def get(self, ids: Sequence[str]) -> list[Reference | None]:
        """The references in the order asked (each with all its texts and their kinds), None
        where an id is not stored."""
        return [None if p is None else _reference(p) for p in self.store.get(ids)]

    def get_rows(self, ids: Sequence[str]) -> list[tuple[Reference, np.ndarray] | None]:
        """`get`, each reference with its stored rows [its texts, D] in the order of its
        texts (as the runtimes in `runtimes` embedded them)."""
        out: list[tuple[Reference, np.ndarray] | None] = []
        for p in self.store.get(ids, with_vectors=True):
            if p is None or p.vector is None:
                out.append(None)
                continue
            out.append((_reference(p), np.atleast_2d(np.asarray(p.vector, np.float32))))
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
            self.write_rules(rules, *self.embed_rules(rules))
        return [r.id for r in rules]

    def embed_rules(self, rules: Sequence[Rule]) -> tuple[np.ndarray, np.ndarray]:
        """(triggers [N, D], excluded texts [N, D]) embedded, for `write_rules`."""
        return (np.asarray(self.model.embed([r.trigger for r in rules])),
                np.asarray(self.model.embed([r.exclude for r in rules])))

    def write_rules(self, rules: Sequence[Rule], triggers: np.ndarray,
                    excludes: np.ndarray) -> None:
        """Store rules with their embedded texts (`embed_rules`)."""
        self.rules.add(rules, triggers, excludes)
        self.version += 1

    def add_rule(self, trigger: str, exclude: str, **options: Any) -> str:
        """One rule (options: id, trigger_similarity, exclude_similarity, note); its id."""
        return self.add_rules([new_rule(trigger, exclude, **options)])[0]

    def list_rules(self) -> list[Rule]:
        return self.rules.list()

    def delete_rules(self, ids: Sequence[str]) -> int:
        self.version += 1
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
        (a batch job embeds the next batch while this one is searched). A query equal to a
        stored text (`ExactTexts`) gets that text's row without running the encoder (for a
        model with an embedding confidence, that of the stored text)."""
        queries = list(queries)
        stored = self.exact.rows(queries, self.model.has_confidence)
        slow = [n for n, row in enumerate(stored) if row is None]
        if len(slow) == len(queries):
            vectors, confidence = self.model.embed_with_confidence(queries)
            return np.asarray(vectors), np.asarray(confidence)
        out = np.empty((len(queries), self.model.dim), np.float32)
        sure = np.ones(len(queries), np.float32)
        if slow:
            vectors, confidence = self.model.embed_with_confidence([queries[n] for n in slow])
            out[slow], sure[slow] = vectors, confidence
        for n, row in enumerate(stored):
            if row is not None:
                out[n], sure[n] = row
        return out, sure

    def match_embedded(self, queries: Sequence[Any], vectors: np.ndarray,
                       confidence: np.ndarray, k: int = 10,
                       filter: dict[str, Any] | None = None) -> list[MatchResult]:
        """`match_batch` of queries already embedded by `embed_queries`."""
        heads = self.exact.head_words() if "head" in self.calibration.evidence else None
        return match_vectors(self.store, self.rules, self.calibration, queries, vectors,
                             confidence, k, filter, self.text_rows, heads)

    def close(self) -> None:
        self.store.close()
        if hasattr(self, "rules"):
            self.rules.store.close()

    def __enter__(self) -> ReferenceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reference(point: Any) -> Reference:
    payload, texts = split_payload(point.payload)
    return Reference(point.id, texts[0][0], payload, texts, provenance_of(point.payload))


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
    sure = point.payload.get(CONFIDENCES_KEY)
    learned = {t: p for t, p in provenance_of(point.payload).items() if t != text}
    store.upsert([ref_id], [point.vector[keep]], [{
        **payload, TEXTS_KEY: [texts[n][0] for n in keep], KINDS_KEY: [texts[n][1] for n in keep],
        **({} if sure is None else {CONFIDENCES_KEY: [sure[n] for n in keep]}),
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
