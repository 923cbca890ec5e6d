"""Pair verification from bring-your-own distances: direction, threshold units, errors."""

import numpy as np
import pytest
from scipy.special import expit

from surematch.confidence.pair_calibration import PairCalibration, fit_pair_calibration
from surematch.errors import InputError


def pairs(n: int = 1000, seed: int = 0):
    """Euclidean-like distances with P(same) = sigmoid(8 (0.6 - d))."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.0, 1.2, n)
    return d, (rng.random(n) < expit(8 * (0.6 - d))).astype(int)


def test_distance_calibration_recovers_the_sigmoid_and_decreases_with_distance():
    d, y = pairs()
    cal = fit_pair_calibration(d, y, "euclidean")
    grid = np.linspace(0.1, 1.1, 11)
    p = cal.probability(grid)
    assert (np.diff(p) <= 1e-12).all()
    assert np.abs(p - expit(8 * (0.6 - grid))).max() < 0.12
    assert 0.4 < cal.threshold < 0.8  # in distance units, near where P = 0.5
    assert cal.verified([cal.threshold - 0.01, cal.threshold + 0.01]).tolist() == [True, False]


def test_dot_similarity_keeps_its_direction():
    d, y = pairs()
    cal = fit_pair_calibration(-d, y, "dot")
    assert cal.probability([-0.1])[0] > cal.probability([-1.0])[0]
    assert cal.verified([cal.threshold + 0.01]).tolist() == [True]


def test_round_trip(tmp_path):
    d, y = pairs()
    cal = fit_pair_calibration(d, y, "angular", criterion="eer")
    again = PairCalibration.from_dict(cal.to_dict())
    np.testing.assert_array_equal(again.probability(d[:20]), cal.probability(d[:20]))


@pytest.mark.parametrize("values, labels, match", [
    ([0.1, np.nan] * 20, [0, 1] * 20, "NaN"),
    ([0.1, 0.2] * 20, [1, 1] * 20, "only one class"),
    ([0.1, 0.2] * 20, [0, 1] * 19, "different lengths"),
])
def test_bad_input_is_a_clear_error(values, labels, match):
    with pytest.raises(InputError, match=match):
        fit_pair_calibration(values, labels, "cosine")


def test_unknown_distance_is_input_error():
    with pytest.raises(InputError, match="unknown distance"):
        fit_pair_calibration([0.1, 0.2], [0, 1], "manhattan")
