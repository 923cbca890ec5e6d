"""SupConLoss: supervised contrastive loss (L_out) over cosine similarities of groups."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from surematch.distances import cosine_similarity
from surematch.losses._batch import check_groups, connected_zero, group_masks


class SupConLoss(nn.Module):
    """Supervised contrastive loss, the L_out form of Khosla et al. (2020).

    With cosine similarities ``c`` and temperature ``τ``, for every anchor i that has at least
    one positive P(i)::

        loss_i = mean_{p ∈ P(i)} -log( exp(c_ip/τ) / Σ_{a ≠ i} exp(c_ia/τ) )

    and the loss is the mean over those anchors. The denominator holds every other row,
    positives included, so each anchor's positives compete for one shared softmax. A batch
    with no positive pair or no negative pair gives 0 (without negatives there is nothing to
    contrast against).

    Args:
        temperature: ``τ``; smaller is sharper (0.1 default; the paper uses 0.07 to 0.1).

    Inputs: ``embeddings [B, D]`` (normalised here), ``groups [B]`` integer ids.

    Fits: labelled groups with several members per batch (classes, entities with many
    aliases). Relations: `MultipleNegativesRankingLoss` gives each positive its own
    denominator without the other positives; `TripletLoss` uses margins instead of a softmax.

    Example::

        loss = SupConLoss(temperature=0.1)
        value = loss(encoder(texts), torch.tensor([0, 0, 0, 1, 1, 2]))
    """

    input_kind: ClassVar[Literal["groups", "pairs"]] = "groups"

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"SupConLoss: temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, embeddings: Tensor, groups: Tensor) -> Tensor:
        """Mean L_out over anchors with positives; a scalar `[]`, 0 without pos or neg."""
        check_groups(type(self).__name__, embeddings, groups)
        pos, neg = group_masks(groups)
        if not bool(pos.any()) or not bool(neg.any()):
            return connected_zero(embeddings)
        logits = cosine_similarity(embeddings, embeddings) / self.temperature  # [B, B]
        eye = torch.eye(logits.shape[0], dtype=torch.bool, device=logits.device)
        denom = logits.masked_fill(eye, float("-inf")).logsumexp(dim=1, keepdim=True)  # [B, 1]
        log_prob = (logits - denom).masked_fill(~pos, 0.0)  # keep positives only
        n_pos = pos.sum(1)  # [B]
        anchors = n_pos > 0
        per_anchor = -log_prob.sum(1)[anchors] / n_pos[anchors]
        return per_anchor.mean()

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
