"""What the app holds while it runs: model, index, locks, the feedback store, the review queue,
the traffic meter and the running audit of auto-accept precision."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from surematch.confidence.certification.targets import DEFAULT_TARGETS
from surematch.confidence.evidence.lexical import REVIEWED
from surematch.feedback import (
    AuditResult,
    FeedbackStore,
    Learned,
    Review,
    ReviewQueue,
    TrafficMeter,
    audit_reviews,
    learn,
    undo,
)
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.applied_calibration import Calibration
from surematch.index.reference_index import ReferenceIndex
from surematch.index.result_cache import ResultCache
from surematch.index.stores import IndexLocation
from surematch.loader import load_model
from surematch.service.batching import MicroBatcher
from surematch.service.drift import DriftWatch
from surematch.service.indexer import PayloadIndexer
from surematch.service.rwlock import ReadWriteLock
from surematch.workflows.feedback import calibration_id

AUDIT_FRACTION = 0.02
LEGACY_LOG = "feedback.jsonl"
RESULT_CACHE = 10_000  # recent results kept for repeated queries
log = logging.getLogger("surematch.service")


class ServiceState:
    """One loaded model and its opened index; matches read-lock, writes write-lock the index."""

    def __init__(self, model_dir: Path, index_dir: str | None, qdrant_url: str | None = None,
                 qdrant_api_key: str | None = None, search_ef: int | None = None,
                 runtime: str = DEFAULT_RUNTIME, audit_fraction: float = AUDIT_FRACTION,
                 labelled_queries: Path | None = None, batch_window_ms: float = 3.0,
                 min_probability: float | None = None, learn_texts: bool = True) -> None:
        self.model_dir = Path(model_dir)
        self.model = load_model(self.model_dir, runtime)
        self.location = IndexLocation.of(index_dir, qdrant_url, qdrant_api_key)
        self.min_probability = min_probability  # None: each calibration's own floor
        self.index = ReferenceIndex.open(self.location, self.model, search_ef=search_ef,
                                         min_probability=min_probability)
        self.lock = ReadWriteLock()
        self.indexer = PayloadIndexer(self.index)  # payload indexes, off the path and lock
        self.labelled_queries = labelled_queries
        feedback_dir = self.location.folder or self.model_dir
        self.feedback = FeedbackStore(feedback_dir)
        _import_legacy(self.feedback, feedback_dir / LEGACY_LOG)
        self.calibration_id = calibration_id(self.model_dir)
        self._review_lock = threading.Lock()
        self._deletions, self._deleted = 0, deque[tuple[int, str]](maxlen=10_000)
        self.queue = ReviewQueue(audit_fraction)
        self.traffic = TrafficMeter()
        self.learn_texts = learn_texts  # reviews teach the index (`feedback.learn`)
        self.learn_lock = threading.Lock()
        self.refit_lock = threading.Lock()
        self.audit = self.check_audit(log_alarm=False)
        self.drift = DriftWatch(self.model_dir)
        # concurrent single-query matches arriving within the window run as one batch
        self.batcher = MicroBatcher(self.match_many, window_ms=batch_window_ms, name="match")
        # recent results by (query key, k, filter), while index version and calibration hold
        self.results = ResultCache(RESULT_CACHE)

    @property
    def audit_fraction(self) -> float:
        """The share of query keys the queue samples for audit, whatever their band."""
        return self.queue.audit_fraction

    @audit_fraction.setter
    def audit_fraction(self, value: float) -> None:
        self.queue.audit_fraction = value

    @property
    def match_calibration(self) -> Any | None:
        """The MatchCalibration the index applies now (None: uncalibrated)."""
        return self.index.calibration.fitted

    def swap_calibration(self, calibration: Any) -> None:
        """Match with `calibration` from now on (already saved in the model folder)."""
        self.index.calibration = Calibration(calibration, self.min_probability)
        self.calibration_id = calibration_id(self.model_dir)
        self.results.clear()
        # queued items keep their counts; each one's probability and band are refreshed the
        # next time its query is matched. A fresh audit draw for each calibration, so a query
        # audited under the last one is not audited again and again
        self.queue.seed = int(self.calibration_id or "0", 16)
        self.audit = self.check_audit(log_alarm=False)
        self.drift.reset()

    def check_audit(self, log_alarm: bool = True) -> AuditResult:
        """Auto-accept precision from the audit reviews of auto-accepted top matches made under
        the current calibration, checked with the anytime alarm (false alarms under 5 %
        however often it is checked)."""
        cal = self.match_calibration
        target = (cal.bands.targets if cal is not None else DEFAULT_TARGETS).precision
        before = getattr(self, "audit", None)
        result = audit_reviews(self.feedback.reviews(audit=True), target,
                               calibration_id=self.calibration_id, anytime=True)
        if result.alarm and log_alarm and not (before is not None and before.alarm):
            log.warning("audit alarm: %s", result.message)
        self.audit = result
        return result

    def match_many(self, items: list[tuple[str, int, dict[str, Any] | None]]
                   ) -> list[dict[str, Any]]:
        """Match (query, k, filter) items, one batched search per distinct (k, filter);
        each result carries the filter's type warnings."""
        out: list[dict[str, Any]] = [{} for _ in items]
        embeddings: list[Any] = [None for _ in items]  # the shift monitor's content features
        groups: dict[str, list[int]] = {}
        for n, (_, k, spec) in enumerate(items):
            groups.setdefault(json.dumps([k, spec], sort_keys=True), []).append(n)
        with self.lock.read():
            generation = (self.index.version, self.calibration_id)
            for rows in groups.values():
                k, spec = items[rows[0]][1], items[rows[0]][2]
                warnings = self.index.filter_warnings(spec)
                keys = [self.results.key(items[n][0], k, spec) for n in rows]
                found = [self.results.get(key, items[n][0], generation)
                         for n, key in zip(rows, keys, strict=True)]
                todo: dict[Hashable, int] = {}  # a query repeated in the batch: matched once
                for n, key, result in zip(rows, keys, found, strict=True):
                    if result is None:
                        todo.setdefault(key if key is not None else n, n)
                new = dict(zip(todo, self.index.match_batch(
                    [items[n][0] for n in todo.values()], k, spec), strict=True))
                for slot, result in new.items():
                    if isinstance(slot, tuple):  # a text's key (not an image's row)
                        self.results.put(slot, result, generation)
                for n, key, result in zip(rows, keys, found, strict=True):
                    result = result or new[key if key is not None else n]
                    if result.query != items[n][0]:
                        result = replace(result, query=items[n][0])
                    out[n] = {**result.to_dict(), "warnings": warnings}
                    embeddings[n] = result.embedding
        self.drift.observe(out, embeddings)
        return out

    def remember_reviews(self, results: list[dict[str, Any]], since: int | None = None,
                         ) -> None:
        """Count these match results (`TrafficMeter`) and queue those in question
        (`ReviewQueue`: the review band, and an audit sample of all top matches, whatever
        their band: a random sample of the traffic certifies bands at any cut-off, below the
        current one too; its auto-accepted part is the running audit, `check_audit`). A
        reference deleted after the mark `since` (`deletions`) is left out of the queue: the
        match may have found it before the delete."""
        self.traffic.observe(results)
        with self._review_lock:
            gone = {i for _, i in itertools.takewhile(
                lambda e: since is not None and e[0] > since, reversed(self._deleted))}
        if gone:
            results = [{**r, "matches": [m for m in r["matches"] if m["id"] not in gone]}
                       for r in results]
        self.queue.observe(results)

    def deletions(self) -> int:
        """A mark taken before a match: `remember_reviews(since=mark)` leaves out the
        references deleted after it (the match may have found them before the delete)."""
        return self._deletions

    def review_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The queue (`order_items`): audit items first (each a random draw, none to skip),
        then conflicts, then the traffic a review would settle, most first."""
        cal = self.match_calibration
        bands = (cal.bands.accept_at, cal.bands.reject_below) if cal is not None else (None,
                                                                                         None)
        return [i.to_dict() for i in self.queue.items(limit, "traffic", *bands)]

    def forget_review(self, query: str) -> int:
        """Take the query's item out of the queue (a review resolved it); how many queries
        it stood for (0: none queued)."""
        item = self.queue.resolve(query)
        return 0 if item is None else item.count

    def forget_reference(self, ref_id: str) -> None:
        """Drop a deleted reference from the review queue, and from in-flight matches' results
        (see `deletions`)."""
        with self._review_lock:
            self._deletions += 1
            self._deleted.append((self._deletions, ref_id))
        self.queue.forget_reference(ref_id)

    def learn(self, review: Review) -> Learned:
        """What the review teaches the index (`feedback.learn`), under the index's write lock;
        a conflict goes to the queue. Learning off: nothing ("off")."""
        if not self.learn_texts:
            return Learned("off", review.query)
        rows = {}  # the text an accept or a correction adds, embedded with no lock held
        if review.decision in ("accept", "correct") and (text := " ".join(
                review.query.split())):
            rows = self.index.embed_texts([(text, REVIEWED)])
        with self.learn_lock, self.lock.write():
            learned = learn(_PreEmbedded(self.index, rows), self.feedback, review)
        if learned.outcome == "conflict":
            self.queue.conflict(review.query, learned.references)
        return learned

    def undo(self, review_id: int) -> tuple[Review, Learned | None]:
        """Undo a review by id: stored as undone, its learned text withdrawn (learning off:
        the store only). InputError for an unknown id."""
        with self.learn_lock, self.lock.write():
            review, learned = undo(self.index if self.learn_texts else None, self.feedback,
                                   review_id)
        self.check_audit()
        return review, learned

    def close(self) -> None:
        self.batcher.close()
        self.indexer.close()
        self.feedback.close()
        self.index.close()


class _PreEmbedded:
    """The index as `feedback.learn` sees it, adding texts embedded before the write lock was
    taken (`rows`); a text not among them (an older review's spelling) is embedded then."""

    def __init__(self, index: ReferenceIndex,
                 rows: dict[str, tuple[np.ndarray, float | None]]) -> None:
        self.index, self.rows = index, rows

    def get(self, ids: Sequence[str]) -> list[Any]:
        return self.index.get(ids)

    def delete_text(self, ref_id: str, text: str) -> bool:
        return self.index.delete_text(ref_id, text)

    def add_texts(self, ref_id: str, texts: Sequence[str | tuple[str, str]],
                  provenance: Mapping[str, dict[str, Any]] | None = None) -> int:
        ref_id, pairs = self.index.check_texts(ref_id, texts)
        new = self.index.new_texts(ref_id, pairs)
        if not new:
            return 0
        if all(text in self.rows for text, _ in new):
            return self.index.write_texts(ref_id, new, self.rows, provenance)
        return self.index.add_texts(ref_id, texts, provenance)


def _import_legacy(store: FeedbackStore, path: Path) -> None:
    """Import an older feedback.jsonl once; it is then renamed feedback.jsonl.imported."""
    if not path.is_file():
        return
    from surematch.feedback.legacy import import_feedback_log

    added = import_feedback_log(store, path)
    path.rename(path.with_name(path.name + ".imported"))
    log.info("imported %d reviews from %s into %s", added, path.name, store.path.name)
