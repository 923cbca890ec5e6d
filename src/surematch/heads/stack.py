"""HeadStack: heads applied one after another, and finding the feature groups inside one."""

from __future__ import annotations

import itertools
import logging
from typing import Any, ClassVar

import torch
from torch import nn

from surematch.heads.feature_groups import FeatureGroupHead

logger = logging.getLogger(__name__)


class HeadStack(nn.Module):
    """heads[-1](...heads[0](x)): x [B, in_dim of the first] -> [B, out_dim of the last].

    `heads` are modules, or configs `{"kind": ..., **config}` (as `config()` writes them), so
    that `HeadStack(**stack.config())` rebuilds the stack.
    """

    kind: ClassVar[str] = "stack"

    def __init__(self, heads: list[nn.Module | dict[str, Any]]) -> None:
        super().__init__()
        from surematch.heads import head_from_config  # the registry imports this module

        if not heads:
            raise ValueError("head stack: needs at least one head")
        modules = [head_from_config(h) if isinstance(h, dict) else h for h in heads]
        for i, (before, after) in enumerate(itertools.pairwise(modules)):
            if before.out_dim != after.in_dim:
                raise ValueError(
                    f"head stack: head {i} ({before.kind}) puts out {before.out_dim} dimensions "
                    f"but head {i + 1} ({after.kind}) takes in_dim={after.in_dim}")
        self.heads = nn.ModuleList(modules)
        self.in_dim, self.out_dim = modules[0].in_dim, modules[-1].out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, out_dim]."""
        for head in self.heads:
            x = head(x)
        return x

    def config(self) -> dict[str, Any]:
        return {"heads": [{"kind": h.kind, **h.config()} for h in self.heads]}


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


def heads_before(head: nn.Module, target: nn.Module) -> list[nn.Module] | None:
    """The heads that run before `target` inside `head` (stacks searched recursively), in order.

    [] when `head` is `target`; None when `target` is not inside `head`. Running them on the
    encoder's output [B, E] gives `target`'s own input.
    """
    if head is target:
        return []
    if isinstance(head, HeadStack):
        for i, inner in enumerate(head.heads):
            path = heads_before(inner, target)
            if path is not None:
                return [*head.heads[:i], *path]
    return None
