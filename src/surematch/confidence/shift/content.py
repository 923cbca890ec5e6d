"""What a query means, in a few numbers for the shift monitor: its embedding's coordinates on
the leading principal axes of the calibration queries' embeddings.

The monitor's other features see a shift only through how well the top match fits and the
text's form; a stream of one occupation group's titles looks like the calibration queries in
both and differs in meaning. `ContentBasis` is the centre [D] and the first `CONTENT_DIMS`
principal axes [K, D] of the calibration queries' embeddings, fitted at calibration time and
stored with the drift reference; each query's coordinates on them are `content_1` ..
`content_K`, one more feature each for the monitor's rank test and classifier. Projecting a
query costs K x D multiply-adds. The axes are fitted on the calibration queries themselves,
so along them the reference's spread is slightly larger than a fresh sample's (by about
K / N of it); a spread change does not move the ranks' centre, which is what the rank test
bets on, and the measured false-alarm rate stays within the bound (BENCHMARKS.md, shift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.errors import InputError

CONTENT_DIMS = 8  # principal axes kept; BENCHMARKS.md (shift) compares 4, 8 and 16


def content_names(dims: int) -> tuple[str, ...]:
    return tuple(f"content_{i + 1}" for i in range(dims))


@dataclass(frozen=True)
class ContentBasis:
    """The centre `mean` [D] and principal `axes` [K, D] (unit rows) that project a query's
    embedding onto K content features."""

    mean: np.ndarray
    axes: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        return content_names(len(self.axes))

    def project(self, vectors: ArrayLike) -> dict[str, np.ndarray]:
        """{content_i: values [Q]} of query embeddings [Q, D]; a row of NaN (no embedding)
        gives NaN."""
        v = np.asarray(vectors, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != self.mean.shape[0]:
            raise InputError(f"embeddings of shape {v.shape}, the basis has dimension "
                             f"{self.mean.shape[0]}", field="vectors")
        z = (v - self.mean) @ self.axes.T
        return {name: z[:, i] for i, name in enumerate(self.names)}

    def project_rows(self, rows: Sequence[ArrayLike | None]) -> dict[str, np.ndarray]:
        """`project` of one embedding per query, None where a query has none."""
        v = np.full((len(rows), self.mean.shape[0]), np.nan)
        for n, row in enumerate(rows):
            if row is not None:
                v[n] = np.asarray(row, dtype=np.float64).reshape(-1)
        return self.project(v)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": [round(float(x), 6) for x in self.mean],
                "axes": [[round(float(x), 6) for x in row] for row in self.axes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContentBasis:
        mean = np.asarray(d["mean"], dtype=np.float64).reshape(-1)
        axes = np.asarray(d["axes"], dtype=np.float64)
        if axes.ndim != 2 or axes.shape[1] != len(mean) or not np.isfinite(axes).all() \
                or not np.isfinite(mean).all():
            raise ValueError(f"content axes of shape {axes.shape} for a centre of "
                             f"{len(mean)} values")
        return cls(mean, axes)


def fit_basis(vectors: ArrayLike, dims: int = CONTENT_DIMS) -> ContentBasis:
    """The centre and the first `dims` principal axes of embeddings [N, D] (fewer when N or
    D is smaller)."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or len(v) < 2:
        raise InputError(f"needs two embeddings or more, got shape {v.shape}",
                         field="vectors")
    mean = v.mean(axis=0)
    _, _, vt = np.linalg.svd(v - mean, full_matrices=False)
    axes = vt[:min(dims, len(vt))]
    # a sign per axis fixed by the data (largest coordinate positive): refits agree
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    return ContentBasis(mean, axes * np.where(signs == 0, 1.0, signs)[:, None])
