"""ImageEncoder: a small trainable CNN for small grayscale or RGB images."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from surematch.encoders.base import Encoder
from surematch.errors import InputError


def _pixels(what: str, item: Any) -> torch.Tensor:
    """One image (or a stacked batch) as a real-valued tensor, or an InputError naming it."""
    if not isinstance(item, torch.Tensor):
        array = np.asarray(item)
        if array.dtype.kind not in "uif":
            raise InputError(f"{what} must hold numbers, got {array.dtype} values")
        item = torch.from_numpy(np.ascontiguousarray(array))
    if item.dtype == torch.bool or item.is_complex():
        raise InputError(f"{what} must hold real numbers, got {item.dtype}")
    return item


class ImageEncoder(Encoder):
    """Images [H, W] or [C, H, W] (pixel values / `scale`) -> embeddings [N, dim].

    Two conv(3x3)-BN-ReLU blocks (width, then 2*width channels) with a 2x2 max pool between
    them, a global average pool, and a Linear to `dim`. Sized for images like scikit-learn's
    8x8 digits (`scale=16.0`). All images of a batch share one size, 1x1 or more (training
    needs more than one pooled pixel per batch: two images, or one of at least 3x3).
    """

    kind: ClassVar[str] = "image_cnn"

    def __init__(self, channels: int = 1, dim: int = 64, width: int = 32, scale: float = 1.0):
        super().__init__()
        if channels < 1 or dim < 1 or width < 1:
            raise ValueError(f"image_cnn: channels, dim and width must be >= 1, "
                             f"got {channels}, {dim}, {width}")
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"image_cnn: scale must be a positive number, got {scale}")
        self.channels, self.dim, self.width, self.scale = channels, dim, width, float(scale)
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width),
            nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.out = nn.Linear(2 * width, dim)

    def _batch(self, items: Sequence[Any]) -> torch.Tensor:
        """items -> pixels [N, channels, H, W] float32, checked and divided by scale."""
        if isinstance(items, np.ndarray | torch.Tensor) and items.ndim in (3, 4):
            batch = _pixels("images", items)  # already stacked: [N, H, W] or [N, C, H, W]
            shapes = [tuple(batch.shape[1:])] * len(batch)
        else:
            tensors = [_pixels(f"image {i}", item) for i, item in enumerate(items)]
            shapes = [tuple(t.shape) for t in tensors]
            for i, shape in enumerate(shapes):
                if shape != shapes[0]:
                    raise InputError(f"image {i} has shape {list(shape)} but image 0 has "
                                     f"{list(shapes[0])}; all images of a batch must match")
            batch = torch.stack(tensors)
        if batch.ndim == 3:
            batch = batch.unsqueeze(1)
        if batch.ndim != 4 or batch.shape[1] != self.channels:
            raise InputError(f"image 0 has shape {list(shapes[0])}; expected [H, W] or "
                             f"[{self.channels}, H, W] for this {self.channels}-channel encoder")
        batch = batch.to(torch.float32)
        finite = torch.isfinite(batch).flatten(1).all(1)
        if not bool(finite.all()):
            raise InputError(f"image {int((~finite).nonzero()[0])} holds NaN or infinite values")
        return batch / self.scale

    def forward(self, items: Sequence[Any]) -> torch.Tensor:
        """items [N] of [H, W] or [C, H, W] -> [N, dim]."""
        device = self.out.weight.device
        if len(items) == 0:
            return torch.zeros(0, self.dim, device=device)
        batch = self._batch(items).to(device)
        n, _, h, w = batch.shape
        if self.training and n * ((h + 1) // 2) * ((w + 1) // 2) < 2:
            raise InputError("image_cnn: batch norm cannot train on one 1x1 or 2x2 image; "
                             "use a batch of at least 2 images (or encode in eval mode)")
        return self.out(self.features(batch))

    def identity(self) -> str:
        """'image_cnn:' + sha1 of the config and every weight and BN statistic (16 hex)."""
        digest = hashlib.sha1(json.dumps(self.config(), sort_keys=True).encode())
        for name, tensor in sorted(self.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
        return f"{self.kind}:{digest.hexdigest()[:16]}"

    def config(self) -> dict[str, Any]:
        return {"channels": self.channels, "dim": self.dim, "width": self.width,
                "scale": self.scale}
