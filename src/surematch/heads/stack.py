"""HeadStack: heads applied one after another, and finding the feature groups inside one."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import torch
from torch import nn

from surematch.heads.base import Head
from surematch.heads.feature_groups import FeatureGroupHead

logger = logging.getLogger(__name__)


class HeadStack(Head):
    """heads[-1](...heads[0](x)): x [B, in_dim of the first] -> [B, out_dim of the last].

    `heads` are modules; `config()` writes each as `{"kind": ..., **config}`, which
    `surematch.heads.head_from_config` rebuilds (the registry builds the stack's heads, so
    this module never imports it).
    """

    kind: ClassVar[str] = "stack"

    def __init__(self, heads: Sequence[Head]) -> None:
        super().__init__()
        if not heads:
            raise ValueError("head stack: needs at least one head")
        modules = list(heads)
        for i, (before, after) in enumerate(itertools.pairwise(modules)):
            if before.out_dim != after.in_dim:
                raise ValueError(
                    f"head stack: head {i} ({before.kind}) puts out {before.out_dim} dimensions "
                    f"but head {i + 1} ({after.kind}) takes in_dim={after.in_dim}")
        self.heads = nn.ModuleList(modules)
        self.in_dim, self.out_dim = modules[0].in_dim, modules[-1].out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, out_dim]."""
        for head in cast(list[Head], list(self.heads)):
            x = head(x)
        return x

    @property
    def has_confidence(self) -> bool:
        """The last head decides: only its read-out describes the stack's output."""
        return bool(self.heads[-1].has_confidence)

    def forward_with_confidence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [B, in_dim] -> (y [B, out_dim], the last head's confidence [B] or None)."""
        *before, last = cast(list[Head], list(self.heads))
        for head in before:
            x = head(x)
        return last.forward_with_confidence(x)

    def config(self) -> dict[str, Any]:
        return {"heads": [{"kind": h.kind, **h.config()}
                          for h in cast(list[Head], list(self.heads))]}


def find_feature_groups(head: nn.Module) -> FeatureGroupHead | None:
    """The FeatureGroupHead whose groups lie in `head`'s output, or None.

    That is the head itself, or the last head of a stack (searched recursively). A feature
    group head followed by other heads does not count: its groups are no longer in the output.
    Read the groups of an embedding with `probabilities_from_output(embedding)`, which works on
    the model's L2-normalised output; `group_probabilities(x)` needs that head's own input.
    """
    if isinstance(head, FeatureGroupHead):
        return head
    if isinstance(head, HeadStack):
        found = find_feature_groups(head.heads[-1])
        if found is None and any(find_feature_groups(h) for h in head.heads[:-1]):
            logger.debug("feature groups are followed by other heads; none in the output")
        return found
    return None
