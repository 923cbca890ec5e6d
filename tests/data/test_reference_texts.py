"""References with several texts in files (issue #13): repeated ids, a kind column, a texts
list column; bad rows located; a text shared by two ids warned about once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from surematch.data.readers import read_references
from surematch.errors import InputError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_repeated_ids_with_and_without_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,text,kind,lang\nA,nurse,,en\nA,nursing officer,,\n"
                 "A,cares for patients,description,en\nB,welder,,de\n")
    refs = read_references(path)
    assert refs.ids == ["A", "B"] and refs.payloads == [{"lang": "en"}, {"lang": "de"}]
    assert refs.texts_of(0) == [("nurse", "title"), ("nursing officer", "synonym"),
                                ("cares for patients", "description")]
    assert refs.texts_of(1) == [("welder", "title")]
    rows, texts, kinds = refs.flat()
    assert rows == [0, 0, 0, 1] and texts[1] == "nursing officer" and kinds[2] == "description"


def test_first_row_kind_is_kept(tmp_path: Path) -> None:
    refs = read_references(write(tmp_path, "r.csv", "id,text,kind\nA,a nurse,synonym\nA,n,\n"))
    assert refs.texts_of(0) == [("a nurse", "synonym"), ("n", "synonym")]


def test_texts_list_column_in_jsonl_and_parquet(tmp_path: Path) -> None:
    rows = [{"id": "A", "text": "nurse", "texts": ["nursing officer",
                                                   {"text": "cares", "kind": "description"}],
             "lang": "en"},
            {"id": "B", "texts": ["welder", "metal worker"]}]
    jsonl = write(tmp_path, "r.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    refs = read_references(jsonl)
    assert refs.texts_of(0) == [("nurse", "title"), ("nursing officer", "synonym"),
                                ("cares", "description")]
    assert refs.texts_of(1) == [("welder", "title"), ("metal worker", "synonym")]
    assert refs.payloads == [{"lang": "en"}, {}]
    parquet = tmp_path / "r.parquet"
    pd.DataFrame([{"id": "A", "texts": ["nurse", "nursing officer"]},
                  {"id": "B", "texts": ["welder"]}]).to_parquet(parquet)
    assert read_references(parquet).texts_of(0) == [("nurse", "title"),
                                                    ("nursing officer", "synonym")]


def test_texts_as_json_in_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", 'id,texts\nA,"[""nurse"", ""nursing officer""]"\n')
    assert read_references(path).texts_of(0) == [("nurse", "title"),
                                                 ("nursing officer", "synonym")]


@pytest.mark.parametrize(("content", "message"), [
    ("id,text\nA,nurse\nA,\n", r'line 3, field "text": empty text'),
    ("id,text,kind\nA,nurse,\nA,nursing officer,nickname\n",
     r'line 3, field "kind": unknown kind .nickname.'),
    ("id,text,lang\nA,nurse,en\nA,nursing officer,de\n",
     r'line 3, field "lang": id .A. has another payload'),
    ("id,text\nA,nurse\nB,welder\nA,midwife\n",
     r'line 4, field "id": duplicate id .A., first seen on line 2; the rows of one id must be'),
    ("id,lang\nA,en\n", r'line 1, field "text": missing required column "text"'),
])
def test_bad_rows_are_located(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_references(write(tmp_path, "r.csv", content))


@pytest.mark.parametrize(("row", "message"), [
    ({"id": "A", "texts": ["nurse", ""]}, r'line 1, field "texts": texts\[1\]: empty text'),
    ({"id": "A", "texts": [{"text": "n", "kind": "x"}]}, r"texts\[0\]: unknown kind 'x'"),
    ({"id": "A", "texts": []}, r"non-empty list"),
    ({"id": "A", "texts": "nurse"}, r"JSON list"),
])
def test_bad_texts_lists_are_located(tmp_path: Path, row: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_references(write(tmp_path, "r.jsonl", json.dumps(row) + "\n"))


def test_a_text_under_two_ids_is_one_warning_with_the_count(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "r.csv", "id,text\nA,judge\nA,referee\nB,Judge\nC,referee\nD,x\n")
    with caplog.at_level(logging.WARNING):
        refs = read_references(path)
    assert len(refs) == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 texts appear under more than one id" in warnings[0].message
