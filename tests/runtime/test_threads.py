"""Thread counts per call size, and restoring torch's own count afterwards."""

from __future__ import annotations

import threading

import torch

from surematch.runtime.threads import SMALL_BATCH, cores, threads_for, torch_threads


def test_small_batches_get_one_thread_large_ones_every_core():
    assert threads_for(1) == threads_for(SMALL_BATCH) == 1
    assert threads_for(SMALL_BATCH + 1) == threads_for(256) == cores()


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1) as threads:
        assert threads == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_concurrent_blocks_restore_the_count_of_before_the_first():
    before = torch.get_num_threads()
    inside, release = threading.Event(), threading.Event()

    def small() -> None:
        with torch_threads(1):
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=small)
    worker.start()
    inside.wait(10)
    with torch_threads(256):
        assert torch.get_num_threads() == cores()
    release.set()
    worker.join()
    assert torch.get_num_threads() == before
