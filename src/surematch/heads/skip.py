"""SkipConnectionHead: the encoder's output plus a small gated correction, starting at identity."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from surematch.heads.base import Head

GATE_INIT = -2.0  # sigmoid(-2) ≈ 0.12: the correction starts small, the head near identity


class SkipConnectionHead(Head):
    """y = x + sigmoid(gates) ⊙ fc(dropout(x)): x [B, in_dim] -> y [B, in_dim].

    The gates start at -2 and the fc bias at zero, so a fresh head is close to the identity
    (||y - x|| is under a tenth of ||x|| for typical inputs): on a frozen encoder, training
    starts from the encoder's own quality and only learns a correction.
    """

    kind: ClassVar[str] = "skip"

    def __init__(self, in_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        if in_dim < 1:
            raise ValueError(f"skip head: in_dim must be at least 1, got {in_dim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"skip head: dropout must be in [0, 1), got {dropout}")
        self.in_dim = self.out_dim = in_dim
        self.dropout_p = float(dropout)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, in_dim)
        self.gates = nn.Parameter(torch.full((in_dim,), GATE_INIT))
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, in_dim]."""
        return x + torch.sigmoid(self.gates) * self.fc(self.dropout(x))

    def config(self) -> dict[str, Any]:
        return {"in_dim": self.in_dim, "dropout": self.dropout_p}
