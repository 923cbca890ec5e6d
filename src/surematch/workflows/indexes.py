"""Build, change and query a reference index (a folder or a Qdrant server, see IndexLocation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.data import read_rules
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.results import MatchResult
from surematch.index.rules import Rule, RuleBook, new_rule
from surematch.index.stores import IndexLocation, open_store
from surematch.workflows.data import load_references


@dataclass(frozen=True)
class IndexResult:
    read: int  # references in the file
    added: int  # of those, written now (the others were stored already, unchanged)
    total: int  # references the index holds


def open_index(location: IndexLocation, model_dir: Path, *, create: bool = False,
               search_ef: int | None = None, runtime: str = DEFAULT_RUNTIME,
               cached: bool = False) -> Any:
    """The ReferenceIndex at `location` with the model of `model_dir` run by `runtime`
    (created if asked); `cached`: texts embedded before by calibrate, evaluate or index are
    read from the reference embedding cache (`cached_embedder.py`)."""
    from surematch.embedder import Embedder
    from surematch.index.reference_index import ReferenceIndex
    from surematch.loader import load_model

    model: Embedder = load_model(model_dir, runtime)
    if cached:  # (imports the encoders, torch among them: not on the match path)
        from surematch.cached_embedder import CachedEmbedder

        model = CachedEmbedder(model)
    opener = ReferenceIndex.create if create else ReferenceIndex.open
    return opener(location, model, search_ef=search_ef)


def add_references(model_dir: Path, refs_path: Path, location: IndexLocation, *,
                   fmt: str = "references", columns: dict[str, str] | None = None,
                   batch_size: int = 256, optimize: bool = True,
                   runtime: str = DEFAULT_RUNTIME) -> IndexResult:
    """Read references (checked before anything is embedded), embed them with `runtime`
    and store them; references stored already with the same texts are skipped, so a rerun
    after an interruption embeds only what is missing. `added` counts what was written."""
    refs = load_references(refs_path, fmt, columns)
    with open_index(location, model_dir, create=True, runtime=runtime, cached=True) as index:
        written = index.add(refs, batch_size=batch_size)
        if optimize:
            index.optimize()
        return IndexResult(len(refs), written, index.count())


def delete_references(location: IndexLocation, ids: Sequence[str]) -> int:
    """Remove references by id from an existing index; how many existed."""
    location.require()
    with open_store(location, None) as store:
        return store.delete(ids)


def add_texts(model_dir: Path, location: IndexLocation, ref_id: str, texts: Sequence[str],
              kind: str = "synonym", runtime: str = DEFAULT_RUNTIME) -> tuple[int, int]:
    """Append texts (all of one kind) to a stored reference, embedding only the new ones:
    (how many were added, how many texts the reference holds now)."""
    from surematch.index.payloads import check_kind

    check_kind(kind, "--kind")  # before the model loads
    with open_index(location, model_dir, runtime=runtime) as index:
        added = index.add_texts(ref_id, [(t, kind) for t in texts])
        return added, len(index.get([ref_id])[0].texts)


def delete_text(location: IndexLocation, ref_id: str, text: str) -> int:
    """Remove one text of a stored reference (no model needed); how many texts it holds now.
    InputError if it has no such text, or if that is its last (delete the reference then)."""
    from surematch.errors import InputError
    from surematch.index.reference_index import remove_text
    from surematch.index.text_rows import split_payload

    location.require()
    with open_store(location, None) as store:
        if not remove_text(store, ref_id, text):
            raise InputError(f"reference {ref_id!r} has no text {text!r}", field="TEXT")
        point = store.get([ref_id])[0]
        assert point is not None
        return len(split_payload(point.payload)[1])


def rules_to_add(trigger: str | None, exclude: str | None, file: Path | None, *,
                 rule_id: str | None = None, trigger_similarity: float | None = None,
                 exclude_similarity: float | None = None, note: str | None = None
                 ) -> list[Rule]:
    """One rule (TRIGGER EXCLUDE and options) or every rule of a rules file, checked."""
    from surematch.errors import InputError

    if (file is None) == (trigger is None or exclude is None):
        raise InputError("give either TRIGGER EXCLUDE or --file RULES")
    if file is not None:
        rs = read_rules(file)
        return [new_rule(t, e, id=i, trigger_similarity=ts, exclude_similarity=es, note=n)
                for t, e, i, ts, es, n in zip(rs.triggers, rs.excludes, rs.ids,
                                              rs.trigger_similarity, rs.exclude_similarity,
                                              rs.notes, strict=True)]
    return [new_rule(str(trigger), str(exclude), id=rule_id, note=note,
                     trigger_similarity=trigger_similarity,
                     exclude_similarity=exclude_similarity)]


def add_rules(model_dir: Path, location: IndexLocation, rules: list[Rule]) -> list[str]:
    """Embed and store rules in an existing index; their ids."""
    with open_index(location, model_dir) as index:
        return list(index.add_rules(rules))


def list_rules(location: IndexLocation) -> list[Rule]:
    location.require("rules")
    with open_store(location, None, collection="rules") as store:
        return RuleBook(store).list()


def delete_rules(location: IndexLocation, ids: Sequence[str]) -> int:
    location.require("rules")
    with open_store(location, None, collection="rules") as store:
        return store.delete(ids)


def match(model_dir: Path, location: IndexLocation, queries: list[str], k: int = 10,
          filter: dict[str, Any] | None = None, search_ef: int | None = None,
          runtime: str = DEFAULT_RUNTIME) -> list[MatchResult]:
    """Match each query against the index: calibrated matches after rules."""
    return match_warned(model_dir, location, queries, k, filter, search_ef, runtime)[0]


def match_warned(model_dir: Path, location: IndexLocation, queries: list[str], k: int = 10,
                 filter: dict[str, Any] | None = None, search_ef: int | None = None,
                 runtime: str = DEFAULT_RUNTIME) -> tuple[list[MatchResult], list[str]]:
    """`match`, and the filter's type warnings (a value whose type its key never holds)."""
    from surematch.index.stores.filters import parse_filter

    parse_filter(filter)  # a bad filter fails before the model is loaded
    with open_index(location, model_dir, search_ef=search_ef, runtime=runtime) as index:
        return list(index.match_batch(queries, k, filter)), index.filter_warnings(filter)
