"""`load_model`: the one loader of a model folder; it picks the runtime and imports torch only
for the torch runtime."""

from __future__ import annotations

from pathlib import Path

from surematch.embedder import Embedder
from surematch.folder import DEFAULT_RUNTIME, read_model_meta, resolve_runtime


def load_model(folder: str | Path, runtime: str = DEFAULT_RUNTIME) -> Embedder:
    """The model saved in `folder`, run by `runtime`: "auto" (default: the fastest the folder
    has, onnx-int8, then onnx, then torch), "torch" (a SimilarityModel), "onnx" or "onnx-int8"
    (an OnnxModel over the graph `surematch export` wrote). An ONNX runtime never imports
    torch: a process that only matches stays about 200 MB smaller."""
    folder = Path(folder)
    read_model_meta(folder)
    chosen = resolve_runtime(folder, runtime)
    if chosen != "torch":
        from surematch.runtime.onnx_model import OnnxModel

        return OnnxModel(folder, chosen)
    from surematch.model import SimilarityModel

    return SimilarityModel.load(folder)
