"""The whole model as one torch module for export: token ids -> embedding and confidence."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from surematch.encoders.text import TextEncoder
from surematch.heads import find_feature_groups, heads_before
from surematch.heads.feature_groups import FeatureGroupHead


def margin_confidence(probs: torch.Tensor) -> torch.Tensor:
    """Group probabilities [B, G, K] -> confidence [B]: mean over groups of top1 - top2, in [0, 1]
    (what `surematch.confidence.embedding.embedding_confidence` computes by default)."""
    top2 = probs.topk(2, dim=-1).values
    return (top2[..., 0] - top2[..., 1]).mean(dim=-1).clamp(0.0, 1.0)


class ExportGraph(nn.Module):
    """input_ids, attention_mask (int64 [B, T]) -> embedding [B, D] (L2-normalised), confidence [B].

    The encoder is the sentence-transformers pipeline of a TextEncoder (transformer, mean
    pooling, and whatever else its modules.json lists); the head and the confidence are the
    model's own, so the graph computes what `SimilarityModel.embed_with_confidence` does.
    Confidence is 1.0 for heads without feature groups.
    """

    def __init__(self, encoder: TextEncoder, head: nn.Module) -> None:
        super().__init__()
        self.st, self.head = encoder.st, head
        self.groups: FeatureGroupHead | None = find_feature_groups(head)
        self.before = nn.ModuleList(heads_before(head, self.groups) or []) if self.groups else None
        tokenizer = encoder.st.tokenizer
        self.token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """input_ids, attention_mask [B, T] -> embedding [B, D], confidence [B]."""
        features = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.token_types:  # one segment: the tokenizer would give zeros
            features["token_type_ids"] = torch.zeros_like(input_ids)
        x = self.st(features)["sentence_embedding"]
        embedding = F.normalize(self.head(x), dim=-1)
        if self.groups is None or self.before is None:
            return embedding, torch.ones_like(embedding[:, 0])
        for module in self.before:
            x = module(x)
        return embedding, margin_confidence(self.groups.group_probabilities(x))
