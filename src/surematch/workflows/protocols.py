"""Measure a model on an ESCO protocol: retrieval, calibration, certified bands, and inputs
from outside the domain that must get no match."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np

from surematch.confidence.metrics import band_report
from surematch.confidence.retrieval import MatchCalibration, fit_match_calibration
from surematch.confidence.targets import Targets
from surematch.data.esco import Protocol, stable_fraction
from surematch.data.samples import LabelledQueries
from surematch.embedder import Embedder
from surematch.evaluation.ranked import RankedQueries, rank_queries
from surematch.evaluation.summary import match_summary, top1_bands, top1_probabilities


def out_of_domain_texts() -> list[str]:
    """The bundled strings that are no occupation (keyboard mash, numbers, products,
    sentences, common words of other languages), one per line."""
    text = files("surematch").joinpath("resources", "out_of_domain.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def split_out_of_domain(texts: list[str]) -> tuple[list[str], list[str]]:
    """(calibration half, test half), fixed by each text's stable hash."""
    return ([t for t in texts if stable_fraction(t) < 0.5],
            [t for t in texts if stable_fraction(t) >= 0.5])


@dataclass(frozen=True)
class ProtocolReport:
    """What a protocol measured: the test summary at the first target, each target's band on
    the test queries, and what happened to out-of-domain inputs."""

    name: str
    sizes: dict[str, int]
    summary: dict[str, Any]
    bands: dict[float, dict[str, Any]]
    out_of_domain: dict[str, Any]


def with_negatives(queries: LabelledQueries, negatives: list[str]) -> LabelledQueries:
    """The queries plus texts that no reference should match (expected id None)."""
    return LabelledQueries([*queries.texts, *negatives],
                           [*queries.expected_ids, *([None] * len(negatives))])


MAX_MISS = 0.02  # share of right top matches the reject band may take (certified)


def calibrate_protocol(model: Embedder, protocol: Protocol, negatives: list[str],
                       precision_target: float, reference_vectors: np.ndarray | None = None,
                       seed: int = 0) -> MatchCalibration:
    """Fit the match calibration on the protocol's calibration queries plus `negatives`;
    the reject band may take at most MAX_MISS of right matches."""
    ranked = rank_queries(model, protocol.references,
                          with_negatives(protocol.calibration, negatives),
                          reference_vectors=reference_vectors)
    return fit_match_calibration(ranked.similarity, ranked.correct, ranked.confidence,
                                 ranked.expected, targets=Targets(precision_target, MAX_MISS),
                                 seed=seed, evidence=ranked.evidence)


def evaluate_protocol(model: Embedder, protocol: Protocol, out_of_domain: list[str],
                      targets: tuple[float, ...] = (0.95, 0.99), seed: int = 0,
                      reference_vectors: np.ndarray | None = None,
                      calibrations: dict[float, MatchCalibration] | None = None,
                      ) -> tuple[ProtocolReport, MatchCalibration]:
    """Calibrate at each precision target (half the out-of-domain texts join the calibration
    queries as "no match" examples), then measure on the test queries and the other half.
    Returns the report and the calibration of the first target. `reference_vectors` (the
    embedded `references.flat()` texts) and `calibrations` fitted already are reused."""
    ood_cal, ood_test = split_out_of_domain(out_of_domain)
    _, texts, _ = protocol.references.flat()
    vectors = model.embed(texts) if reference_vectors is None else reference_vectors
    test = rank_queries(model, protocol.references, protocol.test, reference_vectors=vectors)
    ood = rank_queries(model, protocol.references, LabelledQueries(ood_test, [None] *
                                                                   len(ood_test)),
                       reference_vectors=vectors)
    calibrations = {t: (calibrations or {}).get(t) or
                    calibrate_protocol(model, protocol, ood_cal, t, vectors, seed)
                    for t in targets}
    bands: dict[float, dict[str, Any]] = {}
    for target, cal in calibrations.items():
        accept = band_report(top1_probabilities(test, cal), test.correct.astype(int),
                             cal.bands, top1_bands(test, cal))["accept"]
        bands[target] = {"coverage": accept["coverage"], "precision": accept["precision"],
                         "accept_at": cal.bands.accept_at, "message": cal.bands.message}
    first = calibrations[targets[0]]
    report = ProtocolReport(
        protocol.name,
        {"references": len(protocol.references), "texts": len(texts),
         "training_texts": len(protocol.training), "calibration": len(protocol.calibration),
         "test": len(protocol.test), "out_of_domain": len(out_of_domain)},
        match_summary(test, first), bands, _rejections(test, ood, first))
    return report, first


def _rejections(test: RankedQueries, ood: RankedQueries, cal: MatchCalibration
                ) -> dict[str, Any]:
    """Share of out-of-domain inputs in the reject band (no match), and share of the test
    queries' right top matches that land there too."""
    ood_bands, test_bands = top1_bands(ood, cal), top1_bands(test, cal)
    right = test.correct.astype(bool)
    return {"n": len(ood_bands), "rejected": float(np.mean(ood_bands == "reject")),
            "right_rejected": float(np.mean(test_bands[right] == "reject")) if right.any()
            else None}
