"""Embedding confidence: group peakedness and its aggregation over groups."""

import math

import numpy as np
import pytest

from surematch.confidence import embedding_confidence, group_peakedness
from surematch.errors import InputError

MEASURES = ["margin", "top", "entropy"]
ONE_HOT = np.array([[[0.0, 1.0, 0.0, 0.0]]])
UNIFORM = np.full((1, 1, 4), 0.25)


@pytest.mark.parametrize("measure", MEASURES)
def test_one_hot_is_one_and_uniform_is_zero(measure):
    assert group_peakedness(ONE_HOT, measure)[0, 0] == pytest.approx(1.0)
    assert group_peakedness(UNIFORM, measure)[0, 0] == pytest.approx(0.0)


def test_measures_by_hand():
    p = np.array([[[0.5, 0.3, 0.2]]])
    assert group_peakedness(p, "margin")[0, 0] == pytest.approx(0.2)
    assert group_peakedness(p, "top")[0, 0] == pytest.approx((0.5 - 1 / 3) / (2 / 3))
    h = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert group_peakedness(p, "entropy")[0, 0] == pytest.approx(1 - h / math.log(3))


@pytest.mark.parametrize("measure", MEASURES)
def test_values_in_unit_interval(measure):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3, 6)) * 3
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    g = group_peakedness(p, measure)
    assert g.shape == (50, 3) and np.all((g >= 0) & (g <= 1))
    for aggregate in ("mean", "min", "geometric"):
        c = embedding_confidence(p, measure, aggregate)
        assert c.shape == (50,) and np.all((c >= 0) & (c <= 1))


def test_aggregation_of_a_sure_and_an_unsure_group():
    p = np.concatenate([ONE_HOT, UNIFORM], axis=1)  # [1, 2, 4]
    assert embedding_confidence(p)[0] == pytest.approx(0.5)  # default: mean of margins
    assert embedding_confidence(p, aggregate="min")[0] == pytest.approx(0.0)
    assert embedding_confidence(p, aggregate="geometric")[0] == pytest.approx(0.0)
    both_sure = np.concatenate([ONE_HOT, ONE_HOT], axis=1)
    assert embedding_confidence(both_sure, aggregate="geometric")[0] == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(InputError, match="expected shape"):
        group_peakedness(np.full((2, 4), 0.25))
    with pytest.raises(InputError, match="must sum to 1"):
        group_peakedness(np.ones((1, 1, 4)))
    with pytest.raises(InputError, match="at least 2 values"):
        group_peakedness(np.ones((1, 1, 1)))
    with pytest.raises(InputError, match="measure: unknown"):
        group_peakedness(UNIFORM, "variance")
    with pytest.raises(InputError, match="aggregate: unknown"):
        embedding_confidence(UNIFORM, aggregate="max")
    with pytest.raises(InputError, match="NaN"):
        group_peakedness(np.full((1, 1, 2), np.nan))
