"""ContrastiveLoss: pull similar pairs together, push dissimilar ones past a margin."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch.nn.functional as F
from torch import Tensor, nn

from surematch.distances import get_distance
from surematch.losses._batch import check_pairs, connected_zero


class ContrastiveLoss(nn.Module):
    """Contrastive loss (Hadsell, Chopra & LeCun, 2006) over labelled pairs.

    For each pair with distance ``d`` and label ``y``::

        loss = y * d² + (1 - y) * relu(margin - d)²

    averaged over the batch. Similar pairs (``y = 1``) are pulled together; dissimilar pairs
    (``y = 0``) are pushed apart until they are at least ``margin`` away, then left alone. A
    score between 0 and 1 weights the two terms. Unlike sentence-transformers' version there
    is no factor 1/2.

    Args:
        margin: dissimilar pairs closer than this are penalised. The default 0.5 suits
            ``"cosine"`` (range [0, 2]); pick it on the scale of the chosen distance.
        distance: name from `surematch.distances` with direction "distance" (``"cosine"``,
            ``"euclidean"``, ``"euclidean_l2"``, ``"angular"``); ``"dot"`` is a similarity with
            no natural zero and is refused.

    Inputs:
        ``a [B, D]``, ``b [B, D]``: embeddings of both sides of each pair (row i with row i).
        ``labels [B]`` float: 1 similar, 0 dissimilar, or a similarity score in [0, 1].

    Fits: pair data (duplicate / not duplicate, match / no match), including explicit hard
    negatives. Relations: `TripletLoss`, `MultipleNegativesRankingLoss` and `SupConLoss` need
    group ids instead and make many comparisons per batch; `AllPairsLoss` ranks every pair.

    Example::

        loss = ContrastiveLoss(margin=0.5)
        value = loss(encoder(left_texts), encoder(right_texts), torch.tensor([1.0, 0.0]))
        value.backward()
    """

    input_kind: ClassVar[Literal["groups", "pairs"]] = "pairs"

    def __init__(self, margin: float = 0.5, distance: str = "cosine") -> None:
        super().__init__()
        self.distance = get_distance(distance)
        if self.distance.direction != "distance":
            raise ValueError(f"ContrastiveLoss needs a distance, not the similarity {distance!r}; "
                             "use 'cosine', 'euclidean', 'euclidean_l2' or 'angular'")
        if margin < 0:
            raise ValueError(f"ContrastiveLoss: margin must be >= 0, got {margin}")
        self.margin = float(margin)

    def forward(self, a: Tensor, b: Tensor, labels: Tensor) -> Tensor:
        """Mean contrastive loss over the B pairs; a scalar `[]`."""
        check_pairs(type(self).__name__, a, b, labels)
        if a.shape[0] == 0:
            return connected_zero(a, b)
        d = self.distance.paired(a, b)
        y = labels.to(d.dtype)
        return (y * d.pow(2) + (1.0 - y) * F.relu(self.margin - d).pow(2)).mean()

    def extra_repr(self) -> str:
        return f"margin={self.margin}, distance={self.distance.name!r}"
