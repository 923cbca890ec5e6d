"""Reading the user's files for a workflow: formats, and errors before any model loads."""

from pathlib import Path

import pytest

from surematch.config import Config
from surematch.errors import InputError
from surematch.workflows.data import load_matching_data, load_references, load_training_data


def test_group_files_combine_and_pairs_take_one_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("text,group\nnurse,1\nrn,1\n")
    b.write_text("text,group\ncook,1\nchef,1\n")
    groups = load_training_data([a, b], Config())
    assert groups.n_groups() == 2 and len(groups) == 4
    with pytest.raises(InputError, match="pairs: give one file"):
        load_training_data([a, b], Config().override({"data.format": "pairs"}))


def test_references_and_queries_formats(tmp_path: Path) -> None:
    refs, queries = tmp_path / "r.csv", tmp_path / "q.csv"
    refs.write_text("id,text,lang\nn,nurse,en\n")
    queries.write_text("text,expected_id\nrn,n\n")
    r, q = load_matching_data(refs, queries)
    assert r.ids == ["n"] and r.payloads == [{"lang": "en"}] and q.expected_ids == ["n"]
    assert load_references(refs).texts == ["nurse"]
    with pytest.raises(InputError, match="give both --references and --queries"):
        load_matching_data(refs, None)
    with pytest.raises(InputError, match="--format"):
        load_matching_data(refs, queries, fmt="xml")
    with pytest.raises(InputError, match="--format must be references or esco"):
        load_references(refs, fmt="xml")
