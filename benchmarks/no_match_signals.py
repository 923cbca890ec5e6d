"""Which signal separates out-of-domain queries from right matches: each candidate reject
score, with its cut-off certified like the no-match rule, on both ESCO protocols.

    python benchmarks/no_match_signals.py --model KNOWN_MODEL --unseen-model UNSEEN_MODEL
        [--cache DIR] [--seeds 5] [--no-write]

Rankings as `no_match.py` (calibration titles plus the calibration half of the bundled
out-of-domain strings; test titles; the test half), kept with the query embeddings in
--cache (one .npz per protocol, reused when present). For each score the cut-off is
certified on the right matches of the certifying part (75 % of the calibration queries by
expected id, `fit_band_split`) for at most 2 % of right matches below it (delta 0.025), and
measured on the test half of the strings (share rejected) and the test titles (share of
right top matches rejected); mean and range over --seeds guide/certify splits. One-class
scores read right matches only; "logistic (bundled negatives)" is fitted on the guide
part's right matches against the calibration half of the strings. Writes the
"no_match_signals" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

from surematch.confidence.certify import certify_reject
from surematch.confidence.logistic import fit_logit
from surematch.confidence.retrieval import fit_match_calibration
from surematch.confidence.split import fit_band_split
from surematch.confidence.targets import Targets
from surematch.data.esco import known_occupations, read_esco, unseen_occupations
from surematch.data.samples import LabelledQueries
from surematch.evaluation.ranked import rank_queries
from surematch.folder import DEFAULT_RUNTIME
from surematch.loader import load_model
from surematch.workflows.protocols import (
    MAX_MISS,
    out_of_domain_texts,
    split_out_of_domain,
    with_negatives,
)

PARTS = ("cal", "test", "ood")
Data = dict[str, np.ndarray]


def rankings(protocol, folder: Path, runtime: str, path: Path) -> Data:  # type: ignore[no-untyped-def]
    """The three rankings' top-match features and query vectors, from `path` if saved."""
    if path.is_file():
        return dict(np.load(path))
    model = load_model(folder, runtime)
    ood_cal, ood_test = split_out_of_domain(out_of_domain_texts())
    _, texts, _ = protocol.references.flat()
    refv = model.embed(texts)
    out: Data = {"refv": refv.astype(np.float32)}
    for part, queries in (("cal", with_negatives(protocol.calibration, ood_cal)),
                          ("test", protocol.test),
                          ("ood", LabelledQueries(ood_test, [None] * len(ood_test)))):
        r = rank_queries(model, protocol.references, queries, reference_vectors=refv)
        out[f"{part}_sim"], out[f"{part}_correct"] = r.similarity, r.correct
        out[f"{part}_conf"] = r.confidence if r.confidence is not None else \
            np.zeros(len(queries.texts))
        out[f"{part}_open"] = np.array([e is None for e in r.expected])
        out[f"{part}_groups"] = np.array([e or "" for e in r.expected])
        out[f"{part}_vec"] = model.embed(queries.texts).astype(np.float32)
        for name, values in r.evidence.items():
            out[f"{part}_ev_{name}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def evidence(d: Data, part: str) -> Data:
    return {k[len(part) + 4:]: v for k, v in d.items() if k.startswith(part + "_ev_")}


def scores(d: Data, fit: np.ndarray) -> dict[str, Callable[[str], np.ndarray]]:
    """Each candidate score: part name -> [N], higher = more like a right match."""
    y, opn = d["cal_correct"].astype(bool), d["cal_open"]
    right = fit[y[fit]]
    guide_vecs = d["cal_vec"][fit][~opn[fit]]
    refv = d["refv"]
    mean = refv.mean(0)
    _, _, vt = np.linalg.svd(refv - mean, full_matrices=False)
    sub = vt[:256]
    cal = fit_match_calibration(d["cal_sim"], d["cal_correct"], d["cal_conf"],
                                [g or None for g in d["cal_groups"]],
                                targets=Targets(0.95, MAX_MISS), evidence=evidence(d, "cal"),
                                split=(fit, np.setdiff1d(np.arange(len(y)), fit)),
                                no_match=False)

    def col(part: str, name: str) -> np.ndarray:
        return d[f"{part}_sim"][:, 0] if name == "sim" else d[f"{part}_ev_{name}"][:, 0]

    def zsum(*names: str) -> Callable[[str], np.ndarray]:
        sd = [float(np.std(col("cal", n)[right])) for n in names]
        return lambda part: sum(col(part, n) / s for n, s in zip(names, sd, strict=True))

    def resid(part: str) -> np.ndarray:
        x = d[f"{part}_vec"] - mean
        return -np.linalg.norm(x - (x @ sub.T) @ sub, axis=1)

    feats = ("sim", "agreement", "overlap")
    x_of = {p: np.column_stack([col(p, n) for n in feats] + [d[f"{p}_conf"]]) for p in PARTS}
    neg = np.flatnonzero(opn)  # the calibration half of the strings (and nothing else)
    idx = np.r_[right, neg]
    w, _ = fit_logit(x_of["cal"][idx], np.r_[np.ones(len(right)), np.zeros(len(neg))])
    return {
        "calibrated probability (before #23)": lambda p: cal.probabilities(
            d[f"{p}_sim"], d[f"{p}_conf"], evidence(d, p))[:, 0],
        "similarity": lambda p: col(p, "sim"),
        "embedding confidence": lambda p: d[f"{p}_conf"],
        "overlap": lambda p: col(p, "overlap"),
        "agreement": lambda p: col(p, "agreement"),
        "kNN-5 similarity to the guide's queries": lambda p: np.sort(
            d[f"{p}_vec"] @ guide_vecs.T, 1)[:, -5:].mean(1),
        "distance to the references' 256-dim principal subspace": resid,
        "similarity / sd + overlap / sd": zsum("sim", "overlap"),
        "similarity / sd + overlap / sd + agreement / sd (the rule)":
            zsum("sim", "overlap", "agreement"),
        "logistic (bundled negatives)": lambda p: x_of[p] @ w,
    }


def measure(d: Data, seeds: int) -> dict[str, list[tuple[float, float]]]:
    y = d["cal_correct"].astype(int)
    groups = [g or None for g in d["cal_groups"]]
    right_test = d["test_correct"].astype(bool)
    out: dict[str, list[tuple[float, float]]] = {}
    for seed in range(seeds):
        fit, band = fit_band_split(len(y), groups, 0.75, seed)
        for name, score in scores(d, fit).items():
            cut = certify_reject(score("cal")[band], y[band], MAX_MISS, 0.025)
            mu = cut.passed[-1] if cut.passed else -np.inf
            out.setdefault(name, []).append((float(np.mean(score("ood") < mu)),
                                             float(np.mean(score("test")[right_test] < mu))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--unseen-model", type=Path, required=True)
    ap.add_argument("--runtime", default=DEFAULT_RUNTIME)
    ap.add_argument("--unseen-runtime", default=DEFAULT_RUNTIME)
    ap.add_argument("--cache", type=Path, default=Path(__file__).resolve().parent / ".cache"
                    / "no_match")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    occupations = read_esco()
    rows = []
    for key, protocol, folder, runtime in (
            ("known", known_occupations(occupations), args.model, args.runtime),
            ("unseen", unseen_occupations(occupations), args.unseen_model,
             args.unseen_runtime)):
        d = rankings(protocol, folder, runtime, args.cache / f"{key}.npz")
        for name, runs in measure(d, args.seeds).items():
            a = np.array(runs)
            rows.append(f"| {protocol.name} | {name} | {a[:, 0].mean():.3f} "
                        f"({a[:, 0].min():.3f}-{a[:, 0].max():.3f}) | {a[:, 1].mean():.4f} "
                        f"(max {a[:, 1].max():.4f}) |")
            print(rows[-1], flush=True)
    body = ("## Which signal rejects out-of-domain queries (`benchmarks/no_match_signals.py`)"
            f"\n\nCommand: `flock /tmp/heavy.lock .venv/bin/python benchmarks/no_match_signals.py"
            f" --model {args.model} --unseen-model {args.unseen_model} --seeds {args.seeds}`. "
            f"{__doc__.split(chr(10), 5)[5].split('Writes')[0].strip()}\n\n"
            "| protocol | reject score | out-of-domain rejected, mean (range) | right "
            "rejected (test), mean (max) |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(body)
    if not args.no_write:
        write_section("no_match_signals", body)


if __name__ == "__main__":
    main()
