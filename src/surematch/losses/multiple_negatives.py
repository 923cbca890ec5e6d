"""MultipleNegativesRankingLoss: InfoNCE over groups, other groups in the batch are negatives."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch.nn.functional as F
from torch import Tensor, nn

from surematch.distances import get_distance
from surematch.losses._batch import check_groups, connected_zero, group_masks


class MultipleNegativesRankingLoss(nn.Module):
    """In-batch negatives ranking loss (InfoNCE; Henderson et al., 2017; van den Oord, 2018).

    For every ordered positive pair (i, j), i ≠ j in the same group, with closeness ``c``::

        loss_ij = -log( exp(s·c_ij) / (exp(s·c_ij) + Σ_{k: group_k ≠ group_i} exp(s·c_ik)) )

    and the loss is the mean over all positive pairs. Rows of the anchor's own group other than
    j are left out of the denominator: they are positives, not negatives (unlike
    sentence-transformers' version, which treats every other in-batch row as a negative).
    Computed with masked logsumexp, so large scales stay finite.

    Args:
        scale: inverse temperature ``s`` applied to the closeness (20 suits cosine).
        distance: any name from `surematch.distances`; scores go through ``.closeness()``, so for
            cosine the logits are ``s·(cos - 1)``, which gives the same softmax as ``s·cos``.

    Inputs: ``embeddings [B, D]`` (need not be normalised), ``groups [B]`` integer ids.

    Fits: groups of two or more equivalent texts (paraphrases, query-answer, entity aliases)
    with many groups per batch; larger batches give more negatives. Relations: `SupConLoss`
    is its multi-positive cousin (all positives share one denominator); `TripletLoss` uses one
    margin per triplet instead of a softmax; `ContrastiveLoss` needs labelled pairs.

    Example::

        loss = MultipleNegativesRankingLoss(scale=20.0)
        value = loss(encoder(texts), torch.tensor([0, 0, 1, 1, 2, 2]))
    """

    input_kind: ClassVar[Literal["groups", "pairs"]] = "groups"

    def __init__(self, scale: float = 20.0, distance: str = "cosine") -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"MultipleNegativesRankingLoss: scale must be > 0, got {scale}")
        self.scale = float(scale)
        self.distance = get_distance(distance)

    def forward(self, embeddings: Tensor, groups: Tensor) -> Tensor:
        """Mean InfoNCE loss over the positive pairs; a scalar `[]`, 0 without pos or neg."""
        check_groups(type(self).__name__, embeddings, groups)
        pos, neg = group_masks(groups)
        # A row lacks negatives only if the whole batch is one group, so checking once suffices.
        if not bool(pos.any()) or not bool(neg.any()):
            return connected_zero(embeddings)
        close = self.distance.closeness(self.distance.pairwise(embeddings, embeddings))  # [B, B]
        logits = self.scale * close
        neg_lse = logits.masked_fill(~neg, float("-inf")).logsumexp(dim=1)  # [B]
        # -log(e^x / (e^x + e^N)) = log(1 + e^(N - x)) = softplus(N - x)
        per_pair = F.softplus(neg_lse[:, None] - logits)  # [B, B]
        return per_pair[pos].mean()

    def extra_repr(self) -> str:
        return f"scale={self.scale}, distance={self.distance.name!r}"
