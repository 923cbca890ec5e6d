"""Retrieval-mode calibration: the probability that a ranked candidate is the right reference.

Fitted on labelled queries ranked against references, open-set queries included (no right
reference among them: their top match is wrong by definition). Features: see `match_features`.

Protocol (`fit_match_calibration`): the queries are split by expected reference id into a fit
part and a band part (`split.fit_band_split`, 50/50 by default). The calibrator is selected by
cross-validated log loss and fitted on the fit part only, against ground truth (top-1 right or
wrong), never against the model's own decisions. Its probabilities on the band part, which it
never saw, choose the triage bands (`fit_bands`, finite-sample guarantee) and the threshold,
and give the held-out metrics in `report`. The calibrator is not refitted on all data
afterwards: the bands are certified for exactly the calibrator that is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.bands import TriageBands, fit_bands
from surematch.confidence.calibration import Calibrator
from surematch.confidence.checks import as_labels, same_length
from surematch.confidence.evidence import EVIDENCE
from surematch.confidence.match_features import FEATURES, candidate_features, top1_features
from surematch.confidence.metrics import aurc, brier, ece
from surematch.confidence.registry import calibrator_from_dict
from surematch.confidence.selection import select_calibrator
from surematch.confidence.split import enough_to_split, fit_band_split
from surematch.confidence.thresholds import Criterion, choose_threshold
from surematch.errors import InputError, ModelFormatError


@dataclass(frozen=True)
class MatchCalibration:
    """A fitted top-1 calibrator with its triage bands and threshold (both on probability)."""

    calibrator: Calibrator
    bands: TriageBands
    threshold: float
    uses_confidence: bool
    lone_margin: float
    report: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()  # names of `confidence.evidence` arrays the model reads

    @property
    def features(self) -> tuple[str, ...]:
        return (FEATURES if self.uses_confidence else FEATURES[:2]) + self.evidence

    def probabilities(self, similarities: ArrayLike, confidence: ArrayLike | None = None,
                      evidence: Mapping[str, ArrayLike] | None = None) -> np.ndarray:
        """Probability [Q, k] that each candidate is the right reference, from its query's
        similarities [Q, k] (best first), embedding confidence [Q] (needed when
        `uses_confidence`, ignored otherwise) and evidence {name: [Q, k]} (the names in
        `evidence` are needed, others ignored). Column 0 is the calibrated top-1
        probability; the others apply the same model to trailing candidates."""
        if self.uses_confidence and confidence is None:
            raise InputError("confidence: this calibration uses the query's embedding "
                             "confidence; pass it (model.embed_with_confidence)")
        if missing := [n for n in self.evidence if n not in (evidence or {})]:
            raise InputError(f"evidence: this calibration reads {missing}; pass it "
                             "(surematch.confidence.evidence)")
        used = {n: evidence[n] for n in self.evidence} if evidence else None
        x = candidate_features(similarities, confidence if self.uses_confidence else None,
                               self.lone_margin, used)
        q, k, f = x.shape
        return self.calibrator.predict_proba(x.reshape(q * k, f)).reshape(q, k)

    def band(self, probs: ArrayLike) -> str | np.ndarray:
        """"accept" / "review" / "reject" for a probability or [N] of them (see `bands`)."""
        return self.bands.band(probs)

    def to_dict(self) -> dict[str, Any]:
        return {"calibrator": self.calibrator.to_dict(), "bands": self.bands.to_dict(),
                "threshold": self.threshold, "uses_confidence": self.uses_confidence,
                "lone_margin": self.lone_margin, "evidence": list(self.evidence),
                "report": self.report}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatchCalibration:
        try:
            return cls(calibrator_from_dict(d["calibrator"]), TriageBands.from_dict(d["bands"]),
                       float(d["threshold"]), bool(d["uses_confidence"]),
                       float(d["lone_margin"]), dict(d.get("report") or {}),
                       tuple(str(n) for n in d.get("evidence") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"match calibration: damaged or missing field {exc}") from None


def fit_match_calibration(
    similarities: ArrayLike,
    correct: ArrayLike,
    confidence: ArrayLike | None = None,
    groups: Sequence[object | None] | None = None,
    *,
    precision_target: float = 0.99,
    miss_target: float = 0.01,
    confidence_level: float = 0.95,
    criterion: Criterion = "accuracy",
    band_fraction: float = 0.5,
    candidates: Sequence[str] = ("logistic", "isotonic", "beta"),
    seed: int = 0,
    evidence: Mapping[str, ArrayLike] | None = None,
    split: tuple[ArrayLike, ArrayLike] | None = None,
) -> MatchCalibration:
    """Fit on similarities [Q, k] (k >= 2, best first), top-1 right/wrong [Q] (open-set
    queries: wrong), embedding confidence [Q] or None, groups [Q] (expected ids; None for
    open-set queries) for the fit/band split, and optional evidence {name: [Q, k]} (see
    `confidence.evidence`). Which evidence the calibrator reads (none, all, or one) is chosen
    by cross-validated log loss on the fit part. `split`: (fit indices, band indices) to use
    instead of the seeded split by groups, e.g. to certify the bands on a random sample only.
    See the module text for the protocol."""
    y = as_labels(correct, "correct")
    sims = np.asarray(similarities)
    if sims.ndim != 2 or sims.shape[1] < 2:
        raise InputError(f"similarities: need [Q, k] with k >= 2 candidates, got {sims.shape}")
    same_length(sims, y, "similarities", "correct")
    enough_to_split(y, "queries")
    lone = float(np.median(sims[:, 0] - sims[:, 1]))
    if split is None:
        fit_idx, band_idx = fit_band_split(len(y), groups, band_fraction, seed)
    else:
        fit_idx, band_idx = (np.asarray(part, dtype=np.int64) for part in split)

    def features(names: tuple[str, ...]) -> np.ndarray:
        return top1_features(sims, confidence, lone,
                             {n: evidence[n] for n in names} if evidence and names else None)

    try:
        chosen, evidence_losses = _choose_evidence(features, tuple(evidence or ()), y, fit_idx,
                                                   seed)
        x = features(chosen)
        cal, losses = select_calibrator(x[fit_idx], y[fit_idx], candidates, seed=seed)
    except InputError as exc:
        raise InputError(f"calibration part ({len(fit_idx)} of {len(y)} queries): {exc}") from None
    p, yb = cal.predict_proba(x[band_idx]), y[band_idx]
    try:
        bands = fit_bands(p, yb, precision_target, miss_target, confidence_level)
        threshold = choose_threshold(p, yb, criterion)
    except InputError as exc:
        raise InputError(f"band part ({len(band_idx)} of {len(y)} queries): {exc}") from None
    report = {
        "n_queries": len(y), "n_fit": len(fit_idx), "n_band": len(band_idx),
        "top1_accuracy": float(y.mean()),
        "features": list((FEATURES if confidence is not None else FEATURES[:2]) + chosen),
        "calibrator": cal.kind, "cv_log_loss": losses, "evidence_cv_log_loss": evidence_losses,
        "threshold": threshold.to_dict(),
        "held_out": {"ece": ece(p, yb), "ece_equal_mass": ece(p, yb, strategy="quantile"),
                     "brier": brier(p, yb), "aurc": aurc(p, yb)},
    }
    return MatchCalibration(cal, bands, threshold.threshold, confidence is not None, lone,
                            report, chosen)


def _choose_evidence(features: Callable[[tuple[str, ...]], np.ndarray], names: tuple[str, ...],
                     y: np.ndarray, fit_idx: np.ndarray, seed: int,
                     ) -> tuple[tuple[str, ...], dict[str, float]]:
    """The evidence set (none, all, or a single one) with the lowest cross-validated log
    loss of a logistic calibrator on the fit part, and every set's loss."""
    ordered = tuple(n for n in EVIDENCE if n in names)
    if unknown := sorted(set(names) - set(ordered)):
        raise InputError(f"unknown evidence {unknown}; known: {', '.join(EVIDENCE)}")
    options = list(dict.fromkeys([(), ordered, *((n,) for n in ordered)]))
    losses = {}
    for option in options:
        _, loss = select_calibrator(features(option)[fit_idx], y[fit_idx], ("logistic",),
                                    seed=seed)
        losses[option] = loss["logistic"]
    best = min(options, key=lambda o: losses[o])
    return best, {"+".join(o) or "none": v for o, v in losses.items()}
