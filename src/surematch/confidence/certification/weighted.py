"""Recertify the accept cut-off for a shifted population without its labels: importance
weights from a two-sample classifier, carried into the Learn-then-Test bound with their
effective sample size.

The calibration queries (labelled) are reweighted to look like unlabelled live queries: a
logistic classifier tells the two apart on the shift monitor's features, and its odds
P(live | x) / P(calibration | x), times n_calibration / n_live, estimate the density ratio
w(x) (clipped at `CLIP` times the mean, so a few calibration queries cannot carry the
whole population). A cut-off's error rate on the live population is estimated by the
weighted error rate of the calibration queries above it, and bounded by Clopper-Pearson with
Kish's effective sample size n_eff = (sum w)^2 / sum w^2 as the number of trials; cut-offs
on a grid of 12 accepted counts are tested at delta / 12 each (Bonferroni). The guarantee is
only approximate: the weights are estimated, and where live queries lie outside the
calibration queries' support no weight can describe them (`benchmarks/shift.py` measures
whether it keeps its promise).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

CLIP = 50.0
GRID = 12


def importance_weights(x_calibration: np.ndarray, x_live: np.ndarray) -> np.ndarray:
    """Weights [N] of the calibration rows [N, F] that make them look like the live rows
    [M, F] (mean about 1)."""
    from surematch.confidence.calibrators.logistic import fit_logit

    x = np.vstack([x_calibration, x_live])
    z = np.r_[np.zeros(len(x_calibration)), np.ones(len(x_live))]
    coef, intercept = fit_logit(x, z)
    odds = np.exp(np.clip(x_calibration @ coef + intercept, -30.0, 30.0))
    w = odds * len(x_calibration) / len(x_live)
    return np.minimum(w, CLIP * w.mean())


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of these weights."""
    return float(weights.sum() ** 2 / (weights ** 2).sum()) if len(weights) else 0.0


def certify_accept_weighted(scores: np.ndarray, outcomes: np.ndarray, weights: np.ndarray,
                            alpha: float, delta: float) -> float | None:
    """The lowest cut-off t on the grid whose weighted error rate among scores >= t passes
    the Clopper-Pearson bound (errors = rate x n_eff in n_eff trials) at alpha, each tested
    at delta / GRID; None when none does."""
    order = np.argsort(-scores, kind="mergesort")
    w, wrong = weights[order], 1.0 - outcomes[order]
    sizes = np.unique(np.round(np.geomspace(min(30, len(order)), len(order), GRID)).astype(int))
    level = delta / len(sizes)
    best = None
    for m in sizes:
        n_eff = effective_size(w[:m])
        k = float((w[:m] * wrong[:m]).sum() / w[:m].sum()) * n_eff
        upper = 1.0 if k >= n_eff else float(beta.ppf(1.0 - level, k + 1.0, n_eff - k))
        if upper <= alpha:
            best = float(scores[order][m - 1])
    return best
