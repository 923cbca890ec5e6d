"""GatedHead: per-dimension gates, open at the start."""

import math

import torch

from surematch.heads import GatedHead


def test_starts_with_gates_almost_open() -> None:
    head = GatedHead(4)
    x = torch.tensor([[1.0, -2.0, 3.0, 0.5]])
    open_gate = 1.0 / (1.0 + math.exp(-3.0))  # 0.9526
    assert head.out_dim == 4
    assert torch.allclose(head(x), x * open_gate)


def test_closed_gate_silences_its_dimension_and_gradients_flow() -> None:
    head = GatedHead(3)
    with torch.no_grad():
        head.gates[1] = -30.0
    y = head(torch.ones(2, 3))
    assert y[:, 1].abs().max() < 1e-9
    y.sum().backward()
    assert head.gates.grad[0] > 0


def test_config_round_trip(rebuild) -> None:
    head = GatedHead(5)
    with torch.no_grad():
        head.gates.copy_(torch.linspace(-2, 2, 5))
    x = torch.randn(3, 5)
    assert head.config() == {"in_dim": 5}
    assert torch.equal(rebuild(head)(x), head(x))
