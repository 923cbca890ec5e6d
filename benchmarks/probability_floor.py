"""What the per-match floor costs: auto-accept coverage with and without `min_probability`.

    python benchmarks/probability_floor.py [--model MODEL] [--runtime onnx-int8] [--no-write]

A second domain besides the title protocols, built from the same files (no outside data):
"descriptions -> ISCO unit groups" matches each occupation's description paragraph (query)
to its ISCO-08 unit group, whose reference text is the group's official name
(`ISCOGroups_en.csv`: 4-digit codes used by some occupation); descriptions are split by
`stable_fraction` into calibration (half) and test (half). Long prose against short category
names, many near-ties between sibling groups: another shape of score distribution than title
to title. For all three protocols (surematch.data.esco, as `auto_accept_esco.py`: calibration titles
plus half the bundled out-of-domain strings calibrate, the test titles and the other half
measure), the queries are ranked once, then the calibration is fitted at each --target
(95 % confidence, reject band for at most 2 % of right matches) with each floor. Per floor:
the accept cut-off, the share of test queries auto-accepted and their precision, how many
accepted test matches have p < 0.5, the review and reject shares, and the share of the
out-of-domain test strings rejected. The model (default: frozen all-MiniLM-L6-v2 with a skip
head at identity, exported) runs on --runtime. Writes the "probability_floor" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section
from runtime_bench import baseline_model

from surematch.cached_embedder import CachedEmbedder
from surematch.confidence.certification.targets import Targets
from surematch.confidence.match_calibration import fit_match_calibration
from surematch.data.esco import (
    Protocol,
    known_occupations,
    read_esco,
    stable_fraction,
    unseen_occupations,
)
from surematch.data.esco_reader import Occupation
from surematch.data.samples import GroupedTexts, LabelledQueries, References
from surematch.evaluation.ranked_queries import rank_queries
from surematch.evaluation.summary import top1_probabilities
from surematch.loader import load_model
from surematch.model import SimilarityModel
from surematch.runtime.export import export_model
from surematch.workflows.protocols import (
    MAX_MISS,
    out_of_domain_texts,
    split_out_of_domain,
    with_negatives,
)

FLOORS = (0.0, 0.5, 0.7)
CACHE = Path(__file__).resolve().parent / ".cache"
ISCO_NAMES = Path(__file__).resolve().parents[1] / "src/surematch/resources/esco/ISCOGroups_en.csv"


def isco_groups(occupations: list[Occupation]) -> Protocol:
    """The second domain: occupation descriptions (queries) -> ISCO unit groups (references,
    each its group's name); calibration and test halves by `stable_fraction`."""
    import csv

    with ISCO_NAMES.open(encoding="utf-8", newline="") as f:
        names = {row["code"]: row["preferredLabel"] for row in csv.DictReader(f)}
    codes = sorted({o.isco_group for o in occupations if o.isco_group in names})
    refs = References(codes, [names[c] for c in codes], [{} for _ in codes])
    rows = [(o.description, o.isco_group) for o in occupations
            if o.description.strip() and o.isco_group in names]
    parts: dict[bool, list[tuple[str, str]]] = {True: [], False: []}
    for text, code in rows:
        parts[stable_fraction(text) < 0.5].append((text, code))

    def queries(part: bool) -> LabelledQueries:
        return LabelledQueries([t for t, _ in parts[part]], [c for _, c in parts[part]])

    return Protocol("descriptions -> ISCO unit groups (second domain)", refs,
                    GroupedTexts.from_labels([], [], "isco"), queries(True), queries(False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="a saved model (default: baseline, exported)")
    ap.add_argument("--runtime", default="onnx-int8")
    ap.add_argument("--target", type=float, nargs="+", default=[0.95],
                    help="precision targets (each protocol is fitted at each)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    occupations = read_esco()
    ood_cal, ood_test = split_out_of_domain(out_of_domain_texts())
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model
        if folder is None:
            folder = baseline_model(Path(tmp) / "model")
            export_model(SimilarityModel.load(folder), folder)
        # texts embedded by an earlier benchmark run (shift.py's cache) are read, not embedded
        model = CachedEmbedder(load_model(folder, args.runtime), CACHE / "embeddings")
        for protocol in (known_occupations(occupations), unseen_occupations(occupations),
                         isco_groups(occupations)):
            _, texts, _ = protocol.references.flat()
            vectors = model.embed(texts)
            cal = rank_queries(model, protocol.references,
                               with_negatives(protocol.calibration, ood_cal),
                               reference_vectors=vectors)
            test = rank_queries(model, protocol.references, protocol.test,
                                reference_vectors=vectors)
            ood = rank_queries(model, protocol.references,
                               LabelledQueries(ood_test, [None] * len(ood_test)),
                               reference_vectors=vectors)
            for target, floor in ((t, f) for t in args.target for f in FLOORS):
                fitted = fit_match_calibration(
                    cal.similarity, cal.correct, cal.confidence, cal.expected,
                    targets=Targets(target, MAX_MISS, min_probability=floor),
                    evidence=cal.evidence)
                p, y = top1_probabilities(test, fitted), test.correct
                band = np.asarray(fitted.bands.band(p))
                acc = band == "accept"
                ood_band = np.asarray(fitted.bands.band(top1_probabilities(ood, fitted)))
                b = fitted.bands
                p_at_1 = float(cal.correct[:len(protocol.calibration.texts)].mean())
                rows.append(
                    f"| {protocol.name} | {p_at_1:.3f} | {target:g} | {floor:g} | "
                    f"{'none' if b.accept_at is None else f'{b.accept_at:.3f}'} | "
                    f"{acc.mean():.3f} | {y[acc].mean() if acc.any() else float('nan'):.3f} | "
                    f"{int((acc & (p < 0.5)).sum())} | {(band == 'review').mean():.3f} | "
                    f"{(band == 'reject').mean():.3f} | {(ood_band == 'reject').mean():.3f} |")
                print(rows[-1], flush=True)
    took = time.perf_counter() - t0
    targets = " ".join(f"{t:g}" for t in args.target)
    body = ("## The per-match floor on ESCO and a second domain "
            "(`benchmarks/probability_floor.py`)\n\n"
            f"Command: `flock /tmp/heavy.lock .venv/bin/python benchmarks/probability_floor.py"
            f"{' --model ' + str(args.model) if args.model else ''} --runtime {args.runtime}"
            f" --target {targets}`"
            f" ({took:.0f} s; 2 cores, 24 GiB, no GPU, shared). Model: "
            f"{args.model or 'frozen all-MiniLM-L6-v2, skip head at identity'}, runtime "
            f"{args.runtime}. {__doc__.split(chr(10), 4)[4].split('The model')[0].strip()} "
            f"Precision targets {targets}; floor 0 is the band before issue #21.\n\n"
            "| protocol | P@1 (calibration queries) | target | floor | accept_at | accepted "
            "(test) | precision | accepted with p < 0.5 | review | reject | out-of-domain "
            "rejected |\n|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(body)
    if not args.no_write:
        write_section("probability_floor", body)


if __name__ == "__main__":
    main()
