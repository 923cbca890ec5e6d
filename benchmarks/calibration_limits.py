"""What bounds calibration on ESCO: sampling noise, ISCO-group shift, the signals, the labels.

Run: `.venv/bin/python benchmarks/calibration_limits.py [--model DIR]` (the data and model of
benchmarks/calibration_esco.py; about 3 minutes once the encoder cache holds the titles and
descriptions). Writes the "calibration_limits" section of BENCHMARKS.md.

Four questions, each with the test queries of calibration_esco.py:

1. Noise: what ECE does a perfectly calibrated model show on this many queries?
2. Shift: how well does a calibrator do when it is fitted on the test distribution itself
   (5-fold out-of-fold on the test queries, folds by occupation, then by ISCO group)?
3. Signals: does a richer confidence model rank better? Gradient-boosted trees and a logistic
   regression on 18 signals per query: the top-10 similarities, the margin, the embedding
   confidence, the raw encoder's similarity and rank of the top match, the similarity of the
   query to the top match's description and its rank by description, word overlap with the
   top match's title, query length. Fitted on the calibration queries, measured on test.
4. Labels: how precise are the most confident top matches, and which are wrong?
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_esco import Held, prepare

from surematch.confidence import aurc, ece, ece_noise_floor
from surematch.confidence.calibrators.registry import make_calibrator
from surematch.confidence.certification.bounds import min_trials_no_event
from surematch.confidence.evidence.features import top1_features
from surematch.confidence.match_calibration import fit_match_calibration
from surematch.training.features import encode_cached

TOP_N = (50, 100, 200, 300, 500, 1000)


def words(text: str) -> set[str]:
    """Lower-case words of a title."""
    return set(re.sub(r"[^\w]+", " ", text.casefold()).split())


def top_match(sim: torch.Tensor, top: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Similarity [Q] of each query's top match in `sim` [Q, R], and its rank there (0: best)."""
    s = sim.gather(1, top[:, None])
    return s[:, 0].numpy(), (sim > s).sum(1).numpy()


def signals(held: Held) -> tuple[np.ndarray, np.ndarray]:
    """Signals [Q, 18] of each calibration and test query's top match (see the module text);
    17 without embedding confidence. The references and descriptions are encoded once."""
    model, refs = held.model, held.references
    by_uri = {o.uri: o for o in held.occupations}
    descriptions = [by_uri[i].description or by_uri[i].preferred for i in refs.ids]
    encode = partial(encode_cached, model.encoder, cache_dir=None, batch_size=256)
    with torch.no_grad():
        raw_refs = F.normalize(torch.from_numpy(encode(refs.texts)), dim=-1)
        head_desc = model.forward_features(torch.from_numpy(encode(descriptions)))
    ref_words = [words(t) for t in refs.texts]
    row = {i: j for j, i in enumerate(refs.ids)}
    out = []
    for ranked, queries in ((held.cal, held.cal_queries), (held.test, held.test_queries)):
        q_f = torch.from_numpy(encode(queries.texts))
        with torch.no_grad():
            desc_sim = model.forward_features(q_f) @ head_desc.T
        raw_sim = F.normalize(q_f, dim=-1) @ raw_refs.T
        top = torch.tensor([row[ids[0]] for ids in ranked.ids])
        q_words = [words(q) for q in queries.texts]
        overlap = [len(w & ref_words[t]) / max(len(w | ref_words[t]), 1)
                   for w, t in zip(q_words, top.tolist(), strict=True)]
        out.append(np.column_stack([
            ranked.similarity, top1_features(ranked.similarity, ranked.confidence)[:, 1:],
            *top_match(raw_sim, top), *top_match(desc_sim, top), overlap,
            [len(w) for w in q_words],
        ]))
    return out[0], out[1]


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: list[str]) -> np.ndarray:
    """Probabilities [Q] of a logistic calibrator fitted on the other 4 of 5 folds."""
    p = np.empty(len(y))
    for fit, rest in GroupKFold(5).split(x, y, groups):
        p[rest] = make_calibrator("logistic").fit(x[fit], y[fit]).predict_proba(x[rest])
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="as in calibration_esco.py")
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()

    held = prepare(args.model)
    cal, test = held.cal, held.test
    y, yc = test.correct.astype(int), cal.correct.astype(int)
    ours = fit_match_calibration(cal.similarity, cal.correct, cal.confidence, cal.expected)
    p = ours.probabilities(test.similarity, test.confidence)[:, 0]
    out: dict = {"n_test": len(y), "top1_accuracy": float(y.mean()),
                 "oracle_aurc": aurc(y.astype(float), y),
                 "ours": {"ece": ece(p, y), "ece_10_bins": ece(p, y, 10), "aurc": aurc(p, y)}}

    out["noise"] = {"ece_floor": ece_noise_floor(p), "ece_floor_10_bins": ece_noise_floor(p, 10),
                    "ece_floor_equal_mass": ece_noise_floor(p, strategy="quantile")}

    x = top1_features(test.similarity, test.confidence)
    isco = {o.uri: o.isco_group for o in held.occupations}
    uris = held.test_queries.expected_ids
    out["shift"] = {}
    for name, groups in (("by_occupation", uris), ("by_isco_group", [isco[u] for u in uris])):
        q = out_of_fold(x, y, groups)
        out["shift"][name] = {"ece": ece(q, y), "aurc": aurc(q, y),
                              "n_groups": len(set(groups))}

    s_cal, s_test = signals(held)
    out["n_signals"], out["signals"] = s_cal.shape[1], {}
    for name, clf in (
        ("gradient-boosted trees", HistGradientBoostingClassifier(
            max_depth=3, learning_rate=0.05, max_iter=200, random_state=0)),
        ("logistic regression", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
    ):
        q = clf.fit(s_cal, yc).predict_proba(s_test)[:, 1]
        out["signals"][name] = {"ece": ece(q, y), "aurc": aurc(q, y)}

    order = np.argsort(-p, kind="stable")
    right = y[order].astype(bool)
    titles = dict(zip(held.references.ids, held.references.texts, strict=True))
    preferred = {o.uri: o.preferred for o in held.occupations}
    out["labels"] = {
        "precision_of_most_confident": {n: float(right[:n].mean()) for n in TOP_N},
        "error_free_prefix": int(np.argmin(right)) if not right.all() else len(right),
        "needed_error_free_for_0.99": min_trials_no_event(0.01, 0.05),
        "most_confident_wrong": [
            {"p": float(p[i]), "query": held.test_queries.texts[i],
             "top_match": titles[test.ids[i][0]], "expected": preferred[uris[i]],
             "open_set": test.expected[i] is None}
            for i in order[~right][:12]],
    }
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    if not args.no_write:
        from _report import write_section

        write_section("calibration_limits", render(out, args))


def render(o: dict, args: argparse.Namespace) -> str:
    cmd = "`.venv/bin/python benchmarks/calibration_limits.py" + \
        (f" --model {args.model}`" if args.model else "`")
    sh, sg, lb = o["shift"], o["signals"], o["labels"]
    prec = ", ".join(f"{n}: {v:.3f}" for n, v in lb["precision_of_most_confident"].items())
    lines = [
        "## What bounds calibration on ESCO", "",
        f"Command: {cmd}; the data, model and calibrator of the calibration benchmark above "
        f"({o['n_test']} test queries, top-1 right {o['top1_accuracy']:.1%}; ours: ECE "
        f"{o['ours']['ece']:.3f} with 15 bins, {o['ours']['ece_10_bins']:.3f} with 10, AURC "
        f"{o['ours']['aurc']:.3f}; targets ECE ≤ 0.02, AURC ≤ 0.15, auto-accept precision ≥ "
        "0.99).", "",
        f"1. **Noise.** A perfectly calibrated model with our probabilities shows, on these "
        f"{o['n_test']} queries, ECE {o['noise']['ece_floor']:.3f} with 15 equal-width bins, "
        f"{o['noise']['ece_floor_10_bins']:.3f} with 10, {o['noise']['ece_floor_equal_mass']:.3f}"
        " with 15 equal-mass bins (mean over 200 outcome sets drawn from the probabilities).",
        f"2. **Shift.** A logistic calibrator fitted on the test queries themselves, predicting "
        f"each fold from the other four: folds by occupation ECE {sh['by_occupation']['ece']:.3f}"
        f", AURC {sh['by_occupation']['aurc']:.3f}; folds by ISCO group "
        f"({sh['by_isco_group']['n_groups']} groups) ECE {sh['by_isco_group']['ece']:.3f}, AURC "
        f"{sh['by_isco_group']['aurc']:.3f}.",
        f"3. **Signals.** {o['n_signals']} signals per query (top-10 similarities, margin, "
        "embedding confidence, raw encoder's similarity and rank of the top match, description "
        "similarity and rank, word overlap, query length), fitted on calibration queries: " +
        "; ".join(f"{k} AURC {v['aurc']:.3f}, ECE {v['ece']:.3f}" for k, v in sg.items()) +
        f". AURC of a perfect ranking at this accuracy: {o['oracle_aurc']:.3f}.",
        f"4. **Labels.** Precision of the N most confident top matches: {prec}. The longest "
        f"error-free run from the top is {lb['error_free_prefix']}; certifying precision ≥ 0.99 "
        f"at 95 % confidence needs {lb['needed_error_free_for_0.99']} error-free queries in the "
        "band part of the calibration data. The most confident wrong top matches (query → top "
        "match; ESCO's answer):", "",
        "| p | query | top match | ESCO's occupation |", "| --- | --- | --- | --- |",
    ]
    lines += [f"| {w['p']:.3f} | {w['query']} | {w['top_match']} | {w['expected']}"
              f"{' (no reference: open set)' if w['open_set'] else ''} |"
              for w in lb["most_confident_wrong"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
