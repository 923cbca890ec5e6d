"""TripletLoss: hand-computed values, brute force agreement, chunking."""

from __future__ import annotations

import math

import pytest
import torch

from surematch.distances import get_distance
from surematch.losses import TripletLoss

S60 = math.sin(math.radians(60))  # 0.8660254


def _hand_batch() -> tuple[torch.Tensor, torch.Tensor]:
    # r0 = 0°, r1 = 90° (group 0); r2 = 180°, r3 = 60° (group 1)
    rows = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.5, S60)]
    return torch.tensor(rows, dtype=torch.float64), torch.tensor([0, 0, 1, 1])


def _brute(emb: torch.Tensor, groups: torch.Tensor, margin: float, distance: str,
           hard: bool) -> torch.Tensor:
    """Loop over anchors, positives and negatives one by one."""
    dist = get_distance(distance)
    c = dist.closeness(dist.pairwise(emb, emb))
    b = len(groups)
    triplets, per_anchor = [], []
    for a in range(b):
        ps = [p for p in range(b) if p != a and groups[p] == groups[a]]
        ns = [n for n in range(b) if groups[n] != groups[a]]
        if not ps or not ns:
            continue
        hp = torch.stack([c[a, p] for p in ps]).min()
        hn = torch.stack([c[a, n] for n in ns]).max()
        per_anchor.append(torch.relu(hn - hp + margin))
        triplets += [torch.relu(c[a, n] - c[a, p] + margin) for p in ps for n in ns]
    if hard:
        return torch.stack(per_anchor).mean()
    active = [t for t in triplets if t > 0]
    return torch.stack(active).mean()


def test_hand_computed_batch_all_and_batch_hard() -> None:
    emb, groups = _hand_batch()
    # cosine distances: d01 = 1, d02 = 2, d03 = 0.5, d12 = 1, d13 = 1 - S60, d23 = 1.5
    # anchor (pos; neg -> relu(d_ap - d_an + 0.2)):
    #   0 (1; 2: 0, 3: 0.7)   1 (0; 2: 0.2, 3: S60 + 0.2)
    #   2 (3; 0: 0, 1: 0.7)   3 (2; 0: 1.2, 1: 0.7 + S60)
    # batch-all: 6 non-zero triplets summing to 3.7 + 2·S60
    # batch-hard: closest negatives give 0.7, S60 + 0.2, 0.7, 0.7 + S60 -> (2.3 + 2·S60) / 4
    all_ = TripletLoss("batch_all", margin=0.2)(emb, groups)
    hard = TripletLoss("batch_hard", margin=0.2)(emb, groups)
    assert all_.item() == pytest.approx((3.7 + 2 * S60) / 6)
    assert hard.item() == pytest.approx((2.3 + 2 * S60) / 4)


@pytest.mark.parametrize("mining", ["batch_all", "batch_hard"])
@pytest.mark.parametrize("distance", ["cosine", "euclidean", "dot"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(mining: str, distance: str, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(10, 4, generator=g, dtype=torch.float64)
    groups = torch.randint(0, 3, (10,), generator=g)
    margin = 0.3 if distance == "cosine" else 1.0
    a = emb.clone().requires_grad_(True)
    b = emb.clone().requires_grad_(True)
    fast = TripletLoss(mining, margin=margin, distance=distance)(a, groups)
    slow = _brute(b, groups, margin, distance, hard=mining == "batch_hard")
    fast.backward()
    slow.backward()
    assert torch.allclose(fast, slow)
    assert torch.allclose(a.grad, b.grad)


def test_chunked_batch_all_equals_one_chunk() -> None:
    g = torch.Generator().manual_seed(5)
    emb = torch.randn(23, 6, generator=g, dtype=torch.float64)
    groups = torch.randint(0, 5, (23,), generator=g)
    grads = []
    values = []
    for cap in (10**9, 23 * 23 * 4, 1):  # one chunk, chunks of 4 anchors, one anchor each
        x = emb.clone().requires_grad_(True)
        value = TripletLoss("batch_all", margin=0.5, max_chunk_elements=cap)(x, groups)
        value.backward()
        values.append(value.detach())
        grads.append(x.grad)
    assert torch.allclose(values[0], values[1]) and torch.allclose(values[0], values[2])
    assert torch.allclose(grads[0], grads[1]) and torch.allclose(grads[0], grads[2])


def test_no_active_triplet_gives_connected_zero() -> None:
    # two tight, opposite groups: every triplet already satisfies the margin
    emb = torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0], [-1.0, 0.01]], requires_grad=True)
    loss = TripletLoss("batch_all", margin=0.2)(emb, torch.tensor([0, 0, 1, 1]))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(emb.grad, torch.zeros_like(emb))
