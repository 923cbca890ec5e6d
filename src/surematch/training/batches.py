"""Batch samplers: P groups x K members for group losses, shuffled rows for pair losses."""

from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset


class GroupBatches(Dataset[np.ndarray]):
    """One epoch of batches, each `P` groups with up to `K` members drawn without replacement.

    Every group with two or more members appears once per epoch (its members are drawn
    afresh each epoch), so an epoch covers every group. `__getitem__` returns row indices [B].
    """

    def __init__(self, labels: np.ndarray, groups_per_batch: int, per_group: int, seed: int):
        self.per_group = per_group
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        members = np.split(order, bounds)
        self.members = [m for m in members if len(m) > 1]
        self.groups_per_batch = groups_per_batch
        self.rng = np.random.default_rng(seed)
        self.batches: list[np.ndarray] = []
        self.new_epoch()

    def new_epoch(self) -> None:
        groups = self.rng.permutation(len(self.members))
        p = self.groups_per_batch
        self.batches = [
            np.concatenate([self.rng.choice(self.members[g], min(self.per_group,
                                                                  len(self.members[g])),
                                            replace=False) for g in groups[s: s + p]])
            for s in range(0, len(groups), p) if len(groups[s: s + p]) > 1
        ]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.batches[i]


class RowBatches(Dataset[np.ndarray]):
    """One epoch of shuffled row indices in batches of `batch_size` (for pair losses)."""

    def __init__(self, n_rows: int, batch_size: int, seed: int) -> None:
        self.n_rows, self.batch_size = n_rows, batch_size
        self.rng = np.random.default_rng(seed)
        self.batches: list[np.ndarray] = []
        self.new_epoch()

    def new_epoch(self) -> None:
        perm = self.rng.permutation(self.n_rows)
        self.batches = [perm[s: s + self.batch_size] for s in range(0, self.n_rows,
                                                                      self.batch_size)]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.batches[i]

