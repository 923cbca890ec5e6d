"""Batch samplers: P groups x K members for group losses, shuffled rows for pair losses."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from torch.utils.data import Dataset


class GroupBatches(Dataset[np.ndarray]):
    """One epoch of batches, each at most `P` groups (`groups_per_batch`) with up to `K`
    members (`per_group`) drawn without replacement. `labels` [N]: each row's group (an
    integer label); `__getitem__` returns row indices [B], B <= P * K.

    Every group with two or more members appears once per epoch, in one batch (its members
    are drawn afresh each epoch). A batch holds two groups or more (a lone group has no
    in-batch negatives): a group that would be alone in the epoch's last batch, with no room
    left in another, waits for the next epoch.

    `centroids` [N, D] (a vector per row, e.g. the frozen encoder's) and `hard_share` > 0:
    that share of each epoch's groups goes into batches of neighbours: a random group and
    the P-1 groups whose mean vectors are nearest it among those not yet placed, so that
    in-batch negatives are the look-alikes a model confuses (hard negatives at the cost of
    none: no extra texts are encoded). The rest are drawn at random as before.

    `companions`: pairs of labels (values in `labels`) whose groups share a batch, e.g. the
    right reference's group and the wrongly shown one's of a corrected review, so that the
    in-batch loss takes the wrong reference's texts as negatives of the right one. A group
    placed in a batch brings along its companions not placed yet this epoch (either side of
    a pair brings the other), and theirs in turn, as many as fit beside it in P; the rest go
    to later batches.
    A group and its companions go together into the first batch with room for them all (a
    neighbour batch takes a neighbour with its companions, or skips it when they do not
    fit). Pairs naming a group that is not in `labels` (e.g. held out for validation) or
    has fewer than two members are ignored; `companion_pairs` counts the pairs kept.
    """

    def __init__(self, labels: np.ndarray, groups_per_batch: int, per_group: int, seed: int,
                 centroids: np.ndarray | None = None, hard_share: float = 0.0,
                 companions: Iterable[tuple[int, int]] = ()):
        self.per_group = per_group
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.diff(labels[order])) + 1
        members = np.split(order, bounds)
        starts = np.r_[0, bounds].astype(np.int64)
        keep = [i for i, m in enumerate(members) if len(m) > 1]
        self.members = [members[i] for i in keep]
        position = {labels[order[starts[i]]].item(): j for j, i in enumerate(keep)}
        self.companions: list[list[int]] = [[] for _ in self.members]
        for a, b in companions:
            i, j = position.get(a), position.get(b)
            if i is None or j is None or i == j or j in self.companions[i]:
                continue
            self.companions[i].append(j)
            self.companions[j].append(i)
        self.companion_pairs = sum(len(c) for c in self.companions) // 2
        self.groups_per_batch = groups_per_batch
        self.rng = np.random.default_rng(seed)
        self.hard_share = hard_share
        self.means: np.ndarray | None = None
        if centroids is not None and hard_share > 0:
            means = np.stack([centroids[m].mean(0) for m in self.members])
            self.means = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        self.batches: list[np.ndarray] = []
        self.new_epoch()

    def _unit(self, group: int, free: np.ndarray) -> list[int]:
        """`group`, its companions not placed yet, theirs, and so on (breadth first), as
        many as fit in a batch (P groups)."""
        unit = [group]
        for g in unit:  # the list grows as companions join
            mates = [c for c in self.companions[g] if free[c] and c not in unit]
            if len(mates) > 1:
                mates = self.rng.permutation(mates).tolist()
            unit.extend(mates[: self.groups_per_batch - len(unit)])
            if len(unit) == self.groups_per_batch:
                break
        return unit

    def _batch_groups(self) -> list[list[int]]:
        """This epoch's batches as group indices: neighbour batches first, then random ones;
        every group once, with its companions where they fit."""
        p = self.groups_per_batch
        groups = self.rng.permutation(len(self.members)).tolist()
        free = np.ones(len(groups), dtype=bool)
        batches: list[list[int]] = []
        if self.means is not None:
            n_hard = round(self.hard_share * len(groups))
            placed = 0
            for seed in groups:
                if placed >= n_hard:
                    break
                if not free[seed]:
                    continue
                candidates = np.flatnonzero(free)
                sims = self.means[candidates] @ self.means[seed]
                batch: list[int] = []
                for g in candidates[np.argsort(-sims, kind="stable")].tolist():
                    if not free[g]:
                        continue
                    unit = self._unit(g, free)
                    if len(batch) + len(unit) <= p:
                        batch.extend(unit)
                        free[unit] = False
                    if len(batch) == p:
                        break
                batches.append(batch)
                placed += len(batch)
        room: list[list[int]] = []  # random batches not full yet
        for g in groups:
            if not free[g]:
                continue
            unit = self._unit(g, free)
            free[unit] = False
            home = next((b for b in room if len(b) + len(unit) <= p), None)
            if home is None:
                home = []
                room.append(home)
                batches.append(home)
            home.extend(unit)
            if len(home) == p:
                room = [b for b in room if b is not home]
        for lone in (b for b in batches if len(b) == 1):
            home = next((b for b in batches if b is not lone and 0 < len(b) < p), None)
            if home is not None:
                home.extend(lone)
                lone.clear()
        return [b for b in batches if len(b) > 1]

    def new_epoch(self) -> None:
        self.batches = [
            np.concatenate([self.rng.choice(self.members[g], min(self.per_group,
                                                                  len(self.members[g])),
                                            replace=False) for g in batch])
            for batch in self._batch_groups()
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

