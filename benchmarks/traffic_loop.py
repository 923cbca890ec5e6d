"""Traffic loop on ESCO: does the share of traffic auto-accepted grow with every review?

Run: `flock /tmp/heavy.lock .venv/bin/python benchmarks/traffic_loop.py --model
surematch-demo/model` (embeds each reference text and each distinct query once, onnx-int8,
cached in benchmarks/.cache/; then a few minutes). Writes the "traffic_loop" section of
BENCHMARKS.md unless --no-write.

Protocols: "known" (`known_occupations`: every occupation a reference with its preferred
title, train titles and description; queries are new titles of known occupations) and
"unseen" (`unseen_occupations`, the cold start: references hold a title and a description
only; queries are titles of occupations the model never trained on). Start: the calibration
is the service's refit (`fit_ranked_feedback`) on the protocol's calibration titles as a
labelled file (precision target 0.95, miss target 0.01, 95 % confidence).

Traffic: rounds of --round (3,000) queries drawn from the protocol's test titles, Zipf with
s = 1 (title of rank r, in a seeded shuffle, drawn with probability proportional to 1 / r),
over --seeds seeds; and a run without repeats (each title at most once). Each round is matched
against the index as it stands, counted (auto-accepted share by volume and its precision on
the ground truth, P@1 by volume), and queued by the service's `ReviewQueue` (one item per
normalised query; audit draws at --audit-fraction of the keys, reseeded per calibration). A
simulated reviewer then answers the audit items and the top --reviews (200) other items, from
the ground truth: accept a right top match, else correct it (reject when no reference is
right). Each review is stored in a `FeedbackStore`; with learning on, `feedback.learn.learn`
teaches the index (the same code as the service); then the calibration is refitted
(`fit_ranked_feedback`) on the labelled file and the latest review of each query, each row
ranked as the reviewer saw it (so a review is never graded by the text it taught).

The index is simulated in memory with the same arithmetic as `ReferenceIndex`: a reference is
as close as its best text (MaxSim), evidence from `confidence.evidence` (agreement, exact,
overlap, reviewed), probabilities and bands from `index.calibrated.Calibration`.

Compared: learning texts on / off; queue ordered by traffic settled / band edge / random.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET, MISS, K = 0.95, 0.01, 10


# -- data ----------------------------------------------------------------------------------
@dataclass
class Protocol:
    """A protocol embedded once: reference texts and every query text."""

    name: str
    ids: list[str]
    texts: list[list[tuple[str, str]]]  # each reference's (text, kind)
    text_vectors: list[np.ndarray]  # each reference's rows [n, D]
    vectors: dict[str, np.ndarray]  # query text -> [D]
    confidence: dict[str, float]
    calibration: list[tuple[str, str | None]]  # (title, expected id)
    test: list[tuple[str, str | None]]
    has_confidence: bool


def _digest(model_dir: Path, texts: Sequence[str]) -> str:
    h = hashlib.sha1()
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and f.suffix in (".json", ".onnx", ".safetensors"):
            h.update(f.name.encode())
            h.update(str(f.stat().st_size).encode())
    h.update("\n".join(texts).encode())
    return h.hexdigest()[:12]


def load_protocol(name: str, model_dir: Path, runtime: str) -> Protocol:
    from surematch.data.esco import known_occupations, read_esco, unseen_occupations

    occupations = read_esco()
    p = known_occupations(occupations) if name == "known" else unseen_occupations(occupations)
    owner, flat, _ = p.references.flat()
    queries = list(dict.fromkeys(p.calibration.texts + p.test.texts))
    stem = CACHE / f"traffic_loop_{name}_{_digest(model_dir, flat + queries)}"
    if not stem.with_suffix(".npz").is_file():
        from surematch.loader import load_model

        model = load_model(model_dir, runtime)
        refs = np.asarray(model.embed(flat), dtype=np.float32)
        qv, qc = model.embed_with_confidence(queries)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(stem.with_suffix(".npz"), refs=refs, queries=np.asarray(qv, np.float32),
                 confidence=np.asarray(qc, np.float64),
                 has_confidence=np.array(bool(model.has_confidence)))
    data = np.load(stem.with_suffix(".npz"))
    refs = data["refs"]
    bounds = np.searchsorted(np.asarray(owner), np.arange(len(p.references) + 1))
    return Protocol(
        name, list(p.references.ids),
        [p.references.texts_of(i) for i in range(len(p.references))],
        [refs[a:b] for a, b in itertools.pairwise(bounds)],
        dict(zip(queries, data["queries"], strict=True)),
        dict(zip(queries, data["confidence"].tolist(), strict=True)),
        list(zip(p.calibration.texts, p.calibration.expected_ids, strict=True)),
        list(zip(p.test.texts, p.test.expected_ids, strict=True)),
        bool(data["has_confidence"]))


# -- the index, in memory ------------------------------------------------------------------
@dataclass
class Ref:
    id: str
    texts: list[tuple[str, str]]
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)


class MemoryIndex:
    """References with their text rows, MaxSim search, and the `feedback.learn.TextIndex`
    operations (a learned text's row is the cached embedding of the query)."""

    def __init__(self, p: Protocol) -> None:
        self.p = p
        self.refs = {i: Ref(i, list(t)) for i, t in zip(p.ids, p.texts, strict=True)}
        self.rows = {i: v.copy() for i, v in zip(p.ids, p.text_vectors, strict=True)}
        self.position = {i: n for n, i in enumerate(p.ids)}
        self._rebuild()

    def _rebuild(self) -> None:
        self.dirty = False
        self.owner = np.concatenate([np.full(len(self.rows[i]), n)
                                     for n, i in enumerate(self.p.ids)])
        self.matrix = np.concatenate([self.rows[i] for i in self.p.ids])
        self.starts = np.searchsorted(self.owner, np.arange(len(self.p.ids)))

    def get(self, ids: Sequence[str]) -> list[Ref | None]:
        return [self.refs.get(i) for i in ids]

    def add_texts(self, ref_id: str, texts: Sequence[Any], provenance: Any = None) -> int:
        ref = self.refs[ref_id]
        have = {t for t, _ in ref.texts}
        new = [(t, k) for t, k in texts if t not in have]
        for t, k in new:
            ref.texts.append((t, k))
            vec = self.p.vectors.get(t)
            if vec is None:  # learned as " ".join(query.split())
                vec = next(v for q, v in self.p.vectors.items() if " ".join(q.split()) == t)
            self.rows[ref_id] = np.vstack([self.rows[ref_id], vec[None, :]])
            if provenance and t in provenance:
                ref.provenance[t] = provenance[t]
        self.dirty |= bool(new)
        return len(new)

    def delete_text(self, ref_id: str, text: str) -> bool:
        ref = self.refs[ref_id]
        keep = [n for n, (t, _) in enumerate(ref.texts) if t != text]
        if len(keep) == len(ref.texts):
            return False
        ref.texts = [ref.texts[n] for n in keep]
        self.rows[ref_id] = self.rows[ref_id][keep]
        ref.provenance.pop(text, None)
        self.dirty = True
        return True

    def rank(self, queries: Sequence[str]) -> dict[str, Any]:
        """Top-K references of each query with the evidence a calibration reads."""
        from surematch.confidence.evidence import agreement, lexical_evidence

        if self.dirty:
            self._rebuild()
        q = np.stack([self.p.vectors[t] for t in queries])
        sims_all, ids, texts, kinds, matched, text_sims = [], [], [], [], [], []
        for a in range(0, len(q), 512):
            s = q[a:a + 512] @ self.matrix.T
            per_ref = np.maximum.reduceat(s, self.starts, axis=1)
            top = np.argsort(-per_ref, axis=1, kind="stable")[:, :K]
            for r, row in enumerate(top):
                sims_all.append(per_ref[r, row])
                ids.append([self.p.ids[j] for j in row])
                row_texts, row_kinds, row_matched, row_sims = [], [], [], []
                for j in row:
                    ref = self.refs[self.p.ids[j]]
                    ts = s[r, self.starts[j]:self.starts[j] + len(ref.texts)]
                    row_texts.append([t for t, _ in ref.texts])
                    row_kinds.append([k for _, k in ref.texts])
                    row_matched.append(ref.texts[int(np.argmax(ts))][0])
                    row_sims.append(ts)
                texts.append(row_texts)
                kinds.append(row_kinds)
                matched.append(row_matched)
                text_sims.append(row_sims)
        evidence = {"agreement": agreement(text_sims),
                    **lexical_evidence(list(queries), matched, texts, kinds)}
        return {"similarity": np.asarray(sims_all, dtype=np.float64), "ids": ids,
                "matched": matched, "evidence": evidence,
                "confidence": np.array([self.p.confidence[t] for t in queries])}


@dataclass(frozen=True)
class Rows:
    """Ranked rows in the shape `fit_ranked_feedback` reads."""

    ids: list[list[str]]
    similarity: np.ndarray
    confidence: np.ndarray | None
    correct: np.ndarray
    expected: list[str | None]
    evidence: dict[str, np.ndarray]


def rows_of(ranked: dict[str, Any], expected: Sequence[str | None], use_conf: bool) -> Rows:
    correct = np.array([e is not None and row[0] == e
                        for row, e in zip(ranked["ids"], expected, strict=True)])
    return Rows(ranked["ids"], ranked["similarity"],
                ranked["confidence"] if use_conf else None, correct, list(expected),
                ranked["evidence"])


def take(rows: Rows, idx: Sequence[int]) -> Rows:
    ix = np.asarray(idx, dtype=np.int64)
    return Rows([rows.ids[i] for i in ix], rows.similarity[ix],
                None if rows.confidence is None else rows.confidence[ix], rows.correct[ix],
                [rows.expected[i] for i in ix], {n: v[ix] for n, v in rows.evidence.items()})


def stack(parts: Sequence[Rows]) -> Rows:
    return Rows([i for p in parts for i in p.ids],
                np.concatenate([p.similarity for p in parts]),
                None if parts[0].confidence is None else
                np.concatenate([p.confidence for p in parts]),  # type: ignore[misc]
                np.concatenate([p.correct for p in parts]),
                [e for p in parts for e in p.expected],
                {n: np.concatenate([p.evidence[n] for p in parts]) for n in parts[0].evidence})


# -- the loop ------------------------------------------------------------------------------
def traffic(p: Protocol, rounds: int, size: int, seed: int, repeats: bool) -> list[list[int]]:
    """Test-title indices of each round: Zipf s = 1 over a seeded shuffle, or no repeats."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(p.test))
    if not repeats:  # every title once: rounds of at most len(test) / rounds titles
        size = min(size, len(order) // rounds)
        return [list(order[r * size:(r + 1) * size]) for r in range(rounds)]
    weights = 1.0 / np.arange(1, len(order) + 1)
    weights /= weights.sum()
    return [list(order[rng.choice(len(order), size, p=weights)]) for _ in range(rounds)]


def run(p: Protocol, *, learn_texts: bool, order: str, seed: int, repeats: bool,
        rounds: int, size: int, reviews: int, audit_fraction: float) -> list[dict[str, Any]]:
    from surematch.confidence.targets import Targets
    from surematch.errors import InputError
    from surematch.feedback import FeedbackStore, ReviewQueue, learn
    from surematch.index.calibrated import Calibration
    from surematch.workflows.feedback import fit_ranked_feedback

    index = MemoryIndex(p)
    expected = dict(p.test)
    file_texts = [t for t, _ in p.calibration]
    file_rows = rows_of(index.rank(file_texts), [e for _, e in p.calibration],
                        p.has_confidence)

    def refit(review_rows: list[Rows]) -> Any:
        rows = stack([file_rows, *review_rows])
        sources = ["file"] * len(file_texts) + [s for s in review_sources]
        rejected = [None] * len(file_texts) + [r for r in review_rejected]
        return fit_ranked_feedback(rows, sources, rejected, targets=Targets(TARGET, MISS),
                                   seed=0).calibration

    review_sources: list[str] = []
    review_rejected: list[str | None] = []
    cal = refit([])
    queue = ReviewQueue(audit_fraction, seed=0)
    latest: dict[str, tuple[Rows, str, str | None]] = {}  # query -> (row, source, rejected)
    seen: dict[str, tuple[Rows, int]] = {}
    out = []
    spent = 0
    with tempfile.TemporaryDirectory() as tmp:
        store = FeedbackStore(tmp)
        for rnd, picks in enumerate(traffic(p, rounds, size, seed, repeats), start=1):
            texts = [p.test[i][0] for i in picks]
            distinct = list(dict.fromkeys(texts))
            ranked = index.rank(distinct)
            calibration = Calibration(cal)
            probs, bands = calibration.apply(
                ranked["similarity"], ranked["confidence"] if p.has_confidence else
                np.zeros(len(distinct)), ranked["evidence"])
            assert probs is not None and bands is not None
            rows = rows_of(ranked, [expected[t] for t in distinct], p.has_confidence)
            at = {t: n for n, t in enumerate(distinct)}
            for t, n in at.items():  # each query's ranking at its last sighting
                seen[t] = (rows, n)
            n_auto = n_auto_right = n_right = 0
            for t in texts:
                n = at[t]
                right = bool(rows.correct[n])
                n_right += right
                if bands[n][0] == "accept":
                    n_auto += 1
                    n_auto_right += right
            out.append({"round": rnd, "queries": len(texts), "distinct": len(distinct),
                        "auto_share": n_auto / len(texts),
                        "auto_precision": n_auto_right / n_auto if n_auto else None,
                        "p_at_1": n_right / len(texts), "reviews": spent})
            results = []
            for t in texts:  # one result per query, in traffic order
                n = at[t]
                results.append({"query": t, "matches": [
                    {"id": ranked["ids"][n][j], "text": ranked["matched"][n][j],
                     "probability": float(probs[n, j]), "band": bands[n][j]}
                    for j in range(3)]})
            queue.observe(results)
            b = cal.bands
            items = queue.items(None, order, b.accept_at, b.reject_below)  # type: ignore[arg-type]
            chosen = [i for i in items if i.audit] + [i for i in items if not i.audit][:reviews]
            for item in chosen:
                truth, top = expected.get(item.query), item.id
                if top is None:  # a conflict: the ground truth never makes one
                    continue
                if truth == top:
                    decision, corrected = "accept", None
                elif truth is None:
                    decision, corrected = "reject", None
                else:
                    decision, corrected = "correct", truth
                review = store.add(item.query, decision, shown_id=top, corrected_id=corrected,
                                   reviewer="sim", audit=item.audit)
                spent += 1
                queue.resolve(item.query)
                if learn_texts:
                    learn(index, store, review)
                sighting, n = seen[item.query]  # as the reviewer saw it
                latest[item.query] = (take(sighting, [n]), "audit" if item.audit else "queue",
                                      None if decision == "accept" else top)
            review_sources[:] = [s for _, s, _ in latest.values()]
            review_rejected[:] = [r for _, _, r in latest.values()]
            try:
                cal = refit([r for r, _, _ in latest.values()])
            except InputError as exc:
                print(f"  refit failed, calibration kept: {exc}", file=sys.stderr)
            queue.seed = rnd  # a fresh audit draw under the new calibration
        store.close()
    return out


# -- report --------------------------------------------------------------------------------
def mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table(name: str, runs: list[list[dict[str, Any]]]) -> list[str]:
    """Rows of the markdown table: per round, means over runs (min precision over runs)."""
    lines = []
    for r in range(len(runs[0])):
        at = [run[r] for run in runs]
        precisions = [a["auto_precision"] for a in at if a["auto_precision"] is not None]
        lines.append(f"| {name} | {r + 1} | {fmt(mean([a['auto_share'] for a in at]))} | "
                     f"{fmt(mean(precisions))} | {fmt(min(precisions) if precisions else None)} "
                     f"| {fmt(mean([a['p_at_1'] for a in at]))} | "
                     f"{mean([a['reviews'] for a in at]):.0f} |")
    return lines


def rows(summary: dict[str, Any]) -> list[str]:
    """The table's rows of every configuration run, in the order run."""
    return [line for label, runs in summary.items() for line in table(label, runs)]


def report(args: argparse.Namespace, lines: list[str], summary: dict[str, Any],
           started: float) -> None:
    """The table so far into benchmarks/.cache/traffic_loop.json and BENCHMARKS.md."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "traffic_loop.json").write_text(json.dumps(summary))
    if args.no_write:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _report import write_section

    write_section("traffic_loop", f"## traffic_loop\n\nCommand: `flock /tmp/heavy.lock "
                  f".venv/bin/python benchmarks/traffic_loop.py --model {args.model} "
                  f"--seeds {args.seeds}` ({time.time() - started:.0f} s so far). Protocol in "
                  "the script's docstring.\n\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=Path("surematch-demo/model"))
    parser.add_argument("--runtime", default="onnx-int8")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round", type=int, default=3000, dest="size")
    parser.add_argument("--reviews", type=int, default=200)
    parser.add_argument("--audit-fraction", type=float, default=0.02)
    parser.add_argument("--protocols", default="known,unseen")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", default="", help="run only the configurations whose label "
                        "holds one of these comma-separated texts; the others' rows come from "
                        "the last run's cache")
    args = parser.parse_args(argv)
    started = time.time()
    options = {"rounds": args.rounds, "size": args.size, "reviews": args.reviews,
               "audit_fraction": args.audit_fraction}
    header = ["| run | round | auto share (volume) | its precision (mean) | its precision "
              "(worst seed) | P@1 (volume) | reviews spent before |",
              "|---|---|---|---|---|---|---|"]
    summary: dict[str, Any] = {}
    if args.only and (CACHE / "traffic_loop.json").is_file():
        summary = json.loads((CACHE / "traffic_loop.json").read_text())
    protocols = {}
    for name in args.protocols.split(","):
        protocols[name] = load_protocol(name, args.model, args.runtime)
        print(f"{name}: {len(protocols[name].ids)} references, "
              f"{len(protocols[name].test)} test titles", file=sys.stderr)
    configs = [(name, label, learn_texts, order, repeats) for name, label, learn_texts, order,
               repeats in [
                   ("known", "learn on, queue by traffic", True, "traffic", True),
                   ("unseen", "learn on, queue by traffic", True, "traffic", True),
                   ("known", "learn off, queue by traffic", False, "traffic", True),
                   ("unseen", "learn off, queue by traffic", False, "traffic", True),
                   ("known", "no repeats, learn on", True, "traffic", False),
                   ("known", "no repeats, learn off", False, "traffic", False),
                   ("known", "learn on, queue by band edge", True, "edge", True),
                   ("known", "learn on, queue at random", True, "random", True)]
               if name in protocols and (not args.only or any(
                   part in f"{name}: {label}" for part in args.only.split(",")))]
    for name, label, learn_texts, order, repeats in configs:
        p = protocols[name]
        seeds = range(args.seeds) if repeats else range(1)
        runs = [run(p, learn_texts=learn_texts, order=order, seed=s, repeats=repeats,
                    **options) for s in seeds]
        print(f"  {name}: {label}: {json.dumps(runs[0][-1])} ({time.time() - started:.0f} s)",
              file=sys.stderr)
        summary[f"{name}: {label}"] = runs
        report(args, header + rows(summary), summary, started)  # a long run writes as it goes
    print("\n".join(header + rows(summary)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
