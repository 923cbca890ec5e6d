"""Triage bands (auto-accept / review / reject) on calibrated probabilities, with guarantees."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.bounds import cp_upper
from surematch.confidence.certify import certify_accept, certify_reject, misses_below
from surematch.confidence.checks import as_finite, as_labels, as_probs, same_length
from surematch.errors import InputError, ModelFormatError

Band = Literal["accept", "review", "reject"]


@dataclass(frozen=True)
class TriageBands:
    """Cut-offs on calibrated match probabilities, with what was certified when they were fitted.

    `p >= accept_at` → "accept", `p < reject_below` → "reject", anything else → "review";
    a cut-off of None means that band is empty. What is promised (see `fit_bands`), jointly
    with probability >= `confidence` over the draw of the calibration data, for new data from
    the same distribution: precision among auto-accepted >= `precision_target`, and at most
    `miss_target` of right matches auto-rejected. `precision_bound` / `miss_bound` are the
    one-sided Clopper-Pearson bounds reached at the chosen cut-offs (at least as good as the
    targets: the headroom). The n_*, empirical_* and *_coverage fields describe the
    calibration data itself; `message` says in words what could not be certified.
    """

    accept_at: float | None
    reject_below: float | None
    precision_target: float
    miss_target: float
    confidence: float
    precision_bound: float | None
    miss_bound: float | None
    n_accept: int
    n_review: int
    n_reject: int
    empirical_precision: float | None
    empirical_miss_rate: float | None
    accept_coverage: float
    reject_coverage: float
    feasible: bool
    message: str

    def band(self, probs: ArrayLike) -> Band | np.ndarray:
        """"accept" / "review" / "reject" for one probability, or an array of them for [N]."""
        p = as_finite(probs, "probabilities", ndim=(0, 1))
        out = np.full(p.shape, "review", dtype="<U6")
        if self.reject_below is not None:
            out[p < self.reject_below] = "reject"
        if self.accept_at is not None:
            out[p >= self.accept_at] = "accept"
        return str(out) if out.ndim == 0 else out  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TriageBands:
        """Rebuild from `to_dict()` output; missing or unknown fields are a format error."""
        names = {f.name for f in fields(cls)}
        if not isinstance(d, dict) or set(d) != names:
            got = set(d) if isinstance(d, dict) else set()
            raise ModelFormatError(
                f"triage bands: missing fields {sorted(names - got)}, unknown {sorted(got - names)}"
            )
        return cls(**d)


def fit_bands(
    probs: ArrayLike,
    correct: ArrayLike,
    precision_target: float = 0.99,
    miss_target: float = 0.01,
    confidence: float = 0.95,
) -> TriageBands:
    """Choose cut-offs on held-out calibrated probabilities [N] with outcomes [N] (1 = right).

    Certified (see `certify`): precision among auto-accepted >= `precision_target`, and at most
    `miss_target` of right matches auto-rejected, jointly with probability >= `confidence`
    (each side is tested at delta = (1 - confidence) / 2). A side the data cannot support is
    left empty (its cut-off None), `feasible` is False and `message` says what is missing.
    Use data the calibrator was not fitted on.
    """
    for name, value in (("precision_target", precision_target), ("miss_target", miss_target),
                        ("confidence", confidence)):
        if not 0.0 < value < 1.0:
            raise InputError(f"{name}: must lie strictly between 0 and 1, got {value}")
    p, y = as_probs(probs), as_labels(correct, "correct")
    same_length(p, y, "probabilities", "correct")
    delta, n_right = (1.0 - confidence) / 2.0, int(y.sum())
    acc = certify_accept(p, y, 1.0 - precision_target, delta)
    rej = certify_reject(p, y, miss_target, delta)
    reject_below, miss_bound = rej.at, rej.bound
    if reject_below is not None and acc.at is not None and reject_below > acc.at:
        reject_below = acc.at  # fewer rejections: the miss guarantee still holds
        miss_bound = float(cp_upper(misses_below(p, y, reject_below), n_right, delta))
    accepted = p >= acc.at if acc.at is not None else np.zeros(len(p), dtype=bool)
    rejected = p < reject_below if reject_below is not None else np.zeros(len(p), dtype=bool)
    pct = f"{confidence * 100:g} %"
    notes = []
    if acc.at is None:
        notes.append(f"with {n_right} calibration matches, the best guarantee for auto-accept is "
                     f"precision ≥ {1.0 - (acc.best_bound or 1.0):.3f} at {pct} confidence; the "
                     f"{precision_target:g} target needs at least {acc.n_needed} accepted matches "
                     "with no error — nothing is auto-accepted")
    if reject_below is None:
        notes.append(f"with {n_right} right matches, no reject cut-off can be shown to reject at "
                     f"most {miss_target:g} of them at {pct} confidence; that needs at least "
                     f"{rej.n_needed} right matches — nothing is auto-rejected")
    return TriageBands(
        accept_at=acc.at, reject_below=reject_below, precision_target=precision_target,
        miss_target=miss_target, confidence=confidence,
        precision_bound=None if acc.bound is None else 1.0 - acc.bound, miss_bound=miss_bound,
        n_accept=int(accepted.sum()), n_review=int(len(p) - accepted.sum() - rejected.sum()),
        n_reject=int(rejected.sum()),
        empirical_precision=float(y[accepted].mean()) if accepted.any() else None,
        empirical_miss_rate=float(np.sum(rejected & (y == 1)) / n_right) if n_right else None,
        accept_coverage=float(accepted.mean()), reject_coverage=float(rejected.mean()),
        feasible=not notes, message="; ".join(notes) or "all targets certified",
    )
