"""The five readers: values, the same result from CSV / JSONL / Parquet, and located errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from surematch.data.readers import (
    read_groups,
    read_pairs,
    read_queries,
    read_references,
    read_rules,
)
from surematch.data.samples import GroupedTexts
from surematch.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"


def _as(path: Path, suffix: str, tmp_path: Path) -> Path:
    """The CSV fixture rewritten as JSONL or Parquet (string columns, empty cells as null)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    out = tmp_path / (path.stem + suffix)
    if suffix == ".parquet":
        frame.to_parquet(out)
    else:
        rows = [{k: v for k, v in row.items() if v is not None} for row in frame.to_dict("records")]
        out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out


def test_groups_are_namespaced_and_singletons_dropped_with_one_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="surematch.data.readers"):
        groups = read_groups(FIXTURES / "groups.csv")
    assert groups == GroupedTexts(
        ["data scientist", "machine learning\nengineer", "nurse", "registered nurse"],
        ["groups/ds", "groups/ds", "groups/rn", "groups/rn"],
    )
    assert len(caplog.records) == 1
    assert "dropped 1 groups with a single member (1 rows)" in caplog.records[0].getMessage()


def test_keep_singletons_and_dataset_argument() -> None:
    groups = read_groups(FIXTURES / "groups.csv", dataset="jobs", keep_singletons=True)
    assert len(groups) == 5 and groups.n_groups() == 3
    assert groups.groups[-1] == "jobs/solo"


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_groups_are_the_same_from_every_format(suffix: str, tmp_path: Path) -> None:
    expected = read_groups(FIXTURES / "groups.csv")
    assert read_groups(_as(FIXTURES / "groups.csv", suffix, tmp_path)) == expected
    assert read_groups(FIXTURES / "groups.jsonl") == expected


def test_remapped_columns_and_a_dataset_column_keep_data_sets_apart() -> None:
    columns = {"text": "title", "group": "cluster", "dataset": "source"}
    groups = read_groups(FIXTURES / "groups_renamed.csv", columns=columns)
    assert groups.groups == ["hospital/rn", "hospital/rn", "clinic/rn", "clinic/rn"]
    assert groups.n_groups() == 2


def test_empty_text_names_line_and_field() -> None:
    with pytest.raises(InputError, match=r'groups_empty_text\.csv, line 5, field "text": empty'):
        read_groups(FIXTURES / "groups_empty_text.csv")


def test_empty_group_and_bad_dataset_name(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("text,group,dataset\na,g,x\nb,,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r'g\.csv, line 3, field "group"'):
        read_groups(tmp_path / "g.csv")
    (tmp_path / "h.csv").write_text("text,group,dataset\na,g,x/y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r'h\.csv, line 2, field "dataset"'):
        read_groups(tmp_path / "h.csv")


def test_all_singletons_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("text,group\na,1\nb,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="no group has two or more texts"):
        read_groups(tmp_path / "g.csv")


def test_integer_group_labels_equal_their_string_form(tmp_path: Path) -> None:
    (tmp_path / "g.jsonl").write_text(
        '{"text": "a", "group": 7}\n{"text": "b", "group": "7"}\n', encoding="utf-8"
    )
    assert read_groups(tmp_path / "g.jsonl").groups == ["g/7", "g/7"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_pairs(suffix: str, tmp_path: Path) -> None:
    path = FIXTURES / "pairs.csv"
    pairs = read_pairs(path if suffix == ".csv" else _as(path, suffix, tmp_path))
    assert pairs.text_b == ["registered nurse", "welder", "midwife"]
    assert pairs.labels == [1.0, 0.0, 0.4]


def test_pair_label_errors() -> None:
    with pytest.raises(InputError, match=r'pairs_bad_label\.csv, line 3, field "label": .*number'):
        read_pairs(FIXTURES / "pairs_bad_label.csv")
    with pytest.raises(InputError, match=r'line 2, field "label": 1.5 is outside \[0, 1\]'):
        read_pairs(FIXTURES / "pairs_out_of_range.csv")


def test_pair_label_error_in_parquet_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"text_a": ["a", "b"], "text_b": ["c", "d"], "label": [1.0, -0.5]}).to_parquet(
        path
    )
    with pytest.raises(InputError, match=r'p\.parquet, field "label": row 2: -0.5 is outside'):
        read_pairs(path)


def test_references_csv_numeric_columns_hold_numbers() -> None:
    refs = read_references(FIXTURES / "references.csv")
    assert refs.payloads == [{"country": "FR", "level": 3}, {"level": 2}, {"country": "DE"}]


def test_references_payload_is_every_other_column() -> None:
    refs = read_references(FIXTURES / "references.csv", numbers=False)
    assert refs.ids == ["r1", "r2", "r3"]
    assert refs.texts[1] == "welder\n(metal)"
    assert refs.payloads == [{"country": "FR", "level": "3"}, {"level": "2"}, {"country": "DE"}]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_references_are_the_same_from_every_format(suffix: str, tmp_path: Path) -> None:
    expected = read_references(FIXTURES / "references.csv", numbers=False)
    assert read_references(_as(FIXTURES / "references.csv", suffix, tmp_path)) == expected


def test_jsonl_references_keep_payload_types(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a", "text": "t", "level": 3, "remote": true}\n', encoding="utf-8")
    assert read_references(path).payloads == [{"level": 3, "remote": True}]


def test_references_remapped(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("code,title,x\nA1,nurse,1\n", encoding="utf-8")
    refs = read_references(path, columns={"id": "code", "text": "title"}, numbers=False)
    assert (refs.ids, refs.texts, refs.payloads) == (["A1"], ["nurse"], [{"x": "1"}])


def test_duplicate_reference_ids_name_both_lines() -> None:
    with pytest.raises(
        InputError, match=r'line 4, field "id": duplicate id .r1., first seen on line 2'
    ):
        read_references(FIXTURES / "references_duplicate.csv")


def test_queries_with_empty_expected_id_mean_no_match(tmp_path: Path) -> None:
    queries = read_queries(FIXTURES / "queries.csv")
    assert queries.texts == ["RN", "astronaut", "steel welder"]
    assert queries.expected_ids == ["r1", None, "r2"]
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"text": "RN", "expected_id": "r1"}\n{"text": "astronaut"}\n', encoding="utf-8"
    )
    assert read_queries(path).expected_ids == ["r1", None]


def test_queries_without_any_expected_id_point_at_the_column() -> None:
    with pytest.raises(InputError, match=r"queries_no_labels\.csv: .*'expected'.*remap"):
        read_queries(FIXTURES / "queries_no_labels.csv")


def test_rules() -> None:
    rules = read_rules(FIXTURES / "rules.csv")
    assert rules.triggers == ["junior", "intern"] and rules.excludes == ["senior", "director"]
    assert rules.ids == ["k1", None]
    assert rules.trigger_similarity == [0.8, None] and rules.exclude_similarity == [None, 0.9]
    assert rules.notes == ["no seniors for juniors", None]


def test_rule_similarity_must_be_above_minus_one() -> None:
    with pytest.raises(InputError, match=r'line 2, field "trigger_similarity": -1.0 is outside'):
        read_rules(FIXTURES / "rules_bad_similarity.csv")
