"""Payload indexes made off the request path: after a write, one thread indexes its new
payload keys (LIMITS.payload_indexes in all), one key per hold of the write lock."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from surematch.index.reference_index import ReferenceIndex
from surematch.service.rwlock import ReadWriteLock

log = logging.getLogger("surematch.service")


class PayloadIndexer:
    """A daemon thread creating the payload indexes a write's new keys ask for. A write only
    hands its payloads over (`submit`); when the queue is full they are dropped, and the keys
    are indexed after a later write that holds them."""

    def __init__(self, index: ReferenceIndex, lock: ReadWriteLock, backlog: int = 64) -> None:
        self.index, self.lock = index, lock
        self.queue: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(backlog)
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
                while True:  # one key per hold of the lock: matches wait for one key at most
                    with self.lock.write():
                        made = self.index.index_payloads(payloads, at_most=1)
                    if not made:
                        break
                    log.info("payload index made for %s", ", ".join(map(repr, made)))
            except Exception:  # an engine failure must not end the thread
                log.exception("payload indexing failed")
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)
