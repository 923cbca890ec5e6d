"""Verification thresholds by accuracy, F1, EER and target FMR."""

import numpy as np
import pytest

from surematch.confidence import choose_threshold
from surematch.distances import get_distance
from surematch.errors import InputError

NEG = np.linspace(0.0, 0.4, 10)
POS = np.linspace(0.6, 1.0, 10)
SEPARABLE = (np.r_[NEG, POS], np.r_[np.zeros(10), np.ones(10)])


@pytest.mark.parametrize("criterion", ["accuracy", "f1", "eer"])
def test_separable_scores_threshold_in_the_gap(criterion):
    t = choose_threshold(*SEPARABLE, criterion=criterion)
    assert t.threshold == pytest.approx(0.5)  # midway between 0.4 and 0.6
    assert t.value == pytest.approx(0.0 if criterion == "eer" else 1.0)
    assert t.fmr == 0.0 and t.fnmr == 0.0
    assert t.criterion == criterion


def test_fmr_target_keeps_false_matches_below_target():
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(0, 1, 500), rng.normal(2, 1, 500)]
    y = np.r_[np.zeros(500), np.ones(500)]
    t = choose_threshold(s, y, criterion="fmr", target_fmr=0.01)
    fmr = np.mean(s[y == 0] >= t.threshold)
    assert fmr <= 0.01 and t.value == pytest.approx(fmr) and t.fmr == pytest.approx(fmr)
    below = np.max(s[s < t.threshold])  # one more accepted score would break the target
    assert np.mean(s[y == 0] >= below) > 0.01
    assert t.fnmr == pytest.approx(np.mean(s[y == 1] < t.threshold))


def test_accuracy_by_hand_with_overlap():
    s = np.r_[np.arange(10) / 10, np.arange(10) / 10 + 0.35]  # 0.0..0.9 vs 0.35..1.25
    y = np.r_[np.zeros(10), np.ones(10)]
    t = choose_threshold(s, y, criterion="accuracy")
    decided_right = np.mean((s >= t.threshold) == (y == 1))
    assert t.value == pytest.approx(decided_right)
    grid = np.linspace(-1, 2, 3001)
    best = max(np.mean((s >= g) == (y == 1)) for g in grid)
    assert t.value == pytest.approx(best)


def test_distances_go_through_closeness():
    dist = np.r_[0.2 + NEG / 10, 1.0 + NEG]  # small cosine distances are matches
    scores = get_distance("cosine").closeness(dist)
    t = choose_threshold(scores, np.r_[np.ones(10), np.zeros(10)])
    assert t.value == 1.0 and -t.threshold > 0.24 and -t.threshold < 1.0


def test_threshold_errors():
    s, y = SEPARABLE
    with pytest.raises(InputError, match="criterion: unknown 'auc'"):
        choose_threshold(s, y, criterion="auc")
    with pytest.raises(InputError, match="target_fmr: criterion 'fmr' needs a rate"):
        choose_threshold(s, y, criterion="fmr")
    with pytest.raises(InputError, match=r"only one class \(all 0\)"):
        choose_threshold(s, np.zeros(20))
    with pytest.raises(InputError, match="too few samples"):
        choose_threshold(s[8:14], y[8:14])
    assert choose_threshold(s, y).to_dict()["criterion"] == "accuracy"
