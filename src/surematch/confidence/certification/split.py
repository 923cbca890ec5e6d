"""Split calibration examples into a part that fits the calibrator and one that fits the bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from surematch.confidence.checks import MIN_PER_CLASS, MIN_SAMPLES, enough_data
from surematch.errors import InputError


def enough_to_split(y: np.ndarray, what: str) -> None:
    """Refuse up front unless both parts can be big enough: twice the minimum of one fit."""
    try:
        enough_data(y, min_samples=2 * MIN_SAMPLES, min_per_class=2 * MIN_PER_CLASS)
    except InputError as exc:
        raise InputError(f"{exc} ({what}: one part fits the calibrator, the other, unseen by "
                         "it, chooses the threshold and bands)") from None


def fit_band_split(
    n: int, groups: Sequence[object | None] | None = None, band_fraction: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit [N1], band [N2]) of n examples, whole groups on one side.

    Groups (e.g. each query's expected reference id) keep near-copies out of both sides at once,
    so the bands are certified on examples as new to the calibrator as tomorrow's queries; a
    group of None is an example of its own. About `band_fraction` of the groups go to the band
    part, chosen at random with `seed`.
    """
    if not 0.0 < band_fraction < 1.0:
        raise InputError(f"band_fraction: must lie strictly between 0 and 1, got {band_fraction}")
    if groups is None:
        keys = np.arange(n)
    else:
        if len(groups) != n:
            raise InputError(f"groups: {len(groups)} for {n} examples")
        names: dict[object, int] = {}
        keys = np.array([names.setdefault(g, len(names)) if g is not None else -1 - i
                         for i, g in enumerate(groups)])
    unique = np.unique(keys)
    if len(unique) < 2:
        raise InputError("calibration data: all examples belong to one group; need several")
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(unique)[: max(1, round(band_fraction * len(unique)))]
    band = np.isin(keys, chosen)
    return np.flatnonzero(~band), np.flatnonzero(band)
