"""TripletLoss: anchor-positive-negative margins mined from groups, batch-all or batch-hard."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from surematch.distances import get_distance
from surematch.losses._batch import check_groups, connected_zero, group_masks

Mining = Literal["batch_all", "batch_hard"]


def _chunk(close: Tensor, pos: Tensor, neg: Tensor, margin: float) -> tuple[Tensor, Tensor]:
    """Sum and count of positive relu(c_an - c_ap + margin) over valid triplets of c anchors.

    `close [c, B]`, `pos [c, B]`, `neg [c, B]` -> (`[]` float, `[]` long).
    """
    tri = close[:, None, :] - close[:, :, None] + margin  # [c, B (p), B (n)]
    valid = pos[:, :, None] & neg[:, None, :]
    losses = F.relu(tri).masked_fill(~valid, 0.0)
    return losses.sum(), (losses > 0).sum()


class TripletLoss(nn.Module):
    """Triplet margin loss with online mining inside the batch (Hermans et al., 2017).

    Every row is an anchor; rows of its group are positives, rows of other groups negatives.
    With closeness ``c`` (higher = closer) each triplet costs ``relu(c_an - c_ap + margin)``.

    - ``"batch_all"``: every valid triplet (a, p, n); the loss is the mean over the triplets
      with a positive loss ("average non-zero", as pytorch-metric-learning's reducer), so
      easy triplets do not dilute the signal. Memory is capped by walking the anchors in chunks
      of at most ``max_chunk_elements`` triplets, each checkpointed so autograd keeps only
      one chunk at a time; time is O(B³).
    - ``"batch_hard"``: per anchor, its farthest positive and closest negative; the loss is the
      mean over anchors that have at least one positive and one negative.

    Args:
        mining: ``"batch_all"`` or ``"batch_hard"``.
        margin: wanted gap in closeness between positive and negative (0.2 suits cosine).
        distance: any name from `surematch.distances`; scores go through ``.closeness()``.
        max_chunk_elements: batch-all memory cap, in triplet entries per chunk.

    Inputs: ``embeddings [B, D]`` (need not be normalised), ``groups [B]`` integer ids.

    Fits: labelled groups (classes, entity ids) with several members per group in each batch.
    Relations: `MultipleNegativesRankingLoss` and `SupConLoss` weigh all negatives at once
    with a softmax; `AllPairsLoss` compares pairs across anchors, not within one anchor.

    Example::

        loss = TripletLoss(mining="batch_hard", margin=0.2)
        value = loss(encoder(texts), torch.tensor([0, 0, 1, 1, 2, 2]))
    """

    input_kind: ClassVar[Literal["groups", "pairs"]] = "groups"

    def __init__(self, mining: str = "batch_all", margin: float = 0.2,
                 distance: str = "cosine", max_chunk_elements: int = 4_000_000) -> None:
        super().__init__()
        if mining not in ("batch_all", "batch_hard"):
            raise ValueError(f"TripletLoss: mining must be 'batch_all' or 'batch_hard', "
                             f"got {mining!r}")
        if margin < 0:
            raise ValueError(f"TripletLoss: margin must be >= 0, got {margin}")
        if max_chunk_elements < 1:
            raise ValueError(f"TripletLoss: max_chunk_elements must be >= 1, "
                             f"got {max_chunk_elements}")
        self.mining: Mining = mining  # type: ignore[assignment]
        self.margin = float(margin)
        self.distance = get_distance(distance)
        self.max_chunk_elements = int(max_chunk_elements)

    def forward(self, embeddings: Tensor, groups: Tensor) -> Tensor:
        """Triplet loss of the batch; a scalar `[]`, 0 when no anchor has both kinds."""
        check_groups(type(self).__name__, embeddings, groups)
        pos, neg = group_masks(groups)
        has_both = pos.any(1) & neg.any(1)  # [B]
        if not bool(has_both.any()):
            return connected_zero(embeddings)
        close = self.distance.closeness(self.distance.pairwise(embeddings, embeddings))  # [B, B]
        if self.mining == "batch_hard":
            hardest_pos = close.masked_fill(~pos, float("inf")).amin(1)  # [B]
            hardest_neg = close.masked_fill(~neg, float("-inf")).amax(1)
            gap = hardest_neg[has_both] - hardest_pos[has_both] + self.margin
            return F.relu(gap).mean()
        return self._batch_all(close, pos, neg)

    def _batch_all(self, close: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        b = close.shape[0]
        chunk = max(1, self.max_chunk_elements // (b * b))
        # Recompute each chunk in backward so autograd never holds more than one chunk.
        recompute = torch.is_grad_enabled() and close.requires_grad and chunk < b
        total = close.new_zeros(())
        count = torch.zeros((), dtype=torch.long, device=close.device)
        for s in range(0, b, chunk):
            rows = slice(s, s + chunk)
            args = (close[rows], pos[rows], neg[rows], self.margin)
            part, n = checkpoint(_chunk, *args, use_reentrant=False) if recompute else _chunk(*args)
            total, count = total + part, count + n
        # No triplet violates the margin: total is an exact 0 that is still connected.
        return total / count.clamp_min(1)

    def extra_repr(self) -> str:
        return f"mining={self.mining!r}, margin={self.margin}, distance={self.distance.name!r}"
