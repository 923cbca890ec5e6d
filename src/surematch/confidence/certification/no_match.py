"""The no-match rule: reject a query whose top match lies below where right matches lie,
certified for at most a stated share of right matches lost.

The score of a candidate is a sum of features, each divided by its spread among right top
matches: r = sum_f x_f / sd_f, over `FEATURES` (the candidate's similarity, the character
overlap of the query with its matched text, the agreement of the reference's other texts,
and whether the query's head word is one the references' texts end on; see
`confidence.evidence`). It is one-class: the spreads are read off the right
matches of the guide part of the calibration queries only, so it needs no example of an
out-of-domain input and cannot overfit to some. The cut-off is certified on the right
matches of the certifying part (`certify.certify_reject`, fixed-sequence Clopper-Pearson from
the lowest cut-off): with probability >= 1 - delta, at most `miss_target` of right matches
score below it. Measured against a rule on the calibrated probability, on the raw
similarity, on embedding-space one-class signals and on a logistic fitted with the bundled
out-of-domain strings as negatives (BENCHMARKS.md, no_match).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.certification.certify import certify_reject
from surematch.errors import InputError, ModelFormatError

FEATURES = ("similarity", "overlap", "agreement", "head")
"""What the score reads, each [Q, k]: `similarity` (the candidate's), and the evidence
arrays `overlap`, `agreement` and `head` (`confidence.evidence`). A rule fitted before
`head` existed reads the first three: its features are saved with it."""
EVIDENCE_READ = FEATURES[1:]


@dataclass(frozen=True)
class NoMatchRule:
    """A certified cut-off on the no-match score: a candidate whose score r = sum_f x_f *
    weights_f lies below `reject_below` is rejected (no match), unless it is auto-accepted.

    Promised jointly with probability >= 1 - `delta` over the draw of the calibration data,
    for new queries drawn like the calibration queries: at most `miss_target` of right top
    matches are rejected (`miss_bound`: the Clopper-Pearson bound at the cut-off; `n_right`:
    the right matches it was certified on, `empirical_miss_rate` their share below it).
    `reject_below` None: nothing could be certified (`message` says why)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    reject_below: float | None
    miss_target: float
    delta: float
    miss_bound: float | None
    n_right: int
    empirical_miss_rate: float | None
    message: str

    @property
    def evidence(self) -> tuple[str, ...]:
        """The evidence arrays the score reads."""
        return tuple(f for f in self.features if f != "similarity")

    def score(self, similarities: ArrayLike, evidence: Mapping[str, ArrayLike] | None = None,
              ) -> np.ndarray:
        """Scores [Q, k] of candidates with similarities [Q, k] and evidence {name: [Q, k]}."""
        s = np.asarray(similarities, dtype=np.float64)
        out = np.zeros(s.shape)
        for name, w in zip(self.features, self.weights, strict=True):
            if name == "similarity":
                x = s
            else:
                if evidence is None or name not in evidence:
                    raise InputError(f"evidence: the no-match rule reads {name!r}; pass it "
                                     "(surematch.confidence.evidence.lexical)")
                x = np.asarray(evidence[name], dtype=np.float64)
                if x.shape != s.shape:
                    raise InputError(f"{name}: shape {x.shape} differs from the "
                                     f"similarities' {s.shape}")
            out += w * x
        return out

    def rejects(self, similarities: ArrayLike, evidence: Mapping[str, ArrayLike] | None = None,
                ) -> np.ndarray:
        """bool [Q, k]: candidates the rule rejects (all False when nothing is certified)."""
        s = np.asarray(similarities, dtype=np.float64)
        if self.reject_below is None:
            return np.zeros(s.shape, dtype=bool)
        return self.score(s, evidence) < self.reject_below

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"], d["weights"] = list(self.features), list(self.weights)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NoMatchRule:
        names = {f.name for f in fields(cls)}
        if not isinstance(d, dict) or set(d) != names:
            got = set(d) if isinstance(d, dict) else set()
            raise ModelFormatError(f"no-match rule: missing fields {sorted(names - got)}, "
                                   f"unknown {sorted(got - names)}")
        try:
            rule = cls(**{**d, "features": tuple(str(f) for f in d["features"]),
                          "weights": tuple(float(w) for w in d["weights"])})
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(f"no-match rule: damaged field ({exc})") from None
        if unknown := sorted(set(rule.features) - set(FEATURES)):
            raise ModelFormatError(f"no-match rule: unknown features {unknown}; known: "
                                   f"{', '.join(FEATURES)}")
        if len(rule.weights) != len(rule.features):
            raise ModelFormatError("no-match rule: one weight per feature")
        return rule


def top1_columns(similarities: np.ndarray, evidence: Mapping[str, ArrayLike] | None
                 ) -> dict[str, np.ndarray] | None:
    """Each feature of each query's top match [Q]: the similarity and the evidence given
    among `EVIDENCE_READ` (`head` may be missing: a ranking without the references' head
    words); None when evidence lacks `overlap` or `agreement`."""
    if evidence is None or any(n not in evidence for n in ("overlap", "agreement")):
        return None
    cols = {"similarity": np.asarray(similarities, dtype=np.float64)[:, 0]}
    for name in EVIDENCE_READ:
        if name in evidence:
            cols[name] = np.asarray(evidence[name], dtype=np.float64)[:, 0]
    return cols


def fit_no_match(columns: Mapping[str, np.ndarray], correct: np.ndarray, fit_idx: np.ndarray,
                 band_idx: np.ndarray, miss_target: float, delta: float) -> NoMatchRule:
    """The rule on top-match features `columns` {name: [N]} of calibration queries with
    outcomes `correct` [N] (1 = right top match): weights 1 / spread of each feature among
    the right matches of the guide part `fit_idx`, the cut-off certified on the right matches
    of `band_idx` (at most `miss_target` below it, at level `delta`). It reads the
    `FEATURES` that `columns` holds (the similarity always)."""
    y = np.asarray(correct).astype(np.int64)
    right = fit_idx[y[fit_idx] == 1]
    features = tuple(f for f in FEATURES if f in columns)
    weights = []
    for name in features:
        sd = float(np.std(columns[name][right])) if len(right) > 1 else 0.0
        weights.append(1.0 / sd if sd > 1e-9 else 0.0)  # a constant says nothing
    if not any(weights):
        weights = [1.0] + [0.0] * (len(features) - 1)
    rule = NoMatchRule(features, tuple(weights), None, float(miss_target), float(delta), None,
                       int(y[band_idx].sum()), None, "")
    score = rule.score(np.asarray(columns["similarity"])[:, None],
                       {n: np.asarray(columns[n])[:, None] for n in rule.evidence})[:, 0]
    sb, yb = score[band_idx], y[band_idx]
    cut = certify_reject(sb, yb, miss_target, delta)
    if not cut.passed:
        return replace(rule, message=(
            f"with {rule.n_right} right matches, no no-match cut-off can be shown to reject at "
            f"most {miss_target:g} of them; that needs at least {cut.n_needed} right matches"))
    at = cut.passed[-1]
    n_right = max(rule.n_right, 1)
    return replace(rule, reject_below=float(at), miss_bound=float(cut.bounds[-1]),
                    empirical_miss_rate=float(np.sum((yb == 1) & (sb < at)) / n_right),
                    message="certified")
