"""Weighted recertification: calibration labels reweighted towards a shifted population keep
the precision promise on it where the unweighted cut-off breaks it."""

from __future__ import annotations

import numpy as np

from surematch.confidence.certification.weighted import (
    certify_accept_weighted,
    effective_size,
    importance_weights,
)


def population(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, ...]:
    """Feature x [n, 1] around `shift`, score s [n], outcome y [n]: at the same score, a
    match is less often right the larger x is."""
    x = rng.normal(shift, 1.0, (n, 1))
    s = rng.random(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(8 * s - 2 - 1.5 * x[:, 0])))).astype(float)
    return x, s, y


def live_precision(cut: float | None, s: np.ndarray, y: np.ndarray) -> float | None:
    return None if cut is None or not (s >= cut).any() else float(y[s >= cut].mean())


def test_weights_follow_the_shift_and_keep_the_promise_where_plain_breaks_it() -> None:
    kept, plain_broken = 0, 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        x_cal, s_cal, y_cal = population(rng, 3000, 0.0)
        x_live, s_live, y_live = population(rng, 20000, 1.0)
        w = importance_weights(x_cal, x_live[:1000])
        assert 0.5 < w.mean() < 2.0
        assert np.corrcoef(w, x_cal[:, 0])[0, 1] > 0.5  # live lies at larger x
        assert 30 < effective_size(w) < len(w)
        weighted = live_precision(certify_accept_weighted(s_cal, y_cal, w, 0.1, 0.05),
                                  s_live, y_live)
        plain = live_precision(certify_accept_weighted(s_cal, y_cal, np.ones(len(w)), 0.1,
                                                       0.05), s_live, y_live)
        kept += weighted is not None and weighted >= 0.9
        plain_broken += plain is not None and plain < 0.9
    assert kept >= 9 and plain_broken >= 9
