"""Retrieval-mode calibration: top-1 probabilities, per-candidate features, open set, save/load."""

import json

import numpy as np
import pytest
from scipy.special import expit

from surematch.confidence.match_features import (
    MARGIN_SCALE,
    candidate_features,
    top1_features,
)
from surematch.confidence.metrics import ece
from surematch.confidence.retrieval import MatchCalibration, fit_match_calibration
from surematch.confidence.split import fit_band_split
from surematch.confidence.store import (
    CALIBRATION_FILE,
    load_calibration,
    load_pair_calibration,
    save_calibration,
)
from surematch.confidence.targets import Targets
from surematch.confidence.verification import fit_pair_calibration
from surematch.errors import InputError, ModelFormatError


def synthetic(n: int = 1200, seed: int = 0, k: int = 5):
    """Sorted similarities [n, k], confidence [n], right/wrong [n] from a known logistic model."""
    rng = np.random.default_rng(seed)
    sims = -np.sort(-rng.uniform(0.2, 0.9, size=(n, k)), axis=1)
    conf = rng.uniform(0, 1, n)
    z = 6 * (sims[:, 0] - 0.7) + 25 * (sims[:, 0] - sims[:, 1]) + 1.0 * conf - 0.5
    correct = rng.random(n) < expit(z)
    groups = [f"ref{i // 3}" for i in range(n)]
    return sims, conf, correct, groups


@pytest.fixture(scope="module")
def fitted() -> MatchCalibration:
    sims, conf, correct, groups = synthetic()
    return fit_match_calibration(sims, correct, conf, groups, targets=Targets(0.9, 0.05))


def test_features_of_candidates_hand_computed():
    x = candidate_features([[0.9, 0.7, 0.6]], [0.5])
    margins = np.arcsinh(np.array([0.2, -0.2, -0.3]) / MARGIN_SCALE)
    np.testing.assert_allclose(x[0], np.column_stack([[0.9, 0.7, 0.6], margins, [0.5] * 3]))
    np.testing.assert_allclose(candidate_features([[0.8]], lone_margin=0.1)[0],
                               [[0.8, np.arcsinh(10.0)]])


def test_unsorted_rows_and_mismatched_confidence_are_errors():
    with pytest.raises(InputError, match="sorted best first"):
        candidate_features([[0.5, 0.9]])
    with pytest.raises(InputError, match="different lengths"):
        candidate_features([[0.9, 0.5]], [0.1, 0.2])


def test_first_column_is_exactly_the_top1_model(fitted):
    sims, conf, _, _ = synthetic(50, seed=3)
    probs = fitted.probabilities(sims, conf)
    assert probs.shape == (50, 5)
    top1 = fitted.calibrator.predict_proba(top1_features(sims, conf))
    np.testing.assert_array_equal(probs[:, 0], top1)
    assert (probs[:, 1:] <= probs[:, :1] + 1e-12).all()  # trailing candidates are less likely


def test_recovers_the_generating_model_and_is_calibrated_on_fresh_data(fitted):
    sims, conf, correct, _ = synthetic(4000, seed=1)
    p = fitted.probabilities(sims, conf)[:, 0]
    truth = expit(6 * (sims[:, 0] - 0.7) + 25 * (sims[:, 0] - sims[:, 1]) + conf - 0.5)
    assert np.abs(p - truth).mean() < 0.06  # the margin enters through asinh: close, not exact
    assert ece(p, correct) < 0.05  # fitted on ~600 queries
    assert fitted.report["calibrator"] == "logistic"
    assert fitted.report["n_fit"] + fitted.report["n_band"] == 1200


def test_bands_come_from_the_held_out_part_and_keep_their_promise(fitted):
    b = fitted.bands
    assert b.n_accept + b.n_review + b.n_reject == fitted.report["n_band"]
    assert b.accept_at is not None
    sims, conf, correct, _ = synthetic(20000, seed=2)
    p = fitted.probabilities(sims, conf)[:, 0]
    assert correct[p >= b.accept_at].mean() >= 0.9
    assert fitted.band(np.array([0.0, 1.0])).tolist() == ["reject", "accept"]
    assert 0.0 < fitted.threshold < 1.0


def test_fit_band_split_keeps_groups_whole_and_open_set_queries_apart():
    groups = ["a", "a", "b", "b", None, None, "c", "d"]
    fit, band = fit_band_split(len(groups), groups, 0.5, seed=0)
    assert sorted([*fit, *band]) == list(range(8))
    side = {i: "fit" if i in fit else "band" for i in range(8)}
    assert side[0] == side[1] and side[2] == side[3]


def test_open_set_queries_count_as_wrong():
    from surematch.evaluation.ranked import RankedQueries
    from surematch.evaluation.retrieval import top1_correct

    ids = [["r1", "r2"], ["r2", "r1"], ["r1", "r2"]]
    expected = ["r1", None, "r9"]  # right, no right answer, right answer absent
    correct = top1_correct(ids, [e if e in {"r1", "r2"} else None for e in expected])
    assert correct.tolist() == [True, False, False]
    ranked = RankedQueries(ids, np.array([[0.9, 0.2]] * 3), None, correct, expected)
    assert ranked.open_set.tolist() == [False, True, True]


def test_save_then_load_gives_identical_probabilities(tmp_path, fitted):
    sims, conf, _, _ = synthetic(30, seed=5)
    assert load_calibration(tmp_path) is None
    save_calibration(tmp_path, fitted, model_id="abc")
    loaded = load_calibration(tmp_path)
    np.testing.assert_array_equal(loaded.probabilities(sims, conf),
                                  fitted.probabilities(sims, conf))
    assert loaded.bands == fitted.bands and loaded.threshold == fitted.threshold
    assert loaded.bands.band(0.5) == fitted.bands.band(0.5)


def test_saving_one_mode_keeps_the_other(tmp_path, fitted):
    rng = np.random.default_rng(0)
    labels = rng.random(400) < 0.5
    dist = np.where(labels, rng.normal(0.3, 0.1, 400), rng.normal(0.7, 0.1, 400))
    save_calibration(tmp_path, fitted)
    save_calibration(tmp_path, fit_pair_calibration(dist, labels, "cosine"))
    assert load_calibration(tmp_path) is not None and load_pair_calibration(tmp_path) is not None


def test_a_damaged_file_is_a_format_error(tmp_path):
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps({"format": 1, "retrieval": {"x": 1}}))
    with pytest.raises(ModelFormatError, match="calibration"):
        load_calibration(tmp_path)


def test_missing_confidence_single_class_and_one_candidate_are_clear_errors(fitted):
    sims, conf, correct, groups = synthetic(200)
    with pytest.raises(InputError, match="embedding confidence"):
        fitted.probabilities(sims)
    with pytest.raises(InputError, match="only one class"):
        fit_match_calibration(sims, np.zeros(200, bool), conf, groups)
    with pytest.raises(InputError, match="k >= 2"):
        fit_match_calibration(sims[:, :1], correct, conf, groups)
    with pytest.raises(InputError, match="different lengths"):
        fit_match_calibration(sims, correct[:-1], conf, groups)
    bad = sims.copy()
    bad[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        fit_match_calibration(bad, correct, conf, groups)
