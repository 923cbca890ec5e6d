"""Training benchmark on ESCO: losses and heads compared on held-out ISCO groups, epoch time.

Run: `.venv/bin/python benchmarks/train_esco.py` (about 10 minutes on 2 cores; writes the
"training" section of BENCHMARKS.md). Protocol: occupations are split by 4-digit ISCO group
(20 % of groups held out, seed 0, as in `surematch demo`); models train on the rest; every
alternative title of a held-out occupation is matched against the preferred titles of all
2,326 occupations; P@1 and recall@10 are reported. Every run has the same budget.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
import torch.nn.functional as F

from surematch.config import Config
from surematch.data.esco import (
    esco_groups,
    esco_queries,
    esco_references,
    read_esco,
    split_by_isco,
)
from surematch.evaluation import retrieval_metrics
from surematch.evaluation.exact_top_k import rank_exact
from surematch.training import train
from surematch.training.features import encode_cached

DEFAULT_HEAD = Config().head
RUNS: list[tuple[str, dict]] = [
    ("loss: multiple_negatives (default)", {}),
    ("loss: supcon", {"loss": {"name": "supcon"}}),
    ("loss: all_pairs", {"loss": {"name": "all_pairs", "params": {"margin": 0.1}},
                         "train": {"lr": 1e-2}}),
    ("loss: triplet batch_hard", {"loss": {"name": "triplet",
                                           "params": {"mining": "batch_hard"}}}),
    ("loss: triplet batch_all (64 groups x 4 a batch: O(B^3) time)",
     {"loss": {"name": "triplet"}, "train": {"groups_per_batch": 64}}),
    ("default without the group loss", {"train": {"group_loss_weight": 0.0}}),
    ("head: skip", {"head": [{"kind": "skip"}]}),
    ("head: linear", {"head": [{"kind": "linear"}]}),
    ("head: gated", {"head": [{"kind": "gated"}]}),
    ("head: feature_groups 4x128, no skip branch (naive)",
     {"head": [{"kind": "feature_groups", "groups": 4, "size": 128}]}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="budget: epochs per run")
    parser.add_argument("--quick", action="store_true", help="only the default recipe")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(os.cpu_count() or 1)

    occupations = read_esco()
    train_occ, held_occ = split_by_isco(occupations, held_out_fraction=0.2, seed=0)
    refs, queries = esco_references(occupations), esco_queries(held_occ, taxonomy=occupations)
    data = esco_groups(train_occ, taxonomy=occupations)
    rows = []

    def evaluate(embed) -> dict:
        ranking = rank_exact(embed(queries.texts), embed(refs.texts), k=10)
        return retrieval_metrics(ranking.ids(refs.ids), queries.expected_ids)

    base = Config()
    from surematch.training.fit import build_encoder

    encoder = build_encoder(base)
    t0 = time.perf_counter()
    metrics = evaluate(lambda texts: F.normalize(torch.from_numpy(
        encode_cached(encoder, texts, None, 256)), dim=-1).numpy())
    rows.append(("frozen all-MiniLM-L6-v2, no head", metrics, None, None))
    print(f"frozen: P@1 {metrics['p_at_1']:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)

    for name, overrides in RUNS[:1] if args.quick else RUNS:
        raw = base.model_dump(mode="json")
        for key, value in overrides.items():
            raw[key] = {**raw[key], **value} if isinstance(value, dict) else value
        raw["train"]["epochs"] = args.epochs
        raw["train"]["seed"] = 0
        raw["train"]["patience"] = args.epochs  # same budget for every run
        model = train(Config.validated(raw), data, encoder=encoder, progress=False)
        metrics = evaluate(model.embed)
        per_epoch = model.info["train_seconds"] / max(model.info["epochs_run"], 1)
        rows.append((name, metrics, model.info["train_seconds"], per_epoch))
        print(f"{name}: P@1 {metrics['p_at_1']:.4f}, {model.info['train_seconds']:.0f} s",
              flush=True)

    # Epoch time over all ESCO titles once they are cached (no validation pass).
    everything = esco_groups(occupations)
    raw = base.model_dump(mode="json")
    raw["data"]["held_out_fraction"] = 0.0
    raw["train"]["epochs"] = 3
    model = train(Config.validated(raw), everything, encoder=encoder, progress=False)
    epoch_s = model.info["train_seconds"] / model.info["epochs_run"]

    from _report import write_section

    lines = [
        "## Training on ESCO (`benchmarks/train_esco.py`)", "",
        f"Held-out ISCO groups: {len(held_occ):,} occupations never trained on; "
        f"{metrics['n_evaluated']:,} alternative titles matched against "
        f"{len(refs.ids):,} preferred titles. Budget: {args.epochs} epochs per run, "
        "frozen encoder with the embedding cache; default head "
        f"`{DEFAULT_HEAD}`.", "",
        "| recipe | P@1 | recall@10 | MRR | train s | s / epoch |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, m, secs, per in rows:
        lines.append(f"| {name} | {m['p_at_1']:.4f} | {m['recall_at_k'][10]:.4f} | "
                     f"{m['mrr']:.4f} | {'' if secs is None else f'{secs:.1f}'} | "
                     f"{'' if per is None else f'{per:.2f}'} |")
    lines += ["", "Train seconds are wall-clock and include one validation pass an epoch; "
              "other jobs shared the 2 cores during some runs, so read them as upper bounds "
              "and compare P@1.",
              "", f"One epoch over all {len(everything):,} ESCO titles (cached encoder "
              f"features, head only, no validation pass): **{epoch_s:.2f} s**."]
    write_section("training", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
