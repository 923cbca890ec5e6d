"""Group batches: every group once an epoch, and neighbour batches gather look-alike groups."""

from __future__ import annotations

import numpy as np

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
