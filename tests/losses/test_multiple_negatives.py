"""MultipleNegativesRankingLoss: hand value, brute force, same-group rows are not negatives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from surematch.distances import get_distance
from surematch.losses import MultipleNegativesRankingLoss


def _brute(emb: torch.Tensor, groups: torch.Tensor, scale: float, distance: str) -> torch.Tensor:
    """One cross-entropy per ordered positive pair: [positive, negatives...], target 0."""
    dist = get_distance(distance)
    c = scale * dist.closeness(dist.pairwise(emb, emb))
    b = len(groups)
    losses = []
    for i in range(b):
        negs = [k for k in range(b) if groups[k] != groups[i]]
        for j in range(b):
            if j != i and groups[j] == groups[i]:
                row = torch.stack([c[i, j]] + [c[i, k] for k in negs])
                losses.append(F.cross_entropy(row[None], torch.tensor([0])))
    return torch.stack(losses).mean()


def test_hand_computed_two_dimensional() -> None:
    # r0 = 0°, r1 = 90° (group 0), r2 = 180° (group 1); closeness = cos - 1, scale 1
    # pair (0,1): c01 = -1, negative c02 = -2 -> log(1 + e^(-2 - -1)) = log(1 + e^-1)
    # pair (1,0): c10 = -1, negative c12 = -1 -> log(1 + e^0) = log 2
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    loss = MultipleNegativesRankingLoss(scale=1.0)(emb, torch.tensor([0, 0, 1]))
    assert loss.item() == pytest.approx((math.log(1 + math.exp(-1)) + math.log(2)) / 2)


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "dot"])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_brute_force(distance: str, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(11, 4, generator=g, dtype=torch.float64)
    groups = torch.randint(0, 4, (11,), generator=g)
    a = emb.clone().requires_grad_(True)
    b = emb.clone().requires_grad_(True)
    scale = 20.0 if distance == "cosine" else 1.0
    fast = MultipleNegativesRankingLoss(scale=scale, distance=distance)(a, groups)
    slow = _brute(b, groups, scale, distance)
    fast.backward()
    slow.backward()
    assert torch.allclose(fast, slow) and torch.allclose(a.grad, b.grad)


def test_same_group_row_is_not_a_negative() -> None:
    # x, x in group 0 and y ⟂ x in group 1. Every positive pair scores
    # L = log(1 + e^(20·(-1 - 0))) ≈ 2e-9. A third copy of x in group 0 adds positive pairs
    # of exactly that value, so L is unchanged; the same copy in a new group is a negative as
    # close as the positive, and each pair costs log(2 + e^-20) ≈ log 2.
    x, y = [1.0, 0.0], [0.0, 1.0]
    loss = MultipleNegativesRankingLoss(scale=20.0)
    base = loss(torch.tensor([x, x, y]), torch.tensor([0, 0, 1]))
    same = loss(torch.tensor([x, x, y, x]), torch.tensor([0, 0, 1, 0]))
    other = loss(torch.tensor([x, x, y, x]), torch.tensor([0, 0, 1, 2]))
    assert base.item() == pytest.approx(math.log1p(math.exp(-20)), rel=1e-4)
    assert same.item() == pytest.approx(base.item(), rel=1e-4)
    assert other.item() == pytest.approx(math.log(2 + math.exp(-20)), rel=1e-5)


def test_large_scale_stays_finite() -> None:
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], requires_grad=True)
    loss = MultipleNegativesRankingLoss(scale=1e4)(emb, torch.tensor([0, 1, 0, 1]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(emb.grad).all()
    # each positive sits at 180° (c = -2), both negatives at 90° (c = -1):
    # log(1 + 2·e^(1e4·(-1 - -2))) = 1e4 + log 2 (up to e^-1e4)
    assert loss.item() == pytest.approx(1e4 + math.log(2), rel=1e-6)
