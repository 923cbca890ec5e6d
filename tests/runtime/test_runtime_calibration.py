"""A calibration records the runtime it was fitted on; another runtime runs uncalibrated."""

from pathlib import Path

import numpy as np

from surematch.confidence.retrieval import fit_match_calibration
from surematch.confidence.store import calibration_for_model, save_calibration
from surematch.confidence.targets import Targets


def _calibration():
    rng = np.random.default_rng(0)
    top = rng.uniform(0.4, 1.0, 300)
    sims = np.column_stack([top, top - rng.uniform(0.0, 0.2, 300)])
    correct = rng.random(300) < top
    return fit_match_calibration(sims, correct, targets=Targets(0.9))


def test_a_calibration_is_used_only_with_the_runtime_it_was_fitted_on(tmp_path: Path) -> None:
    save_calibration(tmp_path, _calibration(), "m1", "onnx-int8")
    cal, note = calibration_for_model(tmp_path, "m1", "onnx-int8")
    assert cal is not None and note is None
    cal, note = calibration_for_model(tmp_path, "m1", "torch")
    assert cal is None and "fitted on the onnx-int8 runtime, not torch" in str(note)
    assert "--runtime torch" in str(note)
    cal, note = calibration_for_model(tmp_path, "m2", "onnx-int8")
    assert cal is None and "fitted for model m1" in str(note)


def test_a_calibration_without_a_recorded_runtime_is_a_torch_one(tmp_path: Path) -> None:
    save_calibration(tmp_path, _calibration(), "m1")
    assert calibration_for_model(tmp_path, "m1", "torch")[0] is not None
    assert calibration_for_model(tmp_path, "m1", "onnx")[0] is None
