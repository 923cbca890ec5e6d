"""Batch samplers: P groups x K members for group losses, shuffled rows for pair losses."""

from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset


class GroupBatches(Dataset[np.ndarray]):
    """One epoch of batches, each `P` groups with up to `K` members drawn without replacement.

    Every group with two or more members appears once per epoch (its members are drawn
    afresh each epoch), so an epoch covers every group. `__getitem__` returns row indices [B].

    `centroids` [N, D] (a vector per row, e.g. the frozen encoder's) and `hard_share` > 0:
    that share of each epoch's groups goes into batches of neighbours: a random group and
    the P-1 groups whose mean vectors are nearest it among those not yet placed, so that
    in-batch negatives are the look-alikes a model confuses (hard negatives at the cost of
    none: no extra texts are encoded). The rest are drawn at random as before.
    """

    def __init__(self, labels: np.ndarray, groups_per_batch: int, per_group: int, seed: int,
                 centroids: np.ndarray | None = None, hard_share: float = 0.0):
        self.per_group = per_group
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        members = np.split(order, bounds)
        self.members = [m for m in members if len(m) > 1]
        self.groups_per_batch = groups_per_batch
        self.rng = np.random.default_rng(seed)
        self.hard_share = hard_share
        self.means: np.ndarray | None = None
        if centroids is not None and hard_share > 0:
            means = np.stack([centroids[m].mean(0) for m in self.members])
            self.means = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        self.batches: list[np.ndarray] = []
        self.new_epoch()

    def _group_order(self) -> np.ndarray:
        """This epoch's groups in batch order: neighbour batches first, then random ones."""
        groups = self.rng.permutation(len(self.members))
        if self.means is None:
            return groups
        n_hard = round(self.hard_share * len(groups))
        free = np.ones(len(groups), dtype=bool)
        order: list[int] = []
        for seed in groups:
            if len(order) >= n_hard:
                break
            if not free[seed]:
                continue
            candidates = np.flatnonzero(free)
            sims = self.means[candidates] @ self.means[seed]
            take = candidates[np.argsort(-sims, kind="stable")[: self.groups_per_batch]]
            free[take] = False
            order.extend(take.tolist())
        order.extend(g for g in groups.tolist() if free[g])
        return np.asarray(order)

    def new_epoch(self) -> None:
        groups = self._group_order()
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

