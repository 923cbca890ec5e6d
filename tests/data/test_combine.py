"""combine_groups: groups from different data sets never merge, even with equal raw labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from surematch.data.combine import combine_groups
from surematch.data.readers import read_groups
from surematch.data.samples import GroupedTexts
from surematch.errors import InputError


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("text,group\n" + "".join(f"{t},{g}\n" for t, g in rows), encoding="utf-8")
    return path


def test_equal_raw_labels_from_different_data_sets_stay_apart(tmp_path: Path) -> None:
    jobs = read_groups(_write(tmp_path / "jobs.csv", [("nurse", "1"), ("RN", "1")]))
    animals = read_groups(_write(tmp_path / "animals.csv", [("cat", "1"), ("kitten", "1")]))
    combined = combine_groups([jobs, animals])
    assert combined.texts == ["nurse", "RN", "cat", "kitten"]
    assert combined.groups == ["jobs/1", "jobs/1", "animals/1", "animals/1"]
    assert combined.n_groups() == 2
    assert combined.datasets() == {"jobs", "animals"}


def test_two_parts_with_one_data_set_name_are_refused(tmp_path: Path) -> None:
    a = read_groups(_write(tmp_path / "a" / "groups.csv", [("nurse", "1"), ("RN", "1")]))
    b = read_groups(_write(tmp_path / "b" / "groups.csv", [("cat", "1"), ("kitten", "1")]))
    with pytest.raises(InputError, match="parts 0 and 1 both hold data set 'groups'"):
        combine_groups([a, b])
    named = read_groups(tmp_path / "b" / "groups.csv", dataset="animals")
    assert combine_groups([a, named]).n_groups() == 2


def test_combining_nothing_is_an_error() -> None:
    with pytest.raises(InputError):
        combine_groups([])


def test_a_single_part_comes_back_equal() -> None:
    part = GroupedTexts(["a", "b"], ["x/1", "x/1"])
    assert combine_groups([part]) == part
