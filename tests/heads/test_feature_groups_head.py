"""FeatureGroupHead: soft one-hot groups, the skip branch, temperature, reading groups back."""

import math

import pytest
import torch
import torch.nn.functional as F

from surematch.heads import FeatureGroupHead


def test_groups_are_softmaxes_scaled_by_one_over_sqrt_groups() -> None:
    torch.manual_seed(0)
    head = FeatureGroupHead(16, groups=4, size=8)
    x = torch.randn(5, 16)
    y, probs = head(x), head.group_probabilities(x)
    assert y.shape == (5, 32) and head.out_dim == 32 and probs.shape == (5, 4, 8)
    assert head.group_slice == slice(0, 32)
    assert torch.allclose(probs.sum(-1), torch.ones(5, 4))
    assert torch.allclose(y.view(5, 4, 8).sum(-1), torch.full((5, 4), 0.5))  # 1/sqrt(4)
    assert torch.allclose(y.view(5, 4, 8) * 2, probs)


def test_by_hand() -> None:
    head = FeatureGroupHead(2, groups=1, size=2, temperature=0.5)
    with torch.no_grad():
        head.proj.weight.copy_(torch.eye(2))
        head.proj.bias.zero_()
    x = torch.tensor([[3.0, 4.0]])  # rms = sqrt(12.5); logits = x / rms / 0.5
    logits = torch.tensor([3.0, 4.0]) / math.sqrt(12.5) / 0.5
    assert torch.allclose(head(x)[0], torch.softmax(logits, 0))


def test_start_is_neither_uniform_nor_saturated_and_ignores_input_scale() -> None:
    torch.manual_seed(1)
    head = FeatureGroupHead(64, groups=4, size=128)
    x = F.normalize(torch.randn(32, 64), dim=-1)
    peak = head.group_probabilities(x).max(-1).values
    assert peak.mean() > 3 / 128 and peak.max() < 0.5
    assert torch.allclose(head.group_probabilities(100 * x), head.group_probabilities(x),
                          atol=1e-6)


def test_reading_groups_back_from_a_normalised_output() -> None:
    torch.manual_seed(2)
    head = FeatureGroupHead(8, groups=3, size=5, skip_dim=8)
    x = torch.randn(4, 8)
    embedding = F.normalize(head(x), dim=-1)
    assert torch.allclose(head.probabilities_from_output(embedding),
                          head.group_probabilities(x), atol=1e-6)


@pytest.mark.parametrize(("skip_dim", "out_dim"), [(0, 12), (8, 20), (3, 15)])
def test_skip_branch_sets_out_dim_and_lies_before_the_groups(skip_dim, out_dim) -> None:
    torch.manual_seed(3)
    head = FeatureGroupHead(8, groups=2, size=6, skip_dim=skip_dim, skip_weight=0.5)
    x = torch.randn(4, 8)
    y = head(x)
    assert head.out_dim == out_dim and y.shape == (4, out_dim)
    assert head.group_slice == slice(skip_dim, out_dim)
    assert torch.allclose(y[:, head.group_slice].view(4, 2, 6).sum(-1),
                          torch.full((4, 2), 1 / math.sqrt(2)))
    if skip_dim:
        assert torch.allclose(y[:, :skip_dim].norm(dim=-1), torch.full((4,), 0.5))
    if skip_dim == 8:  # identity-initialised: the skip part is close to x's direction
        assert F.cosine_similarity(y[:, :8], x).min() > 0.99


def test_gradients_reach_every_parameter() -> None:
    head = FeatureGroupHead(8, groups=2, size=4, skip_dim=4, learn_temperature=True)
    (head(torch.randn(6, 8)) * torch.randn(6, 12)).sum().backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_learnt_temperature_stays_positive() -> None:
    torch.manual_seed(4)
    head = FeatureGroupHead(8, groups=2, size=4, temperature=0.1, learn_temperature=True)
    optimiser = torch.optim.SGD(head.parameters(), lr=100.0)
    for _ in range(3):  # push the temperature hard towards zero
        optimiser.zero_grad()
        head.log_temperature.sum().backward()
        optimiser.step()
    assert head.log_temperature < -300 and head.temperature == pytest.approx(1e-3)
    assert torch.isfinite(head(torch.randn(2, 8))).all()
    head = FeatureGroupHead(8, groups=2, size=4, learn_temperature=True)
    optimiser = torch.optim.SGD(head.parameters(), lr=0.5)
    optimiser.zero_grad()
    head.group_probabilities(torch.randn(4, 8)).max(-1).values.sum().neg().backward()
    optimiser.step()  # sharpening the peaks lowers the temperature, which stays positive
    assert 0 < head.temperature < 1.0


def test_fixed_temperature_is_a_buffer_not_a_parameter() -> None:
    head = FeatureGroupHead(8, groups=2, size=4, temperature=2.0)
    assert "log_temperature" not in dict(head.named_parameters())
    assert "log_temperature" in head.state_dict()
    assert head.temperature == pytest.approx(2.0)


def test_config_round_trip(rebuild) -> None:
    torch.manual_seed(5)
    head = FeatureGroupHead(8, groups=2, size=4, temperature=0.7, learn_temperature=True,
                            skip_dim=6, skip_weight=2.0)
    with torch.no_grad():
        head.log_temperature.add_(0.3)
    clone = rebuild(head)
    x = torch.randn(3, 8)
    assert clone.config() == head.config()
    assert head.config()["skip_dim"] == 6 and head.config()["learn_temperature"] is True
    assert torch.equal(clone(x), head(x))


@pytest.mark.parametrize("kwargs", [{"groups": 0}, {"size": 1}, {"temperature": 0.0},
                                    {"skip_dim": -1}, {"skip_weight": 0.0}])
def test_rejects_bad_arguments(kwargs) -> None:
    with pytest.raises(ValueError, match="feature_groups head"):
        FeatureGroupHead(8, **kwargs)


def test_group_margin_confidence_by_hand() -> None:
    from surematch.heads.base import group_margin_confidence

    one_hot = torch.tensor([[[0.0, 1.0, 0.0, 0.0]]])
    uniform = torch.full((1, 1, 4), 0.25)
    torn = torch.tensor([[[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]]])  # margins 0.2 and 1: mean 0.6
    assert group_margin_confidence(one_hot).item() == pytest.approx(1.0)
    assert group_margin_confidence(uniform).item() == pytest.approx(0.0)
    assert group_margin_confidence(torn).item() == pytest.approx(0.6)
