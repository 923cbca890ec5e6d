"""Files of queries at scale (issue #24): repeats, exact texts, and the Dask engine.

    flock /tmp/heavy.lock python benchmarks/batch_scale.py MODEL_DIR INDEX_DIR [--distinct N]

On the demo's model (onnx-int8) and index (ESCO references), all in one process (model
load included, process start not), -k 5, one run each:
1. distinct: N distinct queries (ESCO titles, bare and with job-ad decorations such as
   "senior ..." or "... (m/f/d)", shuffled), first on the slow path (the exact-text lookup
   off), then as shipped;
2. zipf: 100,000 rows drawn Zipf (s = 1) from 20,000 of those queries; its output is
   checked row for row against the slow path's rows for the same queries;
3. exact texts: up to 5,000 queries equal to stored texts, slow path against the lookup;
4. the Dask engine (`match_dataset`) on a local cluster of 1 and 2 worker processes, on the
   decorated queries (none of them a stored text), cluster start included.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

from surematch.data.esco import read_esco
from surematch.index import exact_texts
from surematch.index.stores import IndexLocation
from surematch.workflows.match_file import match_file

K = 5
FORMS = ["{}", "senior {}", "{} (m/f/d)", "junior {}", "{} - full time"]


def write(path: Path, queries: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["query"])
        w.writerows([q] for q in queries)
    return path


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


def run(model: Path, index: Path, queries: Path, out: Path, exact: bool = True,
        ) -> tuple[float, int]:
    """(seconds, distinct queries matched) of one match_file run."""
    exact_texts.MAX_REFERENCES = 2_000_000 if exact else -1  # -1: the lookup stays empty
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    result = match_file(model, IndexLocation.of(index), queries, out, K, runtime="auto")
    return time.perf_counter() - t0, result.rows_matched


def zipf_rows(pool: list[str], n: int, seed: int = 0) -> list[str]:
    """n draws from pool with P(rank r) proportional to 1 / r (s = 1)."""
    weights = [1 / r for r in range(1, len(pool) + 1)]
    return random.Random(seed).choices(pool, weights=weights, k=n)


def same(a: list[str], b: list[str]) -> float | None:
    """None if the rows differ in anything but the similarity and probability digits,
    else the largest difference of those."""
    if len(a) != len(b):
        return None
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        try:
            worst = max(worst, abs(float(x) - float(y)))
        except ValueError:
            return None
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("--distinct", type=int, default=20_000)
    parser.add_argument("--zipf-rows", type=int, default=100_000)
    parser.add_argument("--engine-rows", type=int, default=4_000)
    parser.add_argument("--references", type=int, default=None, help="(a smoke test: fewer)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="batch_scale_"))
    index = tmp / "index"
    # the demo's references imported again (never written into): the index then keeps each
    # text's embedding confidence, which the exact-text path needs for this model
    from surematch.index.reference_index import ReferenceIndex
    from surematch.loader import load_model
    from surematch.workflows.feedback import references_from_index

    model = load_model(args.model, "auto")
    with ReferenceIndex.open(args.index, model) as demo:
        refs = references_from_index(demo)
    if args.references:
        refs = type(refs)(refs.ids[: args.references], refs.texts[: args.references],
                          refs.payloads[: args.references])
    t0 = time.perf_counter()
    with ReferenceIndex.create(index, model) as fresh:
        fresh.add(refs, progress=False)
        fresh.optimize()
    import_s = time.perf_counter() - t0

    occupations = read_esco()
    titles = list(dict.fromkeys(t for o in occupations for t in (o.preferred, *o.alternatives)))
    every = list(dict.fromkeys(f.format(t) for f in FORMS for t in titles))
    random.Random(0).shuffle(every)
    distinct = every[: args.distinct]
    pool = distinct[:20_000]
    stored_texts = list(dict.fromkeys(refs.flat()[1]))  # the texts the index holds
    stored = {" ".join(t.casefold().split()) for t in stored_texts}
    share = sum(" ".join(q.casefold().split()) in stored for q in distinct) / len(distinct)

    lines = []
    d_path = write(tmp / "distinct.csv", distinct)
    slow_s, _ = run(args.model, index, d_path, tmp / "distinct_slow.csv", exact=False)
    fast_s, _ = run(args.model, index, d_path, tmp / "distinct_fast.csv")
    slow_rows = {r[0]: r for r in rows(tmp / "distinct_slow.csv")}

    z = zipf_rows(pool, args.zipf_rows)
    z_path = write(tmp / "zipf.csv", z)
    zipf_s, zipf_matched = run(args.model, index, z_path, tmp / "zipf_out.csv")
    z_out = rows(tmp / "zipf_out.csv")
    diffs = [same(row, slow_rows[row[0]]) for row in z_out]
    identical = sum(d is not None for d in diffs)
    worst = max((d for d in diffs if d is not None), default=0.0)
    same_top = sum(row[1] == slow_rows[row[0]][1] for row in z_out)
    z_share = sum(" ".join(q.casefold().split()) in stored for q in z) / len(z)

    bare = stored_texts[:5000]
    b_path = write(tmp / "bare.csv", bare)
    bare_slow, _ = run(args.model, index, b_path, tmp / "bare_slow.csv", exact=False)
    bare_fast, _ = run(args.model, index, b_path, tmp / "bare_fast.csv")
    b_diffs = [same(a, b) for a, b in zip(rows(tmp / "bare_fast.csv"),
                                          rows(tmp / "bare_slow.csv"), strict=True)]
    b_same_top = sum(a[1] == b[1] for a, b in zip(rows(tmp / "bare_fast.csv"),
                                                  rows(tmp / "bare_slow.csv"), strict=True))

    rate = lambda n, s: f"{n / s:,.0f}"  # noqa: E731
    lines += [
        "| file | rows | distinct matched | seconds | rows/s |",
        "|---|---:|---:|---:|---:|",
        f"| distinct, slow path (exact lookup off) | {len(distinct):,} | {len(distinct):,} | "
        f"{slow_s:.1f} | {rate(len(distinct), slow_s)} |",
        f"| distinct, as shipped ({share:.0%} exact texts) | {len(distinct):,} | "
        f"{len(distinct):,} | {fast_s:.1f} | {rate(len(distinct), fast_s)} |",
        f"| Zipf s=1 from 20,000 ({z_share:.0%} of rows exact texts) | {len(z):,} | "
        f"{zipf_matched:,} | {zipf_s:.1f} | {rate(len(z), zipf_s)} |",
        f"| stored texts, slow path | {len(bare):,} | {len(bare):,} | {bare_slow:.1f} | "
        f"{rate(len(bare), bare_slow)} |",
        f"| stored texts, exact lookup | {len(bare):,} | {len(bare):,} | {bare_fast:.1f} | "
        f"{rate(len(bare), bare_fast)} |",
        "",
        f"Zipf file: {len(z) / zipf_s / (len(distinct) / slow_s):.1f}x the distinct file's "
        f"rows/s on the slow path ({len(z) / zipf_s / (len(distinct) / fast_s):.1f}x as "
        f"shipped). Against the slow path's rows for the same queries: top match equal in "
        f"{same_top:,} of {len(z):,} rows; rows equal but for digits in {identical:,} "
        f"(largest similarity or probability difference among them {worst:.1e}).",
        f"Stored texts: the lookup's top match equals the slow path's for {b_same_top:,} of "
        f"{len(bare):,}; rows identical but for digits: {sum(d is not None for d in b_diffs):,} "
        f"(largest digit difference "
        f"{max((d for d in b_diffs if d is not None), default=0.0):.1e}).",
    ]

    decorated = [q for q in every if " ".join(q.casefold().split()) not in stored]
    e_path = write(tmp / "engine.csv", decorated[: args.engine_rows])
    lines += ["", "| Dask engine (local cluster, cluster start included) | rows | seconds | "
              "rows/s |", "|---|---:|---:|---:|"]
    from surematch.workflows.distributed import match_dataset

    for workers in (1, 2):
        out = tmp / f"engine_{workers}.csv"
        t0 = time.perf_counter()
        match_dataset(args.model, IndexLocation.of(index), e_path, out, K, workers=workers,
                      partition_rows=max(1, math.ceil(args.engine_rows / 8)), restart=True)
        s = time.perf_counter() - t0
        lines.append(f"| {workers} worker{'s' * (workers > 1)} | {args.engine_rows:,} | "
                     f"{s:.1f} | {rate(args.engine_rows, s)} |")
    t0 = time.perf_counter()
    single = tmp / "engine_single.csv"
    run(args.model, index, e_path, single)
    s = time.perf_counter() - t0
    lines.append(f"| match_file, one process | {args.engine_rows:,} | {s:.1f} | "
                 f"{rate(args.engine_rows, s)} |")
    pairs = list(zip(rows(tmp / "engine_2.csv"), rows(single), strict=True))
    equal = sum(same(a, b) is not None for a, b in pairs)
    top = sum(a[1] == b[1] for a, b in pairs)
    lines.append(f"\nEngine output (2 workers) against one process's: top match equal in "
                 f"{top:,} of {len(pairs):,} rows, rows equal but for digits in {equal:,}.")
    lines.insert(0, f"Index: the demo's {len(refs):,} references imported again with their "
                 f"texts' embedding confidence in {import_s:.1f} s.\n")

    # 100 million rows on N machines: distinct queries cost the encoder and a search, repeats
    # only their row; the per-row costs measured above, per core (this machine has 2)
    distinct_ms = 2 * 1000 * slow_s / len(distinct)  # core-ms per distinct query, all in
    repeat_us = max(0.0, 2e6 * (zipf_s - zipf_matched * slow_s / len(distinct))
                    / max(1, len(z) - zipf_matched))  # core-us per repeated row
    lines += ["", "Estimate for 100 million rows (assumptions: the costs per core measured "
              f"here, {distinct_ms:.1f} core-ms per distinct query on the slow path "
              f"(encoder about 1 ms, search 0.5 ms, Python 0.3 ms: the runtime issue's "
              f"breakdown) and {repeat_us:.0f} core-us per repeated row; machines of 16 "
              "cores at 70 % use; each worker searching its own read-only copy of the index, "
              "so search scales with the workers. Searching one Qdrant server or cluster "
              "instead, its throughput bounds the distinct queries: Qdrant's published "
              "benchmarks give on the order of 1,000 to 1,500 searches/s per 8-vCPU node at "
              "0.99 recall for 1 M vectors of 1,536 dimensions, so about 20 replicas or "
              "shards to keep 20 machines fed):", "",
              "| distinct share of rows | core-hours | 1 machine | 10 machines | "
              "100 machines |", "|---:|---:|---:|---:|---:|"]
    for share in (1.0, 0.1, 0.01):
        core_h = 1e8 * (share * distinct_ms / 1e3 + (1 - share) * repeat_us / 1e6) / 3600
        hours = [core_h / (16 * 0.7 * n) for n in (1, 10, 100)]
        lines.append(f"| {share:.0%} | {core_h:,.1f} | " + " | ".join(
            f"{h:.1f} h" if h >= 1 else f"{h * 60:.0f} min" for h in hours) + " |")
    lines.append(f"\n(On this 2-core machine alone: {1e8 / (len(distinct) / slow_s) / 3600:.0f} h "
                 "for 100 million distinct rows.)")

    body = ("Command: `flock /tmp/heavy.lock python benchmarks/batch_scale.py "
            "surematch-demo/model surematch-demo/index` (onnx-int8, -k 5, one process, "
            "model load included)\n\n" + "\n".join(lines) + "\n")
    print(body)
    write_section("batch_scale", body)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
