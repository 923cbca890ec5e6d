"""Shared helpers for the head tests: rebuilding a head from its JSON config."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from torch import nn

from surematch.heads import head_config, head_from_config


def _rebuild(head: nn.Module) -> nn.Module:
    """head -> JSON -> head_from_config, with the weights copied over."""
    clone = head_from_config(json.loads(json.dumps(head_config(head))))
    clone.load_state_dict(head.state_dict())
    return clone


@pytest.fixture
def rebuild() -> Callable[[nn.Module], nn.Module]:
    return _rebuild
