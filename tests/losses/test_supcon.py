"""SupConLoss: hand value on 2-D vectors and agreement with a loop over anchors."""

from __future__ import annotations

import math

import pytest
import torch

from surematch.losses import SupConLoss


def _brute(emb: torch.Tensor, groups: torch.Tensor, tau: float) -> torch.Tensor:
    """Khosla et al.'s L_out, written anchor by anchor and positive by positive."""
    unit = emb / emb.norm(dim=1, keepdim=True)
    c = unit @ unit.T / tau
    b = len(groups)
    per_anchor = []
    for i in range(b):
        ps = [p for p in range(b) if p != i and groups[p] == groups[i]]
        if not ps:
            continue
        denom = torch.stack([c[i, a].exp() for a in range(b) if a != i]).sum()
        per_anchor.append(torch.stack([-(c[i, p].exp() / denom).log() for p in ps]).mean())
    return torch.stack(per_anchor).mean()


def test_hand_computed_two_dimensional() -> None:
    # r0 = 0°, r1 = 90° (group 0), r2 = 180° (group 1); τ = 0.5
    # cos: c01 = 0, c02 = -1, c12 = 0
    # anchor 0: -log(e^0 / (e^0 + e^(-1/0.5))) = log(1 + e^-2)
    # anchor 1: -log(e^0 / (e^0 + e^0)) = log 2;  anchor 2 has no positive and is skipped
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    loss = SupConLoss(temperature=0.5)(emb, torch.tensor([0, 0, 1]))
    assert loss.item() == pytest.approx((math.log1p(math.exp(-2)) + math.log(2)) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(12, 5, generator=g, dtype=torch.float64)
    groups = torch.randint(0, 4, (12,), generator=g)
    a = emb.clone().requires_grad_(True)
    b = emb.clone().requires_grad_(True)
    fast = SupConLoss(temperature=0.1)(a, groups)
    slow = _brute(b, groups, 0.1)
    fast.backward()
    slow.backward()
    assert torch.allclose(fast, slow) and torch.allclose(a.grad, b.grad)


def test_scale_of_rows_does_not_matter() -> None:
    g = torch.Generator().manual_seed(4)
    emb = torch.randn(8, 3, generator=g, dtype=torch.float64)
    groups = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3])
    scales = torch.rand(8, 1, generator=g, dtype=torch.float64) * 10 + 0.1
    loss = SupConLoss()
    assert torch.allclose(loss(emb * scales, groups), loss(emb, groups))


def test_low_temperature_stays_finite() -> None:
    emb = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    loss = SupConLoss(temperature=1e-3)(emb, torch.tensor([0, 0, 1]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(emb.grad).all()
    # anchor 0: positive at cos -1, negative at cos 0 -> ≈ 1/τ = 1000 (and the same for 1)
    assert loss.item() == pytest.approx(1000.0, rel=1e-6)
