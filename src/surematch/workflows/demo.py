"""The demo: train (or reuse), calibrate, index and evaluate on the bundled ESCO occupations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.confidence.certificate import guarantees, named_source
from surematch.confidence.store import (
    calibration_document,
    calibration_for_model,
    save_calibration,
)
from surematch.config import Config
from surematch.data.esco import known_occupations, read_esco, unseen_occupations
from surematch.evaluation.ranked import rank_queries
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


@dataclass(frozen=True)
class DemoResult:
    protocols: list[ProtocolReport]  # known occupations (the demo's index), unseen occupations
    matches: list[MatchResult]  # one per DEMO_QUERIES item
    titles: dict[str, str]  # reference id -> its title, for the matches shown
    band_message: str
    report: Path


def _model(folder: Path, training: Any, retrain: bool, step: Callable[[str], None],
           what: str) -> SimilarityModel:
    if folder.exists() and not retrain:
        step(f"reusing the model in {folder} (--retrain to train again)")
        return SimilarityModel.load(folder)
    step(f"training on {len(training):,} {what}")
    from surematch.training import train

    model = train(Config(), training)
    model.save(folder)
    return model


def run_demo(workdir: Path, retrain: bool = False, precision_target: float = 0.95,
             step: Callable[[str], None] = lambda _: None) -> DemoResult:
    """Train (or reuse), calibrate, index and measure, telling `step` what each step does.

    The everyday case leads: every ESCO occupation is a reference holding its preferred
    title, known titles and description, and queries are new titles of them. The second
    protocol, occupations the model never saw, is measured too (its own model)."""
    occupations = read_esco()
    known, unseen = known_occupations(occupations), unseen_occupations(occupations)
    ood = out_of_domain_texts()
    ood_cal, _ = split_out_of_domain(ood)

    step("1/4 model for known occupations, new titles:")
    trained = _model(workdir / "model", known.training, retrain, step,
                     "titles of known occupations")
    if resolve_runtime(workdir / "model", "auto") == "torch":
        step("1/4 exporting it as one ONNX graph (fp32 and int8) for the fast runtime")
        export_model(trained, workdir / "model")
    model = load_model(workdir / "model")  # what serving would run
    _, texts, _ = known.references.flat()
    vectors = model.embed(texts)
    calibration, _ = calibration_for_model(workdir / "model", model.identity(), model.runtime)
    if calibration is None or calibration.bands.precision_target != precision_target:
        step(f"2/4 calibrating on {len(known.calibration):,} new titles and {len(ood_cal)} "
             f"strings that are no occupation, for precision {precision_target:g} "
             f"({model.runtime} runtime)")
        calibration = calibrate_protocol(model, known, ood_cal, precision_target, vectors)
        save_calibration(workdir / "model", calibration, model.identity(), model.runtime,
                         named_source("ESCO's new titles of known occupations and bundled "
                                      "strings that are no occupation"))
        _record_drift_reference(workdir / "model", model, known, ood_cal, vectors, calibration)
    step(f"2/4 calibration: {calibration.bands.message}")
    step("2/4 guarantee: " + guarantees(calibration_document(workdir / "model"))["retrieval"])

    index_dir = workdir / "index"
    with ReferenceIndex.create(index_dir, model) as index:
        if index.count() != len(known.references):
            step(f"3/4 indexing {len(known.references):,} occupations ({len(texts):,} texts) "
                 f"into {index_dir}")
            index.add(known.references)
            index.optimize()  # the search graph: an exact scan of every text is 3x slower
        else:
            step(f"3/4 reusing the index in {index_dir} ({index.count():,} references)")
        if not any(r.id == DEMO_RULE.id for r in index.list_rules()):
            index.add_rules([DEMO_RULE])
        results = index.match_batch(DEMO_QUERIES, k=3)
        shown = sorted({m.id for r in results for m in r.matches})
        titles = {ref.id: ref.text for ref in index.get(shown) if ref is not None}

    step("4/4 measuring both protocols on their test titles")
    known_report, _ = evaluate_protocol(model, known, ood, (precision_target, 0.99),
                                        reference_vectors=vectors,
                                        calibrations={precision_target: calibration})
    unseen_model = _model(workdir / "model-unseen", unseen.training, retrain, step,
                          "titles of the occupations outside held-out ISCO groups")
    unseen_report, _ = evaluate_protocol(unseen_model, unseen, ood, (precision_target, 0.99))
    test = rank_queries(model, known.references, known.test, reference_vectors=vectors)
    report = write_report(workdir / "report", test, known_report.summary, calibration,
                          title="surematch demo: known occupations, new titles")
    return DemoResult([known_report, unseen_report], results, titles,
                      calibration.bands.message, report)


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
