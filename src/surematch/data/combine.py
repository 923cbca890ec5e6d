"""Combine grouped texts from several data sets into one training set, keeping groups apart."""

from __future__ import annotations

from collections.abc import Sequence

from surematch.data.samples import GroupedTexts
from surematch.errors import InputError


def combine_groups(parts: Sequence[GroupedTexts]) -> GroupedTexts:
    """Concatenate parts; groups never merge across parts because ids are "dataset/group".

    Two parts holding the same data set name would merge their equal group labels (e.g. two
    files both called groups.csv in different folders), so that raises InputError: give each
    part its own name with `read_groups(..., dataset=...)`.
    """
    if not parts:
        raise InputError("no data sets to combine")
    owner: dict[str, int] = {}
    for i, part in enumerate(parts):
        for name in sorted(part.datasets()):
            if name in owner:
                raise InputError(
                    f"parts {owner[name]} and {i} both hold data set {name!r}; their groups "
                    "would merge. Name them apart with read_groups(..., dataset='...')"
                )
            owner[name] = i
    texts = [t for part in parts for t in part.texts]
    groups = [g for part in parts for g in part.groups]
    return GroupedTexts(texts, groups)
