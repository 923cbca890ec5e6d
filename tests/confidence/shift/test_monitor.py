"""The shift monitor: false alarms held under continuous monitoring on in-distribution
streams, shifts found and named, the form sketch, and the reference file beside the
calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from surematch.confidence.shift.monitor import (
    ALPHA,
    FEATURES,
    ShiftMonitor,
    form_sketch,
    query_sketch,
    shift_message,
)
from surematch.confidence.shift.reference_file import REFERENCE_FILE, load_reference, save_reference
from surematch.errors import InputError


def draw(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """Three features: a continuous one (shifted by `shift` SD), a discrete one with many
    ties, and a bounded one."""
    return {"similarity": rng.normal(shift, 1.0, n),
            "tokens": rng.integers(1, 5, n).astype(float),
            "upper_share": rng.beta(2, 5, n)}


def test_in_distribution_streams_rarely_alarm_when_checked_after_every_query() -> None:
    alarms = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        monitor = ShiftMonitor(draw(rng, 1000), alpha=0.05, seed=seed)
        monitor.update(draw(rng, 2000))  # checked after each of the 2,000 queries
        alarms += monitor.alarm
    assert alarms <= 3  # the bound is 5 % (3 of 60); the measured rate is lower


def test_a_shift_is_found_within_a_few_hundred_queries_and_named() -> None:
    found = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        monitor = ShiftMonitor(draw(rng, 1000), seed=seed)
        monitor.update(draw(rng, 500, shift=0.5))
        found.append(monitor.alarm_at)
        if monitor.alarm:
            top = monitor.top_differences()[0]
            assert top["feature"] == "similarity" and top["direction"] == "higher"
            assert top["live_rank"] > 0.55 and top["live_mean"] > top["calibration_mean"]
    assert sum(a is not None for a in found) >= 19
    result = monitor.result()
    assert result.statistic >= result.threshold and result.n == 500
    assert "SHIFT" in shift_message(result) and "similarity" in shift_message(result)


def test_the_alarm_latches_at_a_threshold_of_log_one_over_alpha() -> None:
    rng = np.random.default_rng(1)
    monitor = ShiftMonitor(draw(rng, 500))
    assert monitor.threshold == pytest.approx(np.log(1 / ALPHA)) and ALPHA <= 0.05
    monitor.update(draw(rng, 300, shift=2.0))
    at = monitor.alarm_at
    assert at is not None and at < 100
    # the rank test's part: the largest log-wealth less log(2 J), J = 3 features
    wealth = max(d["log_wealth"] for d in monitor.top_differences())
    assert monitor.statistic >= wealth - np.log(6) - 1e-3
    monitor.update(draw(rng, 300))  # alike again: the alarm stays, and when it fired
    assert monitor.alarm and monitor.alarm_at == at and monitor.n == 600


def test_small_shifts_in_several_features_are_found_by_the_classifier_looks() -> None:
    found_by_looks = 0
    for seed in range(10):
        rng = np.random.default_rng(200 + seed)
        ref = draw(rng, 1000)
        live = draw(rng, 1000)
        live["tokens"] = live["tokens"] + (rng.random(1000) < 0.12)
        live["upper_share"] = live["upper_share"] + 0.02
        live["similarity"] = live["similarity"] + 0.12
        monitor = ShiftMonitor(ref, seed=seed)
        monitor.update(live)
        wealth = max(d["log_wealth"] for d in monitor.top_differences())
        assert monitor.auc is not None and monitor.auc > 0.5
        found_by_looks += monitor.alarm and wealth < np.log(6 / ALPHA)
    assert found_by_looks >= 5  # alarmed with no single feature's wealth at its level


def test_missing_values_are_skipped_and_thin_features_left_out() -> None:
    rng = np.random.default_rng(2)
    ref = draw(rng, 200)
    ref["probability"] = np.full(200, np.nan)  # uncalibrated: no probabilities
    monitor = ShiftMonitor(ref)
    assert "probability" not in monitor.features
    live = draw(rng, 50)
    live["similarity"][:10] = np.nan
    monitor.update(live)
    counts = {d["feature"]: d["n"] for d in monitor.top_differences(m=10)}
    assert counts["similarity"] == 40 and counts["tokens"] == 50
    with pytest.raises(InputError, match="20 values"):
        ShiftMonitor({"similarity": np.arange(10.0)})
    with pytest.raises(InputError, match="different lengths"):
        monitor.update({"similarity": np.zeros(3), "tokens": np.zeros(2)})


def test_form_sketch_reads_length_tokens_case_and_digits() -> None:
    f = form_sketch(["nurse", "Registered Nurses", "QA-2 tester", ""])
    assert list(f["characters"]) == [5, 17, 11, 0]
    assert list(f["tokens"]) == [1, 2, 2, 0]
    assert list(f["lower_case"]) == [1, 0, 0, 0]
    assert f["capitalised"][1] == 1.0 and f["capitalised"][0] == 0.0
    assert f["digit_share"][2] == pytest.approx(1 / 11)
    assert f["other_share"][2] == pytest.approx(1 / 11)
    assert f["upper_share"][2] == pytest.approx(2 / 8)
    sketch = query_sketch(["a", "b"], [0.9, 0.8], [0.7, np.nan], None)
    assert set(sketch) == set(FEATURES)
    assert sketch["margin"][0] == pytest.approx(0.2) and np.isnan(sketch["margin"][1])
    assert np.isnan(sketch["probability"]).all()


def test_the_reference_belongs_to_the_calibration_it_was_saved_with(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"format": 1, "retrieval": {"threshold": 0.5}, "verification": None}))
    sketch = query_sketch(["nurse", "cook"], [0.9, 0.8], [0.7, 0.75], [0.8, np.nan])
    save_reference(tmp_path, sketch, "calib.csv")
    loaded, info = load_reference(tmp_path)
    assert loaded is not None and info["n"] == 2 and info["source"] == "calib.csv"
    assert loaded["similarity"].tolist() == [0.9, 0.8] and np.isnan(loaded["probability"][1])
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"format": 1, "retrieval": {"threshold": 0.6}, "verification": None}))
    loaded, info = load_reference(tmp_path)  # a new calibration: this reference is stale
    assert loaded is None and "earlier calibration" in info["note"]
    (tmp_path / REFERENCE_FILE).unlink()
    assert load_reference(tmp_path)[0] is None
