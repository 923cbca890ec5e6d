"""Bring-your-own verification scores (e.g. DeepFace distances) with labels, read from a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from surematch.data.fields import number
from surematch.data.tables import read_records
from surematch.errors import InputError


def read_scores(path: str | Path, distance: str) -> tuple[np.ndarray, np.ndarray]:
    """Bring-your-own scores: columns `label` and `distance` (values of --distance) or
    `similarity` (a cosine similarity, or a dot product with --distance dot)."""
    records = read_records(path, ["label"], ["distance", "similarity"])
    first = records[0].values
    if first.get("distance") is None and first.get("similarity") is None:
        raise InputError("needs a `distance` or a `similarity` column (with a value in the first "
                         "row) beside `label`", file=path)
    column = "distance" if first.get("distance") is not None else "similarity"
    if column == "similarity" and distance not in ("cosine", "dot"):
        raise InputError(f"a similarity column needs --distance cosine or dot, not {distance!r}",
                         file=path, field="similarity")
    inf = float("inf")
    values = np.array([number(r, column, -inf, inf, low_open=False, required=True)
                       for r in records], dtype=np.float64)
    labels = [number(r, "label", 0.0, 1.0, low_open=False, required=True) for r in records]
    if column == "similarity" and distance == "cosine":
        values = 1.0 - values  # cosine distance, as surematch.distances defines it
    return values, np.asarray(labels)
