"""AllPairsLoss: every negative pair of the batch ranked below every positive pair, exactly."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from surematch.distances import get_distance
from surematch.losses._batch import check_groups, connected_zero


def mean_pair_hinge(pos: Tensor, neg: Tensor, margin: float, over: str = "all") -> Tensor:
    """Mean of relu(n - p + margin) over all P·N combinations, without the [P, N] matrix.

    `over="violating"` averages over the combinations that violate the margin instead (the
    "average non-zero" reduction): the loss keeps its strength as training succeeds.

    `pos [P]`, `neg [N]` -> `[]`. Sorting the positives, a negative n is penalised by the k
    positives below ``t = n + margin`` (found by searchsorted) by ``k·t - Σ those positives``
    (a prefix sum). Works in float64 so prefix sums of millions of scores do not cancel;
    gradients reach both sides (sort and cumsum carry them). O((P + N) log P) time.
    """
    sorted_pos = pos.double().sort().values  # [P]
    prefix = torch.cat([sorted_pos.new_zeros(1), sorted_pos.cumsum(0)])  # [P + 1]
    t = neg.double() + margin  # [N]
    k = torch.searchsorted(sorted_pos.detach(), t.detach(), side="left")  # [N], #pos < t
    total = (k.to(t.dtype) * t - prefix[k]).sum()
    count = k.sum().clamp_min(1) if over == "violating" else pos.numel() * neg.numel()
    return (total / count).to(pos.dtype)


class AllPairsLoss(nn.Module):
    """All-pairs ranking loss: each negative pair must score below each positive pair.

    Every pair of rows (i < j) in the batch is scored by closeness ``c`` (higher = closer) and
    called positive (same group) or negative. The loss is the mean, over every combination of a
    negative pair n and a positive pair p that violates the margin, of
    ``relu(c_n - c_p + margin)`` (combinations already in order add nothing): one global threshold
    should separate matches from non-matches, which is what a calibrated match/no-match
    decision needs. A batch of B rows gives about B²/2 pair scores (not B) and up to B⁴/16
    combinations, computed exactly by sorting and prefix sums in O(B² log B) time and O(B²)
    memory (see `mean_pair_hinge`); B = 3000 is fine.

    Args:
        margin: wanted gap in closeness between any positive and any negative pair.
        distance: any name from `surematch.distances`; scores go through ``.closeness()``.

    Inputs: ``embeddings [B, D]`` (need not be normalised), ``groups [B]`` integer ids.

    Fits: matching with a single global threshold (deduplication, entity resolution), with
    some groups of two or more rows in each batch. Relations: `TripletLoss` compares pairs
    sharing an anchor only, so distances stay comparable per anchor, not globally;
    `ContrastiveLoss` fixes absolute margins on labelled pairs instead of ranking them.

    Example::

        loss = AllPairsLoss(margin=0.1)
        value = loss(encoder(texts), torch.tensor([0, 0, 1, 1, 2, 3]))
    """

    input_kind: ClassVar[Literal["groups", "pairs"]] = "groups"

    def __init__(self, margin: float = 0.1, distance: str = "cosine") -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"AllPairsLoss: margin must be >= 0, got {margin}")
        self.margin = float(margin)
        self.distance = get_distance(distance)

    def forward(self, embeddings: Tensor, groups: Tensor) -> Tensor:
        """Mean pair-ranking hinge of the batch; a scalar `[]`, 0 without pos or neg pairs."""
        check_groups(type(self).__name__, embeddings, groups)
        b = groups.shape[0]
        upper = torch.ones(b, b, dtype=torch.bool, device=groups.device).triu(diagonal=1)
        same = groups[:, None] == groups[None, :]
        pos_mask, neg_mask = same & upper, ~same & upper
        if not bool(pos_mask.any()) or not bool(neg_mask.any()):
            return connected_zero(embeddings)
        close = self.distance.closeness(self.distance.pairwise(embeddings, embeddings))  # [B, B]
        return mean_pair_hinge(close[pos_mask], close[neg_mask], self.margin, over="violating")

    def extra_repr(self) -> str:
        return f"margin={self.margin}, distance={self.distance.name!r}"
