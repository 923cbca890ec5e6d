"""Out of domain -> no match: the certified no-match rule against the reject band on the
calibrated probability, on both ESCO protocols.

    python benchmarks/no_match.py --model KNOWN_MODEL [--unseen-model UNSEEN_MODEL]
        [--runtime auto] [--unseen-runtime auto] [--max-miss 0.02] [--no-write]

For each protocol (surematch.data.esco, as `auto_accept_esco.py`: the calibration titles plus
the calibration half of the 237 bundled out-of-domain strings calibrate; the test titles and
the other half measure), the queries are ranked once, then the calibration is fitted at
precision 0.95 (95 % confidence) with the reject band for at most --max-miss of right matches,
once on the calibrated probability (`no_match=False`, the band before issue #23) and once as
the no-match rule (`confidence.no_match`, the default). Per row: the certified miss bound,
the share of the out-of-domain test strings in the reject band (no match), the share of
right top matches of the test titles rejected, and the auto-accept coverage and precision.
A model trained on one protocol's training titles is measured on that protocol only: give
the known-occupation model and (optionally) the unseen-occupation one.
Writes the "no_match" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

from surematch.confidence.retrieval import fit_match_calibration
from surematch.confidence.targets import Targets
from surematch.data.esco import known_occupations, read_esco, unseen_occupations
from surematch.data.samples import LabelledQueries
from surematch.evaluation.ranked import RankedQueries, rank_queries
from surematch.evaluation.summary import top1_bands
from surematch.folder import DEFAULT_RUNTIME
from surematch.loader import load_model
from surematch.workflows.protocols import (
    out_of_domain_texts,
    split_out_of_domain,
    with_negatives,
)


def measure(name: str, runtime: str, cal: RankedQueries, test: RankedQueries,
            ood: RankedQueries, ood_test: list[str], target: float, max_miss: float,
            ) -> list[str]:
    """The table's rows of one protocol: the reject band on the probability, then the rule."""
    right, rows = test.correct.astype(bool), []
    for rule in (False, True):
        fitted = fit_match_calibration(
            cal.similarity, cal.correct, cal.confidence, cal.expected,
            targets=Targets(target, max_miss), evidence=cal.evidence,
            no_match=rule)
        band, ood_band = top1_bands(test, fitted), top1_bands(ood, fitted)
        acc = band == "accept"
        survivors = [t for t, b in zip(ood_test, ood_band, strict=True) if b != "reject"]
        bound = fitted.bands.miss_bound
        rows.append(
            f"| {name} | {runtime} | "
            f"{'no-match rule' if fitted.no_match else 'probability'} | "
            f"{'none' if bound is None else f'{bound:.4f}'} | "
            f"{(ood_band == 'reject').mean():.3f} | {(band[right] == 'reject').mean():.4f} | "
            f"{acc.mean():.3f} | "
            f"{right[acc].mean() if acc.any() else float('nan'):.3f} | "
            f"{', '.join(survivors[:8])}{' ...' if len(survivors) > 8 else ''} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True,
                    help="model trained on the known-occupation protocol")
    ap.add_argument("--unseen-model", type=Path,
                    help="model trained on the unseen-occupation protocol")
    ap.add_argument("--runtime", default=DEFAULT_RUNTIME)
    ap.add_argument("--unseen-runtime", default=DEFAULT_RUNTIME)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--max-miss", type=float, default=0.02)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    occupations = read_esco()
    ood_cal, ood_test = split_out_of_domain(out_of_domain_texts())
    runs = [(known_occupations(occupations), args.model, args.runtime)]
    if args.unseen_model:
        runs.append((unseen_occupations(occupations), args.unseen_model, args.unseen_runtime))
    rows = []
    t0 = time.perf_counter()
    for protocol, folder, runtime in runs:
        model = load_model(folder, runtime)
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
        rows += measure(protocol.name, model.runtime, cal, test, ood, ood_test, args.target,
                        args.max_miss)
    took = time.perf_counter() - t0
    cmd = (f"flock /tmp/heavy.lock .venv/bin/python benchmarks/no_match.py --model {args.model}"
           + (f" --unseen-model {args.unseen_model}" if args.unseen_model else "")
           + f" --runtime {args.runtime} --unseen-runtime {args.unseen_runtime}"
           + f" --max-miss {args.max_miss:g}")
    body = ("## Out of domain -> no match (`benchmarks/no_match.py`)\n\n"
            f"Command: `{cmd}` ({took:.0f} s). "
            f"{__doc__.split(chr(10), 5)[5].split('Writes')[0].strip()}\n\n"
            "| protocol | runtime | reject band on | certified miss bound | out-of-domain "
            "rejected | right rejected (test) | accepted (test) | accept precision | "
            "out-of-domain survivors (first 8) |\n"
            "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(body)
    if not args.no_write:
        write_section("no_match", body)


if __name__ == "__main__":
    main()
