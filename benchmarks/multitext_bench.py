"""References with several texts (issue #13): the multivector store (one point per reference,
one row per text, MaxSim) against the one-text index (one vector per reference).

    .venv/bin/python benchmarks/multitext_bench.py --refs 100000 --texts 10

Vectors: each reference is a cluster of `--texts` nearby unit vectors (its title and
synonyms): a centre drawn from a 32-component Gaussian mixture (random means, anisotropic
noise; `--mixture` uses benchmarks/mixture.py's ESCO-fitted mixture instead, which needs its
cache or fits it first), and each text the centre plus noise (cosine about 0.8 to the centre).
Queries are drawn the same way as texts of other, unstored references' centres mixed with a
stored one's texts, so that the best text of the right reference is not always its title.
The one-text index stores each reference's first text only. Recall@10 of references is
measured against exact search: max over every text of a reference (numpy), and for the
one-text index also against exact search over the titles it holds. Memory: growth of this
process's resident set while building (the float32 vectors are memory-mapped from disk and
count only as far as they are paged in). Writes the "multitext" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import index_bench
from index_bench import K, recall, rss_mb, timed

DIM = 384


def centres(n: int, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors from a 32-component anisotropic Gaussian mixture."""
    means = rng.standard_normal((32, DIM)).astype(np.float32)
    scales = rng.uniform(0.3, 1.2, (32, DIM)).astype(np.float32)
    comp = rng.integers(0, 32, n)
    x = means[comp] + rng.standard_normal((n, DIM), dtype=np.float32) * scales[comp]
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def texts_around(c: np.ndarray, t: int, rng: np.random.Generator, spread: float = 0.04,
                 ) -> np.ndarray:
    """[n, t, D] unit vectors near each centre (cosine about 0.8 at spread 0.04, 384-dim)."""
    x = c[:, None, :] + spread * rng.standard_normal((len(c), t, DIM), dtype=np.float32)
    return x / np.linalg.norm(x, axis=2, keepdims=True)


def exact_max_topk(texts: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Reference rows [Q, k] by max over each reference's texts [N, T, D], best first."""
    n, t, d = texts.shape
    flat = texts.reshape(n * t, d)
    out = []
    for s in range(0, len(queries), 16):
        sims = (queries[s:s + 16] @ flat.T).reshape(-1, n, t).max(axis=2)
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
        out.append(np.take_along_axis(top, order, 1))
    return np.concatenate(out)


def build(store, vectors, multi: bool, n: int) -> tuple[float, float, float]:
    """Insert (2,000 references at a time) and optimize; (insert s, optimize s, RSS MB)."""
    gc.collect()
    before, t = rss_mb(), time.perf_counter()
    store.create_payload_index("cat", "keyword")
    for s in range(0, n, 2000):
        e = min(s + 2000, n)
        store.upsert([str(i) for i in range(s, e)], list(vectors[s:e]) if multi else vectors[s:e],
                     [{"cat": f"c{i % 10}"} for i in range(s, e)])
    insert_s = time.perf_counter() - t
    t = time.perf_counter()
    store.optimize()
    return insert_s, time.perf_counter() - t, rss_mb() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refs", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=10, help="texts per reference")
    parser.add_argument("--queries", type=int, default=1000, help="queries per batched run")
    parser.add_argument("--single", type=int, default=300, help="queries timed one by one")
    parser.add_argument("--mixture", action="store_true", help="ESCO-fitted centres")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    from surematch.index.applied_calibration import Calibration
    from surematch.index.matcher import match_vectors
    from surematch.index.rules import RuleBook
    from surematch.index.stores.edge import EdgeStore

    t0, rng = time.perf_counter(), np.random.default_rng(0)
    n, t, nq = args.refs, args.texts, args.queries
    if args.mixture:
        from mixture import sample

        c = sample(n + 2 * nq)
    else:
        c = centres(n + 2 * nq, rng)
    texts = texts_around(c[:n], t, rng)  # [n, t, D]
    # queries: a text-like vector near a random stored reference's random text, or a free one
    pick, which = rng.integers(0, n, 2 * nq), rng.integers(0, t, 2 * nq)
    q = texts[pick, which] + 0.05 * rng.standard_normal((2 * nq, DIM), dtype=np.float32)
    q[::2] = c[n:n + nq]  # half are centres of references not stored
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    queries, index_bench.WARMUP = q[:nq], q[nq:]
    truth_max = exact_max_topk(texts, queries)
    titles = np.ascontiguousarray(texts[:, 0])
    truth_title = index_bench.exact_topk(titles, queries)
    print(f"data and exact truth: {time.perf_counter() - t0:.0f} s", flush=True)

    def searches(store) -> dict[bool, object]:
        return {False: lambda qs: [[int(h.id) for h in row] for row in store.search(qs, K)]}

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, multi in (("one-text index (title only)", False),
                            (f"multivector, {t} texts per reference (MaxSim)", True)):
            store = EdgeStore(Path(tmp) / name[:3], DIM, multivector=multi)
            ins, opt, mem = build(store, texts if multi else titles, multi, n)
            print(f"{name}: insert {ins:.0f} s, optimize {opt:.0f} s, RSS +{mem:.0f} MB",
                  flush=True)
            res = timed(searches(store), queries, args.single)[False]
            found = res.pop("found")
            disk = sum(f.stat().st_size for f in (Path(tmp) / name[:3]).rglob("*")) / 2**20
            note = (f"insert {n / ins:,.0f} refs/s ({n * (t if multi else 1) / ins:,.0f} "
                    f"vectors/s); optimize {opt:.0f} s; RSS +{mem:,.0f} MB; disk {disk:,.0f} MB")
            rows.append({"system": f"{name}: store search", **res,
                         "recall_max": recall(found, truth_max),
                         "recall_own": recall(found, truth_max if multi else truth_title),
                         "extra": note})
            with EdgeStore(Path(tmp) / f"{name[:3]}-rules", DIM) as rules_store:
                book, cal = RuleBook(rules_store), Calibration(None)

                def match(qs: np.ndarray, store=store, book=book, cal=cal) -> list[list[int]]:
                    return [[int(m.id) for m in r.matches] for r in match_vectors(
                        store, book, cal, ["q"] * len(qs), qs, np.ones(len(qs)), K, None)]

                res = timed({False: match}, queries, args.single)[False]
                found = res.pop("found")
                rows.append({"system": f"{name}: ReferenceIndex match path"
                             + (" (rows returned, best text found)" if multi else ""), **res,
                             "recall_max": recall(found, truth_max),
                             "recall_own": recall(found, truth_max if multi else truth_title),
                             "extra": "query embedding not included"})
            store.close()
            print(rows[-2], rows[-1], sep="\n", flush=True)
    lines = [f"### {n:,} references x {t} texts, top-{K}", "",
             "| system | queries/s single | queries/s batched | p50 ms | p99 ms | "
             "recall@10 vs exact max over texts | recall@10 vs exact on what it stores | "
             "notes |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['system']} | {r['qps_single']:,.0f} | {r['qps_batch']:,.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['recall_max']:.3f} | "
                     f"{r['recall_own']:.3f} | {r['extra']} |")
    table = "\n".join(lines)
    print(table)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    body = "\n\n".join([
        "## References with several texts (`benchmarks/multitext_bench.py`)",
        f"Command: `.venv/bin/python benchmarks/multitext_bench.py --refs {n} --texts {t} "
        f"--queries {nq} --single {args.single}{' --mixture' if args.mixture else ''}` "
        f"({time.perf_counter() - t0:.0f} s in all). Each reference is a cluster of {t} "
        "384-dim unit vectors (cosine about 0.8 to its centre; centres from "
        + ("the ESCO-fitted mixture" if args.mixture else "a random 32-component Gaussian "
           "mixture, not the ESCO-fitted one of index_bench")
        + "); half the queries lie near a random text of a stored reference, half are "
        "centres of references not stored. The multivector store holds one point per "
        "reference with one row per text (what `ReferenceIndex` creates); the one-text index "
        "holds each reference's first text. Both: HNSW 32 links, ef_construct 128, int8 copy "
        "in RAM, float32 rescoring, ef=64; single = one query per call, batched = all in one "
        "call (see index_bench for the timing protocol). The match path includes the rules "
        "query and, for the multivector store, returning each hit's rows to name its best "
        f"text. Machine load average at the end (1/5/15 min): {load}: the machine was shared, "
        "so absolute speeds are low and noisy; compare the rows with each other.", table])
    if not args.no_write:
        from _report import write_section

        write_section("multitext", body)


if __name__ == "__main__":
    main()
