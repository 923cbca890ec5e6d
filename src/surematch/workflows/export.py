"""Export a saved model as ONNX graphs beside it (see `surematch.runtime`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export(model_dir: Path) -> dict[str, Any]:
    """Load the torch model of `model_dir` and write model.onnx, model.int8.onnx and
    runtime.json into the folder; returns what runtime.json records."""
    from surematch.model import SimilarityModel
    from surematch.runtime.export import export_model

    return export_model(SimilarityModel.load(model_dir), model_dir)
