"""SkipConnectionHead: near identity at the start, gradients, config round trip."""

import pytest
import torch
import torch.nn.functional as F

from surematch.heads import SkipConnectionHead


def test_shape_and_starts_near_identity() -> None:
    torch.manual_seed(0)
    head = SkipConnectionHead(32)
    for x in (torch.randn(16, 32), F.normalize(torch.randn(16, 32), dim=-1)):
        y = head(x)
        assert y.shape == (16, 32)
        assert ((y - x).norm(dim=-1) / x.norm(dim=-1)).max() < 0.15
        assert F.cosine_similarity(x, y).min() > 0.99


def test_gradients_reach_fc_and_gates() -> None:
    head = SkipConnectionHead(8)
    head(torch.randn(4, 8)).pow(2).sum().backward()
    for param in (head.fc.weight, head.fc.bias, head.gates):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_formula_by_hand() -> None:
    head = SkipConnectionHead(2)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        head.fc.bias.zero_()
        head.gates.zero_()  # sigmoid(0) = 0.5
    y = head(torch.tensor([[1.0, 1.0]]))
    assert torch.allclose(y, torch.tensor([[1.5, 2.0]]))


def test_config_round_trip(rebuild) -> None:
    torch.manual_seed(1)
    head = SkipConnectionHead(6, dropout=0.1)
    with torch.no_grad():
        head.gates.uniform_(-1, 1)
    clone = rebuild(head).eval()
    x = torch.randn(3, 6)
    assert clone.config() == {"in_dim": 6, "dropout": 0.1}
    assert torch.equal(clone(x), head.eval()(x))


@pytest.mark.parametrize("kwargs", [{"in_dim": 0}, {"in_dim": 4, "dropout": 1.0}])
def test_rejects_bad_arguments(kwargs) -> None:
    with pytest.raises(ValueError, match="skip head"):
        SkipConnectionHead(**kwargs)
