"""The one place where distances and similarities are defined, each with its direction.

Formulas match DeepFace's, so its embeddings and distances can be brought as they are:

| name           | value for rows a, b                    | direction  | range     |
| -------------- | -------------------------------------- | ---------- | --------- |
| `cosine`       | 1 - a·b / (|a| |b|)                    | distance   | [0, 2]    |
| `euclidean`    | |a - b|                                | distance   | [0, inf)  |
| `euclidean_l2` | |a/|a| - b/|b||                        | distance   | [0, 2]    |
| `angular`      | arccos(a·b / (|a| |b|)) / pi           | distance   | [0, 1]    |
| `dot`          | a·b                                    | similarity | (-inf, inf) |

`closeness()` turns any of them into "higher means closer" (a distance is negated), which is
what margin and softmax losses need; it is the only sign flip in the code base.

torch is imported when a measure is first computed, not with this module: matching with an
ONNX graph reads `DISTANCES` (through the calibration) without ever loading torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    import torch

Direction = Literal["distance", "similarity"]
DistanceName = Literal["cosine", "euclidean", "euclidean_l2", "angular", "dot"]
Array = TypeVar("Array", "torch.Tensor", np.ndarray)

_EPS = 1e-12


def _cos_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.normalize(a, dim=-1, eps=_EPS) @ F.normalize(b, dim=-1, eps=_EPS).T


def _cos_paired(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return (F.normalize(a, dim=-1, eps=_EPS) * F.normalize(b, dim=-1, eps=_EPS)).sum(-1)


def _euclidean_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch

    # |a|² + |b|² - 2ab, clamped: exact zeros on the diagonal keep sqrt's gradient finite.
    sq = (a * a).sum(-1)[:, None] + (b * b).sum(-1)[None, :] - 2.0 * (a @ b.T)
    sq = sq.clamp_min(0.0)
    return torch.where(sq > _EPS, sq, torch.full_like(sq, _EPS)).sqrt() * (sq > _EPS)


def _euclidean_paired(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch

    sq = ((a - b) ** 2).sum(-1)
    return torch.where(sq > _EPS, sq, torch.full_like(sq, _EPS)).sqrt() * (sq > _EPS)


def _angular(cos: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.arccos(cos.clamp(-1.0 + 1e-7, 1.0 - 1e-7)) / math.pi


@dataclass(frozen=True)
class Distance:
    """A measure between embeddings, with its direction stated.

    `pairwise(a [N, D], b [M, D]) -> [N, M]` compares every row of a with every row of b;
    `paired(a [N, D], b [N, D]) -> [N]` compares row i with row i. Both accept torch
    tensors or numpy arrays and return the same kind.
    """

    name: DistanceName
    direction: Direction

    @property
    def higher_is_closer(self) -> bool:
        return self.direction == "similarity"

    def pairwise(self, a: Array, b: Array) -> Array:
        return _apply(self, a, b, paired=False)

    def paired(self, a: Array, b: Array) -> Array:
        return _apply(self, a, b, paired=True)

    def closeness(self, values: Array) -> Array:
        """Values of this measure, turned so that higher always means closer."""
        return values if self.higher_is_closer else -values


def _apply(d: Distance, a: Array, b: Array, *, paired: bool) -> Array:
    import torch.nn.functional as F

    is_numpy = isinstance(a, np.ndarray)
    ta, tb = (_tensor(a), _tensor(b))
    if ta.ndim != 2 or tb.ndim != 2 or ta.shape[1] != tb.shape[1]:
        raise ValueError(f"{d.name}: expected [N, D] and [M, D] inputs, got {tuple(ta.shape)} "
                         f"and {tuple(tb.shape)}")
    if paired and ta.shape[0] != tb.shape[0]:
        raise ValueError(f"{d.name}: paired inputs need as many rows, got {ta.shape[0]} and "
                         f"{tb.shape[0]}")
    cos = _cos_paired if paired else _cos_matrix
    euc = _euclidean_paired if paired else _euclidean_matrix
    if d.name == "cosine":
        out = 1.0 - cos(ta, tb)
    elif d.name == "angular":
        out = _angular(cos(ta, tb))
    elif d.name == "euclidean":
        out = euc(ta, tb)
    elif d.name == "euclidean_l2":
        out = euc(F.normalize(ta, dim=-1, eps=_EPS), F.normalize(tb, dim=-1, eps=_EPS))
    else:  # dot
        out = (ta * tb).sum(-1) if paired else ta @ tb.T
    return cast(Array, out.detach().cpu().numpy() if is_numpy else out)


def _tensor(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    import torch

    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, np.float32))


DISTANCES: dict[str, Distance] = {
    "cosine": Distance("cosine", "distance"),
    "euclidean": Distance("euclidean", "distance"),
    "euclidean_l2": Distance("euclidean_l2", "distance"),
    "angular": Distance("angular", "distance"),
    "dot": Distance("dot", "similarity"),
}


def get_distance(name: str) -> Distance:
    """Look a measure up by name, with an error that lists the known ones."""
    try:
        return DISTANCES[name]
    except KeyError:
        raise ValueError(f"unknown distance {name!r}; choose one of {sorted(DISTANCES)}") from None


def cosine_similarity(a: Array, b: Array) -> Array:
    """Pairwise cosine similarity [N, M] (higher is closer): 1 - the cosine distance."""
    return 1.0 - DISTANCES["cosine"].pairwise(a, b)
