"""The Encoder interface: turns raw items (texts, images, ids) into vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn


class Encoder(nn.Module):
    """Base class of every encoder.

    Subclasses set `kind` (the name saved in a model folder), `dim` (output width), and
    implement `forward(items) -> [N, dim]` (with gradients when the encoder is fine-tuned),
    `identity()` (a stable string naming the encoder and its weights, the cache key) and
    `config()` (JSON-serialisable arguments that rebuild it with `from_config`).
    """

    kind: ClassVar[str]
    dim: int
    fine_tuned: bool = False  # weights changed from the reference ones: save them with a model

    def forward(self, items: Sequence[Any]) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def identity(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def has_weights(self) -> bool:
        """True when the encoder has parameters of its own that training can change."""
        return any(True for _ in self.parameters())

    @torch.no_grad()
    def encode(self, items: Sequence[Any], batch_size: int = 256) -> torch.Tensor:
        """Encode without gradients, in batches: items [N] -> [N, dim] float32 on the CPU."""
        was_training = self.training
        self.eval()
        try:
            chunks = [self(items[i : i + batch_size]).float().cpu()
                      for i in range(0, len(items), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(chunks) if chunks else torch.zeros(0, self.dim)
