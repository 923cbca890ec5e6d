"""Vector search benchmark: surematch's embedded store (qdrant-edge) against numpy brute force,
faiss IndexFlatIP and qdrant-client local mode, on realistic vectors, with and without a filter.

    .venv/bin/python benchmarks/index_bench.py --sizes 10000,100000

Vectors: MiniLM embeddings (frozen, 384-dim) of ESCO titles, a 32-component diagonal Gaussian
mixture fitted to them, N references and the queries drawn from it and L2-normalised.
Each reference gets a payload `cat` (one of 10, indexed); the filtered runs ask for cat = "c3".
Recall@10 is measured against exact search (numpy) on the same (filtered) set. Memory is the
growth of the process's resident set while building (native memory included). Writes the
"index" section of BENCHMARKS.md and prints the same table.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
K, CATS = 10, 10


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def realistic_vectors(n: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """References [n, 384] and queries [n_queries, 384] drawn from a mixture fitted to MiniLM
    embeddings of ESCO titles (preferred and alternative)."""
    from sklearn.mixture import GaussianMixture

    from surematch.data.esco import read_esco
    from surematch.encoders.text import TextEncoder

    occ = read_esco()
    texts = [o.preferred for o in occ] + [a for o in occ for a in o.alternatives[:1]]
    emb = TextEncoder().encode(texts).numpy()
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    gmm = GaussianMixture(32, covariance_type="diag", random_state=seed).fit(emb)
    data = gmm.sample(n + n_queries)[0].astype(np.float32)
    data = data[np.random.default_rng(seed).permutation(len(data))]
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data[:n], data[n:]


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


def timed(single: Callable[[np.ndarray], list[int]], batch: Callable[[np.ndarray], list],
          queries: np.ndarray, n_single: int) -> dict[str, float]:
    from threadpoolctl import threadpool_limits

    lat = []
    with threadpool_limits(1):  # one query at a time: BLAS / OpenMP threads only add overhead
        for q in queries[:n_single]:
            t = time.perf_counter()
            single(q)
            lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    found = batch(queries)
    batch_s = time.perf_counter() - t
    return {"p50_ms": 1e3 * float(np.percentile(lat, 50)),
            "p99_ms": 1e3 * float(np.percentile(lat, 99)), "qps_single": len(lat) / sum(lat),
            "qps_batch": len(queries) / batch_s, "found": found}


def bench_edge(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, folder: Path,
               n_single: int, truth: np.ndarray, truth_f: np.ndarray,
               hnsw: tuple[int, int] | None = None) -> list[dict]:
    """surematch's embedded store: exact while unoptimized, then HNSW after optimize();
    hnsw = (m, ef_construct), None for Qdrant's default (16, 100)."""
    from surematch.index import base, edge
    from surematch.index.calibrated import Calibration
    from surematch.index.edge import EdgeStore
    from surematch.index.matcher import match_vectors
    from surematch.index.rules import RuleBook

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    store = EdgeStore(folder / "refs", refs.shape[1], hnsw=hnsw)
    graph = f"HNSW m={(hnsw or (16, 100))[0]} ef_construct={(hnsw or (16, 100))[1]}"
    store.create_payload_index("cat", "keyword")
    for s in range(0, len(refs), 2000):
        store.upsert([str(i) for i in range(s, min(s + 2000, len(refs)))], refs[s:s + 2000],
                     [{"cat": str(c)} for c in cats[s:s + 2000]])
    insert_s = time.perf_counter() - t
    rows, flt = [], {"cat": "c3"}

    def run(name: str, exact: bool, extra: str = "") -> None:
        def ids(hits: list) -> list[int]:
            return [int(h.id) for h in hits]

        for f, tr in ((None, truth), (flt, truth_f)):
            r = timed(lambda q, f=f: ids(store.search(q[None], K, f, exact=exact)[0]),
                      lambda qs, f=f: [ids(h) for h in store.search(qs, K, f, exact=exact)],
                      queries, n_single)
            rows.append({"system": name, "filter": f is not None, "recall": recall(
                r.pop("found"), tr), **r, "extra": extra})

    if hnsw is None:
        run("surematch edge, exact (before optimize)", True,
            f"insert {len(refs) / insert_s:,.0f}/s")
    t = time.perf_counter()
    store.optimize()
    opt_s = time.perf_counter() - t
    mem = rss_mb() - before
    run(f"surematch edge, {graph}, ef=128", False,
        f"optimize {opt_s:.0f} s; RSS +{mem:,.0f} MB; {store.stats()['indexed_vectors']:,} "
        "vectors in HNSW")
    edge.HNSW_EF = 256  # search-time only: the same graph, more candidates examined
    run(f"surematch edge, {graph}, ef=256", False)
    edge.HNSW_EF = base.HNSW_EF
    if hnsw is not None:
        store.close()
        return rows
    with EdgeStore(folder / "rules", refs.shape[1]) as rules_store:
        book, cal = RuleBook(rules_store), Calibration(None)
        r = timed(lambda q: [m.id for m in match_vectors(store, book, cal, ["q"], q[None],
                                                         np.ones(1), K, None)[0].matches],
                  lambda qs: [[int(m.id) for m in res.matches] for res in match_vectors(
                      store, book, cal, ["q"] * len(qs), qs, np.ones(len(qs)), K, None)],
                  queries, n_single)
        rows.append({"system": "ReferenceIndex match path (HNSW + rules query + payload)",
                     "filter": False, "recall": recall(r.pop("found"), truth), **r,
                     "extra": "query embedding not included"})
    store.close()
    return rows


def bench_faiss(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truth: np.ndarray, truth_f: np.ndarray) -> list[dict]:
    import faiss

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    index = faiss.IndexFlatIP(refs.shape[1])
    index.add(refs)
    extra = built(len(refs), t, before)
    sel = faiss.IDSelectorBatch(np.flatnonzero(cats == "c3").astype("int64"))
    params = faiss.SearchParameters(sel=sel)
    rows = []
    for p, tr in ((None, truth), (params, truth_f)):
        r = timed(lambda q, p=p: index.search(q[None], K, params=p)[1][0].tolist(),
                  lambda qs, p=p: index.search(qs, K, params=p)[1].tolist(), queries, n_single)
        rows.append({"system": "faiss IndexFlatIP (exact)", "filter": p is not None,
                     "recall": recall(r.pop("found"), tr), **r, "extra": extra})
    return rows


def bench_numpy(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truth: np.ndarray, truth_f: np.ndarray) -> list[dict]:
    rows, sub = [], np.flatnonzero(cats == "c3")
    for filtered, tr in ((False, truth), (True, truth_f)):
        def search(qs: np.ndarray, filtered: bool = filtered) -> list[list[int]]:
            if not filtered:
                return exact_topk(refs, qs).tolist()
            return sub[exact_topk(refs[sub], qs)].tolist()  # the filter's rows gathered per call
        r = timed(lambda q, s=search: s(q[None])[0], search, queries, n_single)
        rows.append({"system": "numpy brute force (exact)", "filter": filtered,
                     "recall": recall(r.pop("found"), tr), **r,
                     "extra": f"vectors {refs.nbytes / 2**20:,.0f} MB"})
    return rows


def bench_local(refs: np.ndarray, queries: np.ndarray, cats: np.ndarray, n_single: int,
                truth: np.ndarray, truth_f: np.ndarray) -> list[dict]:
    """qdrant-client local mode (the stand-in for a server in tests), in memory."""
    from surematch.index.server import ServerStore

    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    store = ServerStore(path=":memory:", dim=refs.shape[1])
    for s in range(0, len(refs), 2000):
        store.upsert([str(i) for i in range(s, min(s + 2000, len(refs)))], refs[s:s + 2000],
                     [{"cat": str(c)} for c in cats[s:s + 2000]])
    extra = built(len(refs), t, before)
    rows = []
    for f, tr in ((None, truth), ({"cat": "c3"}, truth_f)):
        n = max(5, min(len(queries), int(2e6 // len(refs)) // (10 if f else 1)))
        r = timed(lambda q, f=f: [int(h.id) for h in store.search(q[None], K, f)[0]],
                  lambda qs, f=f: [[int(h.id) for h in row] for row in store.search(qs, K, f)],
                  queries[:n], min(n_single, n))
        rows.append({"system": f"qdrant-client local mode ({n} queries)", "filter": f is not None,
                     "recall": recall(r.pop("found"), tr[:n]), **r, "extra": extra})
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="reference counts, commas")
    parser.add_argument("--queries", type=int, default=1000, help="queries per batched run")
    parser.add_argument("--single", type=int, default=300, help="queries timed one by one")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    refs_all, queries = realistic_vectors(max(sizes), args.queries)
    sections = []
    for n in sizes:
        refs = refs_all[:n]
        cats = np.array([f"c{i % CATS}" for i in range(n)])
        sub = np.flatnonzero(cats == "c3")
        truth, truth_f = exact_topk(refs, queries), sub[exact_topk(refs[sub], queries)]
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            rows += bench_edge(refs, queries, cats, Path(tmp), args.single, truth, truth_f)
        with tempfile.TemporaryDirectory() as tmp:
            rows += bench_edge(refs, queries, cats, Path(tmp), args.single, truth, truth_f,
                               hnsw=(32, 200))
        rows += bench_faiss(refs, queries, cats, args.single, truth, truth_f)
        rows += bench_numpy(refs, queries, cats, args.single, truth, truth_f)
        rows += bench_local(refs, queries, cats, args.single, truth, truth_f)
        sections.append(table(n, rows))
        print(sections[-1], flush=True)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n\n".join([
        "## Vector search (`benchmarks/index_bench.py`)",
        f"Command: `.venv/bin/python benchmarks/index_bench.py --sizes {args.sizes} --queries "
        f"{args.queries} --single {args.single}` ({time.perf_counter() - t0:.0f} s in all). "
        "384-dim vectors drawn from a Gaussian mixture fitted to MiniLM embeddings of ESCO "
        "titles; recall@10 against exact search on the same (filtered) set; single = one "
        "query per call (p50/p99 from these), batched = all queries in one call. Machine "
        f"load average at the end (1/5/15 min): {load}; the machine is shared, so "
        "queries/s are lower bounds (and latencies upper bounds) of what a quiet machine "
        "gives.", *sections])
    if not args.no_write:
        from _report import write_section

        write_section("index", body)


if __name__ == "__main__":
    main()
