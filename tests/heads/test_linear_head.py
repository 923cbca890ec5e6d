"""LinearHead: identity when square, semi-orthogonal otherwise, config round trip."""

import torch

from surematch.heads import LinearHead


def test_square_head_starts_as_identity() -> None:
    head = LinearHead(5, bias=True)
    x = torch.randn(4, 5)
    assert head.out_dim == 5
    assert torch.equal(head(x), x)


def test_projection_shapes_and_orthogonal_start() -> None:
    torch.manual_seed(0)
    down, up = LinearHead(16, 4), LinearHead(4, 16)
    assert down(torch.randn(3, 16)).shape == (3, 4)
    assert torch.allclose(down.linear.weight @ down.linear.weight.T, torch.eye(4), atol=1e-5)
    x = torch.randn(3, 4)  # an up-projection keeps lengths
    assert torch.allclose(up(x).norm(dim=-1), x.norm(dim=-1), atol=1e-5)


def test_gradients_flow() -> None:
    head = LinearHead(3, 2, bias=True)
    head(torch.randn(5, 3)).sum().backward()
    assert head.linear.weight.grad.abs().sum() > 0 and head.linear.bias.grad.abs().sum() > 0


def test_config_round_trip(rebuild) -> None:
    torch.manual_seed(2)
    head = LinearHead(6, 3, bias=True)
    clone = rebuild(head)
    x = torch.randn(2, 6)
    assert head.config() == {"in_dim": 6, "out_dim": 3, "bias": True}
    assert LinearHead(6).config() == {"in_dim": 6, "out_dim": 6, "bias": False}
    assert torch.equal(clone(x), head(x))
