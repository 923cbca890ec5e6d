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

Numpy inputs are computed in numpy and tensors in torch, by the same formulas: a process that
matches or verifies with an ONNX graph never loads torch.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    import torch

Direction = Literal["distance", "similarity"]
DistanceName = Literal["cosine", "euclidean", "euclidean_l2", "angular", "dot"]
Array = TypeVar("Array", "torch.Tensor", np.ndarray)

_EPS = 1e-12

# The formulas are written once over the operations numpy and torch share (`*`, `@`, `.sum`,
# `sqrt`, `where`, `clip`, `arccos`): numpy inputs are computed in numpy (no torch import, so a
# process serving an ONNX graph stays torch-free), tensors in torch (with gradients).


def _normalize(x: Array) -> Array:
    norm = (x * x).sum(-1)[:, None] ** 0.5
    return x / _xp(x).clip(norm, _EPS, None)


def _cos_matrix(a: Array, b: Array) -> Array:
    return _normalize(a) @ _normalize(b).T


def _cos_paired(a: Array, b: Array) -> Array:
    return (_normalize(a) * _normalize(b)).sum(-1)


def _safe_sqrt(sq: Array) -> Array:
    """sqrt that keeps the gradient finite at exact zeros (those give 0)."""
    xp = _xp(sq)
    positive = sq > _EPS
    return xp.sqrt(xp.where(positive, sq, _EPS + 0.0 * sq)) * positive


def _euclidean_matrix(a: Array, b: Array) -> Array:
    # |a|² + |b|² - 2ab, clamped at zero against rounding
    sq = (a * a).sum(-1)[:, None] + (b * b).sum(-1)[None, :] - 2.0 * (a @ b.T)
    return _safe_sqrt(_xp(sq).clip(sq, 0.0, None))


def _euclidean_paired(a: Array, b: Array) -> Array:
    return _safe_sqrt(((a - b) ** 2).sum(-1))


def _angular(cos: Array) -> Array:
    xp = _xp(cos)
    return xp.arccos(xp.clip(cos, -1.0 + 1e-7, 1.0 - 1e-7)) / math.pi


def _xp(x: Array) -> Any:
    """The array module of `x`: numpy for arrays, torch for tensors."""
    if isinstance(x, np.ndarray):
        return np
    import torch

    return torch


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
    ta, tb = _same_kind(a, b)
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
        out = euc(_normalize(ta), _normalize(tb))
    else:  # dot
        out = (ta * tb).sum(-1) if paired else ta @ tb.T
    return cast(Array, out)


def _same_kind(a: Any, b: Any) -> tuple[Any, Any]:
    """Both as float32 numpy arrays, or both as tensors when either is one."""
    if not (_is_tensor(a) or _is_tensor(b)):
        return np.asarray(a, np.float32), np.asarray(b, np.float32)
    import torch

    def tensor(x: Any) -> torch.Tensor:
        return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, np.float32))

    return tensor(a), tensor(b)


def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")  # a tensor exists only once torch was imported
    return torch is not None and isinstance(x, torch.Tensor)


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
