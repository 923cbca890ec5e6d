"""match_dataset on a real local Dask cluster of 2 worker processes: the same output as
match_file on a file with repeats and a bad row, partitions skipped on a rerun, and a worker
killed mid-partition costs nothing (its task is retried and resumes the partial output)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.workflows.test_match_file import QUERIES, read_output, setup, write_queries

from surematch.errors import InputError
from surematch.index.stores import IndexLocation
from surematch.workflows.distributed import match_dataset
from surematch.workflows.match_file import match_file

distributed = pytest.importorskip("dask.distributed")
pytestmark = pytest.mark.slow
__all__ = ["setup"]  # the module's fixture: a tiny model and index

ROWS = [QUERIES[i % 11] if i % 3 else QUERIES[i % 5].upper() for i in range(45)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def single(setup: tuple[Path, IndexLocation], queries: Path, out: Path,
           ) -> InputError | None:
    try:
        match_file(setup[0], setup[1], queries, out, 3, batch_size=3)
    except InputError as e:
        return e
    return None


def dataset(setup: tuple[Path, IndexLocation], queries: Path, out: Path, cluster: Any,
            **kw: Any) -> Any:
    return match_dataset(setup[0], setup[1], queries, out, 3, runtime="torch",
                         address=cluster.scheduler_address, partition_rows=8, batch_size=3,
                         **kw)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_output_as_match_file_with_repeats_and_a_bad_row_then_resumed(
        setup: tuple[Path, IndexLocation], tmp_path: Path, cluster: Any, fmt: str) -> None:
    rows: list[Any] = [*ROWS[:29], None, *ROWS[29:]]  # row 30 is empty
    queries = write_queries(tmp_path / "q.jsonl", rows)
    want = single(setup, queries, tmp_path / "single.csv")  # (compared as text)
    with pytest.raises(InputError) as got:
        dataset(setup, queries, tmp_path / f"out.{fmt}", cluster)
    assert want is not None and str(got.value) == str(want)  # "q.jsonl, line 30: empty query"
    assert read_output(tmp_path / f"out.{fmt}") == read_output(tmp_path / "single.csv")
    assert len(read_output(tmp_path / f"out.{fmt}")) == 29

    write_queries(queries, ROWS)  # fixed: the finished partitions are not matched again
    assert single(setup, queries, tmp_path / "single.csv") is None
    result = dataset(setup, queries, tmp_path / f"out.{fmt}", cluster)
    assert (result.rows, result.partitions, result.partitions_skipped) == (45, 6, 3)
    assert read_output(tmp_path / f"out.{fmt}") == read_output(tmp_path / "single.csv")
    again = dataset(setup, queries, tmp_path / f"out.{fmt}", cluster)
    assert again.partitions_skipped == 6


def kill_mid_partition(marker: str) -> None:
    """(Run in each worker) the first worker to write a second batch of partition 2 is
    killed right after it is durable."""
    from surematch.data import row_files

    real = row_files._CsvWriter.write_tails
    batches: list[int] = []

    def write_tails(self: Any, firsts: list[Any], tails: list[Any]) -> None:
        real(self, firsts, tails)
        if "out-000002" in self.path.name:
            batches.append(len(firsts))
            if len(batches) == 2 and not os.path.exists(marker):
                Path(marker).write_text(str(self.path))
                os.kill(os.getpid(), signal.SIGKILL)

    row_files._CsvWriter.write_tails = write_tails  # type: ignore[method-assign]


def test_a_killed_worker_loses_and_repeats_nothing(
        setup: tuple[Path, IndexLocation], tmp_path: Path, cluster: Any) -> None:
    queries = write_queries(tmp_path / "q.csv", ROWS)
    assert single(setup, queries, tmp_path / "single.csv") is None
    marker = tmp_path / "killed"
    with distributed.Client(cluster.scheduler_address) as client:
        client.run(kill_mid_partition, str(marker))
    result = dataset(setup, queries, tmp_path / "out.csv", cluster)
    assert marker.exists() and "out-000002" in marker.read_text()  # a worker was killed
    assert result.rows == 45 and result.partitions_skipped == 0
    assert read_output(tmp_path / "out.csv") == read_output(tmp_path / "single.csv")
    assert not list((tmp_path / "out.csv.dist").glob("*.partial*"))
