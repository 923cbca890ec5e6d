"""Input checks, positive/negative masks and the connected zero shared by the losses."""

from __future__ import annotations

import torch
from torch import Tensor


def check_groups(name: str, embeddings: Tensor, groups: Tensor) -> None:
    """Check a group-loss batch: `embeddings [B, D]` float, `groups [B]` integer ids."""
    if embeddings.ndim != 2:
        raise ValueError(f"{name}: embeddings must be [B, D], got shape {tuple(embeddings.shape)}")
    if not embeddings.is_floating_point():
        raise ValueError(f"{name}: embeddings must be floating point, got {embeddings.dtype}")
    if groups.ndim != 1 or groups.shape[0] != embeddings.shape[0]:
        raise ValueError(f"{name}: groups must be [B] with B={embeddings.shape[0]} "
                         f"(one id per embedding row), got shape {tuple(groups.shape)}")
    if groups.is_floating_point() or groups.is_complex() or groups.dtype == torch.bool:
        raise ValueError(f"{name}: groups must hold integer ids, got {groups.dtype}")


def check_pairs(name: str, a: Tensor, b: Tensor, labels: Tensor) -> None:
    """Check a pair-loss batch: `a [B, D]`, `b [B, D]`, `labels [B]` in [0, 1]."""
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"{name}: a and b must both be [B, D] of one shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if not (a.is_floating_point() and b.is_floating_point()):
        raise ValueError(f"{name}: embeddings must be floating point, got {a.dtype} and {b.dtype}")
    if labels.ndim != 1 or labels.shape[0] != a.shape[0]:
        raise ValueError(f"{name}: labels must be [B] with B={a.shape[0]} (one per pair), "
                         f"got shape {tuple(labels.shape)}")
    if labels.numel() and bool(((labels < 0) | (labels > 1)).any()):
        raise ValueError(f"{name}: labels must be 1 (similar), 0 (dissimilar) or a score in "
                         f"[0, 1]; got values from {labels.min().item()} to {labels.max().item()}")


def group_masks(groups: Tensor) -> tuple[Tensor, Tensor]:
    """`positive [B, B]` (same group, off the diagonal) and `negative [B, B]` (other group)."""
    same = groups[:, None] == groups[None, :]
    eye = torch.eye(groups.shape[0], dtype=torch.bool, device=groups.device)
    return same & ~eye, ~same


def connected_zero(*tensors: Tensor) -> Tensor:
    """A scalar 0 whose graph reaches every input, so `backward()` works and gives 0 grads."""
    total = tensors[0].sum() * 0.0
    for t in tensors[1:]:
        total = total + t.sum() * 0.0
    return total
