"""Vector search benchmark: surematch's embedded store (qdrant-edge) against numpy brute force,
faiss IndexFlatIP and qdrant-client local mode, on realistic vectors, with and without a filter.

    .venv/bin/python benchmarks/index_bench.py --sizes 10000,100000,1000000

Vectors (benchmarks/mixture.py): references and queries drawn from a 32-component
full-covariance Gaussian mixture fitted to frozen-MiniLM embeddings (384-dim) of all ESCO
titles, L2-normalised; a first table checks that they are no easier to search than the real
embeddings. Each reference gets a payload `cat` (one of 10, indexed); the filtered runs ask
for cat = "c3". Recall@10 is measured against exact search (numpy) on the same (filtered) set.
Memory at 10k/100k is the growth of this process's resident set while building; the 1M run
(benchmarks/index_million.py) builds and serves in subprocesses under a 2 GB memory limit.
Writes the "index" section of BENCHMARKS.md and prints the same tables.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from surematch.index import VectorStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
K, CATS = 10, 10


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def built(n: int, start: float, rss0: float) -> str:
    return f"insert {n / (time.perf_counter() - start):,.0f}/s; RSS +{rss_mb() - rss0:,.0f} MB"


def exact_topk(refs: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Row numbers [Q, k] of the k most similar references, best first."""
    out = []
    for start in range(0, len(queries), 256):
        s = queries[start:start + 256] @ refs.T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(s, top, 1), axis=1)
        out.append(np.take_along_axis(top, order, 1))
    return np.concatenate(out)


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth,
                                                                         strict=True)]))


WARMUP: np.ndarray | None = None  # queries run untimed first: [W, D], set by main()
ROUNDS = 10  # single queries are timed in this many rounds (see timed)
FILTER = {"cat": "c3"}  # the filtered runs' filter: 10 % of the references
Search = Callable[[np.ndarray], list]  # queries [Q, D] -> Q lists of the top-K row numbers


def store_searches(store: VectorStore, exact: bool = False) -> dict[bool, Search]:
    """A surematch store's search, unfiltered (False) and filtered (True)."""
    def search(qs: np.ndarray, f: dict | None) -> list[list[int]]:
        return [[int(h.id) for h in row] for row in store.search(qs, K, f, exact=exact)]

    return {False: lambda qs: search(qs, None), True: lambda qs: search(qs, FILTER)}


def fill(store: VectorStore, refs: np.ndarray, cats: np.ndarray) -> None:
    """Store refs with ids "0", "1", ... and payload cat, 2,000 at a time."""
    for s in range(0, len(refs), 2000):
        store.upsert([str(i) for i in range(s, min(s + 2000, len(refs)))], refs[s:s + 2000],
                     [{"cat": str(c)} for c in cats[s:s + 2000]])


def timed(cases: dict[bool, Search], queries: np.ndarray, n_single: int) -> dict[bool, dict]:
    """Single-query and batched speed of each case (e.g. one store without and with a filter);
    a single query is the case's search on a batch of one.

    Each case first runs other queries untimed (WARMUP), so that pages of on-disk vectors a
    serving process would hold in the page cache are read. The n_single single queries then
    run in ROUNDS rounds, every case in a new random order each round, so that a drift in the
    machine's speed falls on all cases alike; queries/s single is the median of the rounds."""
    from threadpoolctl import threadpool_limits

    order, lat = random.Random(0), {c: [] for c in cases}
    rounds = np.array_split(queries[:n_single], ROUNDS)
    rates: dict[bool, list[float]] = {c: [] for c in cases}
    with threadpool_limits(1):  # one query at a time: BLAS / OpenMP threads only add overhead
        for search in cases.values():
            search(queries[:20] if WARMUP is None else WARMUP[:max(20, min(len(WARMUP),
                                                                           3 * n_single))])
        for qs in rounds:
            for c in order.sample(list(cases), len(cases)):
                for q in qs:
                    t = time.perf_counter()
                    cases[c](q[None])
                    lat[c].append(time.perf_counter() - t)
                rates[c].append(len(qs) / sum(lat[c][-len(qs):]))
    out = {}
    for c, search in cases.items():
        t = time.perf_counter()
        found = search(queries)
        out[c] = {"p50_ms": 1e3 * float(np.percentile(lat[c], 50)),
                  "p99_ms": 1e3 * float(np.percentile(lat[c], 99)),
                  "qps_single": float(np.median(rates[c])),
                  "qps_batch": len(queries) / (time.perf_counter() - t), "found": found}
    return out


def rows_of(system: str, results: dict[bool, dict], truths: dict[bool, np.ndarray],
            extra: str = "") -> list[dict]:
    """Table rows of timed() results whose case keys say whether the search was filtered."""
    rows = []
    for filtered, r in results.items():
        found = r.pop("found")
        rows.append({"system": system, "filter": filtered, "extra": extra, **r,
                     "recall": recall(found, truths[filtered][:len(found)])})
    return rows


def bench_edge(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, folder: Path,
               n_single: int, truths: dict[bool, np.ndarray]) -> list[dict]:
    """surematch's embedded store as `surematch index` builds it: exact search before
    optimize(), then HNSW over int8 copies with float32 rescoring, at two search widths."""
    from surematch.index.applied_calibration import Calibration
    from surematch.index.matcher import match_vectors
    from surematch.index.rules import RuleBook
    from surematch.index.stores.base import SEARCH_EF
    from surematch.index.stores.edge import EdgeStore

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    store = EdgeStore(folder / "refs", refs.shape[1])
    store.create_payload_index("cat", "keyword")
    fill(store, refs, cats)
    insert_s = time.perf_counter() - t
    rows = rows_of("surematch edge, exact (before optimize)", timed(
        store_searches(store, exact=True), queries, n_single), truths,
        f"insert {len(refs) / insert_s:,.0f}/s")
    t = time.perf_counter()
    store.optimize()
    opt_s = time.perf_counter() - t
    mem = rss_mb() - before
    for ef in (SEARCH_EF, 2 * SEARCH_EF):
        store.search_ef = ef
        rows += rows_of(f"surematch edge, HNSW int8 + rescore, ef={ef}"
                        f"{' (default)' if ef == SEARCH_EF else ''}", timed(
                            store_searches(store), queries, n_single), truths,
                        f"optimize {opt_s:.0f} s; RSS +{mem:,.0f} MB" if ef == SEARCH_EF else "")
    store.search_ef = SEARCH_EF
    with EdgeStore(folder / "rules", refs.shape[1]) as rules_store:
        book, cal = RuleBook(rules_store), Calibration(None)

        def match(qs: np.ndarray) -> list[list[int]]:
            return [[int(m.id) for m in res.matches] for res in match_vectors(
                store, book, cal, ["q"] * len(qs), qs, np.ones(len(qs)), K, None)]

        rows += rows_of(f"ReferenceIndex match path (HNSW ef={SEARCH_EF} + rules query + "
                        "payload)", timed({False: match}, queries, n_single), truths,
                        "query embedding not included")
    store.close()
    return rows


def bench_faiss(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truths: dict[bool, np.ndarray]) -> list[dict]:
    import faiss

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    index = faiss.IndexFlatIP(refs.shape[1])
    index.add(refs)
    extra = built(len(refs), t, before)
    sel = faiss.IDSelectorBatch(np.flatnonzero(cats == FILTER["cat"]).astype("int64"))
    cases = {filtered: lambda qs, p=p: index.search(qs, K, params=p)[1].tolist()
             for filtered, p in ((False, None), (True, faiss.SearchParameters(sel=sel)))}
    return rows_of("faiss IndexFlatIP (exact)", timed(cases, queries, n_single), truths, extra)


def bench_numpy(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truths: dict[bool, np.ndarray]) -> list[dict]:
    sub = np.flatnonzero(cats == FILTER["cat"])
    cases = {False: lambda qs: exact_topk(refs, qs).tolist(),  # filtered: rows gathered per call
             True: lambda qs: sub[exact_topk(refs[sub], qs)].tolist()}
    return rows_of("numpy brute force (exact)", timed(cases, queries, n_single), truths,
                   f"vectors {refs.nbytes / 2**20:,.0f} MB")


def bench_local(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truths: dict[bool, np.ndarray]) -> list[dict]:
    """qdrant-client local mode (the stand-in for a server in tests), in memory; so slow that
    it gets fewer queries, and fewer still filtered."""
    from surematch.index.stores.server import ServerStore

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    store = ServerStore(path=":memory:", dim=refs.shape[1])
    fill(store, refs, cats)
    extra = built(len(refs), t, before)
    rows = []
    for filtered, search in store_searches(store).items():
        n = max(ROUNDS, min(len(queries), int(2e6 // len(refs)) // (10 if filtered else 1)))
        rows += rows_of(f"qdrant-client local mode ({n} queries)", timed(
            {filtered: search}, queries[:n], min(n_single, n)), truths, extra)
    store.close()
    return rows


def table(n: int, rows: list[dict]) -> str:
    lines = [f"### {n:,} references, top-{K}", "",
             "| system | filter | queries/s single | queries/s batched | p50 ms | p99 ms | "
             "recall@10 | notes |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['system']} | {'cat=c3 (10%)' if r['filter'] else '-'} | "
                     f"{r['qps_single']:,.0f} | {r['qps_batch']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['recall']:.3f} | {r['extra']} |")
    return "\n".join(lines)


def realism(ef: int = 32) -> str:
    """Top-1 similarity and HNSW recall@10 at a small search width on the real ESCO title
    embeddings and on as many mixture samples (full covariance, used here; diagonal, used
    before 2026-11-23): harder data shows as lower recall."""
    from mixture import esco_embeddings, sample
    from sklearn.mixture import GaussianMixture

    from surematch.index.stores.edge import EdgeStore

    real = esco_embeddings()
    real = real[np.random.default_rng(1).permutation(len(real))]
    diag = GaussianMixture(32, covariance_type="diag", random_state=0).fit(real).sample(
        len(real))[0].astype(np.float32)
    diag = diag[np.random.default_rng(1).permutation(len(diag))]
    diag /= np.linalg.norm(diag, axis=1, keepdims=True)
    lines = [f"| vectors ({len(real) - 1000:,} references, 1,000 queries) | mean top-1 "
             f"similarity | recall@10, HNSW ef={ef} |", "|---|---|---|"]
    for name, x in (("real: MiniLM embeddings of ESCO titles", real),
                    ("full-covariance mixture (this benchmark)", sample(len(real), seed=1)),
                    ("diagonal mixture (earlier runs)", diag)):
        refs, queries = x[1000:], x[:1000]
        with tempfile.TemporaryDirectory() as tmp, EdgeStore(Path(tmp), refs.shape[1]) as store:
            store.upsert([str(i) for i in range(len(refs))], refs)
            store.optimize()
            store.search_ef = ef
            found = [[int(h.id) for h in row] for row in store.search(queries, K)]
        top1 = float(np.max(queries @ refs.T, axis=1).mean())
        lines.append(f"| {name} | {top1:.3f} | {recall(found, exact_topk(refs, queries)):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="reference counts")
    parser.add_argument("--queries", type=int, default=1000, help="queries per batched run")
    parser.add_argument("--single", type=int, default=300, help="queries timed one by one")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    from mixture import sample

    sizes = [int(s) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    sections = [realism()]
    print(sections[-1], flush=True)
    global WARMUP
    data = sample(max(sizes) + 2 * args.queries)
    queries, WARMUP, refs_all = np.split(data, [args.queries, 2 * args.queries])
    for n in sizes:
        refs = refs_all[:n]
        cats = np.array([f"c{i % CATS}" for i in range(n)])
        sub = np.flatnonzero(cats == FILTER["cat"])
        truths = {False: exact_topk(refs, queries), True: sub[exact_topk(refs[sub], queries)]}
        rows = []
        if n >= 1_000_000:  # out of process, under a memory limit; the in-memory ones skipped
            from index_million import bench_million

            rows += bench_million(refs, queries, WARMUP, args.single, truths)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                rows += bench_edge(refs, queries, cats, Path(tmp), args.single, truths)
            rows += bench_local(refs, queries, cats, args.single, truths)
        rows += bench_faiss(refs, queries, cats, args.single, truths)
        rows += bench_numpy(refs, queries, cats, args.single, truths)
        sections.append(table(n, rows))
        print(sections[-1], flush=True)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n\n".join([
        "## Vector search (`benchmarks/index_bench.py`)",
        f"Command: `.venv/bin/python benchmarks/index_bench.py --sizes {args.sizes} --queries "
        f"{args.queries} --single {args.single}` ({time.perf_counter() - t0:.0f} s in all). "
        "384-dim vectors drawn from a full-covariance Gaussian mixture fitted to MiniLM "
        "embeddings of ESCO titles (the first table: they are harder to search than the real "
        "embeddings, so the recall below is conservative); recall@10 against exact search on "
        "the same (filtered) set; every system first runs other queries untimed (3 times as "
        "many as it times one by one, at most 1,000) so that a warm process is measured; "
        "single = one query per call (p50/p99 from these; queries/s is the median of "
        f"{ROUNDS} rounds in which the unfiltered and filtered searches of one system take "
        "turns in a random order, so that the machine's drift falls on both alike), batched = "
        "all queries in one call. "
        "The embedded store as `surematch index` creates it: HNSW with 32 links per point, "
        "ef_construct 128, 16 links among points sharing an indexed payload value, one search "
        "thread; ef = the search width (`--search-ef`, default 64). "
        "At 1M the embedded store is built and queried in subprocesses under a 2 GB memory "
        "cgroup (benchmarks/index_million.py), and qdrant-client local mode is left out (single "
        "digits of queries/s from 100k on; it warns above 20k points). "
        f"Machine load average at the end (1/5/15 min): {load}.", *sections])
    if not args.no_write:
        from _report import write_section

        write_section("index", body)


if __name__ == "__main__":
    main()
