"""FeatureGroupHead: an embedding made of soft one-hot feature groups, for readable confidence."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from surematch.heads.base import Head, group_margin_confidence
from surematch.heads.skip import SkipConnectionHead

LOG_TEMPERATURE_RANGE = (math.log(1e-3), math.log(1e3))  # kept there, whatever a step does


class FeatureGroupHead(Head):
    """x [B, in_dim] -> [skip branch (skip_dim) | group softmaxes (groups * size)].

    Each of the `groups` blocks is softmax(logits_g / temperature) over `size` values: a soft
    one-hot feature whose peak says how sure the model is of that feature.

    - Input: x is RMS-normalised (x / rms(x)) before the projection, and the projection starts
      at normal(0, 1/sqrt(in_dim)), so the logits start with unit spread whatever the encoder's
      scale: the softmaxes are neither uniform nor saturated at the start.
    - Scale: each group's softmax is multiplied by 1/sqrt(groups) (`group_scale`), so the whole
      group block has norm at most 1 (reached when every group is one-hot) and an unsure,
      flat group adds little. With skip_weight=1 a confident group block and the skip branch
      (L2-normalised, norm 1) weigh the same in the cosine; neither dominates.
    - Reading the groups back: `group_probabilities(x)` from this head's own input, or
      `probabilities_from_output(y)` from its output, even after L2 normalisation (each group
      is divided by its sum, which undoes any positive scale).
    - Temperature is kept as log(temperature), a parameter only when learn_temperature is
      set, so it stays positive under any optimiser step; in use it is clamped to
      [1e-3, 1e3] so that even a wild step cannot underflow it to zero.
    """

    kind: ClassVar[str] = "feature_groups"

    def __init__(
        self,
        in_dim: int,
        groups: int = 4,
        size: int = 128,
        temperature: float = 1.0,
        learn_temperature: bool = False,
        skip_dim: int = 0,
        skip_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if in_dim < 1 or groups < 1 or size < 2 or skip_dim < 0:
            raise ValueError(
                "feature_groups head: need in_dim >= 1, groups >= 1, size >= 2, skip_dim >= 0; "
                f"got in_dim={in_dim}, groups={groups}, size={size}, skip_dim={skip_dim}")
        if not 1e-3 <= temperature <= 1e3:
            raise ValueError("feature_groups head: temperature must be > 0 (within [1e-3, 1e3]), "
                             f"got {temperature}")
        if not (skip_weight > 0 and math.isfinite(skip_weight)):
            raise ValueError(f"feature_groups head: skip_weight must be > 0, got {skip_weight}")
        self.in_dim, self.groups, self.size = in_dim, groups, size
        self.skip_dim, self.skip_weight = skip_dim, float(skip_weight)
        self.learn_temperature = learn_temperature
        self.out_dim = skip_dim + groups * size
        self.proj = nn.Linear(in_dim, groups * size)
        nn.init.normal_(self.proj.weight, std=1.0 / math.sqrt(in_dim))
        nn.init.zeros_(self.proj.bias)
        log_t = torch.tensor(math.log(temperature), dtype=torch.float32)
        if learn_temperature:
            self.log_temperature = nn.Parameter(log_t)
        else:
            self.register_buffer("log_temperature", log_t)
        self.skip: nn.Module | None = None
        if skip_dim:
            project: list[nn.Module] = []
            if skip_dim != in_dim:
                down = nn.Linear(in_dim, skip_dim, bias=False)
                nn.init.orthogonal_(down.weight)
                project = [down]
            self.skip = nn.Sequential(*project, SkipConnectionHead(skip_dim))

    def _temperature(self) -> torch.Tensor:
        return self.log_temperature.clamp(*LOG_TEMPERATURE_RANGE).exp()

    @property
    def temperature(self) -> float:
        return float(self._temperature().detach())

    @property
    def group_scale(self) -> float:
        """The factor each group's softmax is multiplied by in the output: 1/sqrt(groups)."""
        return 1.0 / math.sqrt(self.groups)

    @property
    def group_slice(self) -> slice:
        """Where the group block lies in the output (after the skip branch, if any)."""
        return slice(self.skip_dim, self.skip_dim + self.groups * self.size)

    def group_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """This head's input x [B, in_dim] -> the group softmaxes [B, groups, size]."""
        logits = self.proj(F.rms_norm(x, (self.in_dim,), eps=1e-12))
        logits = logits.view(-1, self.groups, self.size) / self._temperature()
        return torch.softmax(logits, dim=-1)

    def probabilities_from_output(self, y: torch.Tensor) -> torch.Tensor:
        """This head's output y [B, out_dim], scaled or not -> [B, groups, size], rows sum to 1."""
        block = y[..., self.group_slice].reshape(*y.shape[:-1], self.groups, self.size)
        return block / block.sum(-1, keepdim=True).clamp_min(torch.finfo(block.dtype).tiny)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, in_dim] -> [B, skip_dim + groups * size]."""
        return self._output(x, self.group_probabilities(x))

    def _output(self, x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        block = probs.flatten(1) * self.group_scale
        if self.skip is None:
            return block
        skip = F.normalize(self.skip(x), dim=-1) * self.skip_weight
        return torch.cat([skip, block], dim=-1)

    @property
    def has_confidence(self) -> bool:
        return True

    def forward_with_confidence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, in_dim] -> (output [B, out_dim], confidence [B]: how peaked the groups are)."""
        probs = self.group_probabilities(x)
        return self._output(x, probs), group_margin_confidence(probs)

    def config(self) -> dict[str, Any]:
        return {
            "in_dim": self.in_dim, "groups": self.groups, "size": self.size,
            "temperature": self.temperature, "learn_temperature": self.learn_temperature,
            "skip_dim": self.skip_dim, "skip_weight": self.skip_weight,
        }
