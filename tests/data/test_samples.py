"""Sample types: length checks, namespaced group ids, subsets and dropping singletons."""

from __future__ import annotations

import pytest

from surematch.data.samples import (
    GroupedTexts,
    LabelledQueries,
    References,
    Rules,
    TextPairs,
    drop_singletons,
)


def test_grouped_texts_basics() -> None:
    samples = GroupedTexts.from_labels(["a", "b", "c"], ["1", "1", 2], "set")
    assert samples.groups == ["set/1", "set/1", "set/2"]
    assert len(samples) == 3 and samples.n_groups() == 2 and samples.datasets() == {"set"}
    assert samples.subset([2, 0]) == GroupedTexts(["c", "a"], ["set/2", "set/1"])


def test_drop_singletons_counts_what_it_drops() -> None:
    samples = GroupedTexts(["a", "b", "c", "d"], ["s/1", "s/2", "s/1", "s/3"])
    kept, dropped = drop_singletons(samples)
    assert kept == GroupedTexts(["a", "c"], ["s/1", "s/1"]) and dropped == 2


@pytest.mark.parametrize("group", ["plain", "/x"])
def test_group_ids_must_be_namespaced(group: str) -> None:
    with pytest.raises(ValueError, match="namespaced"):
        GroupedTexts(["a"], [group])


def test_dataset_names_hold_no_slash() -> None:
    with pytest.raises(ValueError):
        GroupedTexts.from_labels(["a"], ["1"], "a/b")


@pytest.mark.parametrize(
    "make",
    [
        lambda: GroupedTexts(["a"], []),
        lambda: TextPairs(["a"], ["b"], []),
        lambda: References(["r"], ["t"], [{}, {}]),
        lambda: LabelledQueries(["q"], []),
        lambda: Rules(["t"], ["e"], [None], [None], [], [None]),
    ],
)
def test_lengths_must_agree(make) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        make()
