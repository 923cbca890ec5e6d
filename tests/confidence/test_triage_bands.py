"""Triage bands keep their finite-sample guarantees and say plainly when they cannot."""

import json

import numpy as np
import pytest
from scipy.special import expit

from surematch.confidence import TriageBands, band_report, fit_bands
from surematch.confidence.bounds import cp_upper, fixed_sequence, min_trials_no_event
from surematch.confidence.targets import Targets
from surematch.errors import InputError, ModelFormatError

# Calibrated probabilities: p = sigmoid(z), z ~ N(4, 3); a pair is right with probability p.
MU, SIGMA = 4.0, 3.0
REFERENCE = np.sort(expit(np.random.default_rng(12345).normal(MU, SIGMA, 400_000)))
_ERR_FROM_TOP = np.cumsum((1.0 - REFERENCE)[::-1])  # expected errors among the k highest
_RIGHT_BELOW = np.r_[0.0, np.cumsum(REFERENCE)]      # expected right matches below index k


def draw(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(MU, SIGMA, n))
    return p, (rng.random(n) < p).astype(int)


def true_precision(accept_at: float) -> float:
    """Precision among p >= accept_at on the population (reference sample, no label noise)."""
    k = len(REFERENCE) - np.searchsorted(REFERENCE, accept_at, side="left")
    return 1.0 - _ERR_FROM_TOP[k - 1] / k


def oracle_coverage(precision_target: float) -> float:
    """Share of the population the best possible accept cut-off would auto-accept."""
    k = np.arange(1, len(REFERENCE) + 1)
    return float(np.flatnonzero(1.0 - _ERR_FROM_TOP / k >= precision_target).max() + 1) / len(k)


def true_miss_rate(reject_below: float) -> float:
    """Share of right matches with p < reject_below on the population."""
    return _RIGHT_BELOW[np.searchsorted(REFERENCE, reject_below, side="left")] / _RIGHT_BELOW[-1]


@pytest.mark.parametrize(("precision_target", "miss_target"), [(0.99, 0.01), (0.95, 0.05)])
def test_guarantees_hold_across_draws(precision_target, miss_target):
    delta, draws = 0.05, 200
    accept_violations = miss_violations = certified = 0
    coverage = []
    for seed in range(draws):
        p, y = draw(seed, 3000)
        bands = fit_bands(p, y, Targets(precision_target, miss_target, 1 - delta))
        if bands.accept_at is not None:
            certified += 1
            coverage.append(bands.accept_coverage)
            accept_violations += true_precision(bands.accept_at) < precision_target
            assert bands.precision_bound >= precision_target
        if bands.reject_below is not None:
            miss_violations += true_miss_rate(bands.reject_below) > miss_target
            assert bands.miss_bound <= miss_target
    assert certified >= 0.9 * draws  # the test would be empty otherwise
    assert np.mean(coverage) >= 0.7 * oracle_coverage(precision_target)  # and not too timid
    assert accept_violations / draws <= delta + 0.02
    assert miss_violations / draws <= delta + 0.02


def test_report_fields_describe_calibration_data():
    p, y = draw(0, 3000)
    b = fit_bands(p, y, Targets(0.95, 0.05))
    assert b.feasible and b.message == "all targets certified"
    assert b.reject_below <= b.accept_at
    assert b.n_accept + b.n_review + b.n_reject == 3000
    accepted, rejected = p >= b.accept_at, p < b.reject_below
    assert b.n_accept == accepted.sum() and b.n_reject == rejected.sum()
    assert b.empirical_precision == pytest.approx(y[accepted].mean())
    assert b.empirical_miss_rate == pytest.approx(np.sum(y[rejected]) / y.sum())
    assert b.accept_coverage == pytest.approx(accepted.mean())
    assert b.empirical_precision >= b.precision_bound >= 0.95
    report = band_report(p, y, b)
    assert report["accept"]["n"] == b.n_accept
    assert report["accept"]["precision"] == pytest.approx(b.empirical_precision)
    assert sum(r["coverage"] for r in report.values()) == pytest.approx(1.0)


def test_infeasible_target_is_reported_and_band_left_empty():
    p, y = draw(1, 200)
    b = fit_bands(p, y, Targets(0.99, 0.01, 0.95))
    n_right = int(y.sum())
    assert not b.feasible
    assert b.accept_at is None and b.precision_bound is None and b.n_accept == 0
    assert (f"with {n_right} calibration matches (of 200 certifying queries), no accept cut-off "
            "can be certified at 95 % confidence") in b.message
    assert "needs at least 368 accepted matches with no error" in b.message
    assert b.reject_below is None and "nothing is auto-rejected" in b.message
    assert "accept" not in set(b.band(np.linspace(0, 1, 101)))


def test_band_lookup_scalar_vector_and_roundtrip():
    p, y = draw(2, 3000)
    b = fit_bands(p, y, Targets(0.95, 0.05))
    assert b.band(1.0) == "accept" and b.band(0.0) == "reject"
    assert b.band(b.accept_at) == "accept" and b.band(b.reject_below) == "review"
    names = b.band(np.array([0.0, (b.accept_at + b.reject_below) / 2, 1.0]))
    assert list(names) == ["reject", "review", "accept"]
    again = TriageBands.from_dict(json.loads(json.dumps(b.to_dict())))
    assert again == b
    with pytest.raises(ModelFormatError, match="missing fields"):
        TriageBands.from_dict({"accept_at": 0.9})
    with pytest.raises(InputError, match="NaN"):
        b.band([0.5, np.nan])


def test_all_right_matches_and_bad_inputs():
    p, _ = draw(3, 1000)
    b = fit_bands(p, np.ones(1000, dtype=int), Targets(0.99, 0.01))
    assert b.accept_at is not None and b.empirical_precision == 1.0
    with pytest.raises(InputError, match="precision must be a number strictly between 0 and 1"):
        fit_bands(p, np.ones(1000), Targets(1.0))
    with pytest.raises(InputError, match=r"probabilities and correct have different lengths"):
        fit_bands(p, np.ones(999))
    with pytest.raises(InputError, match=r"probabilities: values must lie in \[0, 1\]"):
        fit_bands(p * 2, np.ones(1000))


def test_bounds_by_hand():
    # zero errors in n trials: upper bound 1 - delta**(1/n); 299 trials certify 1 % at 95 %
    assert cp_upper(0, 10, 0.05)[()] == pytest.approx(1 - 0.05 ** 0.1)
    assert cp_upper(5, 5, 0.05)[()] == 1.0 and cp_upper(0, 0, 0.05)[()] == 1.0
    assert min_trials_no_event(0.01, 0.05) == 299
    assert 0.99 ** 299 <= 0.05 < 0.99 ** 298
    assert fixed_sequence([0.01, 0.02, 0.2, 0.01], 0.05) == 2
    assert fixed_sequence([0.5, 0.01], 0.05) == 0
    assert fixed_sequence([0.01, 0.01], 0.05) == 2


def mostly_sure(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities where most matches are near-certain: a set precision target
    is met even with unlikely matches in the set (the record-linkage case of issue #21)."""
    rng = np.random.default_rng(seed)
    p = np.r_[np.full(3000, 0.999), rng.uniform(0.0, 1.0, 400)]
    return p, (rng.random(len(p)) < p).astype(int)


def test_no_accepted_match_has_probability_under_the_floor():
    p, y = mostly_sure()
    unfloored = fit_bands(p, y, Targets(0.9, 0.05, 0.95, 0.0))
    assert unfloored.accept_at is not None and unfloored.accept_at < 0.5  # what the floor stops
    for floor in (0.5, 0.8):
        b = fit_bands(p, y, Targets(0.9, 0.05, 0.95, floor))
        assert b.min_probability == floor and b.accept_at is not None and b.accept_at >= floor
        bands = b.band(p)
        assert (bands == "accept").any() and p[bands == "accept"].min() >= floor
        assert not (p[bands == "reject"] >= floor / 2).any()  # nor is a likely one rejected
        # certified on the band as applied, so the set guarantee holds for it too
        assert b.precision_bound is not None and b.precision_bound >= 0.9
        assert y[bands == "accept"].mean() == pytest.approx(b.empirical_precision)
        assert b.reject_below is None or b.reject_below <= floor / 2  # review: [floor/2, floor)
        assert ((p >= floor / 2) & (p < floor) == (bands == "review")).all()
    default = fit_bands(p, y, Targets(0.9, 0.05, 0.95))
    assert default.min_probability == 0.5 and default.accept_at >= 0.5


def test_a_floor_set_later_only_narrows_the_auto_bands():
    p, y = mostly_sure(1)
    b = fit_bands(p, y, Targets(0.9, 0.05, 0.95))
    raised, lowered = b.with_floor(0.9), b.with_floor(0.1)
    assert p[raised.band(p) == "accept"].min() >= 0.9
    assert set(np.flatnonzero(raised.band(p) == "accept")) <= set(
        np.flatnonzero(b.band(p) == "accept"))
    assert (lowered.band(p) == "accept").sum() == (b.band(p) == "accept").sum()
    assert not (p[lowered.band(p) == "reject"] >= 0.05).any()
    assert TriageBands.from_dict(json.loads(json.dumps(raised.to_dict()))) == raised
    with pytest.raises(InputError, match="min_probability"):
        b.with_floor(1.0)


def test_floor_zero_is_the_band_as_before():
    p, y = mostly_sure(2)
    b = fit_bands(p, y, Targets(0.9, 0.05, 0.95, 0.0))
    assert b.reject_below is not None and b.reject_below > 0  # rejects as without a floor
    assert b.band(np.array([b.reject_below / 2]))[0] == "reject"
