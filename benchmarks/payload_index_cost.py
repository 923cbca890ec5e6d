"""How long one payload-index build on the embedded engine (qdrant_edge) pauses the process,
by index size: the engine keeps the GIL for the whole build, so another Python thread's
longest pause is the build's length (why `LIMITS.payload_index_points` bounds what a server
builds while serving).

    python benchmarks/payload_index_cost.py

Prints a line per size; BENCHMARKS.md "hardening_probe" quotes it.
"""

from __future__ import annotations

import tempfile
import threading
import time

import numpy as np

from surematch.index.stores.edge import EdgeStore


def tick(stop: threading.Event, gaps: list[float]) -> None:
    """Wake every 5 ms and record how long each wait really took."""
    last = time.perf_counter()
    while not stop.is_set():
        time.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


def main() -> None:
    for n in (2_000, 20_000, 100_000):
        folder = tempfile.mkdtemp()
        store = EdgeStore(folder + "/s", 64)
        for a in range(0, n, 5000):
            store.upsert([f"p{i}" for i in range(a, a + 5000)],
                         np.random.rand(5000, 64).astype(np.float32),
                         [{"g": str(i % 7), "text": "occupation title"}
                          for i in range(a, a + 5000)])
        gaps: list[float] = []
        stop = threading.Event()
        ticker = threading.Thread(target=tick, args=(stop, gaps))
        ticker.start()
        time.sleep(0.05)
        took = []
        for key in ("a", "b", "c"):
            start = time.perf_counter()
            store.create_payload_index(key, "integer")
            took.append(time.perf_counter() - start)
        stop.set()
        ticker.join()
        print(f"{n} points: build {min(took):.3f}-{max(took):.3f} s, longest pause of a "
              f"Python thread {max(gaps):.3f} s", flush=True)
        store.close()


if __name__ == "__main__":
    main()
