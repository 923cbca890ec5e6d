"""Embedding confidence from a feature-group head: how peaked each group's distribution is.

Default: `measure="margin"`, `aggregate="mean"`. The margin (top minus second probability)
measures the ambiguity that matters for matching — being torn between two values of a feature —
and ignores how the remaining probability is spread over values no one would pick, which the
entropy counts. The mean lets one genuinely uncertain group (a feature the text simply does not
state) lower the confidence without erasing it; "min" (weakest group decides) and "geometric"
(any group at 0 gives 0) are the stricter choices for when every group must be sure.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import entr

from surematch.confidence.checks import as_finite
from surematch.errors import InputError

Measure = Literal["margin", "top", "entropy"]
Aggregate = Literal["mean", "min", "geometric"]
_SUM_TOL = 1e-3


def _checked(probs: ArrayLike) -> np.ndarray:
    p = as_finite(probs, "group probabilities", ndim=(3,))
    if p.shape[2] < 2:
        raise InputError(f"group probabilities: need at least 2 values per group, got {p.shape}")
    if p.min() < 0:
        raise InputError("group probabilities: negative values; pass softmax outputs")
    worst = float(np.abs(p.sum(axis=2) - 1.0).max())
    if worst > _SUM_TOL:
        raise InputError(f"group probabilities: each group must sum to 1 over its values "
                         f"(off by up to {worst:.3g}); pass softmax outputs, not logits")
    return p


def group_peakedness(probs: ArrayLike, measure: Measure = "margin") -> np.ndarray:
    """Peakedness [N, G] in [0, 1] of group probabilities `probs [N, G, K]`; 1 = one-hot,
    0 = uniform.

    - "margin": top1 - top2;
    - "top": (top1 - 1/K) / (1 - 1/K), the top probability rescaled so uniform gives 0;
    - "entropy": 1 - H / log K, with H the Shannon entropy in nats.
    """
    p = _checked(probs)
    k = p.shape[2]
    if measure == "margin":
        top2 = np.sort(p, axis=2)[:, :, -2:]
        out = top2[:, :, 1] - top2[:, :, 0]
    elif measure == "top":
        out = (p.max(axis=2) - 1.0 / k) / (1.0 - 1.0 / k)
    elif measure == "entropy":
        out = 1.0 - entr(p).sum(axis=2) / np.log(k)
    else:
        raise InputError(f"measure: unknown {measure!r}; choose 'margin', 'top' or 'entropy'")
    return np.clip(out, 0.0, 1.0)


def embedding_confidence(
    probs: ArrayLike, measure: Measure = "margin", aggregate: Aggregate = "mean"
) -> np.ndarray:
    """Confidence [N] in [0, 1] of `probs [N, G, K]`: group peakedness combined over groups
    by "mean", "min" or "geometric" mean (see the module text for the default)."""
    if aggregate not in ("mean", "min", "geometric"):
        raise InputError(f"aggregate: unknown {aggregate!r}; choose 'mean', 'min' or 'geometric'")
    g = group_peakedness(probs, measure)
    if aggregate == "mean":
        out = g.mean(axis=1)
    elif aggregate == "min":
        out = g.min(axis=1)
    else:
        with np.errstate(divide="ignore"):
            out = np.exp(np.log(g).mean(axis=1))
    return np.clip(out, 0.0, 1.0)
