"""LinearHead: one linear map, identity at the start when square."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from surematch.heads.base import Head


class LinearHead(Head):
    """y = W x (+ b): x [B, in_dim] -> y [B, out_dim].

    Square heads start as the identity (and a zero bias), so they start at the encoder's own
    quality; other shapes start semi-orthogonal, which keeps the geometry of the input as well
    as a projection can (a random rotation onto fewer dimensions, or an isometric embedding
    into more).
    """

    kind: ClassVar[str] = "linear"

    def __init__(self, in_dim: int, out_dim: int | None = None, bias: bool = False) -> None:
        super().__init__()
        out_dim = in_dim if out_dim is None else out_dim
        if in_dim < 1 or out_dim < 1:
            raise ValueError(f"linear head: dimensions must be >= 1, got {in_dim} -> {out_dim}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.linear = nn.Linear(in_dim, out_dim, bias=bias)
        with torch.no_grad():
            if in_dim == out_dim:
                nn.init.eye_(self.linear.weight)
            else:
                nn.init.orthogonal_(self.linear.weight)
            if self.linear.bias is not None:
                nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, out_dim]."""
        return self.linear(x)

    def config(self) -> dict[str, Any]:
        bias = self.linear.bias is not None
        return {"in_dim": self.in_dim, "out_dim": self.out_dim, "bias": bias}
