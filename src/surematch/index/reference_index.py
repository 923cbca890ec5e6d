"""ReferenceIndex: references embedded by one model, with payloads, rules and calibrated matching.

    index = ReferenceIndex.create("my-index", model)      # a folder, or a Qdrant server URL
    index.add(read_references("refs.csv"))                # re-adding an id replaces it
    index.match("python developer", k=5, filter={"lang": "en"}).to_dict()
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surematch.data import References
from surematch.index.calibrated import Calibration
from surematch.index.matcher import TEXT_KEY, check_queries, match_vectors
from surematch.index.model_binding import bind_model
from surematch.index.payloads import auto_index, check_references, progress_bar
from surematch.index.results import MatchResult, Reference
from surematch.index.rules import Rule, RuleBook, new_rule
from surematch.index.stores import IndexLocation, open_store
from surematch.index.stores.filters import parse_filter, type_mismatches
from surematch.model import Embedder

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
        self.store = open_store(location, model.dim if create else None)
        try:
            if search_ef is not None:
                self.store.search_ef = search_ef
            bind_model(self.store, model, self.target)
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
        """Embed and store references in batches; an id stored already is replaced. Returns
        how many were written. Everything is checked before anything is embedded."""
        ids, texts, payloads = check_references(references, TEXT_KEY)
        meta = self.store.read_meta()
        if new := auto_index(self.store, payloads, meta.get("payload_indexes", {})):
            self.store.write_meta({**meta, "payload_indexes": {**meta.get(
                "payload_indexes", {}), **new}})
        with progress_bar(progress, len(ids), "embedding references") as advance:
            for start in range(0, len(ids), batch_size):
                end = start + batch_size
                vectors = self.model.embed(texts[start:end], batch_size=batch_size)
                self.store.upsert(ids[start:end], vectors, [
                    {**p, TEXT_KEY: t} for p, t in zip(payloads[start:end], texts[start:end],
                                                       strict=True)])
                advance(len(vectors))
                log.debug("stored %d of %d references", start + len(vectors), len(ids))
        return len(ids)

    def delete(self, ids: Sequence[str]) -> int:
        """Remove references by id; returns how many existed."""
        return self.store.delete(ids)

    def get(self, ids: Sequence[str]) -> list[Reference | None]:
        """The references in the order asked, None where an id is not stored."""
        return [None if p is None else Reference(p.id, p.payload.get(TEXT_KEY, ""), {
            k: v for k, v in p.payload.items() if k != TEXT_KEY}) for p in self.store.get(ids)]

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
        vectors, confidence = self.model.embed_with_confidence(list(queries))
        return match_vectors(self.store, self.rules, self.calibration, queries,
                             np.asarray(vectors), np.asarray(confidence), k, filter)

    def close(self) -> None:
        self.store.close()
        if hasattr(self, "rules"):
            self.rules.store.close()

    def __enter__(self) -> ReferenceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _location(where: IndexLocation | str | Path, api_key: str | None) -> IndexLocation:
    if isinstance(where, IndexLocation):
        return where
    return IndexLocation(str(where), api_key)
