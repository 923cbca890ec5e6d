"""Auto-accept on ESCO, both protocols: P@1, calibration, certified bands, out-of-domain inputs.

Run: `.venv/bin/python benchmarks/auto_accept_esco.py [--config recipe.yaml] [--no-write]`.
Writes the "auto_accept_esco" section of BENCHMARKS.md.

Protocols (surematch.data.esco): "known occupations, new titles" (every occupation is a
reference; its unshared alternative titles split by a stable hash of the title 60/15/25 into
train / calibration / test; references hold the preferred title, the train titles and the
description; the model trains on the train titles) and "unseen occupations" (held-out ISCO
groups, as `calibration_esco.py`: their occupations are references the model never trained
on, holding preferred title and description). For each protocol a model is trained with the
recipe (the default one unless --config), calibrated on the calibration titles plus half of
the bundled out-of-domain strings (as "no match" examples), and measured on the test titles
and the other half. Bands are certified at 95 % confidence for each precision target.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _report import write_section

from surematch.config import Config
from surematch.data.esco import known_occupations, read_esco, unseen_occupations
from surematch.model import SimilarityModel
from surematch.training import train
from surematch.workflows.protocols import evaluate_protocol, out_of_domain_texts

CACHE = Path(__file__).resolve().parent / ".cache" / "auto_accept"
HEAD = ("| protocol | references / texts | test queries | P@1 | recall@10 | ECE (floor) "
        "| 0.95 band: coverage / precision | 0.99 band: coverage / precision "
        "| out-of-domain rejected | right rejected |\n|---|---|---|---|---|---|---|---|---|---|")


def _f(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, help="training recipe (YAML); default recipe if absent")
    ap.add_argument("--retrain", action="store_true", help="train even if a model is cached")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a config field, e.g. train.accelerator='\"gpu\"'")
    ap.add_argument("--json-out", type=Path, help="also write the measurements as JSON here")
    args = ap.parse_args()
    config = Config.from_yaml(args.config) if args.config else Config()
    config = config.override({k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)})
    occupations = read_esco()
    ood = out_of_domain_texts()
    rows, details = [], {}
    for key, protocol in (("known", known_occupations(occupations)),
                          ("unseen", unseen_occupations(occupations))):
        folder = CACHE / f"{key}-{args.config.stem if args.config else 'default'}"
        t0 = time.perf_counter()
        if folder.exists() and not args.retrain:
            model = SimilarityModel.load(folder)
        else:
            model = train(config, protocol.training)
            model.save(folder)
        train_s = time.perf_counter() - t0
        if torch.cuda.is_available():  # embed on the GPU too; features come back to the CPU
            model.encoder.to("cuda")
        report, _ = evaluate_protocol(model, protocol, ood)
        s, b95, b99, o = report.summary, report.bands[0.95], report.bands[0.99], \
            report.out_of_domain
        rows.append(f"| {report.name} | {report.sizes['references']:,} / "
                    f"{report.sizes['texts']:,} | {report.sizes['test']:,} | "
                    f"{_f(s['p_at_1'])} | {_f(s['recall_at_10'])} | {_f(s['ece'])} "
                    f"({_f(s['ece_noise_floor'])}) | {_f(b95['coverage'])} / "
                    f"{_f(b95['precision'])} | {_f(b99['coverage'])} / {_f(b99['precision'])} | "
                    f"{_f(o['rejected'])} | {_f(o['right_rejected'])} |")
        details[key] = {"sizes": report.sizes, "train_seconds": round(train_s, 1),
                        "bands": {str(t): v for t, v in report.bands.items()},
                        "out_of_domain": o, "summary": {k: v for k, v in s.items()
                                                        if k != "note"}}
        print(json.dumps(details[key], indent=1, default=str))
    command = "`.venv/bin/python benchmarks/auto_accept_esco.py" + (
        f" --config {args.config}`" if args.config else "`")
    body = f"""## Auto-accept on ESCO: both protocols

Command: {command}. Protocols in the script's docstring. Every number is measured on the test
titles (and the test half of the {len(ood)} bundled out-of-domain strings) with a calibration
fitted on the calibration titles; ECE with 15 bins (its sampling-noise floor in brackets);
bands certified at 95 % confidence on held-out calibration queries; coverage = share of test
queries auto-accepted, precision = share of those right; out-of-domain = share of those
strings in the reject band (no match); right rejected = share of right top matches of the
test queries that land in the reject band.

{HEAD}
{chr(10).join(rows)}

Targets (issue #13): known occupations P@1 ≥ 0.82 and the 0.95 band ≥ 45 % at precision
≥ 0.95; unseen occupations ≥ 12 % at precision ≥ 0.95; out-of-domain ≥ 95 % rejected with at
most 2 % of right top matches rejected.
"""
    print(body)
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "details": details}, default=str))
    if not args.no_write:
        write_section("auto_accept_esco", body)


if __name__ == "__main__":
    main()
