"""What matching needs of a model (Embedder), whichever runtime runs it; no torch here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np


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
