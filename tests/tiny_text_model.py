"""A tiny text model that loads in a second, for the tests that need a real text encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surematch.confidence.targets import Targets
from surematch.model import SimilarityModel

WORDS = ["nurse", "baker", "truck driver", "welder", "pilot", "chef", "tailor", "miner"]


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


def save_calibrated_tiny_index(root: Path, source: Path | None = None) -> tuple[Path, Path]:
    """(model folder, index folder): the tiny model, an index of 24 references, and a
    retrieval calibration fitted on the model's own similarities (the margin decides) with
    accept, review and reject bands; `source`: a file recorded as its calibration data."""
    from surematch.confidence.certificate import file_source
    from surematch.confidence.retrieval import fit_match_calibration
    from surematch.confidence.store import save_calibration
    from surematch.data import References
    from surematch.index.reference_index import ReferenceIndex

    folder = save_tiny_text_model(root)
    model = SimilarityModel.load(folder)
    texts = [f"{a} {b}" for a in WORDS for b in WORDS[:3]]
    with ReferenceIndex.create(root / "index", model) as index:
        index.add(References([f"r{n}" for n in range(len(texts))], texts,
                             [{} for _ in texts]), progress=False)
        top = np.array([[m.similarity for m in r.matches] for r in
                        index.match_batch([f"{w} {n}" for w in WORDS for n in range(40)], 2)])
    rng = np.random.default_rng(0)
    right = rng.random(len(top)) < 1 / (1 + np.exp(-(400 * (top[:, 0] - top[:, 1]) - 1)))
    cal = fit_match_calibration(top, right, groups=[f"g{n % 80}" for n in range(len(top))],
                                targets=Targets(0.8, 0.2))
    save_calibration(folder, cal, model.identity(), "torch",
                     None if source is None else file_source(source))
    return folder, root / "index"
