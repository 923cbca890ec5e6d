"""The whole model as one torch module for export: token ids -> embedding and confidence."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from surematch.encoders.text import TextEncoder
from surematch.heads import Head


class ExportGraph(nn.Module):
    """input_ids, attention_mask (int64 [B, T]) -> embedding [B, D] (L2-normalised), confidence [B].

    The encoder is the sentence-transformers pipeline of a TextEncoder (transformer, mean
    pooling, and whatever else its modules.json lists); the head and the confidence are the
    model's own, so the graph computes what `SimilarityModel.embed_with_confidence` does.
    Confidence is 1.0 for heads without feature groups.
    """

    def __init__(self, encoder: TextEncoder, head: Head) -> None:
        super().__init__()
        self.st, self.head = encoder.st, head
        tokenizer = encoder.st.tokenizer
        self.token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", [])

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """input_ids, attention_mask [B, T] -> embedding [B, D], confidence [B]."""
        features = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.token_types:  # one segment: the tokenizer would give zeros
            features["token_type_ids"] = torch.zeros_like(input_ids)
        out, confidence = self.head.forward_with_confidence(self.st(features)["sentence_embedding"])
        if confidence is None:
            confidence = torch.ones_like(out[:, 0])
        return F.normalize(out, dim=-1), confidence
