"""SimilarityModel: the saved artefact (encoder reference + head) that embeds items."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

import surematch
from surematch.encoders import Encoder, encoder_from_config
from surematch.errors import ModelFormatError
from surematch.folder import CONFIG_FILE, FORMAT_VERSION, read_model_meta
from surematch.heads import Head, head_config, head_from_config

log = logging.getLogger(__name__)



class SimilarityModel(nn.Module):
    """An encoder and a head; `embed` gives L2-normalised rows, compared by cosine.

    A saved model is one folder: `surematch.json` (format version, encoder reference, head
    config, training info), `head.safetensors`, and `encoder.safetensors` only when the encoder
    has weights of its own that training changed. Loading never executes code from the folder.
    """

    runtime = "torch"

    def __init__(self, encoder: Encoder, head: Head, info: dict[str, Any] | None = None):
        super().__init__()
        self.encoder, self.head = encoder, head
        self.info: dict[str, Any] = dict(info or {})
        self.folder: Path | None = None

    # -- embedding -------------------------------------------------------------------------
    def forward_features(self, features: torch.Tensor) -> torch.Tensor:
        """Encoder output [B, E] -> normalised embeddings [B, D] (with gradients)."""
        return F.normalize(self.head(features), dim=-1)

    @torch.no_grad()
    def _features(self, items: Sequence[Any], batch_size: int) -> torch.Tensor:
        from surematch.runtime.threads import torch_threads  # runtime imports this module

        with torch_threads(min(len(items), batch_size)):  # 1 thread for a few items
            return self.encoder.encode(items, batch_size=batch_size)

    @torch.no_grad()
    def embed(self, items: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """Items [N] -> L2-normalised float32 embeddings [N, D]."""
        self.eval()
        return self.forward_features(self._features(items, batch_size)).numpy()

    @torch.no_grad()
    def embed_with_confidence(
        self, items: Sequence[Any], batch_size: int = 256
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings [N, D] and embedding confidence [N] from one pass of the encoder."""
        self.eval()
        embeddings, confidence = self.forward_with_confidence(self._features(items, batch_size))
        return embeddings.numpy(), confidence.numpy()

    def forward_with_confidence(self, features: torch.Tensor
                                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder output [B, E] -> (normalised embeddings [B, D], confidence [B]; 1.0 where
        the head reads none)."""
        out, confidence = self.head.forward_with_confidence(features)
        if confidence is None:
            confidence = torch.ones(len(features), dtype=out.dtype, device=out.device)
        return F.normalize(out, dim=-1), confidence

    def embedding_confidence(self, items: Sequence[Any], batch_size: int = 256) -> np.ndarray:
        """How sure the model is about each item itself, in [0, 1] (see `has_confidence`)."""
        return self.embed_with_confidence(items, batch_size)[1]

    @property
    def has_confidence(self) -> bool:
        """True when the head reads confidence (feature groups); otherwise it is 1.0."""
        return self.head.has_confidence

    # -- identity ----------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.head.out_dim)

    def identity(self) -> str:
        """A short id of the encoder and head weights: an index refuses any other model."""
        digest = hashlib.sha1(json.dumps([self.encoder.kind, self.encoder.config()]).encode())
        if self.encoder.kind == "text":  # its identity fingerprints the (possibly tuned) weights
            digest.update(self.encoder.identity().encode())
            states = [self.head.state_dict()]
        else:  # a CNN's weights; a vectors encoder holds none (its table is data)
            states = [self.encoder.state_dict(), self.head.state_dict()]
        for state in states:
            for name, tensor in sorted(state.items()):
                digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    # -- save / load -------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the model folder atomically (a temporary folder renamed into place)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        save_encoder = self.encoder.has_weights and (
            self.encoder.kind != "text" or self.encoder.fine_tuned)
        meta = {
            "format_version": FORMAT_VERSION,
            "surematch_version": surematch.__version__,
            "model_id": self.identity(),
            "dim": self.dim,
            "distance": "cosine",
            "encoder": {"kind": self.encoder.kind, "config": self.encoder.config(),
                        "weights": "encoder.safetensors" if save_encoder else None},
            "head": head_config(self.head),
            "info": self.info,
        }
        save_file(_contiguous(self.head.state_dict()), tmp / "head.safetensors")
        if save_encoder:
            save_file(_contiguous(self.encoder.state_dict()), tmp / "encoder.safetensors")
        if folder.exists():  # keep files written by others (the calibration) beside the model
            for extra in folder.iterdir():
                if extra.name not in {CONFIG_FILE, "head.safetensors", "encoder.safetensors"}:
                    shutil.move(str(extra), tmp / extra.name)
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        backup = folder.with_name(f".{folder.name}.old")
        if folder.exists():
            os.replace(folder, backup)
        os.replace(tmp, folder)
        shutil.rmtree(backup, ignore_errors=True)
        self.folder = folder
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> SimilarityModel:
        """The torch model saved in `folder` (`surematch.load_model` picks a runtime)."""
        folder = Path(folder)
        meta = read_model_meta(folder)
        try:
            enc = meta["encoder"]
            encoder = encoder_from_config(enc["kind"], enc["config"])
            if enc.get("weights"):
                encoder.load_state_dict(load_file(folder / enc["weights"]))
                encoder.fine_tuned = True
            head = head_from_config(meta["head"])
            head.load_state_dict(load_file(folder / "head.safetensors"))
        except (KeyError, TypeError, FileNotFoundError, RuntimeError) as exc:
            raise ModelFormatError(f"model folder {folder} is damaged: {exc}") from None
        model = cls(encoder, head, info=meta.get("info"))
        model.folder = folder
        model.eval()
        return model



def _contiguous(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in state.items()}
