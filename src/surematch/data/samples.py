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


TEXT_KINDS = ("title", "synonym", "description", "reviewed")
"""What a reference's text is; the first text of a reference is its title; "reviewed": a query
that a review taught the reference (`feedback.learn`), not the taxonomy's own text."""


@dataclass(frozen=True)
class References:
    """The things queries are matched against: each an id, a payload to filter on, and one or
    more texts. `texts[i]` is reference i's title (its first text); `extra_texts[i]` (None:
    none) holds its further texts as (text, kind) pairs, kind one of TEXT_KINDS.
    `text_kinds[i]` (None: "title") is the kind of `texts[i]`, for a reference whose first
    text is not a title (a file row with a `kind` column).

    In an index each text is a vector of the reference; its similarity to a query is that of
    its best text.
    """

    ids: list[str]
    texts: list[str]
    payloads: list[dict[str, Any]]
    extra_texts: list[list[tuple[str, str]]] | None = None
    text_kinds: list[str] | None = None

    def __post_init__(self) -> None:
        _check_lengths("References", ids=self.ids, texts=self.texts, payloads=self.payloads)
        if self.extra_texts is not None:
            _check_lengths("References", ids=self.ids, extra_texts=self.extra_texts)
        if self.text_kinds is not None:
            _check_lengths("References", ids=self.ids, text_kinds=self.text_kinds)

    def __len__(self) -> int:
        return len(self.ids)

    def texts_of(self, i: int) -> list[tuple[str, str]]:
        """Reference i's texts as (text, kind), its title first."""
        extra = self.extra_texts[i] if self.extra_texts is not None else []
        kind = self.text_kinds[i] if self.text_kinds is not None else "title"
        return [(self.texts[i], kind), *extra]

    def flat(self) -> tuple[list[int], list[str], list[str]]:
        """Every text of every reference: (reference row [T], text [T], kind [T]), grouped by
        reference in reference order."""
        rows, texts, kinds = [], [], []
        for i in range(len(self.ids)):
            for text, kind in self.texts_of(i):
                rows.append(i)
                texts.append(text)
                kinds.append(kind)
        return rows, texts, kinds

    def subset(self, indices: Sequence[int]) -> References:
        return References([self.ids[i] for i in indices], [self.texts[i] for i in indices],
                          [self.payloads[i] for i in indices],
                          None if self.extra_texts is None else
                          [self.extra_texts[i] for i in indices],
                          None if self.text_kinds is None else
                          [self.text_kinds[i] for i in indices])


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
