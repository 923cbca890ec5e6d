"""Encoders turn raw items into vectors: text, small images, or vectors you bring."""

from __future__ import annotations

from typing import Any

from surematch.encoders.base import Encoder
from surematch.encoders.cache import EmbeddingCache, default_cache_dir


def encoder_from_config(kind: str, config: dict[str, Any]) -> Encoder:
    """Rebuild an encoder from its saved kind and `config()` (weights are loaded separately)."""
    if kind == "text":
        from surematch.encoders.text import TextEncoder

        return TextEncoder(**config)
    if kind == "image_cnn":
        from surematch.encoders.image import ImageEncoder

        return ImageEncoder(**config)
    if kind == "vectors":
        from surematch.encoders.vectors import PrecomputedVectors

        return PrecomputedVectors(dim=config["dim"])  # embeds the vectors it is given
    raise ValueError(f"unknown encoder kind {kind!r}; known: text, image_cnn, vectors")


__all__ = ["EmbeddingCache", "Encoder", "default_cache_dir", "encoder_from_config"]
