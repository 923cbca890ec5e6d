"""Thread counts chosen per call size: one thread for small batches, every core for large ones.

Measured on 2 cores (all-MiniLM-L6-v2, ESCO titles; BENCHMARKS.md, runtime section): with the
machine idle, two intra-op threads make a batch of 1 take 4.9 ms instead of 7.3 ms and a batch
of 256 take 0.32 s instead of 0.62 s; with the cores shared with other work (load average 6 to
11), two threads made one query take 206 to 565 ms (p50) instead of 22 to 25 ms, since the
threads wait for each other, and even a batch of 256 ran faster on one thread. Small batches
therefore run on one thread: a few ms slower on an idle machine, never stalled on a busy one;
batches above SMALL_BATCH use every core, which pays off on a machine of their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SMALL_BATCH = 16  # items per batch up to which one thread is used


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def threads_for(batch: int) -> int:
    """Intra-op threads for a batch of `batch` items: 1 up to SMALL_BATCH, else every core."""
    return 1 if batch <= SMALL_BATCH else cores()


_lock = threading.Lock()
_active = 0
_baseline = 1


@contextmanager
def torch_threads(batch: int) -> Iterator[int]:
    """Run torch with `threads_for(batch)` intra-op threads inside the block; yields that count.

    torch's thread count is process-wide: concurrent blocks each set their own (the last one
    wins, which only costs speed), and the count the process had before the first of them is
    restored when the last one ends.
    """
    import torch

    global _active, _baseline
    threads = threads_for(batch)
    with _lock:
        if _active == 0:
            _baseline = torch.get_num_threads()
        _active += 1
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and torch.get_num_threads() != _baseline:
                torch.set_num_threads(_baseline)
