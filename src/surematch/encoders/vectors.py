"""PrecomputedVectors: bring-your-own embeddings, an id -> vector table read from a file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from surematch.data.formats import EXTENSIONS, read_jsonl
from surematch.encoders.base import Encoder
from surematch.errors import InputError, SurematchError


class UnknownIdError(SurematchError, KeyError):
    """An id asked for that the vectors table does not hold."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class PrecomputedVectors(Encoder):
    """Ids [N] -> their rows of a fixed table [N, dim] float32; nothing to train.

    The table is a non-persistent buffer: it moves with `.to(device)` but is not in the state
    dict (it is data, read again with `from_file`), so `has_weights` is False.
    """

    kind: ClassVar[str] = "vectors"
    table: torch.Tensor

    def __init__(self, dim: int, ids: Sequence[str] = (), vectors: Any = None) -> None:
        super().__init__()
        table = np.zeros((0, max(dim, 0)), np.float32) if vectors is None else np.asarray(vectors)
        if dim < 1 or table.ndim != 2 or table.shape[1] != dim or table.dtype.kind not in "iuf":
            raise InputError(f"vectors: expected a number table [N, {dim}], "
                             f"got {table.dtype} {list(table.shape)}")
        if len(ids) != len(table):
            raise InputError(f"vectors: {len(ids)} ids for {len(table)} rows")
        table = np.ascontiguousarray(table, dtype=np.float32)
        if not np.isfinite(table).all():
            bad = np.asarray(~np.isfinite(table).all(1))
            raise InputError(f"vectors: row {_first(bad)} holds NaN or inf")
        self.dim, self.ids = dim, [str(i) for i in ids]
        self._rows: dict[str, int] = {}
        for row, key in enumerate(self.ids):
            if self._rows.setdefault(key, row) != row:
                raise InputError(f"vectors: duplicate id {key!r} (rows {self._rows[key]}, {row})")
        self.register_buffer("table", torch.from_numpy(table.copy()), persistent=False)
        digest = hashlib.sha1(json.dumps(self.ids).encode() + b"\0" + table.tobytes())
        self._identity = f"{self.kind}:{digest.hexdigest()[:16]}"

    def forward(self, items: Sequence[Any]) -> torch.Tensor:
        """ids [N] -> their rows [N, dim]; vectors (arrays of `dim` numbers) pass as they are.

        A saved model keeps no table (it is data): after loading, it embeds vectors you
        bring. An unknown id is an error.
        """
        if len(items) and not isinstance(items[0], str | int):
            rows = np.asarray(items, dtype=np.float32)
            if rows.ndim != 2 or rows.shape[1] != self.dim:
                raise InputError(f"vectors: expected [N, {self.dim}] vectors, got "
                                 f"{list(rows.shape)}")
            return torch.from_numpy(rows).to(self.table.device)
        keys = [str(item) for item in items]
        missing = [key for key in keys if key not in self._rows]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise UnknownIdError(f"unknown id {missing[0]!r}{more}: not among the "
                                 f"{len(self.ids)} ids of the vectors table")
        index = torch.tensor([self._rows[key] for key in keys], dtype=torch.long)
        return self.table[index.to(self.table.device)]

    def identity(self) -> str:
        """'vectors:' + sha1 of the ids and the table (16 hex)."""
        return self._identity

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @classmethod
    def from_file(cls, path: str | Path, id_column: str = "id",
                  vector_column: str = "vector") -> PrecomputedVectors:
        """Read `.parquet` / `.jsonl` (an id and a list-valued vector column) or `.npy` with
        `<stem>.ids.txt` beside it (one id per line). Rows count from 0, lines from 1."""
        path = Path(path)
        if not path.is_file():
            raise InputError("no such file", file=path)
        fmt = "npy" if path.suffix.lower() == ".npy" else EXTENSIONS.get(path.suffix.lower())
        if fmt == "npy":
            ids, table = _read_npy(path)
        elif fmt == "parquet":
            ids, table = _read_parquet(path, id_column, vector_column)
        elif fmt == "jsonl":
            ids, table = _read_jsonl(path, id_column, vector_column)
        else:
            raise InputError("unknown vectors format; use .parquet, .jsonl or .npy", file=path)
        if not ids:
            raise InputError("holds no vectors", file=path)
        return cls(dim=table.shape[1], ids=ids, vectors=table)


def _first(flags: np.ndarray) -> int:
    return int(np.flatnonzero(flags)[0])


LineOf = Callable[[int], int | None]  # row -> its line number in a text file, None for rows


def _at(row: int, line_of: LineOf) -> tuple[int | None, str]:
    line = line_of(row)
    return line, f"line {line}" if line else f"row {row}"


def _checked(ids: list[str], table: np.ndarray, rows: tuple[Path, LineOf, str | None],
             keys: tuple[Path, LineOf, str | None]) -> tuple[list[str], np.ndarray]:
    """Reject NaN / inf rows and repeated ids; rows and keys say (file, line_of, field)."""
    if not np.isfinite(table).all():
        line, label = _at(_first(~np.isfinite(table).all(1)), rows[1])
        raise InputError(("" if line else f"{label}: ") + "NaN, infinite or missing value",
                         file=rows[0], line=line, field=rows[2])
    first: dict[str, int] = {}
    for i, key in enumerate(ids):
        if first.setdefault(key, i) != i:
            line, label = _at(i, keys[1])
            raise InputError(("" if line else f"{label}: ") + f"duplicate id {key!r} (first at "
                             f"{_at(first[key], keys[1])[1]})", file=keys[0], line=line,
                             field=keys[2])
    return ids, table.astype(np.float32)


def _read_parquet(path: Path, id_col: str, vec_col: str) -> tuple[list[str], np.ndarray]:
    try:
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"cannot read as Parquet: {error}", file=path) from error
    for col in (id_col, vec_col):
        if col not in data.column_names:
            raise InputError(f"no such column; columns: {data.column_names}", file=path, field=col)
    ids = data.column(id_col).to_pylist()
    if None in ids:
        raise InputError(f"row {ids.index(None)}: missing id", file=path, field=id_col)
    vectors, kind = data.column(vec_col).combine_chunks(), data.schema.field(vec_col).type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(
            kind)) or not (pa.types.is_integer(kind.value_type) or pa.types.is_floating(
            kind.value_type)):
        raise InputError(f"expected a list of numbers per row, got {kind}", file=path,
                         field=vec_col)
    if not ids:
        raise InputError("holds no vectors", file=path)
    lengths = pc.list_value_length(vectors).fill_null(0).to_numpy(zero_copy_only=False)
    if (lengths != lengths[0]).any() or lengths[0] == 0:
        row = _first((lengths != lengths[0]) | (lengths == 0))
        problem = "empty or missing vector" if lengths[row] == 0 else (
            f"{lengths[row]} values but row 0 has {lengths[0]}")
        raise InputError(f"row {row}: {problem}", file=path, field=vec_col)
    values = vectors.flatten()  # a null inside a list becomes NaN here, reported as such
    table = values.to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(ids), -1)
    no_lines: LineOf = lambda i: None  # noqa: E731
    return _checked([str(k) for k in ids], table, (path, no_lines, vec_col),
                    (path, no_lines, id_col))


def _read_jsonl(path: Path, id_col: str, vec_col: str) -> tuple[list[str], np.ndarray]:
    ids: list[str] = []
    rows: list[np.ndarray] = []
    line_of: list[int] = []
    for n, record in read_jsonl(path)[1]:  # (a JSONL row always has its line)
        assert n is not None
        for col in (id_col, vec_col):
            if col not in record:
                raise InputError(f"missing (keys: {sorted(record)})", file=path, line=n,
                                 field=col)
        key, value = record[id_col], record[vec_col]
        if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
            raise InputError(f"expected a non-empty string id, got {key!r}", file=path,
                             line=n, field=id_col)
        vector = np.asarray(value) if isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value) else None
        if vector is None or vector.size == 0:
            raise InputError(f"expected a list of numbers, got {value!r:.60}", file=path,
                             line=n, field=vec_col)
        if rows and len(vector) != len(rows[0]):
            raise InputError(f"{len(vector)} values but line {line_of[0]} has "
                             f"{len(rows[0])}", file=path, line=n, field=vec_col)
        ids.append(str(key))
        rows.append(vector.astype(np.float64))
        line_of.append(n)
    table = np.stack(rows) if rows else np.zeros((0, 1))
    return _checked(ids, table, (path, line_of.__getitem__, vec_col),
                    (path, line_of.__getitem__, id_col))


def _read_npy(path: Path) -> tuple[list[str], np.ndarray]:
    ids_path = path.with_name(path.stem + ".ids.txt")
    try:
        table = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise InputError(f"cannot read as a numeric .npy array: {error}", file=path) from error
    if table.ndim != 2 or table.dtype.kind not in "iuf":
        raise InputError(f"expected a number table [N, dim], got {table.dtype} "
                         f"{list(table.shape)}", file=path)
    if not ids_path.is_file():
        raise InputError(f"missing its ids file {ids_path.name} (one id per line)", file=path)
    ids = [line.strip() for line in ids_path.read_text(encoding="utf-8").splitlines()]
    if "" in ids:
        raise InputError("empty id", file=ids_path, line=ids.index("") + 1)
    if len(ids) != len(table):
        raise InputError(f"{len(ids)} ids but {path.name} has {len(table)} rows", file=ids_path)
    return _checked(ids, table, (path, lambda i: None, None), (ids_path, lambda i: i + 1, None))
