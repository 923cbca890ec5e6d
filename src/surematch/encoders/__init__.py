"""Encoders turn raw items into vectors: text, small images, or vectors you bring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from surematch.encoders.base import Encoder
from surematch.encoders.cache import EmbeddingCache, default_cache_dir
from surematch.registry import Registry


def _text(config: dict[str, Any]) -> Encoder:
    from surematch.encoders.text import TextEncoder

    return TextEncoder(**config)


def _image(config: dict[str, Any]) -> Encoder:
    from surematch.encoders.image import ImageEncoder

    return ImageEncoder(**config)


def _vectors(config: dict[str, Any]) -> Encoder:
    from surematch.encoders.vectors import PrecomputedVectors

    return PrecomputedVectors(dim=config["dim"])  # embeds the vectors it is given


# kind -> builder from the saved `config()`; builders import their libraries when called
ENCODERS: Registry[Callable[[dict[str, Any]], Encoder]] = Registry(
    "encoder kind", "kinds", option="encoder.kind")
ENCODERS.add("text", _text)
ENCODERS.add("image_cnn", _image)
ENCODERS.add("vectors", _vectors)


def encoder_from_config(kind: str, config: dict[str, Any]) -> Encoder:
    """Rebuild an encoder from its saved kind and `config()` (weights are loaded separately)."""
    return ENCODERS[kind](config)


__all__ = ["ENCODERS", "EmbeddingCache", "Encoder", "default_cache_dir", "encoder_from_config"]
