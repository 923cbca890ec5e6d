"""Payload indexes made off the request path: after a write, one thread indexes its new
payload keys (LIMITS.payload_indexes in all), one key at a time, never under the write lock.

The embedded engine keeps the GIL while it builds an index (quiet, 2 cores: 0.06 s at 2,000
points, 0.1 s at 20,000, 0.4 s at 100,000; benchmarks/payload_index_cost.py), so every thread
of the process pauses for one build: builds are paced (a pause of PACE times the last build's
length after each) and made only while the index holds at most LIMITS.payload_index_points
points. Past that, new keys are filtered unindexed; the offline import (`surematch index`,
`ReferenceIndex.add`) still indexes them."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from surematch.index.reference_index import ReferenceIndex
from surematch.limits import LIMITS

log = logging.getLogger("surematch.service")
PACE = 4.0          # pause after a build, in multiples of its length: builds take <= 1/5
MIN_PAUSE = 0.25    # seconds, at least, between two builds


class PayloadIndexer:
    """A daemon thread creating the payload indexes a write's new keys ask for. A write only
    hands its payloads over (`submit`); when the queue is full they are dropped, and the keys
    are indexed after a later write that holds them. Neither a write nor a match waits for
    the indexer's lock: it takes none of theirs."""

    def __init__(self, index: ReferenceIndex, backlog: int = 64) -> None:
        self.index = index
        self.queue: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(backlog)
        self._stop = threading.Event()
        self._too_big_logged = False
        self.thread = threading.Thread(target=self._run, name="payload-index", daemon=True)
        self.thread.start()

    def submit(self, payloads: list[dict[str, Any]]) -> None:
        """Index these payloads' new keys soon (never blocks)."""
        if any(payloads):
            try:
                self.queue.put_nowait(payloads)
            except queue.Full:
                log.info("payload indexer busy: new keys are indexed after a later write")

    def wait(self) -> None:
        """Return once everything submitted so far is indexed (tests, shutdown)."""
        self.queue.join()

    def _run(self) -> None:
        while (payloads := self.queue.get()) is not None:
            try:
                self._index(payloads)
            except Exception:  # an engine failure must not end the thread
                log.exception("payload indexing failed")
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def _index(self, payloads: list[dict[str, Any]]) -> None:
        """One new key per build, with a pause after each, while the index is small enough."""
        while not self._stop.is_set():
            if (points := self.index.count()) > LIMITS.payload_index_points:
                if not self._too_big_logged:
                    log.info("new payload keys are filtered without an index: the index holds "
                             "%d points, more than %d to index while serving (`surematch "
                             "index` indexes them offline)", points,
                             LIMITS.payload_index_points)
                    self._too_big_logged = True
                return
            start = time.perf_counter()
            made = self.index.index_payloads(payloads, at_most=1)
            if not made:
                return
            took = time.perf_counter() - start
            log.info("payload index made for %s in %.2f s", ", ".join(map(repr, made)), took)
            self._stop.wait(max(MIN_PAUSE, PACE * took))

    def close(self) -> None:
        self._stop.set()
        self.queue.put(None)
        self.thread.join(timeout=30)
