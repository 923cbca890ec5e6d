"""Choose a calibrator by cross-validated log loss on ground-truth labels."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import StratifiedKFold

from surematch.confidence.calibrators.base import Calibrator
from surematch.confidence.calibrators.registry import CALIBRATORS, make_calibrator
from surematch.confidence.checks import MIN_PER_CLASS, enough_data, scores_and_labels
from surematch.confidence.metrics.calibration_metrics import log_loss
from surematch.errors import InputError

logger = logging.getLogger(__name__)


def select_calibrator(
    scores: ArrayLike,
    labels: ArrayLike,
    candidates: Sequence[str] = ("logistic", "isotonic", "beta"),
    folds: int = 5,
    seed: int = 0,
) -> tuple[Calibrator, dict[str, float]]:
    """Fit each candidate on k-1 folds, score its out-of-fold probabilities by log loss, refit
    the best on all data. Returns (fitted best calibrator, {name: cv log loss}).

    scores: [N] or [N, F] ("higher is closer"); candidates that take one score only are left
    out (and logged) when F > 1. Folds are stratified and shuffled with `seed`; ties go to the
    earlier candidate. Needs at least `folds` (and 5) examples of each class.
    """
    if isinstance(candidates, str):
        candidates = (candidates,)
    if folds < 2:
        raise InputError(f"folds: need at least 2, got {folds}")
    for name in candidates:
        make_calibrator(name)  # unknown names fail here, before any work
    x, y = scores_and_labels(scores, labels, ndim=(1, 2))
    enough_data(y, min_per_class=max(MIN_PER_CLASS, folds))
    n_features = 1 if x.ndim == 1 else x.shape[1]
    usable = [c for c in candidates if n_features == 1 or CALIBRATORS[c].multi_feature]
    if skipped := [c for c in candidates if c not in usable]:
        logger.debug("%s take one score only; skipped for %d features", skipped, n_features)
    if not usable:
        raise InputError(f"scores: none of {list(candidates)} takes {n_features} features; "
                         "include 'logistic'")
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y))
    losses: dict[str, float] = {}
    for name in usable:
        out_of_fold = np.empty(len(y))
        for train, test in splits:
            cal = make_calibrator(name)._fit_checked(x[train], y[train], check_enough=False)
            out_of_fold[test] = cal.predict_proba(x[test])
        losses[name] = log_loss(out_of_fold, y)
    best = min(usable, key=lambda c: losses[c])
    logger.debug("calibrator cv log loss %s: chose %s", losses, best)
    return make_calibrator(best).fit(x, y), losses
