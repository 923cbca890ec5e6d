"""read_records: formats, locations (line / row), column remapping and every input error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from surematch.data.tables import read_records
from surematch.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"


def _error(path: Path, *args: object, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        read_records(path, *args, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_csv_records_report_the_line_they_start_on_across_quoted_newlines() -> None:
    records = read_records(FIXTURES / "groups.csv", ["text", "group"])
    assert [r.line for r in records] == [2, 3, 5, 6, 7]
    assert [r.row for r in records] == [1, 2, 3, 4, 5]
    assert records[1].values == {"text": "machine learning\nengineer", "group": "ds"}


def test_jsonl_records_carry_their_line_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.ndjson"
    path.write_text('{"text": "a", "n": 1}\n\n{"text": "b", "n": null}\n', encoding="utf-8")
    records = read_records(path, ["text"])
    assert [r.line for r in records] == [1, 3]
    assert records[0].extra == {"n": 1}
    assert records[1].extra == {}  # null is missing


def test_parquet_records_have_no_line_but_a_row(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"text": ["a", None], "x": [1.5, float("nan")]}).to_parquet(path)
    records = read_records(path, ["text"], ["x"])
    assert [(r.line, r.row) for r in records] == [(None, 1), (None, 2)]
    assert records[1].values == {"text": None, "x": None}
    error = records[1].error("empty text", "text")
    assert (error.line, error.field) == (None, "text")
    assert "row 2" in str(error) and str(path) in str(error)


def test_empty_csv_fields_are_missing_and_left_out_of_extra() -> None:
    records = read_records(FIXTURES / "references.csv", ["id", "text"])
    assert records[1].extra == {"level": "2"}
    assert records[2].extra == {"country": "DE"}


def test_remapped_columns_are_read_under_our_names_and_errors_use_the_file_names() -> None:
    columns = {"text": "title", "group": "cluster"}
    records = read_records(FIXTURES / "groups_renamed.csv", ["text", "group"], columns=columns)
    assert records[0].values == {"text": "nurse", "group": "rn"}
    assert records[0].extra == {"source": "hospital"}
    assert records[0].error("bad", "text").field == "title"


def test_unknown_extension_names_the_file_and_the_supported_ones() -> None:
    error = _error(FIXTURES / "groups.txt", ["text"])
    assert "groups.txt" in str(error)
    for extension in (".csv", ".jsonl", ".ndjson", ".parquet"):
        assert extension in str(error)


def test_missing_file() -> None:
    error = _error(FIXTURES / "nowhere.csv", ["text"])
    assert "nowhere.csv" in str(error) and "not found" in str(error)


@pytest.mark.parametrize("name", ["empty.csv", "header_only.csv"])
def test_empty_files(name: str) -> None:
    error = _error(FIXTURES / name, ["text"])
    assert name in str(error)
    assert "empty" in str(error) or "no data rows" in str(error)


def test_empty_jsonl_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("\n\n", encoding="utf-8")
    assert "no data rows" in str(_error(tmp_path / "e.jsonl", ["text"]))
    pd.DataFrame({"text": pd.Series([], dtype=str)}).to_parquet(tmp_path / "e.parquet")
    assert "no data rows" in str(_error(tmp_path / "e.parquet", ["text"]))


def test_missing_column_lists_the_columns_found_and_how_to_remap() -> None:
    error = _error(FIXTURES / "groups_renamed.csv", ["text", "group"])
    assert (error.line, error.field) == (1, "text")
    message = str(error)
    assert "groups_renamed.csv" in message and "line 1" in message and 'field "text"' in message
    assert "'title', 'cluster', 'source'" in message and "columns={'text':" in message
    assert "--column text=<column in your file>" in error.cli_message()  # the CLI's words


def test_missing_remapped_column_says_so() -> None:
    error = _error(FIXTURES / "groups.csv", ["text"], columns={"text": "title"})
    assert error.field == "title" and 'remapped from "text"' in str(error)


def test_missing_jsonl_key_names_its_line() -> None:
    error = _error(FIXTURES / "missing_key.jsonl", ["text", "group"])
    assert (error.line, error.field) == (2, "group")
    assert "missing_key.jsonl, line 2" in str(error)


def test_missing_parquet_column(tmp_path: Path) -> None:
    pd.DataFrame({"a": ["x"]}).to_parquet(tmp_path / "t.parquet")
    error = _error(tmp_path / "t.parquet", ["text"])
    assert error.field == "text" and "'a'" in str(error)


def test_unknown_remap_key() -> None:
    error = _error(FIXTURES / "groups.csv", ["text"], columns={"txt": "text"})
    assert "txt" in str(error) and "groups.csv" in str(error)


def test_undecodable_bytes_report_their_line() -> None:
    error = _error(FIXTURES / "bad_utf8.csv", ["text", "group"])
    assert error.line == 3
    assert "bad_utf8.csv, line 3" in str(error) and "UTF-8" in str(error)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext\ncaf\xc3\xa9\n")
    assert read_records(path, ["text"])[0].values == {"text": "café"}


def test_invalid_json_line() -> None:
    error = _error(FIXTURES / "bad.jsonl", ["text"])
    assert error.line == 3 and "bad.jsonl, line 3" in str(error) and "invalid JSON" in str(error)


def test_jsonl_line_that_is_not_an_object() -> None:
    error = _error(FIXTURES / "not_object.jsonl", ["text"])
    assert error.line == 2 and "object" in str(error) and "list" in str(error)


def test_ragged_csv_row() -> None:
    error = _error(FIXTURES / "ragged.csv", ["text"])
    assert error.line == 3 and "3 fields" in str(error)


def test_duplicate_csv_header(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,text\na,b\n", encoding="utf-8")
    error = _error(tmp_path / "d.csv", ["text"])
    assert error.line == 1 and "duplicate column" in str(error)


def test_unreadable_parquet(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    error = _error(tmp_path / "x.parquet", ["text"])
    assert "x.parquet" in str(error) and "Parquet" in str(error)


def test_jsonl_keeps_value_types(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"text": "a", "n": 3, "tags": ["x"]}) + "\n", encoding="utf-8")
    assert read_records(path, ["text"])[0].extra == {"n": 3, "tags": ["x"]}
