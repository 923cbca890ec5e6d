"""Micro-batching: concurrent single requests answered by one batched call.

    batcher = MicroBatcher(lambda texts: index.match_batch(texts, k), window_ms=3, max_batch=64)
    result = batcher.call(text)            # from a thread (FastAPI's sync routes)
    result = await batcher.submit(text)    # from asyncio
    batcher.close()

One worker thread takes every waiting item (at most `max_batch`) and passes them to `fn` as
one list; `fn` returns one result per item, in order. While requests overlap (the last batch
held more than one item) it also gathers what arrives within `window_ms` after the first;
a lone request is answered at once, never waiting for company. When `fn` raises for a
batch, each of its items is retried alone, so a bad item (an InputError, say) fails only its
own caller and the others get their results.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """Gathers concurrent items into batches for `fn: list[Item] -> list[Result]`."""

    def __init__(self, fn: Callable[[list[Item]], list[Result]], window_ms: float = 3,
                 max_batch: int = 64, *, name: str = "micro-batcher") -> None:
        if window_ms < 0 or max_batch < 1:
            raise ValueError("window_ms must be >= 0 and max_batch >= 1")
        self.fn, self.window, self.max_batch = fn, window_ms / 1000.0, max_batch
        self.batches = 0  # calls of fn with a gathered batch (retries of single items aside)
        self.items = 0  # items answered
        # (item, its future), or None: stop
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._overlapping = False  # the last batch held more than one item
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ callers

    def future(self, item: Item) -> Future[Result]:
        """Queue `item`; a concurrent.futures.Future of its result."""
        future: Future[Result] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the micro-batcher is closed")
            self._queue.put((item, future))
        return future

    def call(self, item: Item, timeout: float | None = None) -> Result:
        """The result for `item` (blocking; thread-safe): fn's result, or its exception."""
        return self.future(item).result(timeout)

    async def submit(self, item: Item) -> Result:
        """The result for `item` without blocking the event loop; cancelling the await
        drops the item if its batch has not started."""
        return await asyncio.wrap_future(self.future(item))

    def close(self, timeout: float | None = None) -> None:
        """Answer the items already queued, then stop the worker (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> MicroBatcher[Item, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the worker

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # wait for company only while requests overlap; a lone one goes at once
            deadline = time.monotonic() + (self.window if self._overlapping else 0.0)
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    nxt = self._queue.get(timeout=remaining) if remaining > 0 else \
                        self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            self._overlapping = len(batch) > 1
            try:
                self._answer(batch)
            except BaseException as e:  # never leave a caller waiting
                for _, f in batch:
                    if not f.done():
                        f.set_exception(e)

    def _answer(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        live = [(item, f) for item, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        self.batches += 1
        try:
            results = self._apply([item for item, _ in live])
        except Exception as e:
            if len(live) == 1:
                live[0][1].set_exception(e)
                self.items += 1
            else:  # find the culprit(s): each item alone
                for item, f in live:
                    self._answer_one(item, f)
            return
        for (_, f), result in zip(live, results, strict=True):
            f.set_result(result)
        self.items += len(live)

    def _answer_one(self, item: Item, future: Future[Result]) -> None:
        try:
            future.set_result(self._apply([item])[0])
        except Exception as e:
            future.set_exception(e)
        self.items += 1

    def _apply(self, items: list[Item]) -> list[Result]:
        results = list(self.fn(items))
        if len(results) != len(items):
            raise RuntimeError(f"the batched function returned {len(results)} results for "
                               f"{len(items)} items")
        return results
