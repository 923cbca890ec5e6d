"""PrecomputedVectors: lookups, identity, and reading Parquet / JSONL / .npy with named errors."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from surematch.encoders.vectors import PrecomputedVectors, UnknownIdError
from surematch.errors import InputError, SurematchError

IDS = ["a", "b", "c"]
TABLE = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]], dtype=np.float32)


def _parquet(path: Path, ids, vectors, **columns) -> Path:
    pq.write_table(pa.table({"id": ids, "vector": vectors, **columns}), path)
    return path


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _npy(path: Path, table: np.ndarray, ids: list[str] | None) -> Path:
    np.save(path, table)
    if ids is not None:
        path.with_name(path.stem + ".ids.txt").write_text("\n".join(ids) + "\n")
    return path


def test_lookup_and_no_weights() -> None:
    vectors = PrecomputedVectors(2, IDS, TABLE)
    assert torch.equal(vectors(["c", "a", "c"]), torch.tensor([[3.0, 4.0], [1.0, 0.0], [3.0, 4.0]]))
    assert vectors.encode(["b"]).shape == (1, 2) and vectors([]).shape == (0, 2)
    assert not vectors.has_weights and vectors.state_dict() == {}
    assert vectors.config() == {"dim": 2} and vectors.kind == "vectors"


def test_unknown_id_is_named() -> None:
    with pytest.raises(UnknownIdError) as caught:
        PrecomputedVectors(2, IDS, TABLE)(["a", "zz", "yy"])
    assert isinstance(caught.value, SurematchError) and isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("unknown id 'zz' (and 1 more)")


def test_identity_follows_ids_and_table() -> None:
    identity = PrecomputedVectors(2, IDS, TABLE).identity()
    assert identity.startswith("vectors:")
    assert identity == PrecomputedVectors(2, IDS, TABLE).identity()
    assert identity != PrecomputedVectors(2, ["a", "b", "d"], TABLE).identity()
    assert identity != PrecomputedVectors(2, IDS, TABLE + 1e-3).identity()


def test_constructor_checks() -> None:
    with pytest.raises(InputError, match=r"2 ids for 3 rows"):
        PrecomputedVectors(2, IDS[:2], TABLE)
    with pytest.raises(InputError, match=r"duplicate id 'a' \(rows 0, 2\)"):
        PrecomputedVectors(2, ["a", "b", "a"], TABLE)
    with pytest.raises(InputError, match=r"\[N, 3\]"):
        PrecomputedVectors(3, IDS, TABLE)


def test_every_format_reads_the_same_table(tmp_path: Path) -> None:
    files = [
        _parquet(tmp_path / "v.parquet", IDS, TABLE.tolist()),
        _jsonl(tmp_path / "v.jsonl", [json.dumps({"id": i, "vector": v.tolist()})
                                      for i, v in zip(IDS, TABLE, strict=True)]),
        _npy(tmp_path / "v.npy", TABLE, IDS),
    ]
    expected = PrecomputedVectors(2, IDS, TABLE).identity()
    for path in files:
        vectors = PrecomputedVectors.from_file(path)
        assert vectors.ids == IDS and vectors.dim == 2
        assert torch.equal(vectors(IDS), torch.from_numpy(TABLE))
        assert vectors.identity() == expected


def test_other_column_names_and_fixed_size_lists(tmp_path: Path) -> None:
    path = tmp_path / "v.parquet"
    pq.write_table(pa.table({"key": [7, 8], "emb": pa.array([[1, 2], [3, 4]],
                                                            pa.list_(pa.int32(), 2))}), path)
    vectors = PrecomputedVectors.from_file(path, id_column="key", vector_column="emb")
    assert vectors.ids == ["7", "8"] and torch.equal(vectors([8]), torch.tensor([[3.0, 4.0]]))


def _message(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        PrecomputedVectors.from_file(path, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(("ids", "vectors", "expected"), [
    (IDS, [[1.0, 2.0], [1.0], [1.0, 2.0]], 'v.parquet, field "vector": row 1: 1 values but row 0'),
    (IDS, [["x", "y"]] * 3, 'v.parquet, field "vector": expected a list of numbers'),
    (IDS, [[1.0, 2.0], [1.0, 2.0], [float("nan"), 0.0]], 'field "vector": row 2: NaN'),
    (IDS, [[1.0, 2.0], [1.0, None], [1.0, 2.0]], 'field "vector": row 1: NaN'),
    (IDS, [[1.0, 2.0], None, [1.0, 2.0]], 'field "vector": row 1: empty or missing vector'),
    (["a", "b", "a"], TABLE.tolist(), "field \"id\": row 2: duplicate id 'a' (first at row 0)"),
])
def test_parquet_errors(tmp_path: Path, ids, vectors, expected) -> None:
    assert expected in _message(_parquet(tmp_path / "v.parquet", ids, vectors))


def test_parquet_missing_column(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "v.parquet", IDS, TABLE.tolist())
    assert 'v.parquet, field "emb": no such column' in _message(path, vector_column="emb")


@pytest.mark.parametrize(("lines", "expected"), [
    (['{"id": "a", "vector": [1, 2]}', "", '{"id": "b", "vector": [1]}'],
     'v.jsonl, line 3, field "vector": 1 values but line 1 has 2'),
    (['{"id": "a", "vector": [1, "2"]}'], 'line 1, field "vector": expected a list of numbers'),
    (['{"id": "a", "vector": [1, 2]}', '{"id": "b", "vector": [NaN, 2]}'],
     'v.jsonl, line 2, field "vector": NaN, infinite or missing'),
    (['{"id": "a", "vector": [1, 2]}', '{"id": "a", "vector": [3, 4]}'],
     "v.jsonl, line 2, field \"id\": duplicate id 'a' (first at line 1)"),
    (['{"id": "a", "vector": [1, 2]', ""], "v.jsonl, line 1: invalid JSON"),
    (['{"id": "a"}'], 'v.jsonl, line 1, field "vector": missing'),
    (['{"id": "", "vector": [1]}'], 'line 1, field "id": expected a non-empty string id'),
    ([""], "v.jsonl: holds no vectors"),
])
def test_jsonl_errors(tmp_path: Path, lines, expected) -> None:
    assert expected in _message(_jsonl(tmp_path / "v.jsonl", lines))


@pytest.mark.parametrize(("table", "ids", "expected"), [
    (TABLE, IDS[:2], "v.ids.txt: 2 ids but v.npy has 3 rows"),
    (TABLE, None, "v.npy: missing its ids file v.ids.txt"),
    (np.where(np.arange(6).reshape(3, 2) == 3, np.inf, TABLE), IDS, "v.npy: row 1: NaN, inf"),
    (TABLE, ["a", "b", "a"], "v.ids.txt, line 3: duplicate id 'a' (first at line 1)"),
    (TABLE, ["a", "", "c"], "v.ids.txt, line 2: empty id"),
    (TABLE[0], IDS, "v.npy: expected a number table [N, dim]"),
])
def test_npy_errors(tmp_path: Path, table, ids, expected) -> None:
    assert expected in _message(_npy(tmp_path / "v.npy", table, ids))


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    assert "nope.parquet: no such file" in _message(tmp_path / "nope.parquet")
    (tmp_path / "v.csv").write_text("id,vector\n")
    assert "v.csv: unknown vectors format" in _message(tmp_path / "v.csv")
