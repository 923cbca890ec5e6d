"""Presets on a CPU, both ESCO protocols: frozen default against fine-tune, torch and onnx-int8.

Run: `.venv/bin/python benchmarks/finetune_cpu.py [--preset default --preset fine-tune]
[--protocol known --protocol unseen] [--set encoder.frozen_layers=2] [--tag NAME]`.
Writes the "finetune_cpu" section of BENCHMARKS.md (unless --no-write).

Each (protocol, preset) model trains in a child process of its own, so that its wall-clock
training time (`train_seconds`: Lightning's fit, validation passes included) and its peak
resident memory are its own; the model is saved and exported (fp32 and int8 ONNX, not
timed) under benchmarks/.cache/finetune_cpu and reused on later runs (--retrain to redo).
Every runtime is then measured as `auto_accept_esco.py` measures (`evaluate_protocol`):
calibrated on its own embeddings of the calibration titles plus half the bundled
out-of-domain strings, bands certified at 95 % confidence, measured on the test titles and
the other half of the out-of-domain strings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CACHE = Path(__file__).resolve().parent / ".cache" / "finetune_cpu"
HEAD = ("| protocol | recipe | runtime | P@1 | MRR | 0.95 band: coverage / precision "
        "| 0.99 band: coverage / precision | out-of-domain rejected | right rejected "
        "| train s | peak memory MiB |\n|---|---|---|---|---|---|---|---|---|---|---|")


def _protocol(name: str) -> Any:
    from surematch.data.esco import known_occupations, read_esco, unseen_occupations

    return (known_occupations if name == "known" else unseen_occupations)(read_esco())


def with_descriptions(protocol: Any) -> Any:
    """The protocol's training groups, each with its occupation's description as one more
    member (references hold descriptions: a model that met none matches titles to them)."""
    from surematch.data.samples import GroupedTexts

    data = protocol.training
    refs = protocol.references
    described = {uri: t for i, uri in enumerate(refs.ids)
                 for t, kind in refs.texts_of(i) if kind == "description"}
    extra = [(described[g.split("/", 1)[1]], g) for g in dict.fromkeys(data.groups)
             if g.split("/", 1)[1] in described]
    return GroupedTexts([*data.texts, *(t for t, _ in extra)],
                        [*data.groups, *(g for _, g in extra)])


def train_child(protocol: str, preset: str, sets: list[str], folder: Path,
                descriptions: bool) -> None:
    """Train (the timed part), save and export; write train.json with time and peak memory."""
    from surematch.config import Config
    from surematch.runtime.export import export_model
    from surematch.training import train

    config = Config.from_preset(preset)
    config = config.override({k: json.loads(v) for k, v in (s.split("=", 1) for s in sets)})
    data = (with_descriptions if descriptions else lambda p: p.training)(_protocol(protocol))
    t0 = time.perf_counter()
    model = train(config, data, progress=False)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.save(folder)
    export_model(model, folder)
    info = {"train_seconds": model.info["train_seconds"], "wall_seconds": round(wall, 1),
            "peak_rss_mib": round(peak), "epochs_run": model.info["epochs_run"],
            "best_val_p_at_1": model.info["best_val_p_at_1"],
            "history": model.info["history"], "train_rows": model.info["train_rows"],
            "config": config.model_dump(mode="json")}
    (folder / "train.json").write_text(json.dumps(info, indent=1))
    print(json.dumps({k: v for k, v in info.items() if k != "config"}))


def measure(protocol_name: str, folder: Path, runtime: str, quick: bool) -> dict[str, Any]:
    from surematch.evaluation.ranked_queries import rank_queries
    from surematch.loader import load_model
    from surematch.workflows.protocols import evaluate_protocol, out_of_domain_texts

    protocol = _protocol(protocol_name)
    model = load_model(folder, runtime)
    t0 = time.perf_counter()
    if quick:
        m = rank_queries(model, protocol.references, protocol.test).metrics()
        return {"p_at_1": m["p_at_1"], "mrr": m["mrr"], "seconds": time.perf_counter() - t0}
    report, _ = evaluate_protocol(model, protocol, out_of_domain_texts())
    s = report.summary
    return {"p_at_1": s["p_at_1"], "mrr": s["mrr"], "recall_at_10": s["recall_at_10"],
            "ece": s["ece"], "bands": {str(t): {k: v for k, v in b.items() if k != "message"}
                                       for t, b in report.bands.items()},
            "out_of_domain": report.out_of_domain, "seconds": time.perf_counter() - t0}


def _f(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", action="append", help="default and fine-tune if absent")
    ap.add_argument("--protocol", action="append", choices=["known", "unseen"])
    ap.add_argument("--runtime", action="append", help="torch and onnx-int8 if absent")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a config field of every preset, e.g. train.epochs=3")
    ap.add_argument("--descriptions", action="store_true",
                    help="add each training occupation's description to its group")
    ap.add_argument("--tag", default="", help="name the cached models (with --set)")
    ap.add_argument("--retrain", action="store_true", help="train even if a model is cached")
    ap.add_argument("--quick", action="store_true", help="P@1 and MRR only, no calibration")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--json-out", type=Path, help="also write the measurements as JSON here")
    ap.add_argument("--train-child", nargs=3, metavar=("PROTOCOL", "PRESET", "FOLDER"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.train_child:
        protocol, preset, folder = args.train_child
        train_child(protocol, preset, args.set, Path(folder), args.descriptions)
        return
    rows, details = [], {}
    for protocol in args.protocol or ["known", "unseen"]:
        for preset in args.preset or ["default", "fine-tune"]:
            folder = CACHE / f"{protocol}-{preset}{'-' + args.tag if args.tag else ''}"
            if args.retrain or not (folder / "train.json").is_file():
                sets = [x for s in args.set for x in ("--set", s)] + (
                    ["--descriptions"] if args.descriptions else [])
                subprocess.run([sys.executable, __file__, *sets, "--train-child", protocol,
                                preset, str(folder)], check=True)
            trained = json.loads((folder / "train.json").read_text())
            for runtime in args.runtime or ["torch", "onnx-int8"]:
                m = measure(protocol, folder, runtime, args.quick)
                details[f"{protocol}/{preset}/{runtime}"] = {"train": {
                    k: v for k, v in trained.items() if k != "config"}, **m}
                print(json.dumps(details[f"{protocol}/{preset}/{runtime}"], default=str))
                if args.quick:
                    continue
                b95, b99, o = m["bands"]["0.95"], m["bands"]["0.99"], m["out_of_domain"]
                rows.append(
                    f"| {protocol} | {preset} | {runtime} | {_f(m['p_at_1'])} | "
                    f"{_f(m['mrr'])} | {_f(b95['coverage'])} / {_f(b95['precision'])} | "
                    f"{_f(b99['coverage'])} / {_f(b99['precision'])} | {_f(o['rejected'])} | "
                    f"{_f(o['right_rejected'])} | {trained['train_seconds']:.0f} | "
                    f"{trained['peak_rss_mib']} |")
    if args.json_out:
        args.json_out.write_text(json.dumps(details, indent=1, default=str))
    if args.quick:
        return
    sets = "".join(f" --set {s}" for s in args.set)
    body = f"""## Presets on a CPU (`benchmarks/finetune_cpu.py`)

Command: `.venv/bin/python benchmarks/finetune_cpu.py{sets}`. Protocols as in
`auto_accept_esco.py`; each runtime calibrated on its own embeddings (calibration titles plus
half the out-of-domain strings), bands certified at 95 % confidence, measured on the test
titles and the other half. Train s = Lightning's fit (validation passes included) on 2 CPU
cores; peak memory = the training process's peak resident set.

{HEAD}
{chr(10).join(rows)}
"""
    print(body)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("finetune_cpu", body)


if __name__ == "__main__":
    main()
