"""match_file: CSV / JSONL / Parquet in and out, resuming without losing or repeating a row,
bad rows located by file and line with the rows before them kept.

A tiny text model (a 1-layer, 32-wide random BERT with MiniLM's tokenizer, built offline) and
an index of a few references, built once for the module.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.data import References
from surematch.errors import InputError
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.model import SimilarityModel
from surematch.workflows.match_file import MatchFileResult, match_file, output_columns

WORDS = ["nurse", "baker", "driver", "welder", "pilot", "chef", "tailor", "miner"]
REFS = [(f"r{i}", f"{WORDS[i % 8]} {WORDS[i // 8 % 8]}") for i in range(24)]
QUERIES = [f"{WORDS[i % 8]} {WORDS[(i * 3) % 8]} {i}" for i in range(30)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IndexLocation]:
    root = tmp_path_factory.mktemp("match_file")
    model_dir = save_tiny_text_model(root)
    with ReferenceIndex.create(root / "ix", SimilarityModel.load(model_dir)) as index:
        index.add(References([i for i, _ in REFS], [t for _, t in REFS],
                             [{"n": n} for n in range(len(REFS))]), progress=False)
    return model_dir, IndexLocation.of(root / "ix")


def write_queries(path: Path, texts: list[Any], column: str = "query") -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["other", column])
            w.writerows([["x", "" if t is None else t] for t in texts])
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps({"other": "x", column: t}) + "\n" for t in texts),
                        encoding="utf-8")
    else:
        pq.write_table(pa.table({"other": ["x"] * len(texts), column: texts}), path,
                       row_group_size=7)
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    """Rows with values as text (None for empty) whatever the format, for comparison."""
    def text(v: Any) -> str | None:
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return f"{v:.5f}"
        try:
            return f"{float(v):.5f}" if "." in v else v
        except ValueError:
            return v

    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            rows: list[dict[str, Any]] = list(csv.DictReader(f))
    elif path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        rows = pq.read_table(path).to_pylist()
    return [{k: text(v) for k, v in r.items()} for r in rows]


def run(setup: tuple[Path, IndexLocation], queries: Path, out: Path, k: int = 3,
        **kw: Any) -> MatchFileResult:
    return match_file(setup[0], setup[1], queries, out, k, **kw)


@pytest.mark.parametrize(("src", "dst"), [("csv", "csv"), ("jsonl", "jsonl"),
                                          ("parquet", "parquet"), ("csv", "parquet"),
                                          ("parquet", "jsonl")])
def test_formats_round_trip(setup: tuple[Path, IndexLocation], tmp_path: Path, src: str,
                            dst: str) -> None:
    queries = write_queries(tmp_path / f"q.{src}", QUERIES)
    result = run(setup, queries, tmp_path / f"out.{dst}", k=3, batch_size=8)
    assert (result.rows_written, result.rows_skipped) == (len(QUERIES), 0)
    rows = read_output(tmp_path / f"out.{dst}")
    assert list(rows[0]) == output_columns(3)
    with ReferenceIndex.open(setup[1], SimilarityModel.load(setup[0])) as index:
        expected = index.match_batch(QUERIES, 3)
    assert [r["query"] for r in rows] == QUERIES
    for row, want in zip(rows, expected, strict=True):
        assert [row[f"id_{i}"] for i in (1, 2, 3)] == [m.id for m in want.matches]
        assert [row[f"text_{i}"] for i in (1, 2, 3)] == [m.text for m in want.matches]
        assert row["similarity_1"] == f"{want.matches[0].similarity:.5f}"
        assert row["probability_1"] is None and row["band_1"] is None  # uncalibrated
        assert row["no_match"] == "false" and row["rules_fired"] is None


def test_more_columns_than_matches_are_empty(setup: tuple[Path, IndexLocation],
                                             tmp_path: Path) -> None:
    queries = write_queries(tmp_path / "q.csv", QUERIES[:2])
    run(setup, queries, tmp_path / "out.csv", k=30)
    rows = read_output(tmp_path / "out.csv")
    assert rows[0]["id_24"] is not None and rows[0]["id_25"] is None
    assert rows[0]["similarity_30"] is None and len(rows[0]) == len(output_columns(30))


def test_remapped_column(setup: tuple[Path, IndexLocation], tmp_path: Path) -> None:
    queries = write_queries(tmp_path / "q.jsonl", QUERIES[:3], column="title")
    with pytest.raises(InputError, match='line 1, field "query": missing column "query"'):
        run(setup, queries, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    run(setup, queries, tmp_path / "out.jsonl", column="title")
    assert [r["query"] for r in read_output(tmp_path / "out.jsonl")] == QUERIES[:3]


def test_the_python_hint_remaps_in_python(setup: tuple[Path, IndexLocation],
                                          tmp_path: Path) -> None:
    queries = write_queries(tmp_path / "q.csv", QUERIES[:3], column="title")
    with pytest.raises(InputError) as raised:
        run(setup, queries, tmp_path / "out.csv")
    assert "columns={'query': '<column in your file>'}" in str(raised.value)
    assert "--column query=<column in your file>" in raised.value.cli_message()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_labelled_file_is_matched_by_its_text_column(setup: tuple[Path, IndexLocation],
                                                      tmp_path: Path, fmt: str) -> None:
    labelled = write_queries(tmp_path / f"labelled.{fmt}", QUERIES[:4], column="text")
    plain = write_queries(tmp_path / f"plain.{fmt}", QUERIES[:4])
    run(setup, labelled, tmp_path / "a.csv")
    run(setup, plain, tmp_path / "b.csv")
    assert read_output(tmp_path / "a.csv") == read_output(tmp_path / "b.csv")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_resume_after_an_interruption_loses_and_repeats_nothing(
        setup: tuple[Path, IndexLocation], tmp_path: Path, fmt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    queries = write_queries(tmp_path / "q.csv", QUERIES)
    clean = tmp_path / f"clean.{fmt}"
    run(setup, queries, clean, batch_size=4)

    out = tmp_path / f"out.{fmt}"
    real = ReferenceIndex.match_embedded  # called once per batch
    calls = []

    def interrupted(self: ReferenceIndex, texts: Any, *args: Any) -> Any:
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, texts, *args)

    monkeypatch.setattr(ReferenceIndex, "match_embedded", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(setup, queries, out, batch_size=4)
    monkeypatch.setattr(ReferenceIndex, "match_embedded", real)
    if fmt == "parquet":
        assert not out.exists() and len(list(out.with_name("out.parquet.parts").iterdir())) == 2
        (out.with_name("out.parquet.parts") / "part-000002.tmp").write_bytes(b"PAR1 half")
    else:
        assert len(read_output(out)) == 8
        with out.open("ab") as f:  # a kill in the middle of writing a row
            f.write(b'"nurse, half a row' if fmt == "csv" else b'{"query": "nurse')

    result = run(setup, queries, out, batch_size=4)
    assert (result.rows_written, result.rows_skipped) == (len(QUERIES) - 8, 8)
    assert read_output(out) == read_output(clean)
    if fmt != "parquet":
        assert out.read_bytes() == clean.read_bytes()
    again = run(setup, queries, out, batch_size=4)  # finished: nothing left to do
    assert (again.rows_written, again.rows_skipped) == (0, len(QUERIES))
    assert read_output(out) == read_output(clean)
    with queries.open("a", encoding="utf-8") as f:  # more queries later: only they are matched
        f.write("x,chef pilot\n")
    more = run(setup, queries, out, batch_size=4)
    assert (more.rows_written, more.rows_skipped) == (1, len(QUERIES))
    assert [r["query"] for r in read_output(out)] == [*QUERIES, "chef pilot"]
    fresh = run(setup, queries, out, batch_size=4, restart=True)
    assert (fresh.rows_written, fresh.rows_skipped) == (len(QUERIES) + 1, 0)


def test_a_quoted_newline_in_csv_output_resumes(setup: tuple[Path, IndexLocation],
                                                tmp_path: Path) -> None:
    texts = ["nurse\nbaker", "pilot, chef", 'say "chef"', *QUERIES[:5]]
    queries = write_queries(tmp_path / "q.jsonl", texts)
    run(setup, queries, tmp_path / "clean.csv", batch_size=2)
    out = tmp_path / "out.csv"
    out.write_bytes(tmp_path.joinpath("clean.csv").read_bytes().split(b"pilot, chef")[0])
    result = run(setup, queries, out, batch_size=2)
    assert result.rows_skipped == 1
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert [r["query"] for r in read_output(out)] == texts


@pytest.mark.parametrize(("fmt", "where"), [("csv", "line 6"), ("jsonl", "line 5"),
                                            ("parquet", "row 5")])
def test_an_empty_query_is_located_and_earlier_rows_kept(
        setup: tuple[Path, IndexLocation], tmp_path: Path, fmt: str, where: str) -> None:
    texts: list[Any] = [*QUERIES[:4], None, *QUERIES[4:10]]
    queries = write_queries(tmp_path / f"q.{fmt}", texts)
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError) as e:
        run(setup, queries, out, batch_size=3)
    assert str(e.value).startswith(f"{queries}, ")
    assert where in str(e.value) and "empty query" in str(e.value)
    assert [r["query"] for r in read_output(out)] == QUERIES[:4]
    texts[4] = "fixed query"
    write_queries(queries, texts)
    result = run(setup, queries, out, batch_size=3)
    assert (result.rows_written, result.rows_skipped) == (7, 4)
    assert [r["query"] for r in read_output(out)] == [*QUERIES[:4], "fixed query",
                                                      *QUERIES[4:10]]


def test_unreadable_rows_and_files(setup: tuple[Path, IndexLocation], tmp_path: Path) -> None:
    bad_json = tmp_path / "q.jsonl"
    bad_json.write_text('{"query": "nurse"}\n{"query": "chef"}\n\n{"query": \n',
                        encoding="utf-8")
    with pytest.raises(InputError, match=r"q.jsonl, line 4: invalid JSON"):
        run(setup, bad_json, tmp_path / "a.csv")
    assert [r["query"] for r in read_output(tmp_path / "a.csv")] == ["nurse", "chef"]

    bad_csv = tmp_path / "q.csv"
    bad_csv.write_bytes(b"query\nnurse\nch\xffef\n")
    with pytest.raises(InputError, match=r"q.csv, line 3: byte 0xff at column 3"):
        run(setup, bad_csv, tmp_path / "b.csv")
    assert [r["query"] for r in read_output(tmp_path / "b.csv")] == ["nurse"]

    bad_csv.write_text("query,other\nnurse,1\nchef,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: the row has 3 fields"):
        run(setup, bad_csv, tmp_path / "c.csv")

    not_parquet = tmp_path / "q.parquet"
    not_parquet.write_text("nope", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        run(setup, not_parquet, tmp_path / "d.csv")
    with pytest.raises(InputError, match="file not found"):
        run(setup, tmp_path / "missing.csv", tmp_path / "e.csv")
    with pytest.raises(InputError, match=r"unknown output file type .\.txt."):
        run(setup, bad_csv, tmp_path / "out.txt")


def test_output_of_another_k_is_not_resumed(setup: tuple[Path, IndexLocation],
                                            tmp_path: Path) -> None:
    queries = write_queries(tmp_path / "q.csv", QUERIES[:3])
    run(setup, queries, tmp_path / "out.csv", k=2)
    with pytest.raises(InputError, match=r"out.csv, line 1: not a row of this run's columns"):
        run(setup, queries, tmp_path / "out.csv", k=3)
    assert run(setup, queries, tmp_path / "out.csv", k=3, restart=True).rows_written == 3


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_damaged_output_is_reported_not_truncated(setup: tuple[Path, IndexLocation],
                                                    tmp_path: Path, fmt: str) -> None:
    queries = write_queries(tmp_path / "q.csv", QUERIES[:6])
    out = tmp_path / f"out.{fmt}"
    run(setup, queries, out, k=2)
    if fmt == "parquet":
        out.write_bytes(b"not parquet")
        match = "not a readable Parquet file"
    else:
        lines = out.read_bytes().splitlines(keepends=True)
        lines[3] = b'x,"y"z\n' if fmt == "csv" else b"{oops\n"
        out.write_bytes(b"".join(lines))
        match = f"out.{fmt}, line 4: not a row"
    before = out.read_bytes()
    with pytest.raises(InputError, match=match):
        run(setup, queries, out, k=2)
    assert out.read_bytes() == before


def test_parquet_output_joins_batches_into_full_row_groups(
        setup: tuple[Path, IndexLocation], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from surematch.data import row_files

    monkeypatch.setattr(row_files, "ROW_GROUP", 10)
    queries = write_queries(tmp_path / "q.jsonl", QUERIES[:27])
    run(setup, queries, tmp_path / "out.parquet", batch_size=4)
    f = pq.ParquetFile(tmp_path / "out.parquet")
    assert [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)] == [10, 10, 7]
    assert [r["query"] for r in read_output(tmp_path / "out.parquet")] == QUERIES[:27]
    assert not (tmp_path / "out.parquet.parts").exists()


REPEATED = [QUERIES[i % 7] for i in range(40)] + ["NURSE  nurse 0", " Nurse nurse 0 ", "pilot",
                                                 'pilot, "the" pilot', 'Pilot,  "the" PILOT']


def slow_rows(setup: tuple[Path, IndexLocation], texts: list[str], k: int = 3,
              ) -> list[dict[str, Any]]:
    """The output rows of matching each query on its own: the slow path, row by row."""
    from surematch.workflows.match_file import result_row

    with ReferenceIndex.open(setup[1], SimilarityModel.load(setup[0])) as index:
        results = [index.match_batch([t], k)[0] for t in texts]
    path = setup[0].parent / "slow.csv"
    path.unlink(missing_ok=True)
    from surematch.data.row_files import open_writer

    writer = open_writer(path, output_columns(k))
    writer.write([result_row(r, k) for r in results])
    writer.finish()
    return read_output(path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_repeated_queries_are_matched_once_and_written_for_every_row(
        setup: tuple[Path, IndexLocation], tmp_path: Path, fmt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    queries = write_queries(tmp_path / "q.jsonl", REPEATED)
    embedded: list[str] = []
    real = ReferenceIndex.embed_queries

    def spy(self: ReferenceIndex, texts: Any) -> Any:
        embedded.extend(texts)
        return real(self, texts)

    monkeypatch.setattr(ReferenceIndex, "embed_queries", spy)
    result = run(setup, queries, tmp_path / f"out.{fmt}", batch_size=4)
    # 7 distinct queries, one of them also in case and spacing variants, "pilot", and one
    # with a comma and quotes (its case and spacing variant written with its own spelling)
    assert sorted(embedded) == sorted([*QUERIES[:7], "pilot", 'pilot, "the" pilot'])
    assert (result.rows_written, result.rows_matched) == (len(REPEATED), 9)
    rows = read_output(tmp_path / f"out.{fmt}")
    assert [r["query"] for r in rows] == REPEATED  # every row, in order, its own query
    monkeypatch.setattr(ReferenceIndex, "embed_queries", real)
    assert rows == slow_rows(setup, REPEATED)


def test_repeats_resume_after_an_interruption_losing_and_repeating_nothing(
        setup: tuple[Path, IndexLocation], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    queries = write_queries(tmp_path / "q.csv", REPEATED)
    clean = tmp_path / "clean.csv"
    run(setup, queries, clean, batch_size=4)
    out = tmp_path / "out.csv"
    real = ReferenceIndex.match_embedded
    calls: list[int] = []

    def interrupted(self: ReferenceIndex, texts: Any, *args: Any) -> Any:
        calls.append(len(texts))
        if len(calls) == 4:  # batches of repeats match nothing new but are still written
            raise KeyboardInterrupt
        return real(self, texts, *args)

    monkeypatch.setattr(ReferenceIndex, "match_embedded", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(setup, queries, out, batch_size=4)
    monkeypatch.setattr(ReferenceIndex, "match_embedded", real)
    assert len(read_output(out)) == 12
    result = run(setup, queries, out, batch_size=4)
    assert (result.rows_written, result.rows_skipped) == (len(REPEATED) - 12, 12)
    # (equal to 5 decimals: a query embedded in another batch may differ in the last bits)
    assert read_output(out) == read_output(clean)
