"""Where a batch's encoder features come from: a cached table (frozen) or the encoder (tuned)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from surematch.encoders import EmbeddingCache, Encoder

log = logging.getLogger(__name__)


class FeatureSource:
    """Features [B, E] for row indices into `items`.

    Frozen encoder: every distinct item is encoded once (through the on-disk cache when
    `cache_dir` is not disabled), and batches are rows of an in-memory table.
    Fine-tuned encoder: the encoder runs on the batch's items, with gradients.
    """

    def __init__(self, encoder: Encoder, items: Sequence[Any], *, frozen: bool,
                 cache_dir: Path | None, batch_size: int, use_cache: bool = True) -> None:
        self.encoder, self.items, self.frozen = encoder, list(items), frozen
        self.table: torch.Tensor | None = None
        if frozen:
            self.table = torch.from_numpy(encode_cached(encoder, self.items, cache_dir,
                                                        batch_size, use_cache))

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        if self.table is not None:
            return self.table[rows]
        return self.encoder([self.items[i] for i in rows.tolist()])

    @torch.no_grad()
    def all_features(self, batch_size: int = 256) -> torch.Tensor:
        """Features of every item [N, E], without gradients (for validation)."""
        if self.table is not None:
            return self.table
        return self.encoder.encode(self.items, batch_size=batch_size)


def encode_cached(encoder: Encoder, items: Sequence[Any], cache_dir: Path | None,
                  batch_size: int, use_cache: bool = True) -> np.ndarray:
    """Encode items [N] -> [N, E], each distinct item once, reusing the on-disk cache."""
    from surematch.logs import progress_bar

    def encode(batch: list[Any]) -> np.ndarray:
        out = []
        with progress_bar(True, len(batch), f"encoding {len(batch):,} new items") as advance:
            for s in range(0, len(batch), batch_size):
                out.append(encoder.encode(batch[s: s + batch_size], batch_size).numpy())
                advance(len(out[-1]))
        return np.concatenate(out) if out else np.zeros((0, encoder.dim), np.float32)

    if not use_cache:
        return encode(list(items))
    cache = EmbeddingCache(cache_dir, encoder.identity())
    table = cache.lookup(items, encode)
    log.info("embedding cache %s: %d hits, %d encoded", cache.folder, cache.hits, cache.misses)
    return table
