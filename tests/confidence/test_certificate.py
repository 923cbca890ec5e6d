"""Each calibration states its guarantee sentence: target, confidence, floor, how many
calibration queries and where they came from, the candidate depth, the runtime, the date."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from surematch.confidence.certificate import (
    file_source,
    guarantee_sentence,
    guarantees,
    named_source,
    reviews_source,
)
from surematch.confidence.retrieval import MatchCalibration, fit_match_calibration
from surematch.confidence.store import calibration_document, load_calibration, save_calibration
from surematch.confidence.targets import Targets
from surematch.confidence.verification import fit_pair_calibration


def synthetic(n: int = 1200, seed: int = 0) -> MatchCalibration:
    rng = np.random.default_rng(seed)
    sims = -np.sort(-rng.uniform(0.2, 0.9, size=(n, 5)), axis=1)
    correct = rng.random(n) < expit(6 * (sims[:, 0] - 0.7) + 25 * (sims[:, 0] - sims[:, 1]))
    return fit_match_calibration(sims, correct, groups=[f"r{i // 3}" for i in range(n)],
                                 targets=Targets(0.9, 0.05))


@pytest.fixture(scope="module")
def fitted() -> MatchCalibration:
    return synthetic()


def test_a_calibration_on_a_file_states_its_file_hash_depth_runtime_and_date(
        fitted: MatchCalibration, tmp_path: Path) -> None:
    data = tmp_path / "calib.csv"
    data.write_text("text,expected_id\nnurse,r1\n", encoding="utf-8")
    save_calibration(tmp_path, fitted, "m1", "onnx-int8", file_source(data))
    sentence = guarantees(calibration_document(tmp_path))["retrieval"]
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert fitted.bands.accept_at is not None
    assert sentence == ("auto-accept certified at precision ≥ 0.9 with 95 % confidence, each "
                        "accepted match p ≥ 0.5, for queries like the 1,200 of calib.csv "
                        f"(sha256 {sha[:12]}…), {today}, onnx-int8, candidate depth 2")
    record = calibration_document(tmp_path)["retrieval"]["certificate"]
    assert record["source"]["sha256"] == sha and record["n_certify"] == fitted.bands.n_certify
    assert load_calibration(tmp_path) is not None  # the record does not disturb loading


def test_reviews_pairs_and_nothing_accepted_each_have_their_sentence(
        fitted: MatchCalibration, tmp_path: Path) -> None:
    day = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC).timestamp()
    source = reviews_source(412, 120, [day, day + 31 * 86400], None)
    save_calibration(tmp_path, fitted, "m1", "torch", source)
    said = guarantees(calibration_document(tmp_path))["retrieval"]
    assert "for queries like the 1,200 from 412 reviews (120 audit, 2026-11-02 to " \
           "2026-12-03), " in said
    save_calibration(tmp_path, fitted, "m1", "onnx", named_source("ESCO's new titles"))
    assert "for queries like the 1,200 of ESCO's new titles, " in \
        guarantees(calibration_document(tmp_path))["retrieval"]
    rng = np.random.default_rng(1)
    labels = (rng.random(400) < 0.5).astype(int)
    dist = np.where(labels == 1, rng.normal(0.3, 0.1, 400), rng.normal(0.7, 0.1, 400))
    save_calibration(tmp_path, fit_pair_calibration(dist, labels, targets=Targets(0.9)),
                     "m1", "torch")
    pairs = guarantees(calibration_document(tmp_path))["verification"]
    assert pairs.startswith("auto-accept certified at precision ≥ 0.9 with 95 % confidence")
    assert "for pairs like the 400 calibration pairs (source not recorded)" in pairs
    assert "candidate depth" not in pairs
    entry = {"bands": {**fitted.bands.to_dict(), "accept_at": None}}
    assert guarantee_sentence(entry, "onnx").startswith(
        "nothing is auto-accepted: precision ≥ 0.9 could not be certified with 95 % "
        "confidence on the ")
    assert guarantee_sentence(None).startswith("not calibrated")


def test_a_file_from_before_the_certificate_and_the_floor_loads_and_is_stated(
        fitted: MatchCalibration, tmp_path: Path) -> None:
    entry = fitted.to_dict()
    del entry["bands"]["min_probability"]
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"format": 1, "model_id": "m1", "retrieval": entry, "verification": None}))
    old = load_calibration(tmp_path)
    assert old is not None and old.bands.min_probability is None
    assert old.bands.band(fitted.bands.accept_at) == "accept"
    sentence = guarantees(calibration_document(tmp_path))["retrieval"]
    assert sentence == ("auto-accept certified at precision ≥ 0.9 with 95 % confidence, for "
                        f"queries like the {fitted.bands.n_certify:,} calibration queries "
                        "(source not recorded), date not recorded, torch")
