"""Head: the base every head shares, owning the confidence read-out of an embedding."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn


class Head(nn.Module):
    """x [B, in_dim] -> y [B, out_dim], and how sure the head is of each row.

    Subclasses set `kind` (the registry name saved in a model folder), `in_dim`, `out_dim`,
    implement `forward` and `config()` (JSON arguments that rebuild the head). A head that
    can read confidence out of its input overrides `has_confidence` and
    `forward_with_confidence`; a stack passes the question to its last head, nested or not.
    """

    kind: ClassVar[str]
    in_dim: int
    out_dim: int

    def config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def has_confidence(self) -> bool:
        """Whether `forward_with_confidence` gives a confidence (else None)."""
        return False

    def forward_with_confidence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [B, in_dim] -> (y [B, out_dim], confidence [B] in [0, 1], or None: no read-out)."""
        return self(x), None


def group_margin_confidence(probs: torch.Tensor) -> torch.Tensor:
    """Group probabilities [B, G, K] -> confidence [B]: the mean over groups of the margin
    between the top two probabilities, in [0, 1]. It runs inside the model, so an exported
    graph computes it too.

    The margin measures the ambiguity that matters for matching, being torn between two
    values of a feature, and ignores how the rest of the probability is spread over values
    no one would pick (which entropy counts). The mean lets one uncertain group (a feature
    the text does not state) lower the confidence without erasing it."""
    top2 = probs.topk(2, dim=-1).values
    return (top2[..., 0] - top2[..., 1]).mean(-1).clamp(0.0, 1.0)
