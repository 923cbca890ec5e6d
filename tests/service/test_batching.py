"""MicroBatcher: each caller its own result or its own error, batches that form, a clean close.

Behaviour only: a long window with max_batch equal to the number of callers makes batches
form by size (no timing thresholds); waits are bounded only to fail instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from surematch.errors import InputError
from surematch.service.batching import MicroBatcher

LONG = 60_000  # ms: batches close by size, never by the clock, in these tests
WAIT = 60  # s: a test fails rather than hangs


class Doubler:
    """fn: doubles each item; a negative item is an InputError; records every call."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, items: list[int]) -> list[int]:
        with self.lock:
            self.calls.append(list(items))
        bad = [x for x in items if x < 0]
        if bad:
            raise InputError(f"bad item {bad[0]}")
        return [2 * x for x in items]


def call_concurrently(batcher: MicroBatcher[int, int], items: list[int]) -> list[object]:
    """Each item from its own thread, all released together; results or exceptions."""
    start = threading.Barrier(len(items))

    def one(x: int) -> object:
        start.wait(WAIT)
        try:
            return batcher.call(x, timeout=WAIT)
        except Exception as e:
            return e

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(one, items))


def test_32_threads_each_get_their_own_result_in_batches() -> None:
    fn = Doubler()
    with MicroBatcher(fn, window_ms=LONG, max_batch=8) as batcher:
        assert call_concurrently(batcher, list(range(32))) == [2 * x for x in range(32)]
    assert sorted(len(c) for c in fn.calls) == [8, 8, 8, 8]  # 4 calls, not 32
    assert sorted(x for c in fn.calls for x in c) == list(range(32))
    assert batcher.batches == 4 and batcher.items == 32


def test_a_failing_item_gets_its_error_and_the_others_their_results() -> None:
    fn = Doubler()
    items = [1, 2, 3, -4, 5, 6, 7, 8]
    with MicroBatcher(fn, window_ms=LONG, max_batch=len(items)) as batcher:
        got = call_concurrently(batcher, items)
    assert [g for g in got if not isinstance(g, Exception)] == [2, 4, 6, 10, 12, 14, 16]
    assert isinstance(got[3], InputError) and str(got[3]) == "bad item -4"
    assert sorted(fn.calls[0]) == sorted(items)  # one batch, then each item alone
    assert sorted(c[0] for c in fn.calls[1:]) == sorted(items) and len(fn.calls) == 9


def test_a_lone_request_is_answered_without_a_full_batch() -> None:
    fn = Doubler()
    with MicroBatcher(fn, window_ms=1, max_batch=64) as batcher:
        assert batcher.call(21, timeout=WAIT) == 42
        with pytest.raises(InputError, match="bad item -1"):
            batcher.call(-1, timeout=WAIT)
    assert fn.calls == [[21], [-1]]  # a lone failing item is not tried twice


def test_asyncio_callers() -> None:
    fn = Doubler()

    async def main(batcher: MicroBatcher[int, int]) -> list[object]:
        return await asyncio.wait_for(asyncio.gather(
            *(batcher.submit(x) for x in [*range(15), -1]), return_exceptions=True), WAIT)

    with MicroBatcher(fn, window_ms=LONG, max_batch=16) as batcher:
        got = asyncio.run(main(batcher))
    assert got[:15] == [2 * x for x in range(15)] and isinstance(got[15], InputError)
    assert len(fn.calls[0]) == 16 and len(fn.calls) == 17


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
