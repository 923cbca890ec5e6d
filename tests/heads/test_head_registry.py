"""HEADS, build_head, head_from_config and head_config: building heads from specs."""

import json

import pytest
import torch

from surematch.errors import InputError
from surematch.heads import (
    HEADS,
    FeatureGroupHead,
    HeadStack,
    LinearHead,
    SkipConnectionHead,
    build_head,
    head_config,
    head_from_config,
)

SPECS = [
    {"kind": "skip", "dropout": 0.2},
    {"kind": "linear", "out_dim": 6, "bias": True},
    {"kind": "gated"},
    {"kind": "feature_groups", "groups": 2, "size": 4, "skip_dim": 5, "learn_temperature": True},
    {"kind": "stack", "heads": [{"kind": "skip"}, {"kind": "feature_groups", "size": 3}]},
]


def test_every_registered_kind_builds_and_names_itself() -> None:
    assert len(HEADS) >= 5
    for kind, cls in HEADS.items():
        assert cls.kind == kind
        spec = {"kind": kind, "heads": [{"kind": "skip"}, {"kind": "skip"}]} if kind == "stack" \
            else {"kind": kind}
        head = build_head(spec, in_dim=6)
        assert isinstance(head, cls) and head_from_config(head_config(head)).kind == kind


@pytest.mark.parametrize("spec", SPECS, ids=[s["kind"] for s in SPECS])
def test_build_then_rebuild_from_json_config(spec) -> None:
    torch.manual_seed(0)
    head = build_head(spec, in_dim=10).eval()
    assert head.in_dim == 10
    config = json.loads(json.dumps(head_config(head)))
    clone = head_from_config(config).eval()
    clone.load_state_dict(head.state_dict())
    x = torch.randn(3, 10)
    assert head(x).shape == (3, head.out_dim)
    assert torch.equal(clone(x), head(x))


def test_a_list_is_stacked_with_dimensions_chained() -> None:
    head = build_head([{"kind": "linear", "out_dim": 4}, {"kind": "skip"},
                       {"kind": "feature_groups", "groups": 2, "size": 3, "skip_dim": 4}], 9)
    assert isinstance(head, HeadStack)
    assert [h.in_dim for h in head.heads] == [9, 4, 4] and head.out_dim == 10
    assert isinstance(build_head([{"kind": "skip"}], 3), SkipConnectionHead)
    assert isinstance(build_head({"kind": "stack", "heads": [{"kind": "linear"}]}, 3), LinearHead)


def test_matching_in_dim_may_be_given() -> None:
    assert isinstance(build_head({"kind": "feature_groups", "in_dim": 7}, 7), FeatureGroupHead)


@pytest.mark.parametrize(("spec", "message"), [
    ({"kind": "softmax"}, "unknown head kind 'softmax'; known kinds: feature_groups, gated"),
    ({"size": 3}, "unknown head kind None"),
    ({"kind": "skip", "droput": 0.1}, 'skip head: unknown parameter "droput"; it takes in_dim'),
    ({"kind": "linear", "out_dim": "4"}, 'parameter "out_dim" must be int or None'),
    ({"kind": "linear", "bias": 1}, 'parameter "bias" must be bool'),
    ({"kind": "feature_groups", "groups": True}, 'parameter "groups" must be int'),
    ({"kind": "feature_groups", "temperature": -1}, "temperature must be > 0"),
    ({"kind": "gated", "in_dim": 4}, "in_dim=4 is given but its input has 8"),
    ({"kind": "stack", "heads": []}, "empty list"),
    ([], "empty list"),
    ("skip", "expected a mapping"),
])
def test_bad_specs_say_what_is_wrong(spec, message) -> None:
    with pytest.raises(InputError) as caught:
        build_head(spec, 8)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_head_from_config_names_a_missing_parameter() -> None:
    with pytest.raises(InputError, match=r"gated head: .*in_dim"):
        head_from_config({"kind": "gated"})
