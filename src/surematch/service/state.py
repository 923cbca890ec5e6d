"""What the app holds while it runs: model, index, locks, feedback log and the review queue."""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path
from typing import Any

from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.model import SimilarityModel
from surematch.service.batching import MicroBatcher
from surematch.service.feedback import FeedbackLog
from surematch.service.rwlock import ReadWriteLock

REVIEW_QUEUE_SIZE = 200


class ServiceState:
    """One loaded model and its opened index; matches read-lock, writes write-lock the index."""

    def __init__(self, model_dir: Path, index_dir: str | None, qdrant_url: str | None = None,
                 qdrant_api_key: str | None = None, search_ef: int | None = None,
                 runtime: str = "auto", batch_window_ms: float = 3.0) -> None:
        self.model_dir = Path(model_dir)
        self.model = SimilarityModel.load(self.model_dir, runtime)
        self.location = IndexLocation.of(index_dir, qdrant_url, qdrant_api_key)
        self.index = ReferenceIndex.open(self.location, self.model, search_ef=search_ef)
        self.lock = ReadWriteLock()
        feedback_dir = self.location.folder or Path(".")
        self.feedback = FeedbackLog(feedback_dir / "feedback.jsonl")
        self.review: deque[dict[str, Any]] = deque(maxlen=REVIEW_QUEUE_SIZE)
        self._review_lock = threading.Lock()
        # concurrent single-query matches arriving within the window run as one batch
        self.batcher = MicroBatcher(self.match_many, window_ms=batch_window_ms, name="match")

    def match_many(self, items: list[tuple[str, int, dict[str, Any] | None]]
                   ) -> list[dict[str, Any]]:
        """Match (query, k, filter) items, one batched search per distinct (k, filter);
        each result carries the filter's type warnings."""
        out: list[dict[str, Any]] = [{} for _ in items]
        groups: dict[str, list[int]] = {}
        for n, (_, k, spec) in enumerate(items):
            groups.setdefault(json.dumps([k, spec], sort_keys=True), []).append(n)
        with self.lock.read():
            for rows in groups.values():
                k, spec = items[rows[0]][1], items[rows[0]][2]
                warnings = self.index.filter_warnings(spec)
                results = self.index.match_batch([items[n][0] for n in rows], k, spec)
                for n, result in zip(rows, results, strict=True):
                    out[n] = {**result.to_dict(), "warnings": warnings}
        return out

    def remember_reviews(self, results: list[dict[str, Any]]) -> None:
        """Keep the review-band matches of these match results, newest first, no duplicates."""
        with self._review_lock:
            for result in results:
                for m in result["matches"]:
                    if m.get("band") != "review":
                        continue
                    item = {"query": result["query"], "id": m["id"], "text": m.get("text"),
                            "probability": m.get("probability"), "band": m["band"]}
                    key = (item["query"], item["id"])
                    for old in list(self.review):
                        if (old["query"], old["id"]) == key:
                            self.review.remove(old)
                    self.review.appendleft(item)

    def forget_review(self, query: str, ref_id: str) -> None:
        with self._review_lock:
            for old in list(self.review):
                if (old["query"], old["id"]) == (query, ref_id):
                    self.review.remove(old)

    def forget_reference(self, ref_id: str) -> None:
        """Drop a deleted reference from the review queue."""
        with self._review_lock:
            for old in list(self.review):
                if old["id"] == ref_id:
                    self.review.remove(old)

    def close(self) -> None:
        self.batcher.close()
        self.index.close()
