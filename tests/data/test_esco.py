"""ESCO adapter: title cleaning, the derived samples, the ISCO split and the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

from surematch.data.esco import (
    Occupation,
    bundled_esco_path,
    esco_groups,
    esco_queries,
    esco_references,
    esco_title_description_pairs,
    read_esco,
    split_by_isco,
)
from surematch.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def bundled() -> list[Occupation]:
    return read_esco()


@pytest.fixture(scope="module")
def small() -> list[Occupation]:
    return read_esco(FIXTURES / "esco_small.csv")


def test_titles_are_stripped_deduplicated_and_without_the_preferred(small) -> None:
    director = small[0]
    assert director.uri == "u:1" and director.isco_group == "2166"
    assert director.preferred == "technical director"
    assert director.alternatives == ["head of technical", "technical manager"]
    assert director.description == "Directs."
    assert small[1].isco_group == "0110" and small[1].alternatives == []
    assert small[2].description == ""


def test_groups_one_per_occupation_without_singletons_or_shared_titles(small, caplog) -> None:
    with caplog.at_level("INFO", logger="surematch.data.esco"):
        groups = esco_groups(small)  # "head of technical" belongs to u:1 and u:3: left out
    assert "left out 2 titles shared by several occupations" in caplog.text
    assert groups.texts == [
        "technical director", "technical manager", "stage director", "theatre director",
    ]  # fmt: skip
    assert groups.groups == ["esco/u:1"] * 2 + ["esco/u:3"] * 2
    assert len(esco_groups(small, "e", keep_singletons=True)) == 5
    both = esco_groups(small, drop_ambiguous=False)
    assert both.texts.count("head of technical") == 2 and len(both) == 6


def test_pairs_references_and_queries(small) -> None:
    pairs = esco_title_description_pairs(small)
    assert (pairs.text_a, pairs.text_b, pairs.labels) == (
        ["technical director", "officer"], ["Directs.", "Commands."], [1.0, 1.0]
    )  # fmt: skip
    refs = esco_references(small)
    assert refs.ids == ["u:1", "u:2", "u:3"] and refs.texts[1] == "officer"
    assert refs.payloads[1] == {"isco_group": "0110", "isco_major": "0", "isco_minor": "011"}
    queries = esco_queries(small)  # "head of technical" belongs to u:1 and u:3: left out
    assert queries.texts == ["technical manager", "theatre director"]
    assert queries.expected_ids == ["u:1", "u:3"]
    assert len(esco_queries(small, drop_ambiguous=False)) == 4


def test_titles_other_occupations_use_are_left_out_across_the_taxonomy() -> None:
    """A query subset's title that is another occupation's title anywhere in `taxonomy` (the
    same without case, punctuation and plural s) has no right answer: left out."""
    official = Occupation("u:official", "3422", "sport official",
                          ["Judges", "sports referee", "audio-visual technician"])
    judge = Occupation("u:judge", "2612", "judge")
    av = Occupation("u:av", "3521", "audio visual technicians")
    assert esco_queries([official]).texts == ["Judges", "sports referee",
                                              "audio-visual technician"]
    kept = esco_queries([official], taxonomy=[official, judge, av])
    assert (kept.texts, kept.expected_ids) == (["sports referee"], ["u:official"])
    assert esco_queries([official], taxonomy=[judge, av]).texts == ["sports referee"]
    group = esco_groups([official], taxonomy=[official, judge, av])
    assert group.texts == ["sport official", "sports referee"]


def test_missing_column_names_file_line_and_field() -> None:
    with pytest.raises(InputError, match=r'esco_missing_column\.csv, line 1, field "iscoGroup"'):
        read_esco(FIXTURES / "esco_missing_column.csv")


def test_bad_isco_code_names_its_line() -> None:
    with pytest.raises(
        InputError, match=r'esco_bad_isco\.csv, line 4, field "iscoGroup": .*4-digit'
    ):
        read_esco(FIXTURES / "esco_bad_isco.csv")


def test_duplicate_uri(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("conceptUri,iscoGroup,preferredLabel\nu,1111,a\nu,1111,b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r'line 3, field "conceptUri": duplicate .*line 2'):
        read_esco(path)


def test_bundled_file_is_package_data_with_its_attribution() -> None:
    path = bundled_esco_path()
    assert path.is_file() and path.parts[-3:] == ("resources", "esco", "occupations_en.csv")
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "ESCO, European Commission" in readme and "demo data" in readme
    assert (path.parent / "ISCOGroups_en.csv").is_file()


def test_bundled_counts(bundled) -> None:
    assert len(bundled) == 2326
    assert len({o.uri for o in bundled}) == 2326
    assert len({o.isco_group for o in bundled}) == 340
    n_alternatives = sum(len(o.alternatives) for o in bundled)
    assert 23_000 <= n_alternatives <= 23_224  # 23,224 in the file, 33 repeat the preferred
    assert all(o.preferred not in o.alternatives for o in bundled)
    assert all(len(set(o.alternatives)) == len(o.alternatives) for o in bundled)
    assert len(esco_references(bundled)) == 2326


@pytest.mark.parametrize(("level", "fraction"), [(4, 0.2), (3, 0.3), (1, 0.2)])
def test_split_is_deterministic_disjoint_and_holds_out_enough(bundled, level, fraction) -> None:
    training, held_out = split_by_isco(bundled, fraction, seed=3, level=level)
    again = split_by_isco(bundled, fraction, seed=3, level=level)
    assert (training, held_out) == again
    train_codes = {o.isco_group[:level] for o in training}
    held_codes = {o.isco_group[:level] for o in held_out}
    assert not train_codes & held_codes
    assert len(training) + len(held_out) == len(bundled)
    assert len(held_codes) >= fraction * (len(train_codes) + len(held_codes))


def test_split_changes_with_the_seed(bundled) -> None:
    assert split_by_isco(bundled, seed=0)[1] != split_by_isco(bundled, seed=1)[1]


@pytest.mark.parametrize("kwargs", [{"held_out_fraction": 0.0}, {"held_out_fraction": 1.0},
                                    {"level": 5}])  # fmt: skip
def test_split_arguments_are_checked(small, kwargs) -> None:
    with pytest.raises(ValueError):
        split_by_isco(small, **kwargs)
