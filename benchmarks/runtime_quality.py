"""Quality per runtime on the demo's protocol: P@1 and ECE after each runtime's own calibration.

Run: `.venv/bin/python benchmarks/runtime_quality.py --model surematch-demo/model` (the demo's
model, exported by the demo). Protocol "known occupations, new titles" (surematch.data.esco),
as the demo: each runtime embeds the references (every text), calibrates on the calibration
titles plus half the out-of-domain strings, and is measured on the test titles. Also the mean
cosine between the int8 and fp32 graphs' embeddings of the test titles. Writes the
"runtime_quality" section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
from _report import write_section

from surematch.data.esco import known_occupations, read_esco
from surematch.loader import load_model
from surematch.workflows.protocols import evaluate_protocol, out_of_domain_texts

RUNTIMES = ("torch", "onnx", "onnx-int8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=Path("surematch-demo/model"))
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    protocol = known_occupations(read_esco())
    ood = out_of_domain_texts()
    rows, test_vectors = [], {}
    for runtime in RUNTIMES:
        t0 = time.perf_counter()
        model = load_model(args.model, runtime)
        report, _ = evaluate_protocol(model, protocol, ood)
        s, b95 = report.summary, report.bands[0.95]
        test_vectors[runtime] = model.embed(protocol.test.texts)
        rows.append(f"| {runtime} | {s['p_at_1']:.4f} | {s['ece']:.4f} | "
                    f"{s['ece_noise_floor']:.4f} | {b95['coverage']:.3f} / "
                    f"{b95['precision'] or float('nan'):.3f} | {time.perf_counter() - t0:.0f} |")
        print(rows[-1], flush=True)
    cosine = float(np.mean(np.sum(test_vectors["onnx-int8"] * test_vectors["onnx"], axis=1)))
    body = (f"## Quality per runtime (`benchmarks/runtime_quality.py`)\n\nCommand: "
            f"`.venv/bin/python benchmarks/runtime_quality.py --model {args.model}`. "
            f"{__doc__.split(chr(10), 2)[2].split('Writes')[0].strip()} "
            f"{len(protocol.test):,} test titles, {len(protocol.references):,} references.\n\n"
            "| runtime | P@1 | ECE | ECE noise floor | 0.95 band: coverage / precision "
            "| seconds |\n|---|---|---|---|---|---|\n" + "\n".join(rows) +
            f"\n\nMean cosine between int8 and fp32 embeddings of the test titles: "
            f"{cosine:.4f}.\n")
    print(body)
    if not args.no_write:
        write_section("runtime_quality", body)


if __name__ == "__main__":
    main()
