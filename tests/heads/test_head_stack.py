"""HeadStack: heads in order, dimension checks, and finding the feature groups."""

import pytest
import torch

from surematch.heads import (
    FeatureGroupHead,
    GatedHead,
    HeadStack,
    LinearHead,
    SkipConnectionHead,
    find_feature_groups,
    head_from_config,
)


def _stack() -> HeadStack:
    torch.manual_seed(0)
    return HeadStack([SkipConnectionHead(8), LinearHead(8, 6), FeatureGroupHead(6, 2, 4)])


def test_applies_heads_in_order() -> None:
    stack = _stack()
    x = torch.randn(3, 8)
    expected = stack.heads[2](stack.heads[1](stack.heads[0](x)))
    assert (stack.in_dim, stack.out_dim) == (8, 8)
    assert torch.equal(stack(x), expected)


def test_dimension_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"head 0 \(linear\) puts out 5 .* head 1 \(gated\)"):
        HeadStack([LinearHead(8, 5), GatedHead(8)])
    with pytest.raises(ValueError, match="at least one head"):
        HeadStack([])


def test_config_round_trip(rebuild) -> None:
    stack = _stack()
    config = stack.config()
    assert [h["kind"] for h in config["heads"]] == ["skip", "linear", "feature_groups"]
    x = torch.randn(2, 8)
    rebuilt = head_from_config({"kind": "stack", **config})
    rebuilt.load_state_dict(stack.state_dict())
    assert torch.equal(rebuilt(x), stack(x))
    assert torch.equal(rebuild(stack)(x), stack(x))


def test_gradients_flow_through_the_stack() -> None:
    stack = _stack()
    (stack(torch.randn(4, 8)) * torch.randn(4, 8)).sum().backward()
    assert stack.heads[0].fc.weight.grad.abs().sum() > 0


def test_find_feature_groups() -> None:
    groups = FeatureGroupHead(4, 2, 3)
    assert find_feature_groups(groups) is groups
    stack = _stack()
    assert find_feature_groups(stack) is stack.heads[-1]
    nested = HeadStack([GatedHead(4), HeadStack([SkipConnectionHead(4), groups])])
    assert find_feature_groups(nested) is groups
    assert find_feature_groups(HeadStack([groups, GatedHead(6)])) is None  # not in the output
    assert find_feature_groups(GatedHead(4)) is None


