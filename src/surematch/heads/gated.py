"""GatedHead: learns how much each embedding dimension should count."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from surematch.heads.base import Head

GATE_INIT = 3.0  # sigmoid(3) ≈ 0.95: every dimension starts almost fully open


class GatedHead(Head):
    """y = x ⊙ sigmoid(gates), one gate per dimension: x [B, in_dim] -> y [B, in_dim].

    All gates start equal, so after the model's L2 normalisation a fresh head is exactly the
    identity; training can then turn down dimensions that only add noise.
    """

    kind: ClassVar[str] = "gated"

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        if in_dim < 1:
            raise ValueError(f"gated head: in_dim must be at least 1, got {in_dim}")
        self.in_dim = self.out_dim = in_dim
        self.gates = nn.Parameter(torch.full((in_dim,), GATE_INIT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, in_dim]."""
        return x * torch.sigmoid(self.gates)

    def config(self) -> dict[str, Any]:
        return {"in_dim": self.in_dim}
