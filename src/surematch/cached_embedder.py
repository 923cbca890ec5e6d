"""Text embeddings kept on disk by model id, runtime and text, so `calibrate`, `evaluate` and
`index` embed each reference once between them (no pickle: safetensors shards)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surematch.embedder import Embedder
from surematch.encoders.cache import EmbeddingCache, default_cache_dir


def reference_cache_dir() -> Path:
    """`$SUREMATCH_CACHE_DIR/references` (default `~/.cache/surematch/embeddings/references`)."""
    return default_cache_dir() / "references"


class CachedEmbedder:
    """`model`, but texts it embedded before (in this process or an earlier one, for this
    model id and runtime) are read from `folder` instead of being embedded again. A row is
    the embedding and its confidence, so `embed` and `embed_with_confidence` share it."""

    def __init__(self, model: Embedder, folder: Path | None = None) -> None:
        self.model = model
        self.cache = EmbeddingCache(folder or reference_cache_dir(),
                                    f"{model.identity()}|{model.runtime}|{model.dim}")

    @property
    def folder(self) -> Path | None:
        return self.model.folder

    @property
    def runtime(self) -> str:
        return self.model.runtime

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def has_confidence(self) -> bool:
        return self.model.has_confidence

    def identity(self) -> str:
        return self.model.identity()

    def embed_with_confidence(self, items: Sequence[Any], batch_size: int = 256,
                              ) -> tuple[np.ndarray, np.ndarray]:
        if not items or not all(isinstance(t, str) for t in items):
            return self.model.embed_with_confidence(items, batch_size)

        def encode(texts: list[Any]) -> np.ndarray:
            vectors, confidence = self.model.embed_with_confidence(texts, batch_size)
            return np.hstack([np.asarray(vectors, np.float32),
                              np.asarray(confidence, np.float32)[:, None]])

        rows = self.cache.lookup(list(items), encode)
        return rows[:, :-1], rows[:, -1]

    def embed(self, items: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        return self.embed_with_confidence(items, batch_size)[0]
