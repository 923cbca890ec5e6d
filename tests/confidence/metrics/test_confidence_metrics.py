"""Calibration and verification metrics on small hand-computed cases."""

import math

import numpy as np
import pytest

from surematch.confidence import (
    TriageBands,
    aurc,
    auroc,
    band_report,
    brier,
    ece,
    ece_noise_floor,
    eer,
    log_loss,
    mce,
    reliability_bins,
    risk_coverage_curve,
    tar_at_far,
)
from surematch.errors import InputError


def test_ece_of_perfectly_calibrated_toy_is_zero():
    probs = np.r_[[0.2] * 5, [0.8] * 5]
    labels = np.r_[1, 0, 0, 0, 0, 1, 1, 1, 1, 0]
    assert ece(probs, labels) == pytest.approx(0.0)
    assert ece(probs, labels, n_bins=2, strategy="quantile") == pytest.approx(0.0)
    assert mce(probs, labels) == pytest.approx(0.0)


def test_ece_and_mce_by_hand():
    probs, labels = [0.1, 0.1, 0.9, 0.9], [0, 0, 1, 0]
    # bin at 0.1: accuracy 0, gap 0.1; bin at 0.9: accuracy 0.5, gap 0.4; half the mass each
    assert ece(probs, labels) == pytest.approx(0.25)
    assert mce(probs, labels) == pytest.approx(0.4)
    assert ece(probs, labels, n_bins=1) == pytest.approx(abs(0.25 - 0.5))


def test_ece_noise_floor_is_the_sampling_error_of_a_calibrated_model():
    # one bin at p = 0.5: ECE = |mean(y) - 0.5|, whose mean is about sqrt(0.25 / n) sqrt(2 / pi)
    for n in (100, 2500):
        expected = math.sqrt(0.25 / n) * math.sqrt(2 / math.pi)
        assert ece_noise_floor(np.full(n, 0.5), draws=400) == pytest.approx(expected, rel=0.15)
    assert ece_noise_floor(np.r_[np.zeros(50), np.ones(50)]) == 0.0  # certain outcomes
    assert ece_noise_floor([0.3] * 10, seed=1) == ece_noise_floor([0.3] * 10, seed=1)


def test_reliability_bins_uniform_and_quantile():
    r = reliability_bins([0.0, 0.5, 1.0, 1.0], [0, 1, 1, 1], n_bins=2)
    np.testing.assert_array_equal(r.counts, [1, 3])  # 1.0 falls in the last bin
    np.testing.assert_allclose(r.confidence, [0.0, 2.5 / 3])
    q = reliability_bins(np.linspace(0, 1, 10), np.ones(10), n_bins=5, strategy="quantile")
    np.testing.assert_array_equal(q.counts, [2, 2, 2, 2, 2])


def test_brier_and_log_loss_by_hand():
    assert brier([1.0, 0.0, 0.5], [1, 0, 1]) == pytest.approx(0.25 / 3)
    assert log_loss([0.5, 0.5], [1, 0]) == pytest.approx(math.log(2))
    assert log_loss([0.8, 0.8], [1, 1]) == pytest.approx(-math.log(0.8))  # one class is fine
    assert np.isfinite(log_loss([0.0], [1]))  # clipped, not infinite


def test_aurc_and_risk_coverage_by_hand():
    coverage, risk = risk_coverage_curve([0.9, 0.8, 0.1], [1, 1, 0])
    np.testing.assert_allclose(coverage, [1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(risk, [0.0, 0.0, 1 / 3])
    assert aurc([0.9, 0.8, 0.1], [1, 1, 0]) == pytest.approx(1 / 9)  # perfect ranker
    assert aurc([0.1, 0.8, 0.9], [1, 1, 0]) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert aurc([0.3, 0.2], [1, 1]) == 0.0


def test_roc_metrics_by_hand():
    scores, labels = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1]
    assert auroc(scores, labels) == 1.0
    assert eer(scores, labels) == 0.0  # separable
    assert eer([0.9, 0.6, 0.4, 0.1], [1, 0, 1, 0]) == pytest.approx(0.5)
    assert eer([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == pytest.approx(1.0)  # reversed
    assert auroc([0.9, 0.6, 0.4, 0.1], [1, 0, 1, 0]) == pytest.approx(0.75)
    pos, neg = [0.9, 0.8, 0.7, 0.3], [0.75, 0.2, 0.1, 0.05]
    s, y = pos + neg, [1] * 4 + [0] * 4
    assert tar_at_far(s, y, 0.0) == pytest.approx(0.5)
    assert tar_at_far(s, y, 0.1) == pytest.approx(0.5)
    assert tar_at_far(s, y, 0.25) == pytest.approx(1.0)


def test_band_report_by_hand():
    bands = TriageBands(
        accept_at=0.8, reject_below=0.3, precision_target=0.9, miss_target=0.1, confidence=0.9,
        precision_bound=0.9, miss_bound=0.1, n_accept=0, n_review=0, n_reject=0,
        empirical_precision=None, empirical_miss_rate=None, accept_coverage=0.0,
        reject_coverage=0.0, feasible=True, message="")
    report = band_report([0.95, 0.85, 0.5, 0.1], [1, 0, 1, 0], bands)
    assert report["accept"] == {"n": 2, "coverage": 0.5, "precision": 0.5}
    assert report["review"] == {"n": 1, "coverage": 0.25, "precision": 1.0}
    assert report["reject"] == {"n": 1, "coverage": 0.25, "precision": 0.0}
    assert band_report([0.5], [1], bands)["accept"]["precision"] is None


def test_metric_input_errors():
    with pytest.raises(InputError, match=r"labels: only one class \(all 1\)"):
        auroc([0.1, 0.2], [1, 1])
    with pytest.raises(InputError, match="different lengths"):
        ece([0.1, 0.2], [1])
    with pytest.raises(InputError, match=r"probabilities: values must lie in \[0, 1\]"):
        brier([1.2], [1])
    with pytest.raises(InputError, match="NaN"):
        aurc([np.nan, 0.2], [1, 0])
    with pytest.raises(InputError, match="far: must lie in"):
        tar_at_far([0.1, 0.2], [0, 1], 1.5)
