"""Triage bands (auto-accept / review / reject) on calibrated probabilities, with guarantees."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.bounds import cp_upper
from surematch.confidence.certify import (
    Cut,
    Procedure,
    certify_accept,
    certify_reject,
    check_procedure,
    misses_below,
)
from surematch.confidence.checks import as_finite, as_labels, as_probs, same_length
from surematch.confidence.targets import DEFAULT_TARGETS, Targets
from surematch.errors import ModelFormatError

Band = Literal["accept", "review", "reject"]
OPTIONAL = frozenset({"procedure", "n_certify", "min_probability"})
"""Fields of `TriageBands` that files written before they existed lack."""


def reject_ceiling(min_probability: float | None) -> float:
    """Probability from which no match is auto-rejected: half the per-match floor, so the
    review band always holds [floor / 2, floor) (1.0, no ceiling, without a floor: None or
    0, the bands as before the floor)."""
    return min_probability / 2.0 if min_probability else 1.0


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
    examples the cut-offs were certified on (`n_certify` of them; None in files written before
    it was recorded); `message` says in words what could not be certified. `procedure` names
    how the accept cut-off was tested (see `certify`; files without it used "label_free").

    `min_probability` is the per-match floor: a match is auto-accepted only when its own
    probability is at least the floor, and auto-rejected only below half of it
    (`reject_ceiling`). Bands are certified on the accept band as it is applied
    (`accept_at` >= the floor), so the set precision and the floor hold together, and the
    review band always holds [floor / 2, floor). A floor set later (`with_floor`) only
    narrows the auto bands. None (files written before the floor existed): no floor.
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
    procedure: str = "label_free"
    n_certify: int | None = None
    min_probability: float | None = None

    def band(self, probs: ArrayLike) -> Band | np.ndarray:
        """"accept" / "review" / "reject" for one probability, or an array of them for [N]."""
        p = as_finite(probs, "probabilities", ndim=(0, 1))
        out = np.full(p.shape, "review", dtype="<U6")
        floor = self.min_probability
        if self.reject_below is not None:
            out[(p < self.reject_below) & (p < reject_ceiling(floor))] = "reject"
        if self.accept_at is not None:
            out[(p >= self.accept_at) & (p >= (0.0 if floor is None else floor))] = "accept"
        return str(out) if out.ndim == 0 else out  # type: ignore[return-value]

    def with_floor(self, min_probability: float | None) -> TriageBands:
        """These bands with another per-match floor (None: keep this one). A floor above the
        certified accept cut-off accepts only the matches above it (a subset of the certified
        set); one below it accepts nothing more, and rejects only matches below it."""
        if min_probability is None:
            return self
        replace(self.targets, min_probability=min_probability)  # checks it
        return replace(self, min_probability=float(min_probability))

    @property
    def targets(self) -> Targets:
        """The targets these bands were certified for (an older file's missing floor: 0)."""
        return Targets(self.precision_target, self.miss_target, self.confidence,
                       self.min_probability or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TriageBands:
        """Rebuild from `to_dict()` output; missing or unknown fields are a format error
        (except those added later, `OPTIONAL`, which older files lack)."""
        names = {f.name for f in fields(cls)}
        if not isinstance(d, dict) or not names - OPTIONAL <= set(d) <= names:
            got = set(d) if isinstance(d, dict) else set()
            raise ModelFormatError(
                f"triage bands: missing fields {sorted(names - got)}, unknown {sorted(got - names)}"
            )
        return cls(**d)






def _accept_on_probs(cut: Cut, s_all: np.ndarray, p_all: np.ndarray) -> tuple[int, float] | None:
    """(index into cut.passed, probability cut-off λ) of the most permissive certified cut-off t
    whose set {s >= t} is exactly {p >= λ} on the scores s_all [M] and probabilities p_all [M]
    of all calibration examples; None if none is."""
    for i in range(len(cut.passed) - 1, -1, -1):
        inside = s_all >= cut.passed[i]
        lam = float(p_all[inside].min())
        if not (~inside).any() or float(p_all[~inside].max()) < lam:
            return i, lam
    return None


def _reject_on_probs(cut: Cut, s_all: np.ndarray, p_all: np.ndarray) -> tuple[int, float] | None:
    """As `_accept_on_probs` for the reject side: {s < μ} exactly {p < r}."""
    for i in range(len(cut.passed) - 1, -1, -1):
        below = s_all < cut.passed[i]
        rho = float(p_all[~below].min())
        if not below.any() or float(p_all[below].max()) < rho:
            return i, rho
    return None


def certify_bands(
    scores: np.ndarray,
    correct: np.ndarray,
    probs: np.ndarray,
    all_scores: np.ndarray,
    all_probs: np.ndarray,
    targets: Targets = DEFAULT_TARGETS,
    *,
    procedure: Procedure = "guided",
    guide: tuple[np.ndarray, np.ndarray] | None = None,
) -> TriageBands:
    """Triage bands certified on a ranking score, expressed as cut-offs on probabilities.

    scores [N], correct [N] (1 = right), probs [N]: the certifying examples, their score and
    the probability the saved calibrator gives them; all_scores [M] / all_probs [M]: the same
    for every calibration example (certifying ones included). The probability must be a
    non-decreasing function of the score; the candidate sets {score >= t} must not depend on
    the certifying labels. The cut-offs are tested on the score (`certify`, each side at
    delta = (1 - confidence) / 2), and of the certified ones the most permissive whose set is
    exactly a set {p >= λ} (or {p < r}) on all calibration examples is kept, so `band()` on
    the saved calibrator's probabilities gives exactly the certified set. `guide` =
    (scores [K], outcomes [K]) of independent examples is needed by the "guided" procedure.

    `targets` (validated when made): precision among auto-accepted, share of right matches
    auto-rejected, confidence, and `min_probability`, the per-match floor, which is part of
    the band certified: only cut-offs whose
    set lies at or above it are tested (the candidates are still fixed before any label is
    read), so the certified precision is that of the band as applied. Rejection stops at
    half the floor and at the accept cut-off (fewer rejections keep the miss guarantee).
    """
    check_procedure(procedure)
    precision_target, miss_target = targets.precision, targets.max_miss
    confidence, min_probability = targets.confidence, targets.min_probability
    s, y, p = scores, correct, probs
    delta, n_right = (1.0 - confidence) / 2.0, int(y.sum())
    floored = p >= min_probability  # the accept band as applied: never below the floor
    acc = certify_accept(s[floored], y[floored], 1.0 - precision_target, delta, procedure,
                         guide) if floored.any() else None
    rej = certify_reject(s, y, miss_target, delta)
    a = _accept_on_probs(acc, all_scores, all_probs) if acc and acc.passed else None
    r = _reject_on_probs(rej, all_scores, all_probs) if rej.passed else None
    accept_at = None if a is None or acc is None else max(a[1], min_probability)
    precision_bound = None if a is None or acc is None else 1.0 - acc.bounds[a[0]]
    reject_below = None if r is None else r[1]
    miss_bound = None if r is None else rej.bounds[r[0]]
    ceiling = reject_ceiling(min_probability)
    if accept_at is not None:
        ceiling = min(ceiling, accept_at)
    if reject_below is not None and reject_below > ceiling:
        reject_below = ceiling  # fewer rejections: the miss guarantee still holds
        miss_bound = float(cp_upper(misses_below(p, y, reject_below), n_right, delta))
    accepted = p >= accept_at if accept_at is not None else np.zeros(len(p), dtype=bool)
    rejected = p < reject_below if reject_below is not None else np.zeros(len(p), dtype=bool)
    pct = f"{confidence * 100:g} %"
    notes = []
    if acc is None:
        notes.append(f"no calibration match has a probability of at least the per-match "
                     f"floor {min_probability:g} — nothing is auto-accepted")
    elif accept_at is None:
        notes.append(_accept_note(acc, a is None and bool(acc.passed), n_right, len(y),
                                  precision_target, delta, pct, procedure))
    if reject_below is None:
        notes.append(f"with {n_right} right matches, no reject cut-off can be shown to reject at "
                     f"most {miss_target:g} of them at {pct} confidence; that needs at least "
                     f"{rej.n_needed} right matches — nothing is auto-rejected")
    return TriageBands(
        accept_at=accept_at, reject_below=reject_below, precision_target=precision_target,
        miss_target=miss_target, confidence=confidence,
        precision_bound=precision_bound, miss_bound=miss_bound,
        n_accept=int(accepted.sum()), n_review=int(len(p) - accepted.sum() - rejected.sum()),
        n_reject=int(rejected.sum()),
        empirical_precision=float(y[accepted].mean()) if accepted.any() else None,
        empirical_miss_rate=float(np.sum(rejected & (y == 1)) / n_right) if n_right else None,
        accept_coverage=float(accepted.mean()), reject_coverage=float(rejected.mean()),
        feasible=not notes, message="; ".join(notes) or "all targets certified",
        procedure=procedure, n_certify=len(y), min_probability=float(min_probability),
    )


def _accept_note(acc: Cut, unseparated: bool, n_right: int, n: int, target: float,
                 delta: float, pct: str, procedure: str) -> str:
    """Why nothing is auto-accepted, in terms of the test that was actually run."""
    empty = " — nothing is auto-accepted"
    if unseparated:
        return ("the certified accept cut-offs do not fall between distinct calibrated "
                "probabilities" + empty)
    if acc.first_at is None or acc.first_bound is None:
        return (f"with {n_right} calibration matches (of {n} certifying queries), no accept "
                f"cut-off can be certified at {pct} confidence; the {target:g} target needs at "
                f"least {acc.n_needed} accepted matches with no error" + empty)
    level = "" if acc.first_delta >= delta else \
        f" (each of its tests at the stricter delta {acc.first_delta:.2g})"
    where = (f"where precision ≥ {1.0 - acc.first_bound:.3f} is all that can be shown at {pct} "
             f"confidence{level}")
    if procedure == "grid":
        tested = (f"of the grid of accept cut-offs tested, the best covered the "
                  f"{acc.first_n} most confident ({acc.first_events} wrong), {where}, below "
                  f"the {target:g} target")
    else:
        tested = (f"the test of auto-accept started at the {acc.first_n} most confident "
                  f"({acc.first_events} wrong), {where}: the {target:g} target failed there, "
                  "and the test stops at its first failure")
    return (f"with {n_right} calibration matches (of {n} certifying queries), {tested}; the "
            f"target needs at least {acc.n_needed} accepted matches with no error" + empty)


def fit_bands(
    probs: ArrayLike,
    correct: ArrayLike,
    targets: Targets = DEFAULT_TARGETS,
    *,
    procedure: Procedure = "label_free",
    guide: tuple[ArrayLike, ArrayLike] | None = None,
) -> TriageBands:
    """Choose cut-offs on held-out calibrated probabilities [N] with outcomes [N] (1 = right).

    Certified (see `certify`) for `targets`: precision among auto-accepted >= `precision`,
    and at most `max_miss` of right matches auto-rejected, jointly with probability >=
    `confidence`, no match under `min_probability` accepted
    (each side is tested at delta = (1 - confidence) / 2). A side the data cannot support is
    left empty (its cut-off None), `feasible` is False and `message` says what is missing.
    Use data the calibrator was not fitted on. "guided" (the default when `guide` is given)
    starts the accept test where `guide` = (probabilities [K], outcomes [K]) of other
    held-out data says it will pass; without it the start is read from the probabilities.
    """
    if guide is not None and procedure == "label_free":
        procedure = "guided"
    check_procedure(procedure)
    p, y = as_probs(probs), as_labels(correct, "correct")
    same_length(p, y, "probabilities", "correct")
    g = None
    if guide is not None:
        g = (as_probs(guide[0]), as_labels(guide[1], "guide outcomes"))
        same_length(g[0], g[1], "guide probabilities", "guide outcomes")
    return certify_bands(p, y, p, p, p, targets, procedure=procedure, guide=g)
