"""On-disk embedding cache, keyed by encoder identity and item content (safetensors shards)."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """`$SUREMATCH_CACHE_DIR`, else `~/.cache/surematch/embeddings`."""
    env = os.environ.get("SUREMATCH_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "surematch" / "embeddings"


def content_key(item: Any) -> bytes:
    """A 20-byte digest of an item's content: text as UTF-8, arrays by dtype, shape and bytes."""
    digest = hashlib.sha1()
    if isinstance(item, str):
        digest.update(b"s" + item.encode("utf-8"))
    else:
        tensor = hasattr(item, "detach")  # a torch tensor (torch is not imported here)
        arr = np.ascontiguousarray(item.detach().cpu().numpy() if tensor else item)
        digest.update(f"a{arr.dtype}{arr.shape}".encode() + arr.tobytes())
    return digest.digest()


class EmbeddingCache:
    """Vectors of one encoder, stored as append-only safetensors shards in one folder.

    `lookup(items, encode)` returns [N, D] for the items, calling `encode` only for those never
    seen by this encoder (in this run or an earlier one). `hits` and `misses` count lookups.
    """

    def __init__(self, root: Path | None, encoder_identity: str) -> None:
        key = hashlib.sha1(encoder_identity.encode()).hexdigest()[:20]
        self.folder = (root or default_cache_dir()) / key
        self.index: dict[bytes, tuple[int, int]] = {}
        self.shards: list[np.ndarray] = []
        self.hits = self.misses = 0
        for shard in sorted(self.folder.glob("shard-*.safetensors")):
            try:
                data = load_file(shard)
            except Exception as exc:  # a damaged shard is skipped, never fatal: it is a cache
                log.warning("embedding cache: skipping unreadable %s (%s)", shard, exc)
                continue
            self._add_shard(data["keys"], data["vectors"])

    def _add_shard(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        s = len(self.shards)
        self.shards.append(vectors)
        for row, k in enumerate(keys):
            self.index[k.tobytes()] = (s, row)

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, items: Sequence[Any], encode: Callable[[list[Any]], np.ndarray]) -> np.ndarray:
        keys = [content_key(it) for it in items]
        missing: dict[bytes, Any] = {}
        for k, it in zip(keys, items, strict=True):
            if k not in self.index and k not in missing:
                missing[k] = it
        self.misses += len(missing)
        self.hits += len(items) - len(missing)
        if missing:
            vectors = np.ascontiguousarray(encode(list(missing.values())), dtype=np.float32)
            key_arr = np.frombuffer(b"".join(missing), dtype=np.uint8).reshape(len(missing), 20)
            self._write(key_arr, vectors)
            self._add_shard(key_arr, vectors)
        return np.stack([self.shards[s][r] for s, r in (self.index[k] for k in keys)]) if keys \
            else np.zeros((0, 0), np.float32)

    def _write(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"shard-{len(self.shards):06d}-{os.getpid()}.safetensors"
        tmp = final.with_suffix(".tmp")
        save_file({"keys": keys, "vectors": vectors}, tmp)
        os.replace(tmp, final)  # a shard is either whole or absent
