"""References imported on a Dask cluster: workers embed partitions, the driver writes them.

    index_dataset(model, "refs.parquet", IndexLocation.of("ix"), workers=8)
    index_dataset(..., address="tcp://scheduler:8786")   # an existing cluster

The driver reads and checks the references (as `surematch index` does), leaves out those
stored already with the same texts and payload, and cuts the rest into partitions by their
row in the file (`partition_references` rows each). A worker process loads the model (the
exported graph) once and embeds each partition it gets into a rows file under the work
folder (`INDEX.embedded/`, or `REFS.embedded/` for a Qdrant server), written beside and
renamed into place. A rows file is named by a hash of the model id, the runtime and the
texts it holds, so a rerun reuses every finished one and embeds only what is missing. The
driver writes each partition's references into the index, in file order, as its rows file
arrives (one writer: an embedded index takes one process), then builds the search graph,
and removes the work folder once every reference is stored. Killed anywhere, a rerun embeds
and writes nothing twice: stored references are skipped, rows files reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.index.stores import IndexLocation
from surematch.workflows.data import load_references
from surematch.workflows.distributed import cluster_client
from surematch.workflows.indexes import IndexResult, open_index

PARTITION_REFERENCES = 20_000  # references per partition: a minute or so of one worker


@dataclass(frozen=True)
class DatasetIndexResult(IndexResult):
    partitions: int = 0  # partitions with references to write
    partitions_reused: int = 0  # of those, embedded by an earlier run
    seconds: float = 0.0


def index_dataset(model_dir: Path, refs_path: Path, location: IndexLocation, *,
                  fmt: str = "references", columns: dict[str, str] | None = None,
                  runtime: str = DEFAULT_RUNTIME, workers: int = 2, address: str | None = None,
                  partition_references: int = PARTITION_REFERENCES, batch_size: int = 256,
                  optimize: bool = True) -> DatasetIndexResult:
    """`add_references` with the embedding done on a Dask cluster (`address`, else a local
    one of `workers` processes): the same index, written by this process."""
    from surematch.index.reference_index import Prepared

    t0 = time.perf_counter()
    if partition_references < 1 or workers < 1 or batch_size < 1:
        raise InputError("workers, the partition size and the batch size must be positive")
    refs_path = Path(refs_path)
    refs = load_references(refs_path, fmt, columns)
    with open_index(location, model_dir, create=True, runtime=runtime) as index:
        pending = index.pending(refs)
        index.index_payloads(pending.payloads)
        model = f"{index.model.identity()}|{index.model.runtime}"
        work = _work_folder(location, refs_path)
        parts = []  # (positions in pending, the rows file)
        for start in range(0, len(refs), partition_references):
            mine = [j for j, row in enumerate(pending.positions)
                    if start <= row < start + partition_references]
            if mine:
                texts = [t for j in mine for t, _ in pending.texts[j]]
                name = hashlib.sha256(json.dumps([model, texts]).encode()).hexdigest()[:24]
                parts.append((mine, texts, work / f"rows-{name}.npz"))
        reused = sum(path.exists() for _, _, path in parts)
        job = {"model_dir": str(model_dir), "runtime": runtime, "batch_size": batch_size}
        written = 0
        if parts:
            work.mkdir(parents=True, exist_ok=True)
            cluster: AbstractContextManager[Any] = (  # all embedded before: no cluster
                cluster_client(workers, address) if reused < len(parts) else nullcontext())
            with cluster as client:
                futures = {path: client.submit(embed_partition, job, texts, str(path),
                                               pure=False, key=f"surematch-{path.stem}")
                           for _, texts, path in parts if not path.exists()}
                for mine, _, path in parts:  # in file order, each as its rows arrive
                    if path in futures:
                        futures[path].result()
                    vectors, confidence = _read_rows(path)
                    written += index.write_prepared(Prepared(
                        [pending.ids[j] for j in mine], [pending.texts[j] for j in mine],
                        [pending.payloads[j] for j in mine], vectors, len(mine), confidence))
        if optimize:
            index.optimize()
        total = index.count()
    shutil.rmtree(work, ignore_errors=True)  # every reference is stored
    return DatasetIndexResult(len(refs), written, total, len(parts), reused,
                              time.perf_counter() - t0)


def _work_folder(location: IndexLocation, refs_path: Path) -> Path:
    """Beside the index folder, or beside the references file for a Qdrant server."""
    base = location.folder if location.folder is not None else refs_path
    return base.with_name(base.name + ".embedded")


_MODELS: dict[str, Any] = {}  # per worker process: the model of a job, loaded once


def embed_partition(job: dict[str, Any], texts: list[str], out: str) -> str:
    """A worker's task: embed texts (with their embedding confidence when the model has
    one) into the rows file `out` (written beside, renamed into place)."""
    from surematch.loader import load_model

    key = json.dumps([job["model_dir"], job["runtime"]])
    if key not in _MODELS:
        _MODELS[key] = load_model(Path(job["model_dir"]), job["runtime"])
    model = _MODELS[key]
    if model.has_confidence:
        vectors, confidence = model.embed_with_confidence(texts, job["batch_size"])
    else:
        vectors = model.embed(texts, job["batch_size"])
        confidence = None
    final = Path(out)
    tmp = final.with_name(final.name + ".tmp")
    with tmp.open("wb") as f:
        if confidence is None:
            np.savez(f, vectors=np.asarray(vectors, np.float32))
        else:
            np.savez(f, vectors=np.asarray(vectors, np.float32),
                     confidence=np.asarray(confidence, np.float32))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    return out


def _read_rows(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    with np.load(path, allow_pickle=False) as rows:
        return rows["vectors"], rows.get("confidence")
