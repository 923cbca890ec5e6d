"""Feedback loop on ESCO: do reviews chosen by the queue certify more auto-accepts than random?

Run: `.venv/bin/python benchmarks/feedback_loop.py` (the first run embeds the ESCO titles with the
bundled all-MiniLM-L6-v2, a few minutes on 2 cores, cached in benchmarks/.cache/; then about a
minute). Writes the "feedback_loop" section of BENCHMARKS.md unless --no-write.

Protocol. Queries are ESCO alternative titles (titles several occupations use left out, as in
`esco_queries`), references the preferred titles, both embedded once with the bundled model
(no fine-tuning) and ranked exactly (`rank_exact`, top 10 by cosine). A random 10 % of the
occupations (seed 7) lose their reference: their titles are open-set queries whose top match
is wrong by definition. Occupations are split 50/50 (seed 3) into a review pool and test
occupations, so no occupation has queries on both sides. The reviewer answers from ground
truth: a top match is right when it is the query's occupation.

Loop, per seed: 200 random pool queries are labelled and calibrated
(`fit_match_calibration`, precision_target 0.95); then 5 rounds each label 200 more pool
queries, chosen either by the queue (`review_order`: calibrated top probability nearest a band
edge first; while no accept band is certified the 0.95 target stands in for its edge) or at
random, and the calibration is refitted on every query labelled so far. After each round: the
certified 0.95 band's coverage and precision on the test queries.

Alarm. A calibration fitted on 1200 random pool queries certifies the band; the audit stream
is auto-accepted test matches drawn at random (with replacement), and `audit_precision` is
checked after every audited match, up to --max-audits. False-alarm rate: runs where the alarm
fired at some check. Broken calibration: the same calibrator's probabilities shifted up by
SHIFT on the logit scale, so its accept band takes in matches it should not; reported: after
how many audited matches the alarm first fires.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Ranked:
    """Queries ranked against references: top-10 similarities, right/wrong top match, ids."""

    similarity: np.ndarray  # [Q, 10]
    correct: np.ndarray  # [Q] bool
    expected: list[str | None]  # None: open-set query (its reference was removed)
    occupation: np.ndarray  # [Q] the query's occupation uri, open-set queries included


def embed_cached(texts: list[str], name: str) -> np.ndarray:
    """L2-normalised embeddings of texts with the bundled model, cached by name and content."""
    import hashlib

    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    path = CACHE / f"feedback_{name}_{key}.npy"
    if path.is_file():
        return np.load(path)
    from surematch.encoders.text import TextEncoder

    vectors = TextEncoder().encode(texts).numpy().astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def prepare(open_fraction: float = 0.1) -> Ranked:
    """Embed and rank every ESCO query (protocol in the module text)."""
    from surematch.data.esco import esco_queries, esco_references, read_esco
    from surematch.evaluation.ranking import rank_exact

    occ = read_esco()
    queries = esco_queries(occ, taxonomy=occ)
    all_refs = esco_references(occ)
    q = embed_cached(queries.texts, "queries")
    r = embed_cached(all_refs.texts, "references")
    rng = random.Random(7)
    open_set = {o.uri for o in occ if rng.random() < open_fraction}
    keep = np.array([uri not in open_set for uri in all_refs.ids])
    ref_ids = [i for i, k in zip(all_refs.ids, keep, strict=True) if k]
    ranking = rank_exact(q, r[keep], k=10)
    top = [ref_ids[row] for row in ranking.rows[:, 0]]
    occupation = np.array(queries.expected_ids, dtype=object)
    expected = [None if e in open_set else e for e in queries.expected_ids]
    correct = np.array([t == e for t, e in zip(top, expected, strict=True)])
    return Ranked(ranking.similarity.astype(np.float64), correct, expected, occupation)


if __name__ == "__main__" and sys.argv[1:] == ["--prepare-only"]:
    ranked = prepare()
    print(len(ranked.correct), "queries; top-1 right", f"{ranked.correct.mean():.3f}")
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    print(json.dumps({}), args)


if __name__ == "__main__":
    main()
