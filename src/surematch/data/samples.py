"""Sample types every reader returns: grouped texts, pairs, references, labelled queries, rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def _check_lengths(kind: str, **columns: Sequence[Any]) -> None:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{kind}: columns differ in length: {lengths}")


@dataclass(frozen=True)
class GroupedTexts:
    """Texts labelled by group; texts of one group are similar, of different groups are not.

    Group ids are namespaced "dataset/group" so that groups from different data sets never
    collide; the data set name holds no "/" (the group label may).
    """

    texts: list[str]
    groups: list[str]

    def __post_init__(self) -> None:
        _check_lengths("GroupedTexts", texts=self.texts, groups=self.groups)
        bad = next((g for g in self.groups if "/" not in g or g.startswith("/")), None)
        if bad is not None:
            raise ValueError(f'GroupedTexts: group id {bad!r} is not namespaced "dataset/group"')

    @classmethod
    def from_labels(cls, texts: list[str], labels: Sequence[object], dataset: str) -> GroupedTexts:
        """Namespace raw group labels with `dataset` ("dataset/label")."""
        if not dataset or "/" in dataset:
            raise ValueError(f'dataset name must be non-empty and hold no "/": {dataset!r}')
        return cls(list(texts), [f"{dataset}/{label}" for label in labels])

    def __len__(self) -> int:
        return len(self.texts)

    def n_groups(self) -> int:
        return len(set(self.groups))

    def datasets(self) -> set[str]:
        """The data set names in the group ids."""
        return {g.split("/", 1)[0] for g in self.groups}

    def subset(self, indices: Sequence[int]) -> GroupedTexts:
        return GroupedTexts([self.texts[i] for i in indices], [self.groups[i] for i in indices])


def drop_singletons(samples: GroupedTexts) -> tuple[GroupedTexts, int]:
    """Drop groups with a single member; returns the rest and how many groups (= rows) went."""
    sizes = Counter(samples.groups)
    keep = [i for i, g in enumerate(samples.groups) if sizes[g] > 1]
    return samples.subset(keep), len(samples) - len(keep)


@dataclass(frozen=True)
class TextPairs:
    """Pairs of texts with a label: 1 / 0, or a similarity score in [0, 1]."""

    text_a: list[str]
    text_b: list[str]
    labels: list[float]

    def __post_init__(self) -> None:
        _check_lengths("TextPairs", text_a=self.text_a, text_b=self.text_b, labels=self.labels)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class References:
    """The texts queries are matched against, each with a unique id and a payload to filter on."""

    ids: list[str]
    texts: list[str]
    payloads: list[dict[str, Any]]

    def __post_init__(self) -> None:
        _check_lengths("References", ids=self.ids, texts=self.texts, payloads=self.payloads)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class LabelledQueries:
    """Queries with the reference id that should match; None: no reference should match."""

    texts: list[str]
    expected_ids: list[str | None]

    def __post_init__(self) -> None:
        _check_lengths("LabelledQueries", texts=self.texts, expected_ids=self.expected_ids)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class Rules:
    """Exclusion rules: a query near `trigger` must not match references near `exclude`.

    A similarity of None leaves the threshold to whoever applies the rule.
    """

    triggers: list[str]
    excludes: list[str]
    ids: list[str | None]
    trigger_similarity: list[float | None]
    exclude_similarity: list[float | None]
    notes: list[str | None]

    def __post_init__(self) -> None:
        _check_lengths("Rules", **{k: getattr(self, k) for k in self.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.triggers)
