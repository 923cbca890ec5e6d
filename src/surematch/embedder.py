"""What matching needs of a model (Embedder), the model folder's format, and loading a folder
by runtime without importing torch unless the runtime is torch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

import surematch
from surematch.errors import ModelFormatError

FORMAT_VERSION = 1
CONFIG_FILE = "surematch.json"


class Embedder(Protocol):
    """What matching needs of a model, whichever runtime runs it (torch or an ONNX graph)."""

    @property
    def folder(self) -> Path | None: ...

    @property
    def runtime(self) -> str:
        """"torch", "onnx" or "onnx-int8": a calibration is fitted for one runtime."""

    @property
    def dim(self) -> int: ...

    @property
    def has_confidence(self) -> bool: ...

    def identity(self) -> str: ...

    def embed(self, items: Sequence[Any], batch_size: int = 256) -> np.ndarray: ...

    def embed_with_confidence(self, items: Sequence[Any], batch_size: int = 256
                              ) -> tuple[np.ndarray, np.ndarray]: ...


def read_model_meta(folder: Path) -> dict[str, Any]:
    """The folder's `surematch.json`, checked for a format this version can read."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelFormatError(f"{folder} is not a surematch model folder (no {CONFIG_FILE})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: not valid JSON ({exc})") from None
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{folder}: model format version {version!r}, but surematch {surematch.__version__} "
            f"reads version {FORMAT_VERSION}; retrain or use the surematch version that wrote it")
    return meta


def load_embedder(folder: str | Path, runtime: str = "auto") -> Embedder:
    """The model in `folder` run by `runtime` (see `SimilarityModel.load`). An ONNX runtime
    never imports torch: a process that only matches stays about 200 MB smaller."""
    from surematch.runtime.manifest import resolve_runtime
    from surematch.runtime.onnx_model import OnnxModel

    folder = Path(folder)
    read_model_meta(folder)
    chosen = resolve_runtime(folder, runtime)
    if chosen != "torch":
        return OnnxModel(folder, chosen)
    from surematch.model import SimilarityModel

    return SimilarityModel.load(folder)
