"""Shift monitor on ESCO: does it find shifted traffic, stay quiet on unshifted traffic, and
what does recertification give back?

Run: `flock /tmp/heavy.lock .venv/bin/python benchmarks/shift.py [--model
surematch-demo/model]` (the first run ranks every query once, about 3 minutes on 2 cores,
cached in benchmarks/.cache/; then a few minutes). Writes the "shift" section of
BENCHMARKS.md unless --no-write.

Protocol: the demo's (known occupations, new titles: `known_occupations(read_esco())`,
references hold the preferred title, the train titles and the description), its model run as
`--runtime` (onnx-int8) and its saved calibration (refitted with `calibrate_protocol` at 0.95
when the folder holds none for that runtime). The calibration queries are the protocol's
calibration titles plus the calibration half of the bundled out-of-domain strings; their
sketch (`workflows.drift.ranked_sketch`, with the content features on the principal axes of
their embeddings, `--content-dims`) is the monitor's reference, as `calibrate` records it.
Every query is embedded and ranked once (`rank_queries`, k=10, with evidence; embeddings
cached as safetensors, rankings and query embeddings as npz); streams are then simulated on
arrays with `ShiftMonitor` checked after every query.

In-distribution: the calibration and test titles and all out-of-domain strings are one
population (split by a hash of the text). Each of --null-runs seeds draws, without
replacement, a reference of the calibration set's size (its content axes fitted on it) and a
stream of --stream queries from it: the false-alarm rate is the share of streams with an
alarm at any query.

Shifts, built from ESCO without outside data; each stream draws its queries at random from
the shift's titles, with out-of-domain strings mixed in at the population's share:
- "preferred titles": the occupations' preferred titles (the index holds them);
- "ISCO major group g": the test titles of occupations in ISCO major group g only;
- "lower-cased, noisy": the test titles lower-cased, half of them with one typo (a dropped,
  doubled or swapped letter);
- "official style": the test titles capitalised and made plural ("Precision Device
  Inspectors"), as another taxonomy names occupations.
Per shift, over --runs seeded streams of --max-queries against the recorded reference: the
share detected within 500 queries and the median queries needed; the precision of the
auto-accepted traffic (the accept band of the calibration in use; out-of-domain top matches
count as wrong) before recertification, and after each of:
- "audit": the service's remedy: --audits distinct shifted queries labelled (the service
  audits each query once; drawn without replacement with the traffic's composition, at most
  half the pool) and the calibration refitted and certified on them alone
  (`fit_match_calibration`, target 0.95, miss 0.02, 95 %); precision measured on the
  shifted queries not audited;
- "weighted": no new labels. A logistic classifier tells the calibration queries from
  --live unlabelled shifted queries on the sketch features; its odds give each calibration
  query an importance weight; the accept cut-off is recertified on the calibration labels
  with the weighted error rate and its effective sample size (Kish) in the Clopper-Pearson
  bound, over a grid of 12 cut-offs at 5 %/12 each (measured here only: dropped from the
  library, see BENCHMARKS.md).
Each recertification's cell: mean coverage · mean precision · share of runs that certified
a band whose true precision on the shifted traffic held the 0.95 target (promise kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET, MISS, CONFIDENCE = 0.95, 0.02, 0.95
DETECT_WITHIN = 500
ALPHA_CLASSIFIER = 0.025  # the monitor's alpha, for a like-for-like comparison
CLASSIFIER_LOOKS = [100, 200, 300, 400, 500]


@dataclass(frozen=True)
class Pool:
    """Ranked queries of one population: texts, ground truth and the arrays the calibrator
    and the monitor read."""

    texts: list[str]
    similarity: np.ndarray  # [Q, 10]
    confidence: np.ndarray | None
    correct: np.ndarray  # [Q] bool
    expected: list[str | None]
    evidence: dict[str, np.ndarray]
    vectors: np.ndarray  # [Q, D] the query embeddings (float16)
    top: list[str]  # [Q] the top match's reference id

    def take(self, idx: np.ndarray) -> Pool:
        return Pool([self.texts[i] for i in idx], self.similarity[idx],
                    None if self.confidence is None else self.confidence[idx],
                    self.correct[idx], [self.expected[i] for i in idx],
                    {n: v[idx] for n, v in self.evidence.items()}, self.vectors[idx],
                    [self.top[i] for i in idx])

    def __len__(self) -> int:
        return len(self.texts)


def typo(text: str, rng: np.random.Generator) -> str:
    """One dropped, doubled or swapped letter at a random place of `text`."""
    i = int(rng.integers(0, max(len(text) - 1, 1)))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1: i + 2] + text[i] + text[i + 2:]


def official(text: str) -> str:
    """Capitalised and plural: "precision device inspector" -> "Precision Device Inspectors"."""
    words = text.split()
    head = words[-1] if words else text
    if head.endswith(("s", "x", "ch", "sh")):
        head += "es" if not head.endswith("s") else ""
    elif head.endswith("y") and len(head) > 1 and head[-2] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return " ".join(w[:1].upper() + w[1:] for w in [*words[:-1], head])


def populations() -> tuple[Any, dict[str, tuple[list[str], list[str | None]]], int, int]:
    """The protocol and every population's (texts, expected ids): "calibration", "test",
    "ood_cal", "ood_test" and one per shift."""
    from surematch.data.esco import known_occupations, read_esco
    from surematch.workflows.protocols import out_of_domain_texts, split_out_of_domain

    occupations = read_esco()
    protocol = known_occupations(occupations)
    ood_cal, ood_test = split_out_of_domain(out_of_domain_texts())
    test = list(zip(protocol.test.texts, protocol.test.expected_ids, strict=True))
    major = {o.uri: o.isco_group[:1] for o in occupations}
    rng = np.random.default_rng(0)
    pops: dict[str, tuple[list[str], list[str | None]]] = {
        "calibration": (protocol.calibration.texts, list(protocol.calibration.expected_ids)),
        "test": (protocol.test.texts, list(protocol.test.expected_ids)),
        "ood_cal": (ood_cal, [None] * len(ood_cal)),
        "ood_test": (ood_test, [None] * len(ood_test)),
        "preferred titles": ([o.preferred for o in occupations],
                             [o.uri for o in occupations]),
        "lower-cased, noisy": ([typo(t.lower(), rng) if rng.random() < 0.5 else t.lower()
                                for t, _ in test], [e for _, e in test]),
        "official style": ([official(t) for t, _ in test], [e for _, e in test]),
    }
    for g in sorted({major[e] for _, e in test if e}):
        rows = [(t, e) for t, e in test if e and major[e] == g]
        if len(rows) >= 100:
            pops[f"ISCO major group {g}"] = ([t for t, _ in rows], [e for _, e in rows])
    _, texts, _ = protocol.references.flat()
    return protocol, pops, len(protocol.references), len(texts)


def model_hash(model_dir: Path) -> str:
    h = hashlib.sha1()
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and f.suffix in (".json", ".onnx", ".safetensors"):
            h.update(f.name.encode())
            h.update(hashlib.sha1(f.read_bytes()).digest())
    return h.hexdigest()[:12]


def ranked_pools(model_dir: Path, runtime: str) -> tuple[dict[str, Pool], Any, dict[str, int]]:
    """Every population ranked once (cached by model files, runtime and texts), and the
    calibration in use (the folder's for `runtime`, else one fitted as the demo does)."""
    from surematch.confidence.file.store import calibration_for_model
    from surematch.confidence.match_calibration import MatchCalibration

    protocol, pops, n_refs, n_texts = populations()
    h = hashlib.sha1((model_hash(model_dir) + runtime + "|vectors").encode())
    for name in sorted(pops):
        h.update(name.encode())
        h.update("\n".join(pops[name][0]).encode())
    stem = CACHE / f"shift_{h.hexdigest()[:12]}"
    if not stem.with_suffix(".npz").is_file():
        from surematch.cached_embedder import CachedEmbedder
        from surematch.data.samples import LabelledQueries
        from surematch.evaluation.ranked_queries import rank_queries
        from surematch.loader import load_model
        from surematch.workflows.protocols import calibrate_protocol

        model = CachedEmbedder(load_model(model_dir, runtime), CACHE / "embeddings")
        _, texts, _ = protocol.references.flat()
        t0 = time.perf_counter()
        vectors = model.embed(texts)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {}
        for name, (qs, expected) in pops.items():
            r = rank_queries(model, protocol.references, LabelledQueries(qs, expected), k=10,
                             reference_vectors=vectors)
            arrays[f"{name}|similarity"] = r.similarity
            arrays[f"{name}|correct"] = r.correct
            arrays[f"{name}|vectors"] = model.embed(qs).astype(np.float16)  # cached: no cost
            if r.confidence is not None:
                arrays[f"{name}|confidence"] = r.confidence
            for n, v in r.evidence.items():
                arrays[f"{name}|evidence_{n}"] = v
            meta[name] = {"texts": qs, "expected": r.expected, "top": [i[0] for i in r.ids]}
            print(f"ranked {name}: {len(qs)} queries ({time.perf_counter() - t0:.0f}s)",
                  flush=True)
        cal, _ = calibration_for_model(model_dir, model.identity(), model.runtime)
        if cal is None:
            cal = calibrate_protocol(model, protocol, pops["ood_cal"][0], TARGET, vectors)
        meta["_calibration"] = cal.to_dict()
        CACHE.mkdir(parents=True, exist_ok=True)
        arrays["_references|vectors"] = vectors.astype(np.float16)
        np.savez_compressed(stem.with_suffix(".npz"), **arrays)
        stem.with_suffix(".json").write_text(json.dumps(meta))
    data = np.load(stem.with_suffix(".npz"))
    meta = json.loads(stem.with_suffix(".json").read_text())
    pools = {}
    for name in pops:
        key = f"{name}|"
        pools[name] = Pool(meta[name]["texts"], data[key + "similarity"],
                           data[key + "confidence"] if key + "confidence" in data.files
                           else None, data[key + "correct"].astype(bool),
                           meta[name]["expected"],
                           {k[len(key) + 9:]: data[k] for k in data.files
                            if k.startswith(key + "evidence_")},
                           data[key + "vectors"], meta[name]["top"])
    sizes = {"references": n_refs, "texts": n_texts}
    return pools, MatchCalibration.from_dict(meta["_calibration"]), sizes


def join(*pools: Pool) -> Pool:
    return Pool([t for p in pools for t in p.texts],
                np.concatenate([p.similarity for p in pools]),
                None if pools[0].confidence is None else
                np.concatenate([p.confidence for p in pools]),  # type: ignore[misc]
                np.concatenate([p.correct for p in pools]),
                [e for p in pools for e in p.expected],
                {n: np.concatenate([p.evidence[n] for p in pools]) for n in pools[0].evidence},
                np.concatenate([p.vectors for p in pools]), [t for p in pools for t in p.top])


def probability(cal: Any, pool: Pool) -> np.ndarray:
    return cal.probabilities(pool.similarity, pool.confidence, pool.evidence)[:, 0]


def sketch_matrix(cal: Any, pool: Pool, basis: Any = None) -> dict[str, np.ndarray]:
    """The monitor's features of the pool's queries, with the content features of `basis`
    (a `ContentBasis`; None: without them)."""
    from surematch.workflows.drift import ranked_sketch

    return ranked_sketch(pool.texts, pool, cal, basis)


def content_basis(vectors: np.ndarray, dims: int) -> Any:
    """The content basis `calibrate` records: the principal axes of the reference queries'
    embeddings (None with dims 0)."""
    from surematch.confidence.shift.content import fit_basis

    return fit_basis(vectors.astype(np.float64), dims) if dims else None


def without_content(sketch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {n: v for n, v in sketch.items() if not n.startswith("content_")}


def first_alarm(reference: dict[str, np.ndarray], live: dict[str, np.ndarray], seed: int,
                looks: bool = True) -> int | None:
    from surematch.confidence.shift.monitor import ShiftMonitor

    monitor = ShiftMonitor(reference, seed=seed, looks=looks)
    n = len(next(iter(live.values())))
    for start in range(0, n, 50):  # the alarm latches: stop at the first
        if monitor.update({k: v[start:start + 50] for k, v in live.items()}):
            break
    return monitor.alarm_at


def take(sketch: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {n: v[idx] for n, v in sketch.items()}


def classifier_pvalues(ref: np.ndarray, live: np.ndarray, looks: list[int],
                       rng: np.random.Generator) -> np.ndarray:
    """The alternative considered: a classifier two-sample test looked at after each of
    `looks` live queries, alone. At a look: the last n (at most WINDOW) live rows [n, F]
    against n random reference rows, the monitor's linear classifier (`direction`) fitted on
    half of each, and the one-sided Mann-Whitney p-value of its held-out scores (the AUC)."""
    from scipy.stats import mannwhitneyu

    from surematch.confidence.shift.monitor import WINDOW, direction

    out = []
    for look in looks:
        n = min(look, WINDOW, len(ref))  # the last live queries, as in the monitor
        r = ref[rng.choice(len(ref), n, replace=False)]
        lv = live[look - n:look]
        half = n // 2
        coef = direction(r[:half], lv[:half])
        out.append(float(mannwhitneyu(lv[half:] @ coef, r[half:] @ coef,
                                      alternative="greater").pvalue))
    return np.asarray(out)


def classifier_alarms(pvalues: np.ndarray, looks: list[int], alpha: float
                      ) -> tuple[int | None, int | None]:
    """(first look alarmed at level alpha each time (naive), first look alarmed with alpha
    spent over the looks as alpha / (j (j + 1)) at look j): the live queries seen, or None."""
    j = np.arange(1, len(looks) + 1)
    naive = np.flatnonzero(pvalues < alpha)
    spent = np.flatnonzero(pvalues < alpha / (j * (j + 1.0)))
    return (looks[naive[0]] if len(naive) else None, looks[spent[0]] if len(spent) else None)


def matrix(sketch: dict[str, np.ndarray]) -> np.ndarray:
    """Rows [N, F] of every feature of the sketch, in its order (missing values 0)."""
    return np.nan_to_num(np.column_stack(list(sketch.values())))


def null_runs(cal: Any, population: Pool, n_ref: int, stream: int, runs: int,
              classifier_runs: int, dims: int, progress: Callable[[str], None]
              ) -> dict[str, Any]:
    """False alarms over `runs` streams of `stream` queries, each with its own reference of
    `n_ref` queries (and its content basis fitted on them), all drawn without replacement
    from one population; and of the classifier test (naive and spent looks) over the first
    `classifier_runs`."""
    base = sketch_matrix(cal, population)
    stream = min(stream, len(population) - n_ref)
    looks = list(range(250, stream + 1, 250))
    alarms, at, naive, spent, ranks = 0, [], 0, 0, 0
    spent_s, queries = 0.0, 0  # the monitor's own time (reference set up included)
    for seed in range(runs):
        rng = np.random.default_rng(10_000 + seed)
        order = rng.permutation(len(population))
        ref, live = order[:n_ref], order[n_ref:n_ref + stream]
        basis = content_basis(population.vectors[ref], dims)
        sketch = base if basis is None else {**base, **basis.project(population.vectors)}
        x = matrix(sketch)
        t0 = time.perf_counter()
        a = first_alarm(take(sketch, ref), take(sketch, live), seed)
        spent_s += time.perf_counter() - t0
        queries += stream if a is None else a
        alarms += a is not None
        if a is not None:
            at.append(a)
        if seed < classifier_runs:
            ranks += first_alarm(take(sketch, ref), take(sketch, live), seed, False) is not None
            pv = classifier_pvalues(x[ref], x[live], looks, rng)
            first_naive, first_spent = classifier_alarms(pv, looks, ALPHA_CLASSIFIER)
            naive += first_naive is not None
            spent += first_spent is not None
        if seed % 50 == 49:
            progress(f"null: {seed + 1} runs, {alarms} alarms")
    return {"runs": runs, "stream": stream, "alarms": alarms, "rate": alarms / runs,
            "alarm_at": at, "classifier_runs": min(classifier_runs, runs),
            "classifier_naive": naive, "classifier_spent": spent, "ranks_only": ranks,
            "looks": len(looks), "us_per_query": 1e6 * spent_s / max(queries, 1)}


def stream_indices(rng: np.random.Generator, n_shift: int, n_ood: int, ood_share: float,
                   size: int) -> np.ndarray:
    """Indices into join(shift, ood): shifted titles with out-of-domain strings mixed in."""
    is_ood = rng.random(size) < ood_share
    return np.where(is_ood, n_shift + rng.integers(0, n_ood, size),
                    rng.integers(0, n_shift, size))


def audit_draw(rng: np.random.Generator, weight: np.ndarray, m: int) -> np.ndarray:
    """m distinct indices drawn without replacement with probabilities `weight` (each
    pooled query's share of the traffic): an audit sample of distinct queries."""
    return np.sort(rng.choice(len(weight), m, replace=False, p=weight / weight.sum()))


CLIP, GRID = 50.0, 12  # the weighted recertification measured here (dropped from the library)


def importance_weights(x_calibration: np.ndarray, x_live: np.ndarray) -> np.ndarray:
    """Weights [N] of the calibration rows [N, F] that make them look like the live rows
    [M, F] (mean about 1): a logistic classifier's odds P(live | x) / P(calibration | x), times
    N / M, clipped at CLIP times the mean."""
    from surematch.confidence.calibrators.logistic import fit_logit

    x = np.vstack([x_calibration, x_live])
    z = np.r_[np.zeros(len(x_calibration)), np.ones(len(x_live))]
    coef, intercept = fit_logit(x, z)
    odds = np.exp(np.clip(x_calibration @ coef + intercept, -30.0, 30.0))
    w = odds * len(x_calibration) / len(x_live)
    return np.minimum(w, CLIP * w.mean())


def certify_accept_weighted(scores: np.ndarray, outcomes: np.ndarray, weights: np.ndarray,
                            alpha: float, delta: float) -> float | None:
    """The lowest cut-off t on a grid of GRID accepted counts whose weighted error rate
    among scores >= t passes the Clopper-Pearson bound with Kish's effective sample size
    n_eff = (sum w)^2 / sum w^2 as the trials, each tested at delta / GRID; None when none
    does."""
    from scipy.stats import beta

    order = np.argsort(-scores, kind="mergesort")
    w, wrong = weights[order], 1.0 - outcomes[order]
    sizes = np.unique(np.round(np.geomspace(min(30, len(order)), len(order), GRID)).astype(int))
    level = delta / len(sizes)
    best = None
    for m in sizes:
        n_eff = float(w[:m].sum() ** 2 / (w[:m] ** 2).sum())
        k = float((w[:m] * wrong[:m]).sum() / w[:m].sum()) * n_eff
        upper = 1.0 if k >= n_eff else float(beta.ppf(1.0 - level, k + 1.0, n_eff - k))
        if upper <= alpha:
            best = float(scores[order][m - 1])
    return best


def weighted_cutoff(p_cal: np.ndarray, y_cal: np.ndarray, x_cal: np.ndarray,
                    x_live: np.ndarray) -> float | None:
    """The accept cut-off recertified for the live population without its labels: the
    calibration queries reweighted towards the live ones (`importance_weights`), the weighted
    error rate bounded with its effective sample size (`certify_accept_weighted`)."""
    w = importance_weights(x_cal, x_live)
    return certify_accept_weighted(p_cal, y_cal, w, 1.0 - TARGET, 1.0 - CONFIDENCE)


def accepted_stats(p: np.ndarray, y: np.ndarray, cut: float | None) -> tuple[float, float | None]:
    if cut is None:
        return 0.0, None
    acc = p >= cut
    return float(acc.mean()), float(y[acc].mean()) if acc.any() else None


def shift_runs(name: str, cal: Any, reference: dict[str, np.ndarray], basis: Any,
               cal_pool: Pool, shift: Pool, ood: Pool, ood_share: float,
               args: argparse.Namespace) -> dict[str, Any]:
    """Detection (with and without the content features), precision under the shift, and
    both recertifications, over seeded runs."""
    from surematch.confidence.certification.targets import Targets
    from surematch.confidence.match_calibration import fit_match_calibration
    from surematch.errors import InputError

    both = join(shift, ood)
    sketch = sketch_matrix(cal, both, basis)
    p_all, y_all = probability(cal, both), both.correct.astype(float)
    x_all = matrix(sketch)
    x_cal = matrix(reference)
    p_cal, y_cal = probability(cal, cal_pool), cal_pool.correct.astype(float)
    # the traffic's own composition: each title once, out-of-domain strings at their share
    weight = np.r_[np.full(len(shift), 1.0 - ood_share) / len(shift),
                   np.full(len(ood), ood_share) / len(ood)]
    accept = p_all >= (cal.bands.accept_at if cal.bands.accept_at is not None else np.inf)
    precision = float((weight * y_all)[accept].sum() / weight[accept].sum()) \
        if accept.any() else None
    coverage = float(weight[accept].sum())
    needed, plain, audit, weighted = [], [], [], []
    classifier: list[tuple[int | None, int | None]] = []
    ranks: list[int | None] = []
    x_ref = matrix(reference)
    for seed in range(args.runs):
        rng = np.random.default_rng(20_000 + seed)
        idx = stream_indices(rng, len(shift), len(ood), ood_share, args.max_queries)
        needed.append(first_alarm(reference, take(sketch, idx), seed))
        if basis is not None:  # the monitor of the 11 features, on the same stream
            plain.append(first_alarm(without_content(reference),
                                     without_content(take(sketch, idx)), seed))
        if seed < args.classifier_runs:
            ranks.append(first_alarm(reference, take(sketch, idx), seed, False))
            pv = classifier_pvalues(x_ref, x_all[idx], CLASSIFIER_LOOKS, rng)
            classifier.append(classifier_alarms(pv, CLASSIFIER_LOOKS, ALPHA_CLASSIFIER))
        if seed >= args.recert_runs:
            continue
        # audit: distinct shifted queries labelled (the service audits each query once), at
        # random with the traffic's composition, at most half the pool; the calibration is
        # refitted on them alone and measured on the queries not audited
        drawn = audit_draw(rng, weight, min(args.audits, len(both) // 2))
        audited = both.take(drawn)
        rest = np.setdiff1d(np.arange(len(both)), drawn)
        try:
            new = fit_match_calibration(audited.similarity, audited.correct,
                                        audited.confidence, audited.expected,
                                        targets=Targets(TARGET, MISS, CONFIDENCE), seed=seed,
                                        evidence=audited.evidence, candidates=("logistic",))
            p_new = probability(new, both)
            cut = new.bands.accept_at
            acc = (p_new >= cut)[rest] if cut is not None else np.zeros(len(rest), bool)
            w = weight[rest]
            audit.append((float(w[acc].sum() / w.sum()),
                          float((w * y_all[rest])[acc].sum() / w[acc].sum())
                          if acc.any() else None))
        except InputError:
            audit.append((0.0, None))
        live = stream_indices(rng, len(shift), len(ood), ood_share, args.live)
        cut_w = weighted_cutoff(p_cal, y_cal, x_cal, x_all[live])
        acc = p_all >= cut_w if cut_w is not None else np.zeros(len(p_all), bool)
        weighted.append((float(weight[acc].sum()),
                         float((weight * y_all)[acc].sum() / weight[acc].sum())
                         if acc.any() else None))
    found = [n for n in needed if n is not None]
    return {"name": name, "titles": len(shift), "runs": args.runs,
            "detected_500": sum(n <= DETECT_WITHIN for n in found) / args.runs,
            "detected": len(found) / args.runs,
            "median_needed": float(np.median(found)) if found else None,
            "p90_needed": float(np.percentile(found, 90)) if found else None,
            "coverage": coverage, "precision": precision,
            "audit": audit, "weighted": weighted,
            "classifier_naive_500": float(np.mean([c[0] is not None for c in classifier]))
            if classifier else None,
            "classifier_spent_500": float(np.mean([c[1] is not None for c in classifier]))
            if classifier else None,
            "ranks_only_500": float(np.mean([a is not None and a <= DETECT_WITHIN
                                             for a in ranks])) if ranks else None,
            "no_content_500": float(np.mean([a is not None and a <= DETECT_WITHIN
                                             for a in plain])) if plain else None}


def cell(rows: list[tuple[float, float | None]]) -> str:
    if not rows:
        return "n/a"
    cov = np.mean([c for c, _ in rows])
    precs = [p for _, p in rows if p is not None]
    kept = sum(p is not None and p >= TARGET for _, p in rows)
    certified = sum(p is not None for _, p in rows)
    prec = f"{np.mean(precs):.3f}" if precs else "n/a"
    return f"{cov:.3f} · {prec} · {kept}/{certified} kept ({len(rows)} runs)"


def render(stats: dict[str, Any], null: dict[str, Any], rows: list[dict[str, Any]],
           args: argparse.Namespace) -> str:
    lines = [
        "## Shift monitor on ESCO (`benchmarks/shift.py`)",
        "",
        f"Command: `{args.command}`. Protocol in the script's docstring: the demo's model "
        f"({args.runtime}) and calibration (accept from p ≥ {stats['accept_at']:.3f}, "
        f"precision target {TARGET}); {stats['references']:,} references "
        f"({stats['texts']:,} texts); reference = the {stats['n_reference']:,} calibration "
        "queries (titles and out-of-domain strings); `ShiftMonitor` with alpha "
        f"{stats['alpha']} over {stats['features']} features (alarm at log-wealth "
        f"{stats['threshold']:.2f}), checked after every query.",
        "",
        f"In-distribution: {null['alarms']} of {null['runs']} streams of {null['stream']:,} "
        f"queries alarmed (false-alarm rate {null['rate']:.3f}; the bound is "
        f"{stats['alpha']}), each "
        f"with its own reference of {stats['n_reference']:,} queries drawn from the same "
        f"{stats['n_population']:,} (calibration and test titles, out-of-domain strings). "
        f"The monitor's cost: {null['us_per_query']:.0f} µs per query on these streams "
        "(its set-up from the reference included; one core, beside other jobs).",
        "",
        f"Shifts: {args.runs} seeded streams each, up to {args.max_queries:,} queries. "
        "Precision and coverage of the auto-accepted traffic under the shift with the "
        "calibration in use; then after recertification: cell = mean coverage · mean "
        f"precision · runs whose certified band held precision ≥ {TARGET} on the shifted "
        f"traffic of those that certified one. audit: {args.audits} labelled audits of the "
        f"shifted traffic; weighted: {args.live} unlabelled shifted queries, importance "
        "weights, no new label.",
        "",
        "| shift | titles | detected ≤ 500 | queries needed: median (90th pct) | auto-accepted"
        " | their precision | after audit recertification | after weighted recertification |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        needed = "n/a" if r["median_needed"] is None else \
            f"{r['median_needed']:.0f} ({r['p90_needed']:.0f})"
        prec = "n/a" if r["precision"] is None else f"{r['precision']:.3f}"
        lines.append(f"| {r['name']} | {r['titles']:,} | {r['detected_500']:.2f} | {needed} "
                     f"| {r['coverage']:.3f} | {prec} | {cell(r['audit'])} | "
                     f"{cell(r['weighted'])} |")
    n_cls = max(null["classifier_runs"], 1)
    lines += [
        "",
        "The test chosen by measurement: the monitor (a per-feature sequential rank test at "
        "alpha/2 checked after every query, and a classifier two-sample test every 100 queries "
        "at alpha/2 spent over its looks) against each part alone at the whole alpha, and "
        "against the classifier test at alpha at every look (naive: no correction for "
        "repeated looks). The classifier: linear (difference of means over pooled variances), "
        "on the same features, fitted on half of n "
        "live and n random reference queries, the one-sided Mann-Whitney p-value of its "
        "held-out scores (the AUC), looked at every 250 queries in-distribution and every 100 "
        f"under a shift (alone) or every 100 (in the monitor). False alarms over "
        f"{null['classifier_runs']} in-distribution streams of {null['stream']:,} "
        f"({null['looks']} looks alone), the monitor's over {null['runs']}; detected within "
        f"500 queries over {min(args.classifier_runs, args.runs)} runs per shift, the "
        f"monitor's over {args.runs}.",
        "",
        "| test | false alarms | " + " | ".join(r["name"] for r in rows) + " |",
        "| --- | --- | " + " | ".join("---" for _ in rows) + " |",
        f"| monitor (both parts, alpha {stats['alpha']}) | {null['rate']:.3f} | "
        + " | ".join(f"{r['detected_500']:.2f}" for r in rows) + " |",
    ]
    if rows and rows[0]["no_content_500"] is not None:
        lines.append("| monitor without the content features (the 11 before) | 0.025 (5 of 200,"
                     " measured before) | " + " | ".join(f"{r['no_content_500']:.2f}"
                                                          for r in rows) + " |")
    for label, key, null_key in (
            (f"rank test alone, alpha {stats['alpha']}", "ranks_only_500", "ranks_only"),
            (f"classifier alone, alpha {ALPHA_CLASSIFIER} spent over looks",
             "classifier_spent_500", "classifier_spent"),
            (f"classifier alone, {ALPHA_CLASSIFIER} at every look (naive)",
             "classifier_naive_500", "classifier_naive")):
        lines.append(f"| {label} | {null[null_key] / n_cls:.3f} | " + " | ".join(
            "n/a" if r[key] is None else f"{r[key]:.2f}" for r in rows) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("surematch-demo/model"))
    parser.add_argument("--runtime", default="onnx-int8")
    parser.add_argument("--null-runs", type=int, default=200)
    parser.add_argument("--stream", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=100, help="seeded streams per shift")
    parser.add_argument("--max-queries", type=int, default=1000)
    parser.add_argument("--recert-runs", type=int, default=5)
    parser.add_argument("--audits", type=int, default=1000)
    parser.add_argument("--live", type=int, default=1000)
    parser.add_argument("--content-dims", type=int, default=None,
                        help="content features (default: the monitor's CONTENT_DIMS; 0: none)")
    parser.add_argument("--classifier-runs", type=int, default=20,
                        help="runs of the classifier two-sample test compared")
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()
    shown = [a for a, before in zip(sys.argv[1:], ["", *sys.argv[1:]], strict=False)
             if a not in ("--no-write", "--json") and before != "--json"]
    args.command = " ".join(["flock /tmp/heavy.lock .venv/bin/python benchmarks/shift.py",
                             *shown])

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    from surematch.confidence.shift.content import CONTENT_DIMS
    from surematch.confidence.shift.monitor import ShiftMonitor

    if args.content_dims is None:
        args.content_dims = CONTENT_DIMS
    pools, cal, sizes = ranked_pools(args.model, args.runtime)
    cal_pool = join(pools["calibration"], pools["ood_cal"])
    basis = content_basis(cal_pool.vectors, args.content_dims)
    reference = sketch_matrix(cal, cal_pool, basis)
    population = join(pools["calibration"], pools["test"], pools["ood_cal"], pools["ood_test"])
    ood_share = (len(pools["ood_cal"]) + len(pools["ood_test"])) / len(population)
    monitor = ShiftMonitor(reference)
    stats = {**sizes, "n_reference": len(cal_pool), "n_population": len(population),
             "features": len(monitor.features), "threshold": monitor.threshold,
             "accept_at": cal.bands.accept_at, "alpha": monitor.alpha}
    t0 = time.perf_counter()
    null = null_runs(cal, population, len(cal_pool), args.stream, args.null_runs,
                     args.classifier_runs, args.content_dims, progress)
    progress(f"null: {null['alarms']}/{null['runs']} ({time.perf_counter() - t0:.0f}s)")
    rows = []
    ood = pools["ood_test"]
    for name, pool in pools.items():
        if name in ("calibration", "test", "ood_cal", "ood_test"):
            continue
        rows.append(shift_runs(name, cal, reference, basis, cal_pool, pool, ood, ood_share,
                               args))
        r = rows[-1]
        progress(f"{name}: detected<=500 {r['detected_500']:.2f}, median {r['median_needed']}"
                 f", precision {r['precision']}, audit {cell(r['audit'])}, weighted "
                 f"{cell(r['weighted'])} ({time.perf_counter() - t0:.0f}s)")
    body = render(stats, null, rows, args)
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps({"stats": stats, "null": null, "shifts": rows},
                                              indent=2, default=float))
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section("shift", body)


if __name__ == "__main__":
    main()
