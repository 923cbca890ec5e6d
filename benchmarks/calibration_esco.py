"""Calibration benchmark on ESCO: is the top match right? Probabilities, triage, AURC.

Run: `.venv/bin/python benchmarks/calibration_esco.py [--model DIR]` (about 3 minutes on 2 cores
with a trained model; without --model it first trains the default model, 1-2 minutes more).
Writes the "calibration_esco" section of BENCHMARKS.md.

Protocol. Occupations are split by 4-digit ISCO group: split_by_isco(0.2, seed 0) keeps 80 %
of the groups for training (as `surematch demo`); the held-out 20 % are split again by group,
split_by_isco(0.5, seed 1), into calibration and test groups, so the three sets share no
ISCO group. References are the preferred titles of all occupations, except that a random 10 %
of the calibration and test occupations (seed 7) lose theirs: their alternative titles become
open-set queries with no right answer (their top match is wrong by definition). Queries are
the alternative titles of the calibration / test occupations, except titles that several ESCO
occupations use (compared without case and punctuation): "judge" is an alternative title of
"sport official" and the preferred title of "judge", so no answer to it is right or wrong.
Before 2026-11-23 only titles shared within the calibration or test occupations were left
out; the rest (e.g. "judge", "carpenter", "data scientist") made up 44 % of the 50 most
similar top matches and were all counted wrong. Every method is fitted on the calibration
queries and measured on the test queries; the triage bands of every method are chosen on
calibration queries its calibrator was not fitted on (the same 50/50 split by expected id for
every method).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
from scipy.stats import spearmanr

from surematch.confidence import (
    LogisticCalibrator,
    aurc,
    band_report,
    brier,
    ece,
    ece_noise_floor,
    fit_bands,
)
from surematch.confidence.match_features import top1_features
from surematch.confidence.registry import make_calibrator
from surematch.confidence.retrieval import fit_match_calibration
from surematch.confidence.split import fit_band_split
from surematch.confidence.targets import Targets
from surematch.confidence.thresholds import choose_threshold
from surematch.data.esco import (
    Occupation,
    esco_queries,
    esco_references,
    read_esco,
    split_by_isco,
)
from surematch.data.samples import LabelledQueries, References
from surematch.evaluation.ranked import RankedQueries, rank_queries
from surematch.model import SimilarityModel

TARGETS = {"ece": 0.02, "aurc": 0.15, "auto_precision": 0.99}
Method = Callable[[RankedQueries, RankedQueries, np.ndarray], tuple[np.ndarray, np.ndarray]]


def feats(r: RankedQueries, conf: bool = False) -> np.ndarray:
    """Top-1 similarity, raw margin to the runner-up (the issue's baselines), asinh margin."""
    ours = top1_features(r.similarity, r.confidence if conf else None)
    raw = r.similarity[:, 0] - r.similarity[:, 1]
    return np.column_stack([ours[:, 0], raw, ours[:, 1:]])


def fitted(columns: list[int], kind: str = "logistic", conf: bool = False) -> Method:
    """A calibrator of `kind` on top-1 feature columns, fitted on the fit part (ground truth)."""
    def run(cal: RankedQueries, test: RankedQueries, fit: np.ndarray):
        x, xt = feats(cal, conf)[:, columns], feats(test, conf)[:, columns]
        c = make_calibrator(kind).fit(x[fit] if kind == "logistic" else x[fit, 0],
                                      cal.correct[fit])
        sel = (lambda a: a) if kind == "logistic" else (lambda a: a[:, 0])
        return c.predict_proba(sel(x)), c.predict_proba(sel(xt))
    return run


def raw_cosine(cal: RankedQueries, test: RankedQueries, fit: np.ndarray):
    return np.clip(cal.similarity[:, 0], 0, 1), np.clip(test.similarity[:, 0], 0, 1)


def own_decisions(cal: RankedQueries, test: RankedQueries, fit: np.ndarray):
    """Seed 004's recipe: logistic regression of the model's own decisions (similarity >= the
    accuracy-best threshold) on similarity. Wrong by design: it learns to agree with itself."""
    s = cal.similarity[fit, 0]
    t = choose_threshold(s, cal.correct[fit]).threshold
    c = LogisticCalibrator().fit(s, s >= t)
    return c.predict_proba(cal.similarity[:, 0]), c.predict_proba(test.similarity[:, 0])


def measure(p_cal: np.ndarray, cal: RankedQueries, band: np.ndarray, p: np.ndarray,
            y: np.ndarray) -> dict:
    bands = fit_bands(p_cal[band], cal.correct[band], Targets(0.99, 0.01, 0.95))
    rep = band_report(p, y, bands)
    return {"ece": ece(p, y), "ece_equal_mass": ece(p, y, strategy="quantile"),
            "aurc": aurc(p, y), "brier": brier(p, y),
            "auto_precision": rep["accept"]["precision"],
            "auto_coverage": rep["accept"]["coverage"],
            "review_fraction": rep["review"]["coverage"], "accept_at": bands.accept_at}


def ece_interval(p: np.ndarray, test: RankedQueries, draws: int = 300) -> list[float]:
    """5th-95th percentile of the test ECE over bootstrap draws of test occupations (queries of
    one occupation are drawn together; open-set queries each on their own)."""
    keys = np.array([e if e is not None else f"open-{i}" for i, e in enumerate(test.expected)])
    uniq, inv = np.unique(keys, return_inverse=True)
    members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    rng, y, values = np.random.default_rng(0), test.correct.astype(int), []
    for _ in range(draws):
        idx = np.concatenate([members[g] for g in rng.integers(len(uniq), size=len(uniq))])
        values.append(ece(p[idx], y[idx]))
    return [float(np.percentile(values, 5)), float(np.percentile(values, 95))]


@dataclass(frozen=True)
class Held:
    """The benchmark's data, ranked by the model: the protocol in the module text."""

    occupations: list[Occupation]
    train: list[Occupation]
    references: References
    model: SimilarityModel
    cal: RankedQueries
    test: RankedQueries
    cal_queries: LabelledQueries
    test_queries: LabelledQueries


def prepare(model_dir: str | None, open_fraction: float = 0.1) -> Held:
    """Split ESCO, load (or train and save) the model, rank calibration and test queries."""
    occ = read_esco()
    train_occ, held = split_by_isco(occ, 0.2, seed=0)
    cal_occ, test_occ = split_by_isco(held, 0.5, seed=1)
    rng = random.Random(7)
    open_set = {o.uri for o in cal_occ + test_occ if rng.random() < open_fraction}
    refs = esco_references([o for o in occ if o.uri not in open_set])
    if model_dir and Path(model_dir, "surematch.json").is_file():
        model = SimilarityModel.load(model_dir)
    else:
        from surematch.config import Config
        from surematch.data.esco import esco_groups
        from surematch.training import train

        model = train(Config(), esco_groups(train_occ, taxonomy=occ))
        if model_dir:
            model.save(model_dir)
    vectors = model.embed(refs.texts)
    cal_q, test_q = esco_queries(cal_occ, taxonomy=occ), esco_queries(test_occ, taxonomy=occ)
    return Held(occ, train_occ, refs, model, rank_queries(model, refs, cal_q, 10, vectors),
                rank_queries(model, refs, test_q, 10, vectors), cal_q, test_q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder trained on the training groups (reused if "
                        "present, else trained and saved there)")
    parser.add_argument("--open-fraction", type=float, default=0.1)
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()

    held = prepare(args.model, args.open_fraction)
    cal, test = held.cal, held.test
    fit, band = fit_band_split(len(cal.correct), cal.expected, 0.5, seed=0)
    y = test.correct.astype(int)

    methods: dict[str, Method] = {
        "raw cosine read as a probability": raw_cosine,
        "logistic on the model's own decisions (seed 004)": own_decisions,
        "logistic on ground truth, top-1 score only": fitted([0]),
        "logistic on ground truth, top-1 + margin": fitted([0, 1]),
        "logistic on ground truth, top-1 + asinh margin": fitted([0, 2]),
        "beta on ground truth, top-1 score only": fitted([0], "beta"),
        "isotonic on ground truth, top-1 score only": fitted([0], "isotonic"),
    }
    rows = {}
    for name, method in methods.items():
        p_cal, p = method(cal, test, fit)
        rows[name] = measure(p_cal, cal, band, p, y)
    for with_conf in (False, True):
        ours = fit_match_calibration(cal.similarity, cal.correct,
                                     cal.confidence if with_conf else None, cal.expected)
        name = "ours: selected calibrator, top-1 + asinh margin" + (" + confidence" * with_conf)
        p_cal = ours.probabilities(cal.similarity, cal.confidence)[:, 0]
        p = ours.probabilities(test.similarity, test.confidence)[:, 0]
        rows[name] = measure(p_cal, cal, band, p, y)
        rows[name]["calibrator"] = ours.calibrator.kind

    ours_p = ours.probabilities(test.similarity, test.confidence)[:, 0]
    triage = {}
    for target in (0.8, 0.9, 0.95, 0.99):
        b = fit_bands(p_cal[band], cal.correct[band], Targets(target, 0.01, 0.95))
        rep = band_report(ours_p, y, b)["accept"]
        triage[str(target)] = {"accept_at": b.accept_at, "test_precision": rep["precision"],
                               "test_coverage": rep["coverage"]}
    # cross-fitting: the roles swapped (fit on test, predict calibration), both halves pooled
    swap = fit_match_calibration(test.similarity, test.correct, test.confidence, test.expected)
    pooled_p = np.r_[ours_p, swap.probabilities(cal.similarity, cal.confidence)[:, 0]]
    pooled_y = np.r_[y, cal.correct.astype(int)]
    cross_fit = {"n": len(pooled_y), "ece": ece(pooled_p, pooled_y),
                 "ece_equal_mass": ece(pooled_p, pooled_y, strategy="quantile"),
                 "ece_noise_floor": ece_noise_floor(pooled_p), "aurc": aurc(pooled_p, pooled_y)}
    rho = spearmanr(test.confidence, y) if test.confidence is not None else None
    stats = {"n_cal_queries": len(cal.correct), "n_test_queries": len(y),
             "cal_open_set": int(cal.open_set.sum()), "test_open_set": int(test.open_set.sum()),
             "n_references": len(held.references.ids), "test_top1_accuracy": float(y.mean()),
             "test_p_at_1_closed_set": test.metrics()["p_at_1"],
             "spearman_confidence_vs_correct": None if rho is None else float(rho.statistic),
             "spearman_pvalue": None if rho is None else float(rho.pvalue),
             "n_train_occupations": len(held.train),
             "oracle_aurc": aurc(y.astype(float), y), "triage": triage,
             "ece_interval": ece_interval(ours_p, test),
             "ece_noise_floor": ece_noise_floor(ours_p), "cross_fit": cross_fit}
    print(json.dumps({"stats": stats, "rows": rows}, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({"stats": stats, "rows": rows}, indent=2))
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("calibration_esco", render(stats, rows, args))


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def render(stats: dict, rows: dict, args: argparse.Namespace) -> str:
    cmd = "`.venv/bin/python benchmarks/calibration_esco.py" + \
        (f" --model {args.model}`" if args.model else "`") + \
        " (the model: the default recipe trained on the training groups, the same split as " \
        "`surematch demo`, so `--model surematch-demo/model` reuses the demo's model; the " \
        "script trains it when the folder is absent)"
    lines = [
        "## Calibration on ESCO: is the top match right?", "",
        f"Command: {cmd}. Protocol in the script's docstring: train / calibration / test "
        "occupations come from disjoint 4-digit ISCO groups (80 % / 10 % / 10 % of groups); "
        f"{args.open_fraction:.0%} of calibration and test occupations lose their reference, so "
        f"{stats['cal_open_set']} calibration and {stats['test_open_set']} test queries have no "
        f"right answer (counted as wrong top matches). {stats['n_cal_queries']} calibration and "
        f"{stats['n_test_queries']} test queries against {stats['n_references']} references; "
        f"top-1 right on {stats['test_top1_accuracy']:.1%} of test queries "
        f"(P@1 {stats['test_p_at_1_closed_set']:.3f} over those with a right answer).", "",
        "Test-set numbers. ECE with 15 bins (equal width / equal mass); AURC of the "
        "probability as the ranking score; auto-accept band certified for precision ≥ 0.99 at "
        "95 % confidence (with at most 1 % of right matches auto-rejected) on held-out "
        "calibration queries; n/a: nothing auto-accepted.", "",
        "| method | ECE | ECE (mass) | AURC | Brier | auto precision | auto coverage | review |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {_f(r['ece'])} | {_f(r['ece_equal_mass'])} | {_f(r['aurc'])} "
                     f"| {_f(r['brier'])} | {_f(r['auto_precision'])} | "
                     f"{_f(r['auto_coverage'])} | {_f(r['review_fraction'])} |")
    best = rows["ours: selected calibrator, top-1 + asinh margin + confidence"]
    no_conf = rows["ours: selected calibrator, top-1 + asinh margin"]
    met = {k: (best[k] is not None and (best[k] >= v if k == "auto_precision" else best[k] <= v))
           for k, v in TARGETS.items()}
    lines += [
        "", "Issue reference points (measured earlier on similar data): ECE raw cosine 0.19, "
        "own decisions 0.17, logistic on ground truth 0.05; AURC raw cosine 0.25, top-1 + "
        "margin 0.20.", "",
        f"Ours (with confidence): test ECE {_f(best['ece'])}; over bootstrap draws of the "
        f"test occupations it spans {_f(stats['ece_interval'][0])}-"
        f"{_f(stats['ece_interval'][1])} (5th-95th percentile; resampling whole occupations "
        "inflates ECE, so read this as the size of the sampling noise, not an interval). "
        f"Sampling noise alone: a perfectly calibrated model with these probabilities would "
        f"show ECE {_f(stats['ece_noise_floor'])} on these {stats['n_test_queries']} queries "
        "(mean over 200 outcome sets drawn from the probabilities). Cross-fitted over all "
        f"{stats['cross_fit']['n']} held-out queries (fit on calibration, predict test; fit on "
        "test, predict calibration; no probability comes from a calibrator that saw its "
        f"query's ISCO group): ECE {_f(stats['cross_fit']['ece'])} (equal mass "
        f"{_f(stats['cross_fit']['ece_equal_mass'])}), noise floor "
        f"{_f(stats['cross_fit']['ece_noise_floor'])}, AURC {_f(stats['cross_fit']['aurc'])}. "
        "AURC "
        f"floor at this top-1 accuracy (a perfect ranking of right before wrong): "
        f"{_f(stats['oracle_aurc'])}; the AURC and auto-accept targets need a stronger model "
        "(more right top matches), which calibration alone cannot supply.", "",
        "Auto-accept band of ours at other precision targets (certified at 95 % confidence on "
        "held-out calibration queries) and what it does on the test queries: " + "; ".join(
            f"target {t}: accept from p ≥ {_f(v['accept_at'])}, test precision "
            f"{_f(v['test_precision'])}, coverage {_f(v['test_coverage'])}"
            for t, v in stats["triage"].items()) + ".", "",
        "Targets (ours, with confidence): " + ", ".join(
            f"{k} {'≤' if k != 'auto_precision' else '≥'} {v}: "
            f"{'met' if met[k] else 'NOT met'} ({_f(best[k])})" for k, v in TARGETS.items()),
        "",
        f"Embedding confidence: Spearman rank correlation with top-1 correctness on the test "
        f"queries {_f(stats['spearman_confidence_vs_correct'])} (p = "
        f"{stats['spearman_pvalue']:.2g}); AURC with the confidence feature "
        f"{_f(best['aurc'])}, without {_f(no_conf['aurc'])}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
