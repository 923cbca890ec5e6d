"""Same text, same vector? Embedding runtimes compared for batch invariance, speed and quality.

    python benchmarks/batch_invariance.py [--model MODEL] [--no-quality] [--no-write]

The model folder (default: frozen all-MiniLM-L6-v2 with a skip head at identity, as
`runtime_bench.py`) is copied to a temporary folder and exported there. Variants:

- `onnx`: the fp32 graph, texts run in batches (RUN_BATCH, shortest first);
- `int8 dynamic, batched`: the dynamic int8 graph as before issue #21: its activation scales
  are taken per graph run, so a text's vector depends on the other texts of its run;
- `int8 dynamic, per text`: the same graph run on one text at a time (no padding, scales of
  the text itself);
- `int8 static, batched`: int8 with activation scales fixed at export from calibration texts
  (`quantize_static_graph`: onnxruntime `quantize_static`, QDQ, MinMax over the 512
  `default_int8_texts`, each run alone); what `export_model` writes since issue #21.

Per variant: the largest difference between a text's vector embedded alone and inside
shuffled batches of other lengths (200 ESCO titles), texts per second over ESCO titles
(shuffled, as a file of queries arrives), and, unless --no-quality, P@1 / ECE / the 0.95
band after the variant's own calibration on the "known occupations" protocol (as
`runtime_quality.py`). Writes the "batch_invariance" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section
from runtime_bench import baseline_model

import surematch.runtime.onnx_model as onnx_model
from surematch.data.esco import known_occupations, read_esco
from surematch.model import SimilarityModel
from surematch.runtime.export import INT8_TEXTS, export_model, quantize_graph
from surematch.runtime.onnx_model import OnnxModel
from surematch.workflows.protocols import evaluate_protocol, out_of_domain_texts


@contextmanager
def variant(model: OnnxModel, run_batch: int, graph: Path | None = None) -> Iterator[OnnxModel]:
    """`model` running `run_batch` texts per graph run (and another graph file if given)."""
    saved, saved_graph = model.run_batch, model.graph
    model.run_batch = run_batch
    if graph is not None:
        model.graph, model._sessions = graph, {}
    try:
        yield model
    finally:
        model.run_batch = saved
        model.graph, model._sessions = saved_graph, {}


def invariance(model: OnnxModel, titles: list[str], others: list[str]) -> float:
    """Largest |alone - in a batch| over the vectors of `titles`, each batch 7 of `others`
    (random lengths) around one title, at random positions."""
    rng = random.Random(0)
    worst = 0.0
    alone = np.stack([model.embed([t])[0] for t in titles])
    for n, t in enumerate(titles):
        batch = rng.sample(others, 7)
        at = rng.randrange(8)
        batch.insert(at, t)
        worst = max(worst, float(np.abs(model.embed(batch)[at] - alone[n]).max()))
    return worst


def speed(model: OnnxModel, texts: list[str]) -> float:
    """Texts per second embedding `texts` in calls of 256 (after one warm-up call)."""
    model.embed(texts[:256])
    start = time.perf_counter()
    for i in range(0, len(texts), 256):
        model.embed(texts[i:i + 256])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="a saved text model (default: baseline)")
    ap.add_argument("--texts", type=int, default=2048, help="texts timed per variant")
    ap.add_argument("--no-quality", action="store_true", help="skip P@1 / ECE")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    occupations = read_esco()
    protocol = known_occupations(occupations)
    titles = list(protocol.test.texts)
    random.Random(1).shuffle(titles)
    ood = out_of_domain_texts()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        if args.model:
            shutil.copytree(args.model, folder)
        else:
            baseline_model(folder)
        start = time.perf_counter()
        export_model(SimilarityModel.load(folder), folder)  # fp32, and int8 with static scales
        export_s = time.perf_counter() - start
        fp32, int8 = OnnxModel(folder, "onnx"), OnnxModel(folder, "onnx-int8")
        dynamic = quantize_graph(fp32.graph, Path(tmp) / "model.dynamic.onnx")
        batch = onnx_model.RUN_BATCH
        # quality of the graph as before is left out (the same graph as one text per run;
        # its P@1 matched fp32's: runtime_quality)
        variants = [("onnx (fp32), batched", fp32, batch, None, True),
                    ("onnx-int8 dynamic scales, batched (before)", int8, batch, dynamic, False),
                    ("onnx-int8 dynamic scales, one text per run", int8, 1, dynamic, True),
                    ("onnx-int8 static scales, batched", int8, batch, None, True)]
        for name, base, run_batch, graph, measure in variants:
            with variant(base, run_batch, graph) as model:
                worst = invariance(model, titles[:200], titles[200:2000])
                rate = speed(model, titles[:args.texts])
                quality = "| - | - | - "
                if measure and not args.no_quality:
                    report, _ = evaluate_protocol(model, protocol, ood, targets=(0.95,))
                    s, b = report.summary, report.bands[0.95]
                    quality = (f"| {s['p_at_1']:.4f} | {s['ece']:.4f} | {b['coverage']:.3f} / "
                               f"{b['precision'] or float('nan'):.3f} ")
            rows.append(f"| {name} | {worst:.2g} | {rate:,.0f} {quality}|")
            print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    body = ("## Batch invariance of embeddings (`benchmarks/batch_invariance.py`)\n\n"
            f"Command: `flock /tmp/heavy.lock .venv/bin/python benchmarks/batch_invariance.py"
            f"{' --model ' + str(args.model) if args.model else ''}`. Model: "
            f"{args.model or 'frozen all-MiniLM-L6-v2, skip head at identity'}. Machine: 2 "
            f"cores, 24 GiB, no GPU, shared (load average {load:.1f} at the end). "
            "Max |Δ|: the largest difference between a title's vector embedded alone and in "
            "a shuffled batch of 8 titles of other lengths (200 test titles). Texts/s: "
            f"{args.texts:,} shuffled test titles in calls of 256. P@1, ECE and the 0.95 "
            "band (coverage / precision on the test titles): after each variant's own "
            f"calibration, protocol known occupations. Export (fp32 graph and static int8 "
            f"quantisation on {INT8_TEXTS} texts) took {export_s:.0f} s.\n\n"
            "| variant | max abs Δ alone vs batch | texts/s | P@1 | ECE | 0.95 band |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(body)
    if not args.no_write:
        write_section("batch_invariance", body)


if __name__ == "__main__":
    main()
