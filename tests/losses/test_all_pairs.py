"""AllPairsLoss: hand value, exact agreement with the [P, N] brute force, large batches."""

from __future__ import annotations

import pytest
import torch

from surematch.distances import get_distance
from surematch.losses import AllPairsLoss
from surematch.losses.all_pairs import mean_pair_hinge


def _brute(emb: torch.Tensor, groups: torch.Tensor, margin: float, distance: str) -> torch.Tensor:
    """Materialise every (negative pair, positive pair) combination."""
    dist = get_distance(distance)
    c = dist.closeness(dist.pairwise(emb, emb))
    i, j = torch.triu_indices(len(groups), len(groups), offset=1)
    same = groups[i] == groups[j]
    pos, neg = c[i, j][same], c[i, j][~same]
    hinge = neg[:, None] - pos[None, :] + margin
    return hinge[hinge > 0].sum() / max(int((hinge > 0).sum()), 1)


def test_hand_computed_two_dimensional() -> None:
    # r0 = 0°, r1 = 90° (group 0), r2 = 180° (group 1); closeness = cos - 1, margin 0.1
    # positive pair (0,1): -1; negative pairs (0,2): -2 and (1,2): -1
    # relu(-2 + 1 + 0.1) = 0, relu(-1 + 1 + 0.1) = 0.1 -> mean over the 1 violating one = 0.1
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    assert AllPairsLoss(margin=0.1)(emb, torch.tensor([0, 0, 1])).item() == pytest.approx(0.1)


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "dot"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_brute_force_values_and_gradients(distance: str, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(16, 4, generator=g, dtype=torch.float64)
    groups = torch.randint(0, 5, (16,), generator=g)
    margin = 0.2 if distance == "cosine" else 1.0
    a = emb.clone().requires_grad_(True)
    b = emb.clone().requires_grad_(True)
    fast = AllPairsLoss(margin=margin, distance=distance)(a, groups)
    slow = _brute(b, groups, margin, distance)
    fast.backward()
    slow.backward()
    assert fast.item() > 0
    assert torch.allclose(fast, slow) and torch.allclose(a.grad, b.grad)


def test_mean_pair_hinge_gradients_reach_both_sides() -> None:
    g = torch.Generator().manual_seed(7)
    pos = torch.randn(30, generator=g, dtype=torch.float64, requires_grad=True)
    neg = torch.randn(40, generator=g, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda p, n: mean_pair_hinge(p, n, 0.3), (pos, neg))
    mean_pair_hinge(pos, neg, 0.3).backward()
    assert pos.grad.abs().sum() > 0 and neg.grad.abs().sum() > 0
    # d/dn_k = (#positives below n_k + m) / (P·N); d/dp_l = -(#negatives above p_l - m) / (P·N)
    n_below = (pos.detach()[None, :] < neg.detach()[:, None] + 0.3).sum(1)
    assert torch.allclose(neg.grad, n_below.double() / (30 * 40))


def test_separated_groups_give_connected_zero() -> None:
    emb = torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0], [-1.0, 0.01]], requires_grad=True)
    loss = AllPairsLoss(margin=0.1)(emb, torch.tensor([0, 0, 1, 1]))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(emb.grad, torch.zeros_like(emb))


@pytest.mark.slow
def test_large_batch_runs_exactly_in_float32() -> None:
    # B = 3000 gives ~4.5M pair scores and ~5e12 combinations: only the sort-based path can
    # run it. Float32 input must agree with float64 input (prefix sums are kept in float64).
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(3000, 64, generator=g)
    groups = torch.randint(0, 600, (3000,), generator=g)
    x = emb.clone().requires_grad_(True)
    loss = AllPairsLoss(margin=0.1)(x, groups)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0
    with torch.no_grad():
        exact = AllPairsLoss(margin=0.1)(emb.double(), groups)
    assert loss.item() == pytest.approx(exact.item(), rel=1e-5)
