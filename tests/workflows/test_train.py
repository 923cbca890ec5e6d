"""`train_model`: a text model is written with its exported graphs by default, so every later
command runs the fast runtime without being told; `export=False` leaves the torch model only."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.config import Config
from surematch.folder import available_runtimes
from surematch.loader import load_model
from surematch.workflows.train import train_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    root = tmp_path_factory.mktemp("train")
    save_tiny_text_model(root)
    rows = [f"{t},{g}" for g in range(8) for t in (f"job {g} a", f"job {g} b", f"work {g}")]
    (root / "groups.csv").write_text("text,group\n" + "\n".join(rows) + "\n")
    config = Config.model_validate({
        "data": {"held_out_fraction": 0.0}, "head": [{"kind": "skip"}],
        "encoder": {"model": str(root / "st")},
        "train": {"epochs": 1, "groups_per_batch": 4, "per_group": 2}})
    return root, config


@pytest.mark.parametrize(("export", "runtimes"), [(True, ["onnx-int8", "onnx", "torch"]),
                                                  (False, ["torch"])])
def test_training_exports_the_fast_runtime_by_default(setup, export: bool,
                                                      runtimes: list[str]) -> None:
    root, config = setup
    out = root / f"model-{export}"
    result = train_model([root / "groups.csv"], out, config, progress=False, export=export)
    assert list(result.runtimes) == runtimes == available_runtimes(out)
    assert load_model(out).runtime == runtimes[0]  # the default picks the fastest
