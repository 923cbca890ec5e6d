"""The demo: train (or reuse), calibrate, index and evaluate on the bundled ESCO occupations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.index.results import MatchResult
from surematch.index.rules import new_rule

DEMO_QUERIES = ["python developer", "nurse for the elderly", "truck driver", "bookkeeper",
                "job coach", "site foreman", "data scientist", "qwerty zxcv"]
# A confusion the default model makes ("job coach" -> "sports coach"), fixed by a rule.
DEMO_RULE = new_rule("job coach", "sports coach", id="job-coach", exclude_similarity=0.7,
                     note="a job coach helps people find work; not a sports coach")


@dataclass(frozen=True)
class DemoResult:
    summary: dict[str, Any]  # the test set's `evaluate` summary
    n_test_occupations: int
    n_references: int
    matches: list[MatchResult]  # one per DEMO_QUERIES item
    report: Path


def run_demo(workdir: Path, retrain: bool = False,
             step: Callable[[str], None] = lambda _: None) -> DemoResult:
    """Run the four steps, telling `step` what each does as it starts."""
    from surematch.confidence.retrieval import fit_match_calibration
    from surematch.confidence.store import calibration_for_model, save_calibration
    from surematch.config import Config
    from surematch.data.esco import (
        esco_groups,
        esco_queries,
        esco_references,
        read_esco,
        split_by_isco,
    )
    from surematch.evaluation.ranked import rank_queries
    from surematch.evaluation.report import write_report
    from surematch.evaluation.summary import match_summary
    from surematch.index.reference_index import ReferenceIndex
    from surematch.model import SimilarityModel

    occupations = read_esco()
    train_occ, held_occ = split_by_isco(occupations, held_out_fraction=0.2, seed=0)
    calib_occ, test_occ = split_by_isco(held_occ, held_out_fraction=0.5, seed=1)
    refs = esco_references(occupations)

    model_dir = workdir / "model"
    if model_dir.exists() and not retrain:
        step(f"1/4 reusing the model in {model_dir} (--retrain to train again)")
        model = SimilarityModel.load(model_dir)
    else:
        step(f"1/4 training on {len(train_occ):,} occupations; {len(held_occ):,} occupations "
             "of held-out ISCO groups are kept for calibration and testing")
        from surematch.training import train

        model = train(Config(), esco_groups(train_occ, taxonomy=occupations))
        model.save(model_dir)
    ref_vectors = model.embed(refs.texts)

    calibration, _ = calibration_for_model(model_dir, model.identity())
    if calibration is None:
        step(f"2/4 calibrating on {len(calib_occ):,} occupations of held-out ISCO groups")
        queries = esco_queries(calib_occ, taxonomy=occupations)
        ranked = rank_queries(model, refs, queries, reference_vectors=ref_vectors)
        calibration = fit_match_calibration(ranked.similarity, ranked.correct,
                                            ranked.confidence, ranked.expected,
                                            precision_target=0.99)
        save_calibration(model_dir, calibration, model.identity())
    step(f"2/4 calibration: {calibration.bands.message}")

    index_dir = workdir / "index"
    with ReferenceIndex.create(index_dir, model) as index:
        if index.count() != len(refs.ids):
            step(f"3/4 indexing {len(refs.ids):,} preferred titles into {index_dir}")
            index.add(refs)
        else:
            step(f"3/4 reusing the index in {index_dir} ({index.count():,} references)")
        if not any(r.id == DEMO_RULE.id for r in index.list_rules()):
            index.add_rules([DEMO_RULE])
        results = index.match_batch(DEMO_QUERIES, k=3)

    queries = esco_queries(test_occ, taxonomy=occupations)
    ranked = rank_queries(model, refs, queries, reference_vectors=ref_vectors)
    summary = match_summary(ranked, calibration)
    report = write_report(workdir / "report", ranked, summary, calibration)
    return DemoResult(summary, len(test_occ), len(refs.ids), results, report)
