"""Tokenising texts for an exported graph with the fast Rust tokenizer from tokenizer.json."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from surematch.errors import ModelFormatError


class TextTokenizer:
    """texts [N] -> input_ids, attention_mask (int64 [N, T]), T the longest in the batch.

    Truncates to `max_seq_length` tokens and pads with `pad_id`, as the sentence-transformers
    tokenizer does for the torch model.
    """

    def __init__(self, path: Path, max_seq_length: int, pad_id: int, pad_token: str) -> None:
        try:
            self.tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the Rust side raises a plain Exception
            raise ModelFormatError(f"{path}: not a tokenizer.json ({exc}); "
                                   "export the model again") from None
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)  # to the longest

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """texts [N] -> (input_ids [N, T], attention_mask [N, T]), both int64."""
        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask
