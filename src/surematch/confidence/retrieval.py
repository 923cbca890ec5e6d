"""Retrieval-mode calibration: the probability that a ranked candidate is the right reference.

Fitted on labelled queries ranked against references, open-set queries included (no right
reference among them: their top match is wrong by definition). Features: see `match_features`.

Protocol (`fit_match_calibration`, issue #13), against ground truth (top-1 right or wrong),
never against the model's own decisions:

1. The queries are split by expected reference id (`split.fit_band_split`): a guide part A
   (a quarter by default) and a certifying part B.
2. On A, a logistic calibrator is selected by cross-validated log loss and fitted; its
   coefficients give the ranking direction w, so each query gets a score s = w · x.
3. The probability map is refitted on ALL queries as Platt scaling on s, strictly increasing
   (`LogisticCalibrator` with coefficients a w, a > 0): {p >= λ} is {s >= t}.
4. The triage cut-offs are certified on B's scores (`bands.certify_bands`; by default the
   "guided" procedure, whose test starts where A's labels say it will pass; see `certify`).
   The candidate sets {s >= t} do not depend on B's labels, so the finite-sample guarantee
   holds for exactly the calibrator that is saved, whose probabilities use every label.

The threshold is chosen on all queries with the saved calibrator (no guarantee attached);
`report["held_out"]` measures the part-A calibrator on B (honest, pessimistic: fitted on a
quarter of the data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.bands import TriageBands, certify_bands
from surematch.confidence.calibration import Calibrator
from surematch.confidence.certify import Procedure, check_procedure
from surematch.confidence.checks import as_labels, same_length
from surematch.confidence.evidence import EVIDENCE
from surematch.confidence.logistic import LogisticCalibrator, fit_logit
from surematch.confidence.match_features import (
    DEPTH,
    FEATURES,
    candidate_features,
    top1_features,
)
from surematch.confidence.metrics import aurc, brier, ece
from surematch.confidence.no_match import NoMatchRule, fit_no_match, top1_columns
from surematch.confidence.registry import calibrator_from_dict
from surematch.confidence.selection import select_calibrator
from surematch.confidence.split import enough_to_split, fit_band_split
from surematch.confidence.targets import DEFAULT_TARGETS, Targets
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
    no_match: NoMatchRule | None = None  # the certified no-match rule (None: files before it)

    @property
    def features(self) -> tuple[str, ...]:
        return (FEATURES if self.uses_confidence else FEATURES[:2]) + self.evidence

    @property
    def evidence_needed(self) -> tuple[str, ...]:
        """Every evidence array a match needs: the calibrator's and the no-match rule's."""
        extra = self.no_match.evidence if self.no_match is not None else ()
        return tuple(n for n in EVIDENCE if n in self.evidence or n in extra)

    @property
    def candidate_depth(self) -> int:
        """Candidates a match must be ranked among for its features (`DEPTH`): fewer would
        leave the top match without its runner-up."""
        return DEPTH

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
        """"accept" / "review" / "reject" for a probability or [N] of them, on the
        probability alone (see `bands`; `bands_of` adds the no-match rule)."""
        return self.bands.band(probs)

    def bands_of(self, probs: ArrayLike, similarities: ArrayLike,
                 evidence: Mapping[str, ArrayLike] | None = None) -> np.ndarray:
        """The band [Q, k] of each candidate, from its probability [Q, k] (`probabilities`),
        similarity [Q, k] and evidence {name: [Q, k]}: the bands on the probability, and
        "reject" (no match) where the no-match rule rejects a candidate not auto-accepted."""
        p = np.asarray(probs, dtype=np.float64)
        names = np.asarray(self.bands.band(p.reshape(-1))).reshape(p.shape)
        if self.no_match is not None:
            names[self.no_match.rejects(similarities, evidence) & (names != "accept")] = \
                "reject"
        return names

    def to_dict(self) -> dict[str, Any]:
        return {"calibrator": self.calibrator.to_dict(), "bands": self.bands.to_dict(),
                "threshold": self.threshold, "uses_confidence": self.uses_confidence,
                "lone_margin": self.lone_margin, "evidence": list(self.evidence),
                "no_match": None if self.no_match is None else self.no_match.to_dict(),
                "report": self.report}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatchCalibration:
        try:
            rule = d.get("no_match")
            return cls(calibrator_from_dict(d["calibrator"]), TriageBands.from_dict(d["bands"]),
                       float(d["threshold"]), bool(d["uses_confidence"]),
                       float(d["lone_margin"]), dict(d.get("report") or {}),
                       tuple(str(n) for n in d.get("evidence") or ()),
                       None if rule is None else NoMatchRule.from_dict(rule))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"match calibration: damaged or missing field {exc}") from None


GUIDE_FRACTION = 0.25
"""Share of the calibration groups in the guide part A (fits the direction, guides the test);
chosen with `benchmarks/certify_power.py`."""


def monotone_refit(x: np.ndarray, y: np.ndarray, direction: LogisticCalibrator
                   ) -> tuple[np.ndarray, LogisticCalibrator]:
    """Scores s = x @ w [N] along `direction`'s coefficients w, and the logistic calibrator
    sigmoid(a s + c) refitted on features x [N, F] and outcomes y [N] (Platt on s, a > 0);
    `direction` itself when the refit slope is not positive (s useless on all data)."""
    s = x @ direction.coef
    (a,), c = fit_logit(s[:, None], y)
    if not a > 0:
        return s, direction
    final = LogisticCalibrator()
    final.coef, final.intercept, final.n_features = a * direction.coef, float(c), x.shape[1]
    return s, final


def fit_match_calibration(
    similarities: ArrayLike,
    correct: ArrayLike,
    confidence: ArrayLike | None = None,
    groups: Sequence[object | None] | None = None,
    *,
    targets: Targets = DEFAULT_TARGETS,
    criterion: Criterion = "accuracy",
    band_fraction: float = 1.0 - GUIDE_FRACTION,
    candidates: Sequence[str] = ("logistic", "isotonic", "beta"),
    procedure: Procedure = "guided",
    seed: int = 0,
    evidence: Mapping[str, ArrayLike] | None = None,
    split: tuple[ArrayLike, ArrayLike] | None = None,
    no_match: bool = True,
) -> MatchCalibration:
    """Fit on similarities [Q, k] (k >= 2, best first), top-1 right/wrong [Q] (open-set
    queries: wrong), embedding confidence [Q] or None, groups [Q] (expected ids; None for
    open-set queries) for the guide/certify split (`band_fraction`: the certifying share),
    and optional evidence {name: [Q, k]} (see `confidence.evidence`). Which evidence the
    calibrator reads (none, all, or one) is chosen by cross-validated log loss on the guide
    part. `split`: (guide indices, certify indices) to use instead of the seeded split by
    groups, e.g. to certify the bands on a random sample only. See the module text for the
    protocol; `procedure` names the accept test (`certify`); `targets` what the bands certify,
    the per-match floor included (`bands.certify_bands`).

    `no_match` (with `overlap` and `agreement` evidence): the reject band is the certified
    no-match rule (`confidence.no_match`) instead of a cut-off on the probability; it spends
    the same `targets.max_miss`. Without that evidence, or when the rule cannot be certified,
    the reject band stays on the probability."""
    check_procedure(procedure)
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
        cal_a, losses = select_calibrator(x[fit_idx], y[fit_idx], candidates, seed=seed)
    except InputError as exc:
        raise InputError(f"calibration part ({len(fit_idx)} of {len(y)} queries): {exc}") from None
    if not isinstance(cal_a, LogisticCalibrator):
        raise InputError(f"calibrator {cal_a.kind!r}: retrieval mode needs 'logistic' (several "
                         "features)")
    s, cal = monotone_refit(x, y, cal_a)
    p = cal.predict_proba(x)
    # label-free starts read probabilities: those of the part-A calibrator, a map of s
    score = s if procedure in ("guided", "grid") else cal_a.predict_proba(x)
    yb, pb = y[band_idx], cal_a.predict_proba(x[band_idx])
    try:
        bands = certify_bands(score[band_idx], yb, p[band_idx], score, p, targets,
                              procedure=procedure, guide=(score[fit_idx], y[fit_idx]))
        threshold = choose_threshold(p, y, criterion)
    except InputError as exc:
        raise InputError(f"band part ({len(band_idx)} of {len(y)} queries): {exc}") from None
    rule = None
    columns = top1_columns(sims, evidence) if no_match else None
    if columns is not None:
        rule = fit_no_match(columns, y, fit_idx, band_idx, targets.max_miss,
                            (1.0 - targets.confidence) / 2.0)
        if rule.reject_below is None:
            rule = None  # not certified: the reject band stays on the probability
        else:
            bands = _with_rule(bands, rule, p[band_idx], yb, rule.rejects(
                sims[band_idx, :1], {n: np.asarray(evidence[n])[band_idx, :1]  # type: ignore[index]
                                     for n in rule.evidence})[:, 0])
    report = {
        "n_queries": len(y), "n_fit": len(fit_idx), "n_band": len(band_idx),
        "top1_accuracy": float(y.mean()),
        "features": list((FEATURES if confidence is not None else FEATURES[:2]) + chosen),
        "calibrator": cal.kind, "cv_log_loss": losses, "evidence_cv_log_loss": evidence_losses,
        "threshold": threshold.to_dict(), "procedure": procedure,
        "held_out": {"ece": ece(pb, yb), "ece_equal_mass": ece(pb, yb, strategy="quantile"),
                     "brier": brier(pb, yb), "aurc": aurc(pb, yb)},
    }
    return MatchCalibration(cal, bands, threshold.threshold, confidence is not None, lone,
                            report, chosen, rule)


def _with_rule(bands: TriageBands, rule: NoMatchRule, p: np.ndarray, y: np.ndarray,
               rejected: np.ndarray) -> TriageBands:
    """`bands` whose reject side is the no-match rule: no cut-off on the probability, the
    rule's bound, and the counts of the certifying examples p [N], y [N] with the rule's
    rejections [N] (never of an auto-accepted one)."""
    accepted = p >= bands.accept_at if bands.accept_at is not None else np.zeros(len(p), bool)
    rejected = rejected & ~accepted
    n_right = int(y.sum())
    return replace(bands, reject_below=None, miss_bound=rule.miss_bound,
                   n_reject=int(rejected.sum()),
                   n_review=int(len(p) - accepted.sum() - rejected.sum()),
                   empirical_miss_rate=float(np.sum(rejected & (y == 1)) / n_right)
                   if n_right else None,
                   reject_coverage=float(rejected.mean()))


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
