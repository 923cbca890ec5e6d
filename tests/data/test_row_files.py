"""Writers of row files: rows written as a shared tail plus their own first value (a file's
repeated queries) are byte for byte the rows `write` writes, whatever the first value holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from surematch.data.row_files import open_writer

COLUMNS = ["query", "id_1", "similarity_1", "band_1", "no_match"]
TAILS = [{"id_1": "r,1", "similarity_1": 0.123456789, "band_1": None, "no_match": False},
         {"id_1": 'say "hi"', "similarity_1": 1.0, "band_1": "accept", "no_match": True},
         {"id_1": "line\nbreak", "similarity_1": None, "band_1": "review", "no_match": False}]
FIRSTS = ["nurse", "Nurse, senior", 'the "best" chef', " leading space", "two\nlines",
          "crème brûlée", "tab\there", "back\\slash"]


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_tails_write_what_rows_write(tmp_path: Path, ext: str) -> None:
    rows: list[dict[str, Any]] = [{"query": q, **TAILS[n % 3]} for n, q in enumerate(FIRSTS)]
    plain = open_writer(tmp_path / f"plain.{ext}", COLUMNS)
    plain.write(rows[:4])
    plain.write(rows[4:])
    plain.finish()
    shared = open_writer(tmp_path / f"tails.{ext}", COLUMNS)
    tails = [shared.tail(row) for row in rows[:3]]  # each tail encoded once, reused
    shared.write_tails(FIRSTS[:4], [tails[n % 3] for n in range(4)])
    shared.write_tails(FIRSTS[4:], [tails[n % 3] for n in range(4, len(FIRSTS))])
    shared.finish()
    if ext == "parquet":
        assert pq.read_table(tmp_path / "tails.parquet").to_pylist() == rows
    else:
        assert (tmp_path / f"tails.{ext}").read_bytes() == (tmp_path / f"plain.{ext}").read_bytes()
    assert shared.resume() == len(rows)  # a rerun counts them as complete rows
