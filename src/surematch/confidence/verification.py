"""Pair-verification calibration: probability that a and b match, from a similarity or a distance.

Works on our model's cosine similarities and on bring-your-own scores (e.g. DeepFace
distances): `distance` names the measure in `surematch.distances`, and `closeness` turns its
values into "higher is closer" before calibrating. The score needs no fitted direction, so
the calibrator (selected by cross-validated log loss against the ground-truth labels) is
fitted on ALL pairs, as is the threshold. The pairs are split at random into a guide part
(a quarter by default) and a certifying part: the bands are certified on the certifying
part's scores, the test starting where the guide's labels say it will pass (issue #13, see
`retrieval` and `bands.certify_bands`). The sets {score >= t} do not depend on any label, so
the guarantee holds for the saved calibrator; a cut-off is kept only where it falls between
distinct probabilities. `report["held_out"]` measures a calibrator of the same kind fitted
on the guide part, on the certifying part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.bands import TriageBands, certify_bands
from surematch.confidence.calibration import Calibrator
from surematch.confidence.certify import Procedure, check_procedure
from surematch.confidence.checks import as_finite, as_labels, same_length
from surematch.confidence.metrics import auroc, brier, ece
from surematch.confidence.registry import calibrator_from_dict, make_calibrator
from surematch.confidence.selection import select_calibrator
from surematch.confidence.split import enough_to_split, fit_band_split
from surematch.confidence.targets import DEFAULT_TARGETS, Targets
from surematch.confidence.thresholds import Criterion, choose_threshold
from surematch.distances import DISTANCES, Distance, get_distance
from surematch.errors import InputError, ModelFormatError


def distance_named(name: str) -> Distance:
    """`get_distance(name)`, with an unknown name reported as bad input."""
    if name not in DISTANCES:
        raise InputError(f"unknown distance {name!r}; choose one of {sorted(DISTANCES)}")
    return get_distance(name)


@dataclass(frozen=True)
class PairCalibration:
    """Calibrated verification: values of `distance` -> probability, threshold, band.

    `threshold` is in the measure's own units (a distance for cosine, euclidean, ...; a
    similarity for dot): a pair is verified when distance <= threshold (similarity >=
    threshold for dot), as in DeepFace.
    """

    distance: str
    calibrator: Calibrator
    bands: TriageBands
    threshold: float
    report: dict[str, Any] = field(default_factory=dict)

    def probability(self, values: ArrayLike) -> np.ndarray:
        """Match probability [N] for values [N] of `distance`."""
        score = distance_named(self.distance).closeness(as_finite(values, "values"))
        return self.calibrator.predict_proba(score)

    def verified(self, values: ArrayLike) -> np.ndarray:
        """bool [N]: the pair is declared a match by the threshold."""
        score = distance_named(self.distance).closeness(as_finite(values, "values"))
        return score >= distance_named(self.distance).closeness(np.asarray(self.threshold))

    def to_dict(self) -> dict[str, Any]:
        return {"distance": self.distance, "calibrator": self.calibrator.to_dict(),
                "bands": self.bands.to_dict(), "threshold": self.threshold,
                "report": self.report}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PairCalibration:
        try:
            return cls(str(d["distance"]), calibrator_from_dict(d["calibrator"]),
                       TriageBands.from_dict(d["bands"]), float(d["threshold"]),
                       dict(d.get("report") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"pair calibration: damaged or missing field {exc}") from None


def fit_pair_calibration(
    values: ArrayLike, labels: ArrayLike, distance: str = "cosine", *,
    criterion: Criterion = "accuracy", target_fmr: float | None = None,
    targets: Targets = DEFAULT_TARGETS, band_fraction: float = 0.75,
    procedure: Procedure = "guided", seed: int = 0,
) -> PairCalibration:
    """Fit on values [N] of `distance` (e.g. cosine distances) and labels [N] (1 = same);
    `band_fraction` of the pairs certify the bands, the rest guide the test (`procedure`);
    `targets`: what the bands certify, the per-match floor included (`bands`)."""
    check_procedure(procedure)
    measure = distance_named(distance)
    x, y = as_finite(values, "values"), as_labels(labels)
    same_length(x, y, "values", "labels")
    enough_to_split(y, "pairs")
    score = measure.closeness(x)
    fit_idx, band_idx = fit_band_split(len(y), None, band_fraction, seed)
    try:
        cal, losses = select_calibrator(score, y, seed=seed)
        guide_cal = make_calibrator(cal.kind).fit(score[fit_idx], y[fit_idx])
    except InputError as exc:
        raise InputError(f"calibration part ({len(fit_idx)} of {len(y)} pairs): {exc}") from None
    p, yb = cal.predict_proba(score), y[band_idx]
    pb = guide_cal.predict_proba(score[band_idx])
    # label-free starts read probabilities: the guide part's calibrator's (a map of the score)
    cert = score if procedure in ("guided", "grid") else guide_cal.predict_proba(score)
    try:
        thr = choose_threshold(score, y, criterion, target_fmr)
        bands = certify_bands(cert[band_idx], yb, p[band_idx], cert, p, targets,
                              procedure=procedure, guide=(cert[fit_idx], y[fit_idx]))
        roc = auroc(score[band_idx], yb)
    except InputError as exc:
        raise InputError(f"band part ({len(band_idx)} of {len(y)} pairs): {exc}") from None
    threshold = float(measure.closeness(np.asarray(thr.threshold)))  # the measure's units
    report = {"n_pairs": len(y), "n_fit": len(fit_idx), "n_band": len(band_idx),
              "calibrator": cal.kind, "cv_log_loss": losses, "threshold": thr.to_dict(),
              "procedure": procedure,
              "held_out": {"ece": ece(pb, yb), "brier": brier(pb, yb), "auroc": roc}}
    return PairCalibration(distance, cal, bands, threshold, report)
