"""Group batches: every group once an epoch, and neighbour batches gather look-alike groups."""

from __future__ import annotations

import numpy as np
import pytest

from surematch.training.batches import GroupBatches


def _clustered(n_clusters: int = 4, per_cluster: int = 8, members: int = 3
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """labels [N], vectors [N, D] where groups of one cluster lie close, and each row's
    cluster [N]."""
    rng = np.random.default_rng(0)
    centres = np.eye(n_clusters) * 10
    labels, vectors, clusters = [], [], []
    for c in range(n_clusters):
        for g in range(per_cluster):
            for _ in range(members):
                labels.append(c * per_cluster + g)
                vectors.append(centres[c] + rng.normal(0, 0.1, n_clusters))
                clusters.append(c)
    return np.array(labels), np.array(vectors), np.array(clusters)


def _clusters_per_batch(batches: GroupBatches, clusters: np.ndarray) -> float:
    return float(np.mean([len(set(clusters[b].tolist())) for b in batches.batches]))


def test_neighbour_batches_hold_one_cluster_and_every_group_once() -> None:
    labels, vectors, clusters = _clustered()
    hard = GroupBatches(labels, 8, 2, seed=1, centroids=vectors, hard_share=1.0)
    plain = GroupBatches(labels, 8, 2, seed=1)
    for batches in (hard, plain):
        seen = [g for b in batches.batches for g in sorted(set(labels[b].tolist()))]
        assert sorted(seen) == list(range(32))  # every group once an epoch
    assert _clusters_per_batch(hard, clusters) == 1.0  # each batch: one cluster's groups
    assert _clusters_per_batch(plain, clusters) > 2.0
    hard.new_epoch()
    assert _clusters_per_batch(hard, clusters) == 1.0


def test_a_share_of_neighbour_batches() -> None:
    labels, vectors, clusters = _clustered()
    half = GroupBatches(labels, 8, 2, seed=3, centroids=vectors, hard_share=0.5)
    per_batch = [len(set(clusters[b].tolist())) for b in half.batches]
    assert per_batch[:2] == [1, 1] and max(per_batch[2:]) > 1


def _groups_of(batch: np.ndarray, labels: np.ndarray) -> set[int]:
    return set(labels[batch].tolist())


@pytest.mark.parametrize("hard_share", [0.0, 0.5, 1.0])
def test_companions_share_a_batch_every_epoch_and_every_group_appears_once(
        hard_share: float) -> None:
    labels, vectors, _ = _clustered()  # 32 groups of 3; 4 clusters of 8 (groups 0-7, ...)
    pairs = [(0, 31), (9, 20), (9, 27), (5, 6)]  # across clusters: never neighbours
    batches = GroupBatches(labels, 5, 2, seed=7, centroids=vectors, hard_share=hard_share,
                           companions=pairs)
    assert batches.companion_pairs == 4
    for _ in range(6):
        groups = [_groups_of(b, labels) for b in batches.batches]
        assert all(2 <= len(g) <= 5 for g in groups)  # P bounds the batch
        seen = sorted(g for gs in groups for g in gs)
        assert len(seen) == len(set(seen)) and len(seen) >= 31  # once (a lone one may wait)
        for a, b in pairs:
            assert any({a, b} <= g for g in groups), (a, b, groups)
        batches.new_epoch()


def test_companions_beyond_p_go_to_later_batches_and_unknown_ones_are_ignored() -> None:
    labels = np.repeat(np.arange(12), 2)
    labels = np.r_[labels, [50]]  # group 50 has one member: not batched
    pairs = [(0, g) for g in range(1, 7)] + [(1, 50), (2, 99)]
    batches = GroupBatches(labels, 3, 2, seed=0, companions=pairs)
    assert batches.companion_pairs == 6
    for _ in range(5):
        groups = [_groups_of(b, labels) for b in batches.batches]
        assert all(len(g) <= 3 for g in groups)
        assert sorted(g for gs in groups for g in gs) == list(range(12))
        home = next(g for g in groups if 0 in g)
        assert len(home) == 3 and home - {0} <= set(range(1, 7))  # 2 of its 6 companions
        batches.new_epoch()
