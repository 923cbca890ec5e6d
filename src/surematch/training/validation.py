"""Validation metric for early stopping: leave-one-out P@1 among held-out groups."""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def leave_one_out_p_at_1(embeddings: torch.Tensor, labels: torch.Tensor,
                         chunk: int = 2048) -> float:
    """Share of rows whose nearest other row (by cosine) is of the same group.

    embeddings [N, D], labels [N]; rows whose group has no other member are skipped.
    Memory stays O(chunk x N).
    """
    z = F.normalize(embeddings.float(), dim=-1)
    has_mate = (labels[:, None] == labels[None, :]).sum(1) > 1 if len(labels) <= chunk else None
    hits, counted = 0, 0
    for s in range(0, len(z), chunk):
        sims = z[s: s + chunk] @ z.T
        rows = torch.arange(s, min(s + chunk, len(z)))
        sims[torch.arange(len(rows)), rows] = -torch.inf
        mates = has_mate[rows] if has_mate is not None else \
            (labels[rows][:, None] == labels[None, :]).sum(1) > 1
        nearest = sims.argmax(1)
        hits += int((labels[nearest] == labels[rows])[mates].sum())
        counted += int(mates.sum())
    return hits / counted if counted else 0.0
