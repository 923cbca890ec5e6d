"""Feedback loop on ESCO: do reviews chosen by the service's queue extend the certified band?

Run: `.venv/bin/python benchmarks/feedback_loop.py [--model surematch-demo/model]` (the first
run ranks the ESCO queries with the model, about 3 minutes on 2 cores, cached in
benchmarks/.cache/ as npz and json; then a few minutes). Writes the "feedback_loop" section of
BENCHMARKS.md unless --no-write.

Protocol: the demo's. `known_occupations(read_esco())`: every occupation is a reference
holding its preferred title, its train titles and its description; the queries are the
alternative titles no other occupation uses, split by a stable hash of the title into the
calibration titles (the review pool) and the test titles. The model is the demo's trained one
(`--model`, run as onnx-int8); the queries are ranked once with `rank_queries(model,
references, queries, k=10)` (a reference is as close as its best text) with its
reference-aware evidence. The reviewer answers from ground truth: a top match is right when it
is the title's occupation, else it is corrected to it.

Loop, per seed (--seeds): 200 random pool queries are labelled (the service's labelled file),
then --rounds rounds of up to 200 reviews. After each round the calibration is refitted
(precision_target 0.95, miss target 0.01, 95 % confidence) and its certified 0.95 accept band
measured on the test titles: coverage (share auto-accepted) and precision (share of those
right). Strategies, all with the same budget:

- "random": 200 random unlabelled pool queries a round; `fit_match_calibration` with the
  evidence on every label (its seeded guide / certify split by group).
- "queue (service)": what `surematch serve` does. Each round's traffic is --traffic (2000)
  random unlabelled pool queries; each is audited with probability --audit-fraction
  (`audit_draw` on the query text, seeded by seed and round), whatever its band: 0.025, about
  50 audits, a quarter of the round; and 0.05, about half of it, as a variation (the loop runs
  once for each fraction given). The audits go first, the rest
  of the 200 are the traffic's review-band top matches under the current calibration, nearest
  a band edge first (`review_order`). The refit is `fit_ranked_feedback` (the logic of
  `fit_feedback_calibration`, which `calibrate --feedback` and the service's refit run) with
  the initial 200 as a labelled file and the reviews as queue or audit reviews: the calibrator
  is fitted on every label, the bands certified on the random-sample rows only (every audit
  and half the labelled file, by group).
- "queue, certified on every label": the same labels, `fit_match_calibration` on all of them
  (bands certified on queue-chosen labels too: no random sample, no guarantee).

Alarm (on the same protocol). A calibration fitted on the whole pool certifies the band; the
audit stream is auto-accepted test matches drawn at random (with replacement), and
`audit_precision` (plain, and anytime) is checked after every audited match, up to
--max-audits. Runs where it fired at some check: the false-alarm rate for the correct
calibration, and for simulated audits right with probability exactly 0.95 (the worst a
correct certificate allows). Broken calibration: the same probabilities shifted up by
--shifts on the logit scale, the cut-off unchanged, so the band takes in matches it should
not; reported: after how many audited matches the alarm first fires.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
ROUND, TARGET, MISS = 200, 0.95, 0.01
QUEUE, EVERY = "queue (service)", "queue, certified on every label"


@dataclass(frozen=True)
class Loop:
    """The demo's protocol ranked once: `rank_queries` output of the calibration queries (the
    review pool) and the test queries, as arrays."""

    similarity: np.ndarray  # [Q, 10]
    confidence: np.ndarray | None  # [Q]
    correct: np.ndarray  # [Q] bool
    expected: list[str | None]
    evidence: dict[str, np.ndarray]  # name -> [Q, 10]
    texts: list[str]
    pool: np.ndarray  # query indices of the calibration queries
    test: np.ndarray  # query indices of the test queries
    n_references: int
    n_texts: int

    def take(self, idx: np.ndarray) -> dict[str, Any]:
        """fit_match_calibration's arguments for these queries."""
        return {"similarities": self.similarity[idx], "correct": self.correct[idx],
                "confidence": None if self.confidence is None else self.confidence[idx],
                "groups": [self.expected[i] for i in idx],
                "evidence": {n: v[idx] for n, v in self.evidence.items()}}


def prepare_loop(model_dir: Path) -> Loop:
    """`known_occupations(read_esco())`, calibration and test queries ranked once with
    `rank_queries(model, references, queries, k=10)`; cached in benchmarks/.cache/ (npz and
    json) by the model's files and the texts."""
    from surematch.data.esco import known_occupations, read_esco
    from surematch.data.samples import LabelledQueries

    protocol = known_occupations(read_esco())
    queries = LabelledQueries(protocol.calibration.texts + protocol.test.texts,
                              protocol.calibration.expected_ids + protocol.test.expected_ids)
    n_pool = len(protocol.calibration)
    _, texts, _ = protocol.references.flat()
    h = hashlib.sha1()
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and f.suffix in (".json", ".onnx", ".safetensors"):
            h.update(f.name.encode())
            h.update(str(f.stat().st_size).encode())
            h.update(hashlib.sha1(f.read_bytes()).digest())
    h.update("\n".join(queries.texts + texts).encode())
    stem = CACHE / f"feedback_loop_{h.hexdigest()[:12]}"
    if not stem.with_suffix(".npz").is_file():
        from surematch.evaluation.ranked import rank_queries
        from surematch.loader import load_model

        model = load_model(model_dir, "onnx-int8")
        ranked = rank_queries(model, protocol.references, queries, k=10)
        CACHE.mkdir(parents=True, exist_ok=True)
        arrays = {"similarity": ranked.similarity, "correct": ranked.correct,
                  **{f"evidence_{n}": v for n, v in ranked.evidence.items()}}
        if ranked.confidence is not None:
            arrays["confidence"] = ranked.confidence
        np.savez_compressed(stem.with_suffix(".npz"), **arrays)
        stem.with_suffix(".json").write_text(json.dumps({"expected": ranked.expected}))
    data = np.load(stem.with_suffix(".npz"))
    expected = json.loads(stem.with_suffix(".json").read_text())["expected"]
    return Loop(data["similarity"], data["confidence"] if "confidence" in data.files else None,
                data["correct"].astype(bool), expected,
                {k[len("evidence_"):]: data[k] for k in data.files if k.startswith("evidence_")},
                queries.texts, np.arange(n_pool), np.arange(n_pool, len(expected)),
                len(protocol.references), len(texts))


@dataclass(frozen=True)
class Rows:
    """Some of the ranked queries in the shape `fit_ranked_feedback` reads (no ids: it reads
    them only for rejections, and this reviewer always corrects)."""

    similarity: np.ndarray
    confidence: np.ndarray | None
    correct: np.ndarray
    expected: list[str | None]
    evidence: dict[str, np.ndarray]


def fit_all(data: Loop, idx: np.ndarray) -> Any:
    """`fit_match_calibration` on every one of these labels (None: it cannot fit one)."""
    from surematch.confidence.retrieval import fit_match_calibration
    from surematch.confidence.targets import Targets
    from surematch.errors import InputError

    try:
        return fit_match_calibration(**data.take(idx), targets=Targets(TARGET, MISS),
                                     seed=0)
    except InputError:
        return None


def fit_service(data: Loop, idx: np.ndarray, sources: np.ndarray) -> tuple[Any, str]:
    """The service's refit (`fit_ranked_feedback`), `sources` per label ("file", "queue",
    "audit"): the calibration and where its bands were certified."""
    from surematch.confidence.targets import Targets
    from surematch.errors import InputError
    from surematch.workflows.feedback import fit_ranked_feedback

    t = data.take(idx)
    rows = Rows(t["similarities"], t["confidence"], t["correct"], t["groups"], t["evidence"])
    try:
        fit = fit_ranked_feedback(rows, list(sources), targets=Targets(TARGET, MISS), seed=0)
    except InputError:
        return None, "no fit"
    return fit.calibration, fit.counts["bands_certified_on"]


def top_probability(cal: Any, data: Loop, idx: np.ndarray) -> np.ndarray:
    t = data.take(idx)
    return cal.probabilities(t["similarities"], t["confidence"], t["evidence"])[:, 0]


def on_test(cal: Any, data: Loop) -> dict:
    """The certified band's accept cut-off, coverage and precision on the test queries."""
    if cal is None or cal.bands.accept_at is None:
        return {"accept_at": None, "coverage": 0.0, "precision": None}
    accepted = cal.bands.band(top_probability(cal, data, data.test)) == "accept"
    y = data.correct[data.test]
    return {"accept_at": float(cal.bands.accept_at), "coverage": float(accepted.mean()),
            "precision": float(y[accepted].mean()) if accepted.any() else None}


def queue_round(cal: Any, data: Loop, left: np.ndarray, rng: np.random.Generator,
                traffic: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One round of the service's queue: (audited, queue-chosen) pool indices. The traffic is
    `traffic` random unlabelled queries; each top match is audited by `audit_draw` (any band);
    the queue takes the other traffic's review-band top matches nearest a band edge first, up
    to ROUND labels in all, audits first."""
    from surematch.feedback import audit_draw, review_order

    seen = rng.choice(left, min(traffic, len(left)), replace=False)
    drawn = np.array([audit_draw(data.texts[i], fraction, seed) for i in seen], dtype=bool)
    audits, rest = seen[drawn][:ROUND], seen[~drawn]
    if cal is None or not len(rest):
        return audits, rest[:0]
    p = top_probability(cal, data, rest)
    review = cal.bands.band(p) == "review"
    order = review_order(p[review], cal.bands.accept_at, cal.bands.reject_below)
    return audits, rest[review][order][:ROUND - len(audits)]


def strategies(fractions: list[float]) -> list[str]:
    """The strategies' names: random, then the two queue ones for each audit fraction."""
    return ["random", *(f"{name}, audit fraction {f:g}" for f in fractions
                        for name in (QUEUE, EVERY))]


def loop(data: Loop, seed: int, rounds: int, traffic: int, fractions: list[float]
         ) -> dict[str, list]:
    """Every strategy from the same 200 random labelled queries: per round, test numbers."""
    rng = np.random.default_rng(seed)
    start = rng.choice(data.pool, ROUND, replace=False)
    out: dict[str, list] = {s: [] for s in strategies(fractions)}
    labelled, srng = start.copy(), np.random.default_rng(seed + 1000)
    for r in range(rounds + 1):
        if r:
            left = np.setdiff1d(data.pool, labelled)
            labelled = np.concatenate([labelled, srng.choice(left, ROUND, replace=False)])
        out["random"].append({"n_labelled": len(labelled),
                              **on_test(fit_all(data, labelled), data)})
    for fraction in fractions:
        queue_loop(data, start, seed, rounds, traffic, fraction, out)
    return out


def queue_loop(data: Loop, start: np.ndarray, seed: int, rounds: int, traffic: int,
               fraction: float, out: dict[str, list]) -> None:
    """The service's queue from these first labels, and the same labels certified on every
    label: per round, test numbers, into `out`."""
    labelled, sources = start.copy(), np.array(["file"] * ROUND, dtype=object)
    trng = np.random.default_rng(seed + 2000)
    cal = None
    for r in range(rounds + 1):
        n_audit = n_queue = 0
        if r:
            left = np.setdiff1d(data.pool, labelled)
            audits, queued = queue_round(cal, data, left, trng, traffic, fraction,
                                         seed * 1000 + r)
            n_audit, n_queue = len(audits), len(queued)
            labelled = np.concatenate([labelled, audits, queued])
            sources = np.concatenate([sources, np.array(["audit"] * n_audit, dtype=object),
                                      np.array(["queue"] * n_queue, dtype=object)])
        cal, where = fit_service(data, labelled, sources)
        counts = {"n_labelled": len(labelled), "audits": n_audit, "queued": n_queue}
        out[f"{QUEUE}, audit fraction {fraction:g}"].append(
            {**counts, "certified_on": where, **on_test(cal, data)})
        out[f"{EVERY}, audit fraction {fraction:g}"].append(
            {**counts, **on_test(fit_all(data, labelled), data)})


def alarm_runs(outcomes: np.ndarray, runs: int, max_audits: int, seed: int,
               anytime: bool) -> list[int | None]:
    """First alarm (audited matches) per run, auditing random draws of these outcomes."""
    from surematch.feedback import first_alarm

    rng = np.random.default_rng(seed)
    return [first_alarm(rng.choice(outcomes, max_audits), TARGET, anytime=anytime)
            for _ in range(runs)]


def fired_stats(first: list[int | None], runs: int) -> dict:
    """How often and how soon the alarm fired over the runs."""
    fired = np.array([f for f in first if f is not None])
    return {"fired_fraction": float(len(fired) / runs),
            "fired_by_100": float(np.mean([f is not None and f <= 100 for f in first])),
            "median_first": float(np.median(fired)) if len(fired) else None,
            "p10_first": float(np.percentile(fired, 10)) if len(fired) else None,
            "p90_first": float(np.percentile(fired, 90)) if len(fired) else None}


def alarm(data: Loop, shifts: list[float], runs: int, max_audits: int) -> dict:
    """Audit alarm with the calibration fitted on the whole pool, correct and shifted up, and
    on simulated outcomes right with probability exactly the target."""
    from surematch.feedback import first_alarm

    cal = fit_all(data, data.pool)
    if cal is None or cal.bands.accept_at is None:
        return {"error": "the whole pool certifies no 0.95 accept band"}
    p = np.clip(top_probability(cal, data, data.test), 1e-12, 1 - 1e-12)
    y = data.correct[data.test].astype(int)
    logit = np.log(p) - np.log1p(-p)
    res: dict = {"accept_at": cal.bands.accept_at, "n_pool": len(data.pool), "cases": []}
    for shift in [0.0, *shifts]:
        acc = 1.0 / (1.0 + np.exp(-(logit + shift))) >= cal.bands.accept_at
        case = {"shift": shift, "n_accepted": int(acc.sum()), "coverage": float(acc.mean()),
                "precision": float(y[acc].mean()), "runs": runs}
        for anytime in (False, True):
            first = alarm_runs(y[acc], runs, max_audits, seed=int(shift * 100), anytime=anytime)
            case["anytime" if anytime else "every_look"] = fired_stats(first, runs)
        res["cases"].append(case)
    boundary: dict = {"shift": None, "n_accepted": None, "coverage": None, "precision": TARGET,
                      "runs": runs}
    for anytime in (False, True):  # the worst a correct certificate allows: precision = target
        rng = np.random.default_rng(99)
        first = [first_alarm(rng.random(max_audits) < TARGET, TARGET, anytime=anytime)
                 for _ in range(runs)]
        boundary["anytime" if anytime else "every_look"] = fired_stats(first, runs)
    res["cases"].insert(1, boundary)
    return res


def summarise(loops: list[dict[str, list]]) -> list[dict]:
    """Per round and strategy: mean labels, mean coverage, mean and worst precision over the
    seeds that certified a band, seeds certified (queue: mean audits and queue reviews)."""
    table = []
    for r in range(len(loops[0]["random"])):
        row: dict = {"round": r}
        for strategy in loops[0]:
            cells = [run[strategy][r] for run in loops]
            precs = [c["precision"] for c in cells if c["precision"] is not None]
            row[strategy] = {
                "n_labelled": float(np.mean([c["n_labelled"] for c in cells])),
                "coverage": float(np.mean([c["coverage"] for c in cells])),
                "precision": float(np.mean(precs)) if precs else None,
                "min_precision": float(np.min(precs)) if precs else None,
                "certified": sum(c["accept_at"] is not None for c in cells),
            }
            if "audits" in cells[0]:
                row[strategy]["audits"] = float(np.mean([c["audits"] for c in cells]))
                row[strategy]["queued"] = float(np.mean([c["queued"] for c in cells]))
        table.append(row)
    return table


def reading(table: list[dict], loops: list[dict[str, list]]) -> str:
    """What the table says, measured: for each strategy, whether the mean coverage ever falls,
    the worst test precision of any certified seed, the seeds that lose a certified band at a
    later round, and the last round against random."""
    last, seeds = table[-1], len(loops)
    parts = []
    for name in list(table[0])[1:]:
        lost = sum(any(a["accept_at"] is not None and b["accept_at"] is None
                       for a, b in pairwise(run[name])) for run in loops)
        cov = [row[name]["coverage"] for row in table]
        worst = [row[name]["min_precision"] for row in table
                 if row[name]["min_precision"] is not None]
        falls = [r + 1 for r, (a, b) in enumerate(pairwise(cov)) if b < a]
        trend = ("never falls" if not falls else
                 "falls at round " + ", ".join(map(str, falls)))
        parts.append(
            f"{name}: mean coverage {' → '.join(f'{c:.2f}' for c in cov)} ({trend}); worst test "
            f"precision of a certified seed {_f(min(worst) if worst else None)}; {lost}/{seeds} "
            f"seeds lose a certified band at a later round; last round "
            f"{last[name]['certified']}/{seeds} seeds certified"
            + ("" if name == "random" else
               f", coverage {last[name]['coverage'] - last['random']['coverage']:+.3f} "
               "against random"))
    return ("Reading (computed from the table): " + "; ".join(parts) + ". At these sizes (a "
            "few hundred certifying rows) a seed's band is certified or not from one round to "
            "the next, so the means jump; the more seeds, the steadier.")


def _f(v: float | None, fmt: str = ".3f") -> str:
    return "n/a" if v is None else format(v, fmt)


def render(stats: dict, table: list[dict], loops: list[dict[str, list]], alarms: dict,
           args: argparse.Namespace) -> str:
    seeds = args.seeds
    names = list(table[0])[1:]
    fractions = " or ".join(f"{f:g} (about {args.traffic * f:.0f} audits a round)"
                            for f in args.audit_fraction)
    lines = [
        "## Feedback loop on ESCO: does the review queue extend the certified band?", "",
        f"Command: `{args.command}`. Protocol in the script's docstring: the demo's (known "
        "occupations, new titles; the demo's trained model, onnx-int8; `rank_queries` with "
        f"evidence): {stats['n_references']:,} references ({stats['n_texts']:,} texts), review "
        f"pool = the {stats['n_pool']:,} calibration titles (top-1 right "
        f"{stats['pool_top1']:.1%}), test = the {stats['n_test']:,} test titles (top-1 right "
        f"{stats['test_top1']:.1%}). Reviewer = ground truth. Start: {ROUND} random labelled "
        f"queries (a labelled file); then {args.rounds} rounds of up to {ROUND} reviews. "
        "random: random pool queries; calibration fitted and bands certified on every label. "
        f"queue (service): each round's traffic is {args.traffic:,} random unlabelled pool "
        f"queries, each top match audited (`audit_draw`, any band) with probability "
        f"{fractions}, the rest of the round the traffic's review-band matches nearest a band edge "
        "(`review_order`); refitted as the service does (`fit_ranked_feedback`: calibrator on "
        "every label, bands certified on the audits and half the labelled file). queue, "
        "certified on every label: the same labels, bands certified on all of them. Test "
        "numbers of the certified 0.95 auto-accept band (precision_target 0.95 at 95 % "
        f"confidence), over {seeds} seeds.", "",
        "Each cell: test coverage (mean) · test precision: mean (worst seed) over the seeds "
        "that certified a band · seeds certified; for queue (service), the round's labels: "
        "audits + queue reviews (means; the queue may hold fewer than the rest of the 200).",
        "", "| round | labels | " + " | ".join(names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for row in table:
        cells = []
        for name in names:
            c = row[name]
            cell = (f"{c['coverage']:.3f} · {_f(c['precision'])} ({_f(c['min_precision'])}) · "
                    f"{c['certified']}/{seeds}")
            if name.startswith(QUEUE):
                cell += f" · {c['audits']:.0f} + {c['queued']:.0f}"
            cells.append(cell)
        lines.append(f"| {row['round']} | {row['random']['n_labelled']:.0f} | "
                     + " | ".join(cells) + " |")
    lines += ["", "Queue-chosen labels are not a random sample of the traffic: certifying on "
              "them breaks the finite-sample guarantee of the certificate (it assumes "
              "exchangeable data), which is why the service certifies its bands on the audits "
              "(a random sample of all top matches, whatever their band) and the labelled "
              "file only.", ""]
    lines += [reading(table, loops), ""]
    if "error" in alarms:
        lines.append(f"Audit alarm: not run ({alarms['error']}).")
        return "\n".join(lines)
    lines += [
        f"Audit alarm (`audit_precision`, one-sided Clopper-Pearson 95 % upper bound below "
        f"0.95, checked after every audited auto-accept, up to {args.max_audits} of them, "
        f"{args.runs} seeded runs; audited matches drawn at random from the test queries the "
        f"band auto-accepts). Calibration fitted on the whole pool ({alarms['n_pool']} "
        f"queries): accept from p ≥ {alarms['accept_at']:.3f}. Broken: the same probabilities "
        "shifted up on the logit scale, the cut-off unchanged. At a 2 % audit rate, n audited "
        "auto-accepts take about 50·n auto-accepted matches.", "",
        "| calibration | auto-accepted (test) | their precision | alarm | runs alarmed "
        "| by 100 audits | audits to first alarm: median (10th-90th pct) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in alarms["cases"]:
        name = ("at the target (simulated)" if c["shift"] is None else "correct"
                if c["shift"] == 0 else f"broken: logit + {c['shift']:g}")
        accepted = "-" if c["n_accepted"] is None else \
            f"{c['n_accepted']} ({c['coverage']:.1%})"
        for kind, label in (("every_look", "plain"), ("anytime", "anytime")):
            a = c[kind]
            lines.append(
                f"| {name} | {accepted} | {c['precision']:.3f} | "
                f"{label} | {a['fired_fraction']:.1%} | {a['fired_by_100']:.1%} | "
                f"{_f(a['median_first'], 'g')} ({_f(a['p10_first'], 'g')}-"
                f"{_f(a['p90_first'], 'g')}) |")
    lines += ["", "plain: `audit_precision(right, wrong, 0.95)`, a 5 % test for one look; "
              "checked after every audit its false alarms add up. anytime: "
              "`audit_precision(..., anytime=True)`, the 5 % spread over the looks "
              "(5 %/(n(n+1)) at look n), so that checking after every audit, forever, "
              "false-alarms in at most 5 % of runs; it fires later. \"at the target\": audited "
              "matches right with probability exactly 0.95, the worst a correct certificate "
              "allows: its \"runs alarmed\" is the false-alarm rate; the correct calibration "
              "row is the same on the real auto-accepted test matches."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("surematch-demo/model"),
                        help="the model folder (the demo's trained model, run as onnx-int8)")
    parser.add_argument("--seeds", type=int, default=3, help="seeded runs of the loop")
    parser.add_argument("--rounds", type=int, default=5, help=f"rounds of {ROUND} reviews")
    parser.add_argument("--traffic", type=int, default=2000,
                        help="queries the service sees a round (random unlabelled pool queries)")
    parser.add_argument("--audit-fraction", type=float, nargs="+", default=[0.025, 0.05],
                        help="share of the traffic's top matches audited (any band); the "
                             "queue strategies run once for each")
    parser.add_argument("--runs", type=int, default=1000, help="seeded runs of the alarm")
    parser.add_argument("--max-audits", type=int, default=500)
    parser.add_argument("--shifts", type=float, nargs="+", default=[1.0, 2.0],
                        help="logit shifts of the broken calibration")
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--prepare-only", action="store_true", help="rank and stop")
    args = parser.parse_args()
    shown = [a for a, before in zip(sys.argv[1:], ["", *sys.argv[1:]], strict=False)
             if a not in ("--no-write", "--json") and before != "--json"]
    args.command = " ".join([".venv/bin/python benchmarks/feedback_loop.py", *shown])

    data = prepare_loop(args.model)
    stats = {"n_pool": len(data.pool), "n_test": len(data.test),
             "n_references": data.n_references, "n_texts": data.n_texts,
             "pool_top1": float(data.correct[data.pool].mean()),
             "test_top1": float(data.correct[data.test].mean())}
    print(json.dumps(stats), flush=True)
    if args.prepare_only:
        return
    loops = []
    for seed in range(args.seeds):
        loops.append(loop(data, seed, args.rounds, args.traffic, args.audit_fraction))
        print(f"seed {seed}: " + json.dumps(loops[-1]), flush=True)
    table = summarise(loops)
    alarms = alarm(data, args.shifts, args.runs, args.max_audits)
    body = render(stats, table, loops, alarms, args)
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps({"stats": stats, "table": table, "loops": loops,
                                               "alarm": alarms}, indent=2))
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("feedback_loop", body)


if __name__ == "__main__":
    main()
