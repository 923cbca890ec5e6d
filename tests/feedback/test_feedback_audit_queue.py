"""Precision audit (interval, alarm) and the review queue (order, audit sampler)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from surematch.errors import InputError
from surematch.feedback import (
    FeedbackStore,
    audit_draw,
    audit_precision,
    audit_reviews,
    edge_distance,
    first_alarm,
    review_order,
)
from surematch.feedback.audit import shown_band


def test_alarm_fires_when_precision_is_shown_below_target():
    a = audit_precision(60, 20, target=0.95)
    assert a.alarm and a.n == 80 and a.right == 60 and a.precision == 0.75
    assert "ALARM" in a.message
    ci = binomtest(60, 80).proportion_ci(0.95, method="exact")
    assert (a.low, a.high) == pytest.approx((ci.low, ci.high))


def test_no_alarm_on_a_perfect_audit_or_no_audit():
    a = audit_precision(100, 0, target=0.95)
    assert not a.alarm and a.precision == 1.0 and a.high == 1.0
    assert a.low == pytest.approx(0.025 ** (1 / 100))
    empty = audit_precision(0, 0, target=0.95)
    assert not empty.alarm and empty.precision is None and (empty.low, empty.high) == (0, 1)


def test_alarm_is_the_one_sided_bound_below_target():
    # 18/20: one-sided 95 % upper bound 0.982 >= 0.95, no alarm; 14/20: 0.869 < 0.95, alarm
    assert not audit_precision(18, 2, 0.95).alarm
    assert audit_precision(14, 6, 0.95).alarm


@pytest.mark.parametrize(("args", "field"), [((-1, 0, 0.9), "right"), ((1, 1.5, 0.9), "wrong"),
                                             ((1, 1, 1.0), "target")])
def test_audit_rejects_bad_counts(args, field):
    with pytest.raises(InputError) as err:
        audit_precision(*args)
    assert err.value.field == field


def test_first_alarm_matches_audit_precision():
    y = np.array([1] * 10 + [0] * 5 + [1] * 5)
    n = first_alarm(y, 0.95)
    assert n is not None
    assert audit_precision(int(y[:n].sum()), n - int(y[:n].sum()), 0.95).alarm
    right = int(y[: n - 1].sum())
    assert not audit_precision(right, n - 1 - right, 0.95).alarm
    assert first_alarm(np.ones(200), 0.95) is None


ACCEPTED = [{"id": "r", "band": "accept"}, {"id": "s", "band": "review"}]


def test_audit_reviews_counts_audit_samples_of_one_calibration(tmp_path):
    with FeedbackStore(tmp_path) as s:
        for i in range(6):
            s.add(f"q{i}", "accept" if i < 4 else "reject", shown_id="r", audit=True,
                  calibration_id="c1", candidates=ACCEPTED)
        s.add("q9", "reject", shown_id="r", audit=False, calibration_id="c1",
              candidates=ACCEPTED)
        s.add("q8", "reject", shown_id="r", audit=True, calibration_id="c0",
              candidates=ACCEPTED)
        a = audit_reviews(s.reviews(), 0.95, calibration_id="c1")
    assert (a.n, a.right) == (6, 4)


def test_audit_reviews_ignore_audited_top_matches_that_were_not_auto_accepted(tmp_path):
    # the audit samples every band; only its auto-accepted part speaks for the accept band
    with FeedbackStore(tmp_path) as s:
        s.add("q0", "accept", shown_id="r", audit=True, candidates=ACCEPTED)
        s.add("q1", "reject", shown_id="s", audit=True,
              candidates=[{"id": "s", "band": "review"}, {"id": "r", "band": "reject"}])
        s.add("q2", "correct", shown_id="t", corrected_id="r", audit=True,
              candidates=[{"id": "t", "band": "reject"}])
        s.add("q3", "reject", shown_id="r", audit=True)  # no band recorded
        s.add("q4", "reject", shown_id="u", audit=True,
              candidates=[{"id": "u", "band": None}])
        reviews = s.reviews()
    assert [shown_band(r) for r in reviews] == ["accept", "review", "reject", None, None]
    a = audit_reviews(reviews, 0.95)
    assert (a.n, a.right) == (1, 1) and not a.alarm


def test_queue_orders_nearest_band_edge_first():
    p = [0.02, 0.5, 0.88, 0.97, 0.33, 0.21]
    assert review_order(p, accept_at=0.9, reject_below=0.2).tolist() == [5, 2, 3, 4, 0, 1]
    # per-item cut-offs (items from different calibrations) and missing edges
    d = edge_distance([0.5, 0.5, 0.5, 0.6], [0.9, None, 0.55, None], [0.2, 0.4, None, None])
    assert d == pytest.approx([0.3, 0.1, 0.05, 0.1])
    assert review_order([0.7, 0.7, 0.7], 0.9, None).tolist() == [0, 1, 2]  # ties: input order
    with pytest.raises(InputError):
        review_order([1.2], 0.9, 0.1)
    with pytest.raises(InputError):
        review_order([0.5, 0.6], [0.9], 0.1)


def test_audit_draw_is_seeded_and_marks_the_fraction():
    keys = [f"query {i}" for i in range(20000)]

    def drawn(fraction: float, seed: int, n: int = len(keys)) -> np.ndarray:
        return np.array([audit_draw(k, fraction, seed) for k in keys[:n]])

    a = drawn(0.02, 1)
    assert (a == drawn(0.02, 1)).all() and 0.015 < a.mean() < 0.025
    assert (a != drawn(0.02, 2)).any()
    assert not drawn(0.0, 1, 100).any() and drawn(1.0, 1, 100).all()
    with pytest.raises(InputError):
        audit_draw("x", 1.5)


def test_anytime_alarm_spends_the_error_over_looks():
    # 14 of 20 right: alarm for a single look, not when the error is spread over every look
    assert audit_precision(14, 6, 0.95).alarm
    assert not audit_precision(14, 6, 0.95, anytime=True).alarm
    assert audit_precision(60, 20, 0.95, anytime=True).alarm
    y = np.array([1] * 20 + [0] + [1] * 30 + [0, 0, 0] + [1] * 10 + [0] * 30)
    plain, anytime = first_alarm(y, 0.95), first_alarm(y, 0.95, anytime=True)
    assert plain is not None and anytime is not None and anytime > plain
    for at, fires in ((anytime, True), (anytime - 1, False)):
        right = int(y[:at].sum())
        assert audit_precision(right, at - right, 0.95, anytime=True).alarm is fires
