"""The demo: train (or reuse), calibrate, index and evaluate on the bundled ESCO occupations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.confidence.certification.certificate import guarantees, named_source
from surematch.confidence.file.store import (
    calibration_document,
    calibration_for_model,
    save_calibration,
)
from surematch.config import Config
from surematch.data.esco import known_occupations, read_esco, unseen_occupations
from surematch.evaluation.ranked_queries import rank_queries
from surematch.evaluation.report import write_report
from surematch.folder import resolve_runtime
from surematch.index.reference_index import ReferenceIndex
from surematch.index.results import MatchResult
from surematch.index.rules import new_rule
from surematch.loader import load_model
from surematch.model import SimilarityModel
from surematch.runtime.export import export_model
from surematch.workflows.protocols import (
    ProtocolReport,
    calibrate_protocol,
    evaluate_protocol,
    out_of_domain_texts,
    split_out_of_domain,
)

DEMO_QUERIES = ["python developer", "nurse for the elderly", "truck driver", "bookkeeper",
                "job coach", "site foreman", "data scientist", "qwerty zxcv"]
# A confusion the default model makes ("job coach" -> "sports coach"), fixed by a rule.
DEMO_RULE = new_rule("job coach", "sports coach", id="job-coach", exclude_similarity=0.7,
                     note="a job coach helps people find work; not a sports coach")
# The review the demo makes: a reviewer says which occupation this query means.
DEMO_REVIEW = ("site foreman", "construction general supervisor")
# The demo trains a short run of the default recipe (its early stopping settles late); `--full`
# trains the whole recipe and measures both protocols, as the benchmarks do.
DEMO_EPOCHS = 4


@dataclass(frozen=True)
class DemoReview:
    query: str
    before: MatchResult  # the query's matches before the review
    corrected_id: str  # the reference the reviewer named
    learned: str  # what the review taught the index (Learned.outcome)
    after: MatchResult  # the same query, matched again


@dataclass(frozen=True)
class DemoResult:
    protocols: list[ProtocolReport]  # known occupations; with full, unseen occupations too
    matches: list[MatchResult]  # one per DEMO_QUERIES item
    titles: dict[str, str]  # reference id -> its title, for the matches shown
    band_message: str
    guarantee: str  # the calibration's guarantee sentence
    review: DemoReview
    report: Path


def _model(folder: Path, training: Any, retrain: bool, step: Callable[[str], None],
           what: str, epochs: int | None) -> SimilarityModel:
    if folder.exists() and not retrain:
        step(f"    reusing {folder} (--retrain to train again)")
        return SimilarityModel.load(folder)
    config = Config() if epochs is None else Config().override({"train.epochs": epochs})
    step(f"    {len(training):,} {what}, {config.train.epochs} epochs (frozen MiniLM + head)")
    from surematch.training import train

    model = train(config, training)
    model.save(folder)
    return model


def run_demo(workdir: Path, retrain: bool = False, precision_target: float = 0.95,
             full: bool = False, step: Callable[[str], None] = lambda _: None) -> DemoResult:
    """The product's story, telling `step` what each step does: train (or reuse), export,
    calibrate, index, match, review one query and match it again, then the headline numbers
    of the known-occupation protocol (every ESCO occupation a reference holding its preferred
    title, known titles and description; queries are new titles). `full`: the whole default
    recipe, and the unseen-occupation protocol too (its own model)."""
    occupations = read_esco()
    known = known_occupations(occupations)
    ood = out_of_domain_texts()
    ood_cal, _ = split_out_of_domain(ood)
    folder = workdir / ("model-full" if full else "model")

    step("1/6 train")
    trained = _model(folder, known.training, retrain, step, "titles of known occupations",
                     None if full else DEMO_EPOCHS)
    if resolve_runtime(folder) == "torch":
        step("2/6 export: one ONNX graph, fp32 and int8 (what every command runs)")
        export_model(trained, folder)
    from surematch.cached_embedder import CachedEmbedder

    # the fastest runtime the folder has (what serving runs); references embedded once for
    # calibration and the index
    model = CachedEmbedder(load_model(folder))
    _, texts, _ = known.references.flat()
    vectors = model.embed(texts)
    calibration, _ = calibration_for_model(folder, model.identity(), model.runtime)
    if calibration is None or calibration.bands.precision_target != precision_target:
        step(f"3/6 calibrate: {len(known.calibration):,} held-out titles + {len(ood_cal)} "
             f"non-occupations, target {precision_target:g}")
        calibration = calibrate_protocol(model, known, ood_cal, precision_target, vectors)
        save_calibration(folder, calibration, model.identity(), model.runtime,
                         named_source("ESCO's new titles of known occupations and bundled "
                                      "strings that are no occupation"))
        _record_drift_reference(folder, model, known, ood_cal, vectors, calibration)
    guarantee = guarantees(calibration_document(folder))["retrieval"]

    index_dir = workdir / ("index-full" if full else "index")
    with ReferenceIndex.create(index_dir, model) as index:
        if index.count() != len(known.references):
            step(f"4/6 index: {len(known.references):,} occupations, {len(texts):,} texts")
            index.add(known.references, progress=False)
            index.optimize()  # the search graph: an exact scan of every text is 3x slower
        if not any(r.id == DEMO_RULE.id for r in index.list_rules()):
            index.add_rules([DEMO_RULE])
        step("5/6 match, then review one query")
        results = index.match_batch(DEMO_QUERIES, k=3)
        review = _review(index, index_dir, model, folder, known.references)
        shown = sorted({m.id for r in [*results, review.before, review.after]
                        for m in r.matches} | {review.corrected_id})
        titles = {ref.id: ref.text for ref in index.get(shown) if ref is not None}

    step("6/6 measure on the test titles" + (" of both protocols" if full else ""))
    known_report, _ = evaluate_protocol(model, known, ood, (precision_target, 0.99),
                                        reference_vectors=vectors,
                                        calibrations={precision_target: calibration})
    reports = [known_report]
    if full:
        unseen = unseen_occupations(occupations)
        unseen_model = _model(workdir / "model-unseen", unseen.training, retrain, step,
                              "titles of the occupations outside held-out ISCO groups", None)
        reports.append(evaluate_protocol(unseen_model, unseen, ood,
                                         (precision_target, 0.99))[0])
    test = rank_queries(model, known.references, known.test, reference_vectors=vectors)
    report = write_report(workdir / "report", test, known_report.summary, calibration,
                          title="surematch demo: known occupations, new titles")
    return DemoResult(reports, results, titles, calibration.bands.message, guarantee, review,
                      report)


def _review(index: ReferenceIndex, index_dir: Path, model: Any, folder: Path,
            references: Any) -> DemoReview:
    """DEMO_REVIEW through the service's own path: the review is stored in the index folder's
    feedback store and teaches the index (`feedback.learn`); the query is matched again."""
    from surematch.feedback import FeedbackStore, learn
    from surematch.workflows.feedback import calibration_id

    query, title = DEMO_REVIEW
    right = references.ids[references.texts.index(title)]
    before = index.match(query, k=3)
    shown = before.matches[0].id if before.matches else None
    decision = "accept" if shown == right else "correct"
    with FeedbackStore(index_dir) as store:
        stored = store.add(query, decision, shown_id=shown,
                           corrected_id=None if decision == "accept" else right,
                           reviewer="demo", model_id=model.identity(),
                           calibration_id=calibration_id(folder),
                           known_ids=lambda i: index.get([i])[0] is not None)
        learned = learn(index, store, stored)
    return DemoReview(query, before, right, learned.outcome, index.match(query, k=3))


def _record_drift_reference(folder: Path, model: Any, known: Any,
                            ood_cal: list[str], vectors: Any, calibration: Any) -> None:
    """The calibration queries' sketch beside the calibration (the shift monitor's
    reference)."""
    from surematch.workflows.drift import record_reference
    from surematch.workflows.protocols import with_negatives

    queries = with_negatives(known.calibration, ood_cal)
    ranked = rank_queries(model, known.references, queries, reference_vectors=vectors)
    record_reference(folder, queries.texts, ranked, calibration,
                     "ESCO alternative titles (calibration half) and out-of-domain strings")
