"""What the app holds while it runs: model, index, locks, the feedback store, the review queue
and the running audit of auto-accept precision."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path
from typing import Any

from surematch.feedback import AuditResult, FeedbackStore, audit_draw, audit_reviews, review_order
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.calibrated import Calibration
from surematch.index.reference_index import ReferenceIndex
from surematch.index.result_cache import ResultCache
from surematch.index.stores import IndexLocation
from surematch.loader import load_model
from surematch.service.batching import MicroBatcher
from surematch.service.drift import DriftWatch
from surematch.service.indexer import PayloadIndexer
from surematch.service.rwlock import ReadWriteLock
from surematch.workflows.feedback import calibration_id

REVIEW_QUEUE_SIZE = 200
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
                 min_probability: float | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.model = load_model(self.model_dir, runtime)
        self.location = IndexLocation.of(index_dir, qdrant_url, qdrant_api_key)
        self.min_probability = min_probability  # None: each calibration's own floor
        self.index = ReferenceIndex.open(self.location, self.model, search_ef=search_ef,
                                         min_probability=min_probability)
        self.lock = ReadWriteLock()
        self.indexer = PayloadIndexer(self.index, self.lock)  # payload indexes, off the path
        self.audit_fraction = audit_fraction
        self.labelled_queries = labelled_queries
        feedback_dir = self.location.folder or self.model_dir
        self.feedback = FeedbackStore(feedback_dir)
        _import_legacy(self.feedback, feedback_dir / LEGACY_LOG)
        self.calibration_id = calibration_id(self.model_dir)
        self.review: deque[dict[str, Any]] = deque(maxlen=REVIEW_QUEUE_SIZE)
        self._review_lock = threading.Lock()
        self._deletions, self._deleted = 0, deque[tuple[int, str]](maxlen=10_000)
        self.refit_lock = threading.Lock()
        self.audit = self.check_audit(log_alarm=False)
        self.drift = DriftWatch(self.model_dir)
        # concurrent single-query matches arriving within the window run as one batch
        self.batcher = MicroBatcher(self.match_many, window_ms=batch_window_ms, name="match")
        # recent results by (query key, k, filter), while index version and calibration hold
        self.results = ResultCache(RESULT_CACHE)

    @property
    def match_calibration(self) -> Any | None:
        """The MatchCalibration the index applies now (None: uncalibrated)."""
        return self.index.calibration.fitted

    def swap_calibration(self, calibration: Any) -> None:
        """Match with `calibration` from now on (already saved in the model folder)."""
        self.index.calibration = Calibration(calibration, self.min_probability)
        self.calibration_id = calibration_id(self.model_dir)
        self.results.clear()
        with self._review_lock:
            self.review.clear()  # their probabilities and bands were the old calibration's
        self.audit = self.check_audit(log_alarm=False)
        self.drift.reset()

    def check_audit(self, log_alarm: bool = True) -> AuditResult:
        """Auto-accept precision from the audit reviews of auto-accepted top matches made under
        the current calibration, checked with the anytime alarm (false alarms under 5 %
        however often it is checked)."""
        cal = self.match_calibration
        target = cal.bands.precision_target if cal is not None else 0.99
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
        self.drift.observe(out)
        return out

    def remember_reviews(self, results: list[dict[str, Any]], since: int | None = None,
                         ) -> None:
        """Keep the review-band matches of these match results, newest first, no duplicates,
        and an audit sample (`audit_draw`, `audit_fraction`) of all top matches, whatever
        their band: a random sample of the traffic certifies bands at any cut-off, below the
        current one too; its auto-accepted part is the running audit (`check_audit`)."""
        with self._review_lock:
            gone = {i for _, i in itertools.takewhile(
                lambda e: since is not None and e[0] > since, reversed(self._deleted))}
            for result in results:
                for rank, m in enumerate(result["matches"]):
                    audit = (rank == 0 and audit_draw(f"{result['query']}\x00{m['id']}",
                                                      self.audit_fraction))
                    if (m.get("band") != "review" and not audit) or m["id"] in gone:
                        continue
                    item = {"query": result["query"], "id": m["id"], "text": m.get("text"),
                            "probability": m.get("probability"), "band": m["band"],
                            "audit": audit,
                            "candidates": [{"id": c["id"], "text": c.get("text"),
                                            "probability": c.get("probability"),
                                            "band": c.get("band")}
                                           for c in result["matches"][:10]]}
                    key = (item["query"], item["id"])
                    for old in list(self.review):
                        if (old["query"], old["id"]) == key:
                            self.review.remove(old)
                    self.review.appendleft(item)

    def deletions(self) -> int:
        """A mark taken before a match: `remember_reviews(since=mark)` leaves out the
        references deleted after it (the match may have found them before the delete)."""
        return self._deletions

    def review_items(self) -> list[dict[str, Any]]:
        """The queue: audit items first (each a random draw, none to skip), then review items
        nearest a band edge first (`review_order`); ties newest first."""
        with self._review_lock:
            items = list(self.review)
        audits = [i for i in items if i.get("audit")]
        rest = [i for i in items if not i.get("audit")]
        cal = self.match_calibration
        if cal is not None and rest:
            probs = [min(1.0, max(0.0, float(i.get("probability") or 0.0))) for i in rest]
            rest = [rest[j] for j in review_order(probs, cal.bands.accept_at,
                                                  cal.bands.reject_below)]
        return audits + rest

    def forget_review(self, query: str, ref_id: str | None = None) -> None:
        """Drop the queue items of this query (and reference, when given)."""
        with self._review_lock:
            for old in list(self.review):
                if old["query"] == query and ref_id in (None, old["id"]):
                    self.review.remove(old)

    def forget_reference(self, ref_id: str) -> None:
        """Drop a deleted reference from the review queue, and from in-flight matches' results
        (see `deletions`)."""
        with self._review_lock:
            self._deletions += 1
            self._deleted.append((self._deletions, ref_id))
            for old in list(self.review):
                if old["id"] == ref_id:
                    self.review.remove(old)

    def close(self) -> None:
        self.batcher.close()
        self.indexer.close()
        self.feedback.close()
        self.index.close()


def _import_legacy(store: FeedbackStore, path: Path) -> None:
    """Import an older feedback.jsonl once; it is then renamed feedback.jsonl.imported."""
    if not path.is_file():
        return
    from surematch.feedback.legacy import import_feedback_log

    added = import_feedback_log(store, path)
    path.rename(path.with_name(path.name + ".imported"))
    log.info("imported %d reviews from %s into %s", added, path.name, store.path.name)
