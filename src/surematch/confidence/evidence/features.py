"""Features of ranked candidates for match calibration: similarity, margin, query confidence.

For candidate j of a query with similarities s [k] (best first):

- `similarity`  s_j;
- `margin`      asinh(m / MARGIN_SCALE) of m = s_j minus the best *other* candidate's
  similarity: s_0 - s_1 for the top match (its lead over the runner-up, >= 0) and s_j - s_0
  for any other (<= 0, how far it trails). The asinh is linear near 0 and logarithmic beyond
  MARGIN_SCALE: on ESCO the raw margin's long tail made a logistic calibrator overconfident
  (held-out ECE 0.064 raw vs 0.025 transformed, benchmarks/calibration_esco.py);
- `confidence`  the query's embedding confidence (only when the model has feature groups);
- evidence      named [Q, k] arrays of `surematch.confidence.evidence.lexical` (agreement, exact,
  overlap), appended in the order of EVIDENCE, when the calibration was fitted with them.

So the features of j = 0 are exactly those of the top-1 model, and a candidate that trails
the best one gets a negative margin. With one candidate only there is no other to compare
with; its margin m is then `lone_margin` (the calibration data's median top-1 margin).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.checks import as_finite
from surematch.confidence.evidence.lexical import EVIDENCE
from surematch.errors import InputError

FEATURES = ("similarity", "margin", "confidence")
DEPTH = 2
"""Candidates the features of any candidate read: its own, the best and the runner-up."""
MARGIN_SCALE = 0.01


def candidate_features(
    similarities: ArrayLike,
    confidence: ArrayLike | None = None,
    lone_margin: float = 0.0,
    evidence: Mapping[str, ArrayLike] | None = None,
) -> np.ndarray:
    """Features [Q, k, F] of similarities [Q, k] (each row best first), confidence [Q] and
    evidence {name: [Q, k]}.

    F = 2 (similarity, margin), + 1 with confidence, + one per evidence array.
    """
    s = as_finite(similarities, "similarities", ndim=(2,))
    if np.any(np.diff(s, axis=1) > 1e-6):
        raise InputError("similarities: each row must be sorted best first (non-increasing)")
    q, k = s.shape
    if k >= 2:
        best_other = np.repeat(s[:, :1], k, axis=1)
        best_other[:, 0] = s[:, 1]
        margin = s - best_other
    else:
        margin = np.full((q, k), float(lone_margin))
    columns = [s, np.arcsinh(margin / MARGIN_SCALE)]
    if confidence is not None:
        c = as_finite(confidence, "confidence")
        if len(c) != q:
            raise InputError(
                f"similarities and confidence have different lengths ({q} vs {len(c)})")
        columns.append(np.repeat(c[:, None], k, axis=1))
    for name in sorted(evidence or {}, key=_evidence_order):
        e = as_finite(evidence[name], name, ndim=(2,))  # type: ignore[index]
        if e.shape != s.shape:
            raise InputError(f"{name}: shape {e.shape} differs from the similarities' {s.shape}")
        columns.append(e)
    return np.stack(columns, axis=2)


def _evidence_order(name: str) -> int:
    if name not in EVIDENCE:
        raise InputError(f"unknown evidence {name!r}; known: {', '.join(EVIDENCE)}")
    return EVIDENCE.index(name)


def top1_features(similarities: ArrayLike, confidence: ArrayLike | None = None,
                  lone_margin: float = 0.0, evidence: Mapping[str, ArrayLike] | None = None,
                  ) -> np.ndarray:
    """Features [Q, F] of each query's top match (candidate 0 of `candidate_features`)."""
    return candidate_features(similarities, confidence, lone_margin, evidence)[:, 0, :]
