"""Runtime benchmark: torch vs ONNX fp32 vs ONNX int8, latency of one query, batch throughput,
and how close int8 stays to fp32 on ESCO.

    python benchmarks/runtime_bench.py [--model MODEL] [--queries 300] [--batches 6]

The model folder (default: frozen all-MiniLM-L6-v2 with a skip head at identity, the demo's
starting point) is copied to a temporary folder and exported there. Every runtime runs in this
process, at 1 thread and at every core; SimilarityModel and OnnxModel pick 1 thread for
batches up to 16 texts and every core above (surematch.runtime.threads). Writes the `runtime`
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

from surematch.data.esco import esco_queries, esco_references, read_esco
from surematch.encoders.text import TextEncoder
from surematch.heads import build_head
from surematch.model import SimilarityModel
from surematch.runtime.export import export_model
from surematch.runtime.onnx_model import OnnxModel
from surematch.runtime.threads import cores

Embed = Callable[[Sequence[str]], np.ndarray]


def baseline_model(folder: Path) -> Path:
    """Frozen MiniLM and a skip head at identity, saved to `folder`."""
    head = build_head([{"kind": "skip"}], 384)
    with torch.no_grad():
        head.fc.weight.zero_()
    return SimilarityModel(TextEncoder(), head).save(folder)


def torch_embed(model: SimilarityModel, threads: int) -> Embed:
    """The torch path at a fixed thread count (bypassing the per-call choice)."""
    def embed(texts: Sequence[str]) -> np.ndarray:
        torch.set_num_threads(threads)
        with torch.no_grad():
            return model.forward_features(model.encoder.encode(texts, batch_size=256)).numpy()
    return embed


def onnx_embed(model: OnnxModel, threads: int) -> Embed:
    """The ONNX path through the session with `threads` intra-op threads."""
    def embed(texts: Sequence[str]) -> np.ndarray:
        ids, mask = model.tokenizer(texts)
        return model.session(threads).run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return embed


def latency(embed: Embed, queries: list[str]) -> tuple[float, float]:
    """(p50, p99) ms of embedding one query at a time, after 10 warm-up calls."""
    for q in queries[:10]:
        embed([q])
    took = []
    for q in queries:
        start = time.perf_counter()
        embed([q])
        took.append(time.perf_counter() - start)
    ms = np.array(took) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def throughput(embed: Embed, texts: list[str], batches: int) -> float:
    """Texts per second over `batches` batches of 256, after one warm-up batch."""
    embed(texts[:256])
    start = time.perf_counter()
    for i in range(batches):
        embed(texts[i * 256 : (i + 1) * 256])
    return batches * 256 / (time.perf_counter() - start)


def top1(embed: Embed, queries: list[str], refs: np.ndarray) -> np.ndarray:
    """Index of the most similar reference row for each query."""
    return np.concatenate([(embed(queries[i : i + 256]) @ refs.T).argmax(1)
                           for i in range(0, len(queries), 256)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a saved text model (default: baseline)")
    parser.add_argument("--queries", type=int, default=300, help="single queries timed")
    parser.add_argument("--batches", type=int, default=6, help="batches of 256 timed")
    parser.add_argument("--every", type=int, default=4, help="use every n-th ESCO query")
    args = parser.parse_args()
    occupations = read_esco()
    refs = esco_references(occupations)
    queries = esco_queries(occupations)
    titles = [t.lower() for t in refs.texts]
    singles = titles[:: max(1, len(titles) // args.queries)][: args.queries]
    n = cores()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        if args.model:
            shutil.copytree(args.model, folder)
        else:
            baseline_model(folder)
        model = SimilarityModel.load(folder)
        seq = model.encoder.st.max_seq_length
        start = time.perf_counter()
        export_model(model, folder)
        export_s = time.perf_counter() - start
        sizes = {name: (folder / name).stat().st_size / 2**20
                 for name in ("model.onnx", "model.int8.onnx")}
        fp32, int8 = OnnxModel(folder, "onnx"), OnnxModel(folder, "onnx-int8")
        runs = [("torch", t, torch_embed(model, t)) for t in (n, 1)] + \
               [(r.runtime, t, onnx_embed(r, t)) for r in (fp32, int8) for t in (1, n)]
        rows = []
        for name, threads, embed in runs:
            p50, p99 = latency(embed, singles)
            rows.append((name, threads, p50, p99, throughput(embed, titles, args.batches)))
            print(rows[-1], flush=True)
        torch.set_num_threads(n)
        # quality: int8 against fp32 (and both against ESCO's answers)
        ref_fp32, ref_int8 = fp32.embed(refs.texts), int8.embed(refs.texts)
        cos_titles = float((ref_fp32 * ref_int8).sum(1).mean())
        sample = queries.texts[:: args.every]
        expected = np.array([refs.ids.index(i) for i in queries.expected_ids[:: args.every]])
        top_fp32 = top1(fp32.embed, sample, ref_fp32)
        top_int8 = top1(int8.embed, sample, ref_int8)
        top_torch = top1(model.embed, sample, model.embed(refs.texts))
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    agree = float((top_fp32 == top_int8).mean())
    agree_torch = float((top_fp32 == top_torch).mean())
    chosen = "1 thread for batches up to 16 texts, every core above"
    command = "python benchmarks/runtime_bench.py" + (f" --model {args.model}" * bool(args.model))
    what = str(args.model) if args.model else "frozen all-MiniLM-L6-v2, a skip head at identity"
    body = (
        f"`{command}`: {what}, max_seq_length {seq}, in-process. One query: p50 / p99 over "
        f"{len(singles)} ESCO preferred titles, one call each. Batch: {args.batches} batches "
        "of 256 titles. "
        f"Export (fp32 graph + int8 quantisation) took {export_s:.0f} s; model.onnx "
        f"{sizes['model.onnx']:.0f} MiB, model.int8.onnx {sizes['model.int8.onnx']:.0f} MiB. "
        f"`SimilarityModel.embed` and `OnnxModel` choose {chosen}. The machine's {n} cores are "
        f"shared with other work (load average {load}): with more threads than free cores, "
        "threads wait for each other, so the numbers move between runs.\n\n"
        "| runtime | threads | 1 query p50 ms | 1 query p99 ms | batch of 256: texts/s |\n"
        "|---|---|---|---|---|\n"
        + "".join(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.0f} |\n" for r in rows)
        + f"\nint8 against fp32 (ONNX): mean cosine {cos_titles:.4f} over the {len(refs.texts)} "
        f"ESCO preferred titles; same top-1 reference for {agree:.1%} of {len(sample)} ESCO "
        f"alternative titles (every {args.every}th) searched against the preferred titles "
        f"(fp32 ONNX against torch: {agree_torch:.1%}). P@1 against ESCO's answers: torch "
        f"{(top_torch == expected).mean():.3f}, onnx {(top_fp32 == expected).mean():.3f}, "
        f"onnx-int8 {(top_int8 == expected).mean():.3f}.\n")
    write_section("runtime", body)
    print(body)


if __name__ == "__main__":
    main()
