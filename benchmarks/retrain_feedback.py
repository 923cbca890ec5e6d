"""Retraining with reviewed queries (reviewer = ground truth) against the model before.

Run: `.venv/bin/python benchmarks/retrain_feedback.py` (known-occupations protocol, default
recipe retrained from scratch on the training groups plus `train --feedback`'s groups, joined to
their occupation's group), or
`... --start MODEL --preset fine-tune --epochs 2 --reviews 0,250,500,1000`: continue training
the saved model MODEL (e.g. the fine-tune preset's, from `finetune_cpu.py`) for a few epochs
on the training groups plus each number of reviews, as `train --start MODEL --feedback DIR`
does. The reviews are the first N calibration titles: accept when the model's top match is
right, else correct to the right reference (the wrong top match shown is then batched with
the right one as a hard negative, as `train --feedback` does). 0 reviews = the same continued
training without any, which separates what the reviews bring from what more epochs bring.
`--before MODEL --preset fine-tune --reviews 250,500,1000`: MODEL is the preset's model
trained on the training groups (e.g. `finetune_cpu.py`'s), and each row trains the preset
anew on the training groups plus the reviews, as `train --preset fine-tune --feedback DIR`
does. Test P@1 is reported over all test titles, and over the test titles of occupations no review
touched (forgetting would show there first).
"""
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from surematch.config import Config
from surematch.data.esco import known_occupations, read_esco
from surematch.data.samples import LabelledQueries, References
from surematch.evaluation.ranked_queries import rank_queries
from surematch.feedback.store import FeedbackStore
from surematch.model import SimilarityModel
from surematch.training import train
from surematch.workflows.feedback import feedback_groups
from surematch.workflows.train import join_feedback, join_negatives

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--start", type=Path, help="continue this model folder (else: retrain anew)")
ap.add_argument("--before", type=Path, help="the model before the reviews, trained by the "
                "same preset on the training groups (else trained here first)")
ap.add_argument("--preset", default="default")
ap.add_argument("--epochs", type=int, help="epochs of each retraining (default: the preset's)")
ap.add_argument("--reviews", default="1000", help="comma-separated review counts")
ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                help="override a config field, e.g. encoder.frozen_layers=2")
args = ap.parse_args()

known = known_occupations(read_esco())
config = Config.from_preset(args.preset)
config = config.override({k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)})
if args.epochs:
    config = config.override({"train.epochs": args.epochs})
first = args.start or args.before
base = SimilarityModel.load(first) if first else train(config, known.training, progress=False)


def learned(n: int) -> References:
    """The references after n reviews when the service learns texts: each reviewed query
    (accepted or corrected, so all of them here) is one more text of its right reference."""
    taught: dict[str, list[str]] = {}
    for q, e in zip(cal.texts[:n], cal.expected_ids[:n], strict=True):
        taught.setdefault(e, []).append(q)
    refs = known.references
    extra = [[*refs.texts_of(i)[1:], *((q, "reviewed") for q in taught.get(r, []))]
             for i, r in enumerate(refs.ids)]
    return References(refs.ids, refs.texts, refs.payloads, extra)


def test_scores(model: SimilarityModel, untouched: set[str], n: int) -> dict[str, float]:
    ranked = rank_queries(model, known.references, known.test)
    keep = [i for i, e in enumerate(known.test.expected_ids) if e in untouched]
    scores = {"p_at_1": ranked.metrics()["p_at_1"], "mrr": ranked.metrics()["mrr"],
              "p_at_1_untouched": float(ranked.correct[keep].mean())}
    if n:
        scores["p_at_1_texts_learned"] = rank_queries(model, learned(n),
                                                      known.test).metrics()["p_at_1"]
    return scores


counts = [int(n) for n in args.reviews.split(",")]
cal = LabelledQueries(known.calibration.texts[:max(counts)],
                      known.calibration.expected_ids[:max(counts)])
ranked = rank_queries(base, known.references, cal)
out = []
before: dict[str, float] | None = None
for n in counts:
    with tempfile.TemporaryDirectory() as tmp:
        store = FeedbackStore(tmp)
        for q, ids, exp in zip(cal.texts[:n], ranked.ids[:n], cal.expected_ids[:n],
                               strict=True):
            if ids[0] == exp:
                store.add(q, "accept", shown_id=ids[0])
            else:
                store.add(q, "correct", shown_id=ids[0], corrected_id=exp)
        found = feedback_groups(store.reviews(), known.references)
        store.close()
    touched = set(cal.expected_ids[:max(counts)])
    untouched = set(known.references.ids) - touched
    if before is None:
        before = test_scores(base, untouched, 0)
    data = join_feedback(known.training, found.groups, only=found.queries) if n else known.training
    negatives = join_negatives(known.training, found.negatives) if n else []
    t0 = time.perf_counter()
    start = SimilarityModel.load(args.start) if args.start else None
    after = train(config, data, progress=False, start=start, negatives=negatives)
    seconds = time.perf_counter() - t0
    row = {"reviews": n, "right_before": int(ranked.correct[:n].sum()),
           "hard_negatives": len(negatives), "train_s": round(seconds),
           "before": before, "after": test_scores(after, untouched, n)}
    if n:
        row["before_texts_learned"] = rank_queries(base, learned(n), known.test).metrics()["p_at_1"]
    out.append(row)
    print(json.dumps(row), flush=True)
print(json.dumps({"start": str(args.start), "before": str(args.before), "preset": args.preset,
                  "epochs": args.epochs,
                  "rows": out}))
