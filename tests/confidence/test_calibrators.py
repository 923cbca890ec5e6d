"""Calibrators recover known sigmoids, select sensibly, round-trip via JSON, reject bad data."""

import json

import numpy as np
import pytest
from scipy.special import expit

from surematch.confidence import (
    BetaCalibrator,
    LogisticCalibrator,
    calibrator_from_dict,
    ece,
    make_calibrator,
    percent,
    select_calibrator,
)
from surematch.errors import InputError, ModelFormatError, SurematchError


def sigmoid_data(seed: int, n: int = 5000, lo: float = -2.0, hi: float = 0.0,
                 a: float = 5.0, b: float = 4.0):
    """Scores like a negated distance; y ~ Bernoulli(sigmoid(a * s + b))."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(lo, hi, n)
    p = expit(a * s + b)
    return s, (rng.random(n) < p).astype(int), p


@pytest.mark.parametrize(("name", "max_err", "mean_err"),
                         [("logistic", 0.03, 0.01), ("beta", 0.03, 0.01),
                          ("isotonic", 0.15, 0.03)])
def test_recovers_known_sigmoid(name, max_err, mean_err):
    s, y, _ = sigmoid_data(0)
    cal = make_calibrator(name).fit(s, y)
    s_new, y_new, p_new = sigmoid_data(1)
    q = cal.predict_proba(s_new)
    assert q.shape == (5000,)
    assert np.abs(q - p_new).mean() < mean_err
    assert np.abs(q - p_new).max() < max_err  # isotonic steps are coarse at the ends
    assert ece(q, y_new) < 0.03


def test_logistic_recovers_coefficients():
    s, y, _ = sigmoid_data(2, n=20000)
    cal = LogisticCalibrator().fit(s, y)
    assert cal.coef[0] == pytest.approx(5.0, rel=0.1)
    assert cal.intercept == pytest.approx(4.0, rel=0.1)


def test_beta_on_unit_scores_uses_them_directly():
    rng = np.random.default_rng(3)
    s = rng.uniform(0.02, 0.98, 5000)
    p = expit(2.0 * np.log(s) - 3.0 * np.log1p(-s) + 0.5)  # a beta-calibration curve
    y = (rng.random(5000) < p).astype(int)
    cal = BetaCalibrator().fit(s, y)
    assert cal.score_map == "unit"
    assert np.abs(cal.predict_proba(s) - p).max() < 0.03


def test_logistic_with_extra_feature():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5000, 2))
    p = expit(2.0 * x[:, 0] - 1.0 * x[:, 1])
    y = (rng.random(5000) < p).astype(int)
    cal = LogisticCalibrator().fit(x, y)
    assert np.abs(cal.predict_proba(x) - p).max() < 0.03
    with pytest.raises(InputError, match="fitted on 2 feature"):
        cal.predict_proba(x[:, 0])


def test_selection_prefers_parametric_on_sigmoid_data():
    s, y, _ = sigmoid_data(5, n=2000)
    best, losses = select_calibrator(s, y)
    assert set(losses) == {"logistic", "isotonic", "beta"}
    assert best.kind in {"logistic", "beta"}
    assert losses[best.kind] == min(losses.values())
    assert losses["isotonic"] > losses["logistic"]


def test_selection_prefers_isotonic_on_a_step():
    rng = np.random.default_rng(10)
    s = rng.uniform(0, 1, 2000)
    y = (rng.random(2000) < np.where(s < 0.5, 0.2, 0.9)).astype(int)
    best, losses = select_calibrator(s, y)
    assert best.kind == "isotonic"
    assert losses["isotonic"] < min(losses["logistic"], losses["beta"])


def test_selection_skips_single_score_calibrators_for_several_features():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(300, 2))
    y = (rng.random(300) < expit(x[:, 0])).astype(int)
    best, losses = select_calibrator(x, y)
    assert list(losses) == ["logistic"] and best.kind == "logistic"
    with pytest.raises(InputError, match="include 'logistic'"):
        select_calibrator(x, y, candidates=("isotonic",))


@pytest.mark.parametrize("name", ["logistic", "isotonic", "beta"])
def test_to_dict_from_dict_identical_predictions(name):
    s, y, _ = sigmoid_data(7, n=500)
    cal = make_calibrator(name).fit(s, y)
    probe = np.linspace(-3.0, 1.0, 101)
    d = json.loads(json.dumps(cal.to_dict()))
    assert d["kind"] == name
    np.testing.assert_array_equal(calibrator_from_dict(d).predict_proba(probe),
                                  cal.predict_proba(probe))


def test_predictions_are_monotone_probabilities():
    s, y, _ = sigmoid_data(8, n=500)
    probe = np.linspace(-5.0, 5.0, 201)
    for name in ("logistic", "isotonic", "beta"):
        q = make_calibrator(name).fit(s, y).predict_proba(probe)
        assert np.all((q >= 0) & (q <= 1)) and np.all(np.diff(q) >= -1e-12), name


GOOD_S, GOOD_Y, _ = sigmoid_data(9, n=100)


@pytest.mark.parametrize(("scores", "labels", "message"), [
    (np.r_[GOOD_S[:-1], np.nan], GOOD_Y, r"scores: 1 value\(s\) are NaN or infinite"),
    (np.r_[GOOD_S[:-1], np.inf], GOOD_Y, "NaN or infinite"),
    (GOOD_S, np.ones(100), r"labels: only one class \(all 1\) — need matched and unmatched"),
    (GOOD_S[:10], np.r_[np.zeros(5), np.ones(5)], r"too few samples: 10 \(need at least 20\)"),
    (GOOD_S, np.r_[np.zeros(97), np.ones(3)], "only 3 matched examples"),
    (GOOD_S, GOOD_Y[:99], r"scores and labels have different lengths \(100 vs 99\)"),
    (GOOD_S, np.r_[GOOD_Y[:-1], 2], "labels: values must be 0/1"),
    (GOOD_S.reshape(10, 5, 2), GOOD_Y, "scores: expected shape"),
])
@pytest.mark.parametrize("name", ["logistic", "isotonic", "beta"])
def test_bad_data_gives_clear_errors(name, scores, labels, message):
    with pytest.raises(InputError, match=message):
        make_calibrator(name).fit(scores, labels)


def test_selection_bad_data():
    with pytest.raises(InputError, match="only one class"):
        select_calibrator(GOOD_S, np.zeros(100))
    with pytest.raises(InputError, match="unknown calibrator 'svm'"):
        select_calibrator(GOOD_S, GOOD_Y, candidates=("svm",))


def test_misuse_errors():
    with pytest.raises(SurematchError, match="not fitted yet"):
        LogisticCalibrator().predict_proba([0.1, 0.2])
    with pytest.raises(InputError, match="takes one score per example"):
        make_calibrator("isotonic").fit(np.zeros((100, 2)), GOOD_Y)
    with pytest.raises(ModelFormatError, match="unknown kind 'svm'"):
        calibrator_from_dict({"kind": "svm"})
    d = LogisticCalibrator().fit(GOOD_S, GOOD_Y).to_dict()
    del d["coef"]
    with pytest.raises(ModelFormatError, match="coef"):
        calibrator_from_dict(d)


def test_percent():
    np.testing.assert_allclose(percent(np.array([0.0, 0.25, 1.0])), [0.0, 25.0, 100.0])
    assert percent(0.5) == 50.0
    with pytest.raises(InputError, match=r"must lie in \[0, 1\]"):
        percent([1.5])
