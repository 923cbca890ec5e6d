"""The service states what its calibration certifies (GET /v1/calibration) and applies the
per-match floor it was started with (serve --min-probability)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.tiny_text_model import save_calibrated_tiny_index

from surematch.service import create_app

QUERIES = [f"{a} {b}" for a in ("nurse", "baker", "pilot", "chef", "miner") for b in
           ("", "truck", "of bread", "driver", "x")]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("guarantee")
    source = root / "calib.csv"
    source.write_text("text,expected_id\nnurse,r0\n", encoding="utf-8")
    return (*save_calibrated_tiny_index(root, source), source)


def test_get_calibration_states_the_guarantee_sentence(calibrated) -> None:
    folder, where, source = calibrated
    with TestClient(create_app(folder, where)) as client:
        cal = client.get("/v1/calibration").json()
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert cal["guarantee"] == cal["guarantees"]["retrieval"]
    assert cal["guarantee"].startswith("auto-accept certified at precision ≥ 0.8 with 95 % "
                                       "confidence, each accepted match p ≥ 0.5, for queries "
                                       f"like the 320 of calib.csv (sha256 {sha[:12]}…), ")
    assert cal["guarantee"].endswith(", torch, candidate depth 2")
    assert cal["retrieval"]["certificate"]["source"]["sha256"] == sha


def test_the_floor_the_server_is_started_with_holds_for_every_accepted_match(
        calibrated) -> None:
    folder, where, _ = calibrated
    accepted = {}
    for floor in (None, 0.9):
        with TestClient(create_app(folder, where, min_probability=floor)) as client:
            results = client.post("/v1/match", json={"queries": QUERIES, "k": 3}).json()
        accepted[floor] = [m["probability"] for r in results["results"] for m in r["matches"]
                           if m["band"] == "accept"]
    assert accepted[None] and min(accepted[None]) >= 0.5  # the calibrated floor
    assert min(accepted[None]) < 0.9  # so the served floor has something to stop
    assert accepted[0.9] and min(accepted[0.9]) >= 0.9
    assert len(accepted[0.9]) < len(accepted[None])
