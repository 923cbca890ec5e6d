"""The no-match rule: out-of-domain queries get no match, certified for a share of right
matches lost; recorded in calibration.json; older files still load."""

import json

import numpy as np
import pytest

from surematch.confidence.certification.no_match import FEATURES, NoMatchRule, fit_no_match
from surematch.confidence.certification.targets import Targets
from surematch.confidence.file.store import CALIBRATION_FILE, load_calibration, save_calibration
from surematch.confidence.match_calibration import MatchCalibration, fit_match_calibration
from surematch.errors import ModelFormatError


def ranked(n: int, seed: int, off: int = 0):
    """Similarities [n + off, 3], evidence and right/wrong of n in-domain queries (their top
    match right more often the closer it is) and `off` out-of-domain ones: far from every
    reference, no shared characters, no agreeing texts, never right."""
    rng = np.random.default_rng(seed)
    top = rng.uniform(0.55, 0.95, n)
    right = rng.random(n) < (top - 0.45) * 2
    over = np.clip(0.2 + (top - 0.55) + rng.normal(0, 0.1, n), 0, 1)
    agree = top - rng.uniform(0.0, 0.15, n)
    if off:
        top = np.r_[top, rng.uniform(0.35, 0.5, off)]
        over, agree = np.r_[over, np.zeros(off)], np.r_[agree, rng.uniform(0.2, 0.3, off)]
        right = np.r_[right, np.zeros(off, bool)]
    sims = np.column_stack([top, top - rng.uniform(0, 0.05, len(top)),
                            top - rng.uniform(0.05, 0.1, len(top))])
    # in-domain queries mostly end on a head word of the references, the others seldom
    head = (rng.random(len(top)) < np.r_[np.full(n, 0.97), np.full(off, 0.02)])[:, None]
    evidence = {"overlap": np.column_stack([over, over / 2, over / 3]),
                "agreement": np.column_stack([agree, agree - 0.1, agree - 0.2]),
                "exact": np.zeros(sims.shape),
                "head": np.repeat(head.astype(float), 3, axis=1)}
    return sims, evidence, right


@pytest.fixture(scope="module")
def fitted() -> MatchCalibration:
    sims, evidence, right = ranked(3000, 0, off=100)
    groups = [f"r{i // 2}" for i in range(3000)] + [None] * 100
    return fit_match_calibration(sims, right, None, groups, targets=Targets(0.9, 0.05),
                                 evidence=evidence)


def test_out_of_domain_queries_get_no_match_and_right_ones_mostly_do(fitted):
    rule = fitted.no_match
    assert rule is not None and rule.reject_below is not None and rule.features == FEATURES
    assert fitted.bands.reject_below is None  # the reject band is the rule's
    assert fitted.bands.miss_bound == rule.miss_bound <= 0.05
    sims, evidence, right = ranked(3000, 1, off=300)
    bands = fitted.bands_of(fitted.probabilities(sims, None, evidence), sims, evidence)[:, 0]
    assert np.mean(bands[3000:] == "reject") >= 0.95
    assert np.mean(bands[:3000][right[:3000]] == "reject") <= 0.05


def test_an_auto_accepted_match_is_never_rejected(fitted):
    assert fitted.bands.accept_at is not None
    sims = np.array([[0.95, 0.5]])
    evidence = {"overlap": np.zeros((1, 2)), "agreement": np.zeros((1, 2)),
                "exact": np.zeros((1, 2)), "head": np.zeros((1, 2))}
    p = fitted.probabilities(sims, None, evidence)
    assert p[0, 0] >= fitted.bands.accept_at
    assert fitted.no_match is not None and fitted.no_match.rejects(sims, evidence)[0, 0]
    assert fitted.bands_of(p, sims, evidence)[0, 0] == "accept"


def test_the_certified_miss_rate_holds_over_repeated_calibrations():
    """Fit on 600 right/wrong queries, measure on fresh ones: the share of right matches
    rejected exceeds the target in at most about delta of the runs (here 0.05)."""
    miss, delta, runs, over = 0.05, 0.05, 200, 0
    fresh, fresh_ev, fresh_right = ranked(20000, 999)
    cols = {"similarity": fresh[:, 0], "overlap": fresh_ev["overlap"][:, 0],
            "agreement": fresh_ev["agreement"][:, 0]}
    for seed in range(runs):
        sims, evidence, right = ranked(600, seed)
        idx = np.random.default_rng(seed).permutation(600)
        rule = fit_no_match({"similarity": sims[:, 0], "overlap": evidence["overlap"][:, 0],
                             "agreement": evidence["agreement"][:, 0]}, right,
                            idx[:150], idx[150:], miss, delta)
        assert rule.reject_below is not None and rule.miss_bound <= miss
        score = sum(w * cols[f] for f, w in zip(rule.features, rule.weights, strict=True))
        over += np.mean(score[fresh_right] < rule.reject_below) > miss
    assert over / runs <= delta + 0.03


def test_too_few_right_matches_certify_nothing():
    sims, evidence, right = ranked(40, 0)
    rule = fit_no_match({"similarity": sims[:, 0], "overlap": evidence["overlap"][:, 0],
                         "agreement": evidence["agreement"][:, 0]}, right,
                        np.arange(20), np.arange(20, 40), 0.01, 0.025)
    assert rule.reject_below is None and "right matches" in rule.message
    assert not rule.rejects(sims, evidence).any()


def test_without_the_evidence_the_reject_band_stays_on_the_probability():
    sims, _, right = ranked(3000, 0)
    cal = fit_match_calibration(sims, right, None, [f"r{i // 2}" for i in range(3000)],
                                targets=Targets(0.9, 0.05))
    assert cal.no_match is None and cal.bands.reject_below is not None
    off = fit_match_calibration(*ranked(3000, 0)[::2], None, [f"r{i // 2}" for i in range(3000)],
                                targets=Targets(0.9, 0.05),
                                evidence=ranked(3000, 0)[1], no_match=False)
    assert off.no_match is None and off.bands.reject_below is not None


def test_the_rule_round_trips_through_calibration_json(tmp_path, fitted):
    save_calibration(tmp_path, fitted, "m1", "onnx-int8")
    doc = json.loads((tmp_path / CALIBRATION_FILE).read_text())
    assert doc["retrieval"]["no_match"]["reject_below"] == fitted.no_match.reject_below
    again = load_calibration(tmp_path)
    assert again.no_match == fitted.no_match and again.evidence_needed == fitted.evidence_needed
    sims, evidence, _ = ranked(50, 5, off=10)
    p = fitted.probabilities(sims, None, evidence)
    np.testing.assert_array_equal(again.bands_of(p, sims, evidence),
                                  fitted.bands_of(p, sims, evidence))


def test_a_calibration_file_from_before_the_rule_loads_without_it(tmp_path, fitted):
    save_calibration(tmp_path, fitted, "m1")
    doc = json.loads((tmp_path / CALIBRATION_FILE).read_text())
    del doc["retrieval"]["no_match"]
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(doc))
    old = load_calibration(tmp_path)
    assert old.no_match is None
    p = np.array([[0.01, 0.0]])
    assert old.bands_of(p, np.array([[0.1, 0.0]]), None)[0, 0] == old.bands.band(0.01)


def test_a_damaged_rule_names_the_field():
    d = NoMatchRule(FEATURES, (1.0, 1.0, 1.0), 0.5, 0.01, 0.025, 0.01, 100, 0.0, "").to_dict()
    with pytest.raises(ModelFormatError, match="missing fields"):
        NoMatchRule.from_dict({k: v for k, v in d.items() if k != "weights"})
    with pytest.raises(ModelFormatError, match="unknown features"):
        NoMatchRule.from_dict({**d, "features": ["similarity", "colour", "agreement"]})


def test_without_head_words_the_rule_reads_the_other_features(tmp_path):
    """A ranking without the references' head words (and a rule saved before `head`
    existed) decides on similarity, overlap and agreement, and needs no head evidence."""
    sims, evidence, right = ranked(3000, 0, off=100)
    del evidence["head"]
    groups = [f"r{i // 2}" for i in range(3000)] + [None] * 100
    cal = fit_match_calibration(sims, right, None, groups, targets=Targets(0.9, 0.05),
                                evidence=evidence)
    assert cal.no_match is not None and cal.no_match.features == FEATURES[:3]
    assert "head" not in cal.evidence_needed
    save_calibration(tmp_path, cal, "m1")
    again = load_calibration(tmp_path)
    p = again.probabilities(sims, None, evidence)
    assert np.mean(again.bands_of(p, sims, evidence)[3000:, 0] == "reject") >= 0.9
