"""MicroBatcher: each caller its own result or its own error, batches that form, a lone
request answered at once, a clean close.

Behaviour only: the worker is held on a gate item until every caller has queued, and a long
window with max_batch dividing the number of callers makes batches form by size (no timing
thresholds); waits are bounded only to fail instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from surematch.errors import InputError
from surematch.service.batching import MicroBatcher

LONG = 60_000  # ms: batches close by size, never by the clock, in these tests
WAIT = 60  # s: a test fails rather than hangs
GATE = 10**6  # an item that holds the worker until released


class Doubler:
    """fn: doubles each item; a negative item is an InputError; GATE waits for `release`;
    records every call."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.lock = threading.Lock()
        self.gated, self.release = threading.Event(), threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        with self.lock:
            self.calls.append(list(items))
        if GATE in items:
            self.gated.set()
            self.release.wait(WAIT)
        bad = [x for x in items if x < 0]
        if bad:
            raise InputError(f"bad item {bad[0]}")
        return [2 * x for x in items]


def call_concurrently(batcher: MicroBatcher[int, int], fn: Doubler, items: list[int],
                      ) -> list[object]:
    """Each item from its own thread, queued while the worker is held on a gate (its call is
    fn.calls[0]); results or exceptions."""
    gate: Future[int] = batcher.future(GATE)
    assert fn.gated.wait(WAIT)

    def one(x: int) -> object:
        try:
            return batcher.call(x, timeout=WAIT)
        except Exception as e:
            return e

    with ThreadPoolExecutor(len(items)) as pool:
        results = [pool.submit(one, x) for x in items]
        deadline = time.monotonic() + WAIT
        while batcher._queue.qsize() < len(items) and time.monotonic() < deadline:
            time.sleep(0.01)
        fn.release.set()
        assert gate.result(WAIT) == 2 * GATE
        return [r.result(WAIT) for r in results]


def test_32_threads_each_get_their_own_result_in_batches() -> None:
    fn = Doubler()
    with MicroBatcher(fn, window_ms=LONG, max_batch=8) as batcher:
        assert call_concurrently(batcher, fn, list(range(32))) == [2 * x for x in range(32)]
    assert [len(c) for c in fn.calls[1:]] == [8, 8, 8, 8]  # 4 calls, not 32
    assert sorted(x for c in fn.calls[1:] for x in c) == list(range(32))
    assert batcher.batches == 5 and batcher.items == 33


def test_a_failing_item_gets_its_error_and_the_others_their_results() -> None:
    fn = Doubler()
    items = [1, 2, 3, -4, 5, 6, 7, 8]
    with MicroBatcher(fn, window_ms=LONG, max_batch=len(items)) as batcher:
        got = call_concurrently(batcher, fn, items)
    assert [g for g in got if not isinstance(g, Exception)] == [2, 4, 6, 10, 12, 14, 16]
    assert isinstance(got[3], InputError) and str(got[3]) == "bad item -4"
    assert sorted(fn.calls[1]) == sorted(items)  # one batch, then each item alone
    assert sorted(c[0] for c in fn.calls[2:]) == sorted(items) and len(fn.calls) == 10


def test_a_lone_request_is_answered_at_once_not_after_the_window() -> None:
    fn = Doubler()
    # a ten-minute window: a lone call that waited for company would time out (WAIT) instead
    with MicroBatcher(fn, window_ms=10 * LONG, max_batch=64) as batcher:
        assert batcher.call(21, timeout=WAIT) == 42
        with pytest.raises(InputError, match="bad item -1"):
            batcher.call(-1, timeout=WAIT)
    assert fn.calls == [[21], [-1]]  # a lone failing item is not tried twice


def test_asyncio_callers() -> None:
    fn = Doubler()

    async def main(batcher: MicroBatcher[int, int]) -> list[object]:
        waiting = [asyncio.ensure_future(batcher.submit(x)) for x in [*range(15), -1]]
        await asyncio.sleep(0)  # every submit has queued its item
        fn.release.set()
        return await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), WAIT)

    with MicroBatcher(fn, window_ms=LONG, max_batch=16) as batcher:
        gate = batcher.future(GATE)
        assert fn.gated.wait(WAIT)
        got = asyncio.run(main(batcher))
        assert gate.result(WAIT) == 2 * GATE
    assert got[:15] == [2 * x for x in range(15)] and isinstance(got[15], InputError)
    assert len(fn.calls[1]) == 16 and len(fn.calls) == 18


def test_wrong_number_of_results_fails_every_caller_clearly() -> None:
    with MicroBatcher(lambda items: [], window_ms=0) as batcher, \
            pytest.raises(RuntimeError, match="returned 0 results for 1 items"):
        batcher.call(1, timeout=WAIT)


def test_close_answers_what_is_queued_then_stops_the_worker() -> None:
    release = threading.Event()
    fn = Doubler()

    def slow(items: list[int]) -> list[int]:
        release.wait(WAIT)
        return fn(items)

    batcher = MicroBatcher(slow, window_ms=0, max_batch=1)
    first, second = batcher.future(1), batcher.future(2)
    closer = threading.Thread(target=batcher.close)
    closer.start()
    release.set()
    closer.join(WAIT)
    assert first.result(WAIT) == 2 and second.result(WAIT) == 4  # queued before close
    assert batcher.closed and not batcher._worker.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.call(3)
    batcher.close()  # again: nothing happens
