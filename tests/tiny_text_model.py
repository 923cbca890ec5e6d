"""A tiny text model that loads in a second, for the tests that need a real text encoder."""

from __future__ import annotations

from pathlib import Path

from surematch.model import SimilarityModel


def save_tiny_text_model(folder: Path) -> Path:
    """A one-layer, 32-dim BERT with MiniLM's tokenizer and a skip head, saved as a
    surematch model in `folder`/model (its sentence-transformers files beside it)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from surematch.encoders.text import BUNDLED, TextEncoder, resolve_model_path
    from surematch.heads import build_head

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_model_path(BUNDLED)))
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=64)).save_pretrained(folder / "bert")
    tokenizer.save_pretrained(folder / "bert")
    SentenceTransformer(modules=[Transformer(str(folder / "bert")), Pooling(32, "mean")]).save(
        str(folder / "st"))
    SimilarityModel(TextEncoder(str(folder / "st"), max_seq_length=16),
                    build_head([{"kind": "skip"}], 32)).save(folder / "model")
    return folder / "model"
