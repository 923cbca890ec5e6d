"""The 1M-reference run of index_bench.py: build, then reopen and query, each in a subprocess
under a 2 GB memory limit (a cgroup, where this user may create one), so the numbers are the
store's own memory and not the benchmark's arrays.

    python benchmarks/index_million.py build STORE VECTORS.npy
    python benchmarks/index_million.py query STORE QUERIES.npy WARMUP.npy N
each print one JSON line; bench_million() runs both and returns index_bench table rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LIMIT = 2 * 2**30
EFS = (64, 128, 256)  # search widths measured: the default, and wider for more recall at 1M
CGROUP_V1 = Path("/sys/fs/cgroup/memory")


def status_mb() -> dict[str, float]:
    """This process's peak (VmHWM) and current (VmRSS) resident memory in MB."""
    lines = Path("/proc/self/status").read_text().splitlines()
    return {k: int(v.split()[0]) / 1024 for k, v in (line.split(":", 1) for line in lines)
            if k in ("VmHWM", "VmRSS")}


def chunks(path: str, size: int = 10_000):
    """Rows of a float32 .npy read with plain file reads (no memory map counted as ours)."""
    import numpy.lib.format as npy

    with open(path, "rb") as f:
        npy.read_magic(f)
        shape, _, _ = npy.read_array_header_1_0(f)
        for start in range(0, shape[0], size):
            n = min(size, shape[0] - start)
            yield start, np.frombuffer(f.read(n * shape[1] * 4), np.float32).reshape(n, -1)


def build(store_dir: str, vectors: str) -> dict:
    from surematch.index.stores.edge import EdgeStore

    t = time.perf_counter()
    store = EdgeStore(store_dir, 384)
    store.create_payload_index("cat", "keyword")
    for start, rows in chunks(vectors):
        store.upsert([str(start + i) for i in range(len(rows))], rows,
                     [{"cat": f"c{(start + i) % 10}"} for i in range(len(rows))])
    insert_s = time.perf_counter() - t
    t = time.perf_counter()
    store.optimize()
    stats = store.stats()
    store.close()
    return {"insert_s": insert_s, "optimize_s": time.perf_counter() - t, **stats, **status_mb()}


def query(store_dir: str, queries: str, warmup: str, n_single: str) -> dict:
    """Search at each width in EFS; the hits come back for the caller to score."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import index_bench
    from index_bench import store_searches, timed

    from surematch.index.stores.edge import EdgeStore

    qs, index_bench.WARMUP = np.load(queries), np.load(warmup)
    t = time.perf_counter()
    store = EdgeStore(store_dir)
    open_s = time.perf_counter() - t

    cases, results = store_searches(store), {}
    for ef in EFS:
        store.search_ef = ef
        results[ef] = timed(cases, qs, int(n_single))
    store.close()
    return {"open_s": open_s, "results": results, **status_mb()}


def limited(args: list[str]) -> tuple[dict, str]:
    """Run this script with args under the memory limit; its JSON and how memory was capped."""
    group = CGROUP_V1 / f"surematch-bench-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(LIMIT))
        enter, how = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))), "cgroup"
    except OSError:
        enter, how = None, "none (no writable cgroup)"
    try:
        out = subprocess.run([sys.executable, __file__, *args], check=True, text=True,
                             capture_output=True, preexec_fn=enter).stdout
        peak = int((group / "memory.max_usage_in_bytes").read_text()) / 2**20 \
            if how == "cgroup" else None
    finally:
        if how == "cgroup":
            group.rmdir()
    result = json.loads(out.strip().splitlines()[-1])
    result["cgroup_peak_mb"] = peak
    return result, how


def bench_million(refs: np.ndarray, queries: np.ndarray, warmup: np.ndarray, n_single: int,
                  truths: dict[bool, np.ndarray]) -> list[dict]:
    """index_bench rows for the embedded store at len(refs) references, built and served in
    subprocesses capped at 2 GB; payload cat = "c{i % 10}" as in index_bench."""
    from index_bench import rows_of

    with tempfile.TemporaryDirectory() as tmp:
        paths = {n: f"{tmp}/{n}.npy" for n in ("refs", "queries", "warmup")}
        for name, arr in zip(paths, (refs, queries, warmup), strict=True):
            np.save(paths[name], arr)
        b, how = limited(["build", f"{tmp}/store", paths["refs"]])
        q, _ = limited(["query", f"{tmp}/store", paths["queries"], paths["warmup"],
                        str(n_single)])
    memory = f"memory limit: {how}"
    if b["cgroup_peak_mb"] is not None:
        memory += (f"; peak {b['cgroup_peak_mb']:,.0f} MB building (page cache included), "
                   f"{q['cgroup_peak_mb']:,.0f} MB serving")
    notes = (f"insert {len(refs) / b['insert_s']:,.0f}/s; optimize {b['optimize_s']:.0f} s; "
             f"{memory}; serving RSS {q['VmRSS']:,.0f} MB, open {q['open_s']:.1f} s")
    rows = []
    for ef, results in q["results"].items():  # JSON made the keys strings: "64", "false"
        rows += rows_of(f"surematch edge, HNSW int8 + rescore, ef={ef}", {
            f == "true": r for f, r in results.items()}, truths)
    rows[0]["extra"] = notes
    return rows


if __name__ == "__main__":
    print(json.dumps({"build": build, "query": query}[sys.argv[1]](*sys.argv[2:])))
