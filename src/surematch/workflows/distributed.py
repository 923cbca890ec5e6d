"""A file of queries matched on a Dask cluster: partitions matched by workers, joined in order.

    match_dataset(model, IndexLocation.of(url="http://qdrant:6333"), "q.parquet", "out.csv",
                  workers=8)                      # a local cluster of 8 worker processes
    match_dataset(..., address="tcp://scheduler:8786")   # an existing cluster

The driver streams the queries once into partition files of `partition_rows` rows (each
checked as `match_file` checks a row; written beside, then renamed into place) under
`OUT.dist/`. Each partition is one task: a worker matches it with `match_file` into a
partial output that the next attempt resumes, and renames it into place when complete. A
worker process opens the model (the exported graph) and the index once and keeps them for
every partition it gets; an index in a folder is copied to the worker first (a read-only
copy: an embedded index takes one process), a Qdrant server is searched by URL. A rerun
(or the retry of a killed worker's task) skips the finished partitions, and a partition's
name holds its row count, so one cut short by a bad row is matched again once the row is
fixed. The partitions' outputs are joined, in order, into OUT: the same rows as `match_file`
writes, and the same InputError for a bad row after the rows before it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.data.formats import file_format
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.stores import IndexLocation
from surematch.workflows.match_file import output_columns, read_queries

PARTITION_ROWS = 50_000  # rows per partition: minutes of one worker's time


@dataclass(frozen=True)
class DatasetResult:
    rows: int  # rows in the output
    partitions: int
    partitions_skipped: int  # finished by an earlier run
    seconds: float


def match_dataset(model_dir: Path, location: IndexLocation, queries_path: Path,
                  out_path: Path, k: int = 10, *, column: str = "query",
                  filter: dict[str, Any] | None = None, search_ef: int | None = None,
                  runtime: str = DEFAULT_RUNTIME, workers: int = 2, address: str | None = None,
                  partition_rows: int = PARTITION_ROWS, batch_size: int = 256,
                  restart: bool = False) -> DatasetResult:
    """Match every row of `queries_path` on a Dask cluster (`address`, else a local one of
    `workers` processes) into `out_path`, as `match_file` would."""
    from surematch.index.stores.filters import parse_filter

    t0 = time.perf_counter()
    queries_path, out_path = Path(queries_path), Path(out_path)
    file_format(queries_path, "queries")
    out_fmt = file_format(out_path, "output")
    if partition_rows < 1 or workers < 1 or k < 1:
        raise InputError("k, workers and the partition rows must be positive")
    if not queries_path.is_file():
        raise InputError("file not found" if not queries_path.exists() else "not a file",
                         file=queries_path)
    if queries_path.resolve() == out_path.resolve():
        raise InputError("the output would overwrite the queries file", file=out_path)
    parse_filter(filter)
    work = out_path.with_name(out_path.name + ".dist")
    if restart:
        shutil.rmtree(work, ignore_errors=True)
        out_path.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    parts, failure = _split(queries_path, column, work, partition_rows)
    outputs = [work / f"{p.stem.replace('in-', 'out-')}.{_ext(out_fmt)}" for p in parts]
    todo = [(p, o) for p, o in zip(parts, outputs, strict=True) if not o.exists()]
    if todo:
        job = {"model_dir": str(model_dir), "target": location.target,
               "api_key": location.api_key, "runtime": runtime, "search_ef": search_ef,
               "k": k, "filter": filter, "batch_size": batch_size}
        _run(job, todo, workers, address)
    _join(outputs, out_path, out_fmt, k)
    for stale in [*work.glob("out-*"), *work.glob("in-*")]:
        if stale not in outputs and stale not in parts:
            _remove(stale)
    rows = sum(int(p.stem.rsplit("-n", 1)[1]) for p in parts)
    if failure is not None:
        raise failure
    return DatasetResult(rows, len(parts), len(parts) - len(todo), time.perf_counter() - t0)


def _ext(fmt: str) -> str:
    return {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]


def _split(path: Path, column: str, work: Path, size: int,
           ) -> tuple[list[Path], InputError | None]:
    """Partition files of the queries (one column `query`, Parquet), named by number and
    row count; kept from an earlier run when present. A bad row ends the partitions after
    the rows before it; its error is returned."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts: list[Path] = []
    failure: InputError | None = None
    rows = read_queries(path, column)

    def chunks() -> Iterator[list[str]]:
        nonlocal failure
        chunk: list[str] = []
        try:
            for text in rows:
                chunk.append(text)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
        except InputError as e:
            failure = e
        if chunk:
            yield chunk

    for number, chunk in enumerate(chunks()):
        part = work / f"in-{number:06d}-n{len(chunk)}.parquet"
        if not part.exists():
            tmp = part.with_suffix(".tmp")
            pq.write_table(pa.table({"query": chunk}), tmp)
            os.replace(tmp, part)
        parts.append(part)
    return parts, failure


def _run(job: dict[str, Any], todo: list[tuple[Path, Path]], workers: int,
         address: str | None) -> None:
    from dask.distributed import wait

    with cluster_client(workers, address) as client:
        futures = [client.submit(match_partition, job, str(p), str(o), pure=False,
                                 key=f"surematch-{o.name}") for p, o in todo]
        wait(futures)
        for future in futures:
            future.result()  # the first task's error, if any, raised here


@contextmanager
def cluster_client(workers: int, address: str | None) -> Iterator[Any]:
    """A Dask client of the cluster at `address`, else of a local cluster of `workers`
    processes (one thread each: the encoder's own threads use the cores), closed after."""
    from dask.distributed import Client, LocalCluster

    cluster = None if address else LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(address or cluster) as client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


_OPEN: dict[str, Any] = {}  # per worker process: the index opened for a job, kept


def match_partition(job: dict[str, Any], part: str, out: str) -> int:
    """A worker's task: match one partition into a partial output (resumed by a retry) and
    rename it into place; the rows written."""
    from surematch.workflows.match_file import match_file

    final = Path(out)
    partial = final.with_name(final.stem + ".partial" + final.suffix)
    result = match_file(Path(job["model_dir"]), IndexLocation(job["target"], job["api_key"]),
                        Path(part), partial, job["k"], filter=job["filter"],
                        batch_size=job["batch_size"], index=_index(job))
    os.replace(partial, final)
    return result.rows_written + result.rows_skipped


def _index(job: dict[str, Any]) -> Any:
    """The index of this job in this worker process, opened on first use (an index in a
    folder is copied first: the worker's read-only copy)."""
    from surematch.workflows.indexes import open_index

    key = json.dumps([job["model_dir"], job["target"], job["runtime"], job["search_ef"]])
    if key not in _OPEN:
        location = IndexLocation(job["target"], job["api_key"])
        if location.folder is not None:
            scratch = tempfile.mkdtemp(prefix="surematch-index-")
            atexit.register(shutil.rmtree, scratch, ignore_errors=True)
            copy = Path(scratch) / "index"
            shutil.copytree(location.folder, copy, ignore=shutil.ignore_patterns("*.lock"))
            location = IndexLocation(str(copy))
        _OPEN[key] = open_index(location, Path(job["model_dir"]),
                                search_ef=job["search_ef"], runtime=job["runtime"])
    return _OPEN[key]


def _join(outputs: list[Path], out_path: Path, fmt: str, k: int) -> None:
    """The partitions' outputs, in order, into out_path (written beside, renamed in)."""
    tmp = out_path.with_name(out_path.name + ".tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        from surematch.data.row_files import open_writer

        schema = open_writer(out_path, output_columns(k)).schema  # type: ignore[attr-defined]
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in outputs:
                table = pq.read_table(part, schema=schema)
                writer.write_table(table)
    else:
        with tmp.open("wb") as f:
            header = None
            for part in outputs:
                with part.open("rb") as src:
                    if fmt == "csv":
                        header = src.readline()
                        if part is outputs[0]:
                            f.write(header)
                    shutil.copyfileobj(src, f)
            if fmt == "csv" and header is None:
                f.write((",".join(output_columns(k)) + "\n").encode())
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out_path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
