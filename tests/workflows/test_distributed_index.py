"""index_dataset on a real local Dask cluster of 2 worker processes: the same index as the
single-process import (ids, payloads, texts, rows), a rerun writes nothing, and a driver
interrupted between partitions resumes reusing the partitions embedded already."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.model import SimilarityModel
from surematch.workflows.distributed_index import index_dataset
from surematch.workflows.indexes import add_references

distributed = pytest.importorskip("dask.distributed")
pytestmark = pytest.mark.slow

WORDS = ["nurse", "baker", "driver", "welder", "pilot", "chef", "tailor", "miner"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(model, references file: 30 references, some with 2 synonyms, the single-process
    index of it)."""
    root = tmp_path_factory.mktemp("distributed_index")
    model_dir = save_tiny_text_model(root)
    refs = root / "refs.jsonl"
    with refs.open("w", encoding="utf-8") as f:
        for i in range(30):
            title = f"{WORDS[i % 8]} {WORDS[i // 8 % 8]} {i}"
            synonyms = [f"{title} assistant", f"head {title}"][: i % 3]
            row = {"id": f"r{i}", "text": title, "lang": ["en", "de"][i % 2]}
            f.write(json.dumps({**row, **({"texts": synonyms} if synonyms else {})}) + "\n")
    add_references(model_dir, refs, IndexLocation.of(root / "single"), runtime="torch")
    return model_dir, refs, root / "single"


def stored(model_dir: Path, folder: Path) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    """Every point of the index: its whole payload and rows, by id; and the meta checked."""
    with ReferenceIndex.open(folder, SimilarityModel.load(model_dir)) as index:
        assert index.runtimes == ["torch"]
        ids = list(index.store.ids())
        return {p.id: (p.payload, np.asarray(p.vector))
                for p in index.store.get(ids, with_vectors=True) if p is not None}


def same_index(model_dir: Path, a: Path, b: Path) -> None:
    want, got = stored(model_dir, a), stored(model_dir, b)
    assert sorted(got) == sorted(want) and len(got) == 30
    for ref_id, (payload, rows) in want.items():
        assert got[ref_id][0] == payload  # texts, kinds, payload
        np.testing.assert_allclose(got[ref_id][1], rows, atol=1e-6)


def run(built: tuple[Path, Path, Path], folder: Path, cluster: Any) -> Any:
    return index_dataset(built[0], built[1], IndexLocation.of(folder), runtime="torch",
                         address=cluster.scheduler_address, partition_references=7)


def test_the_same_index_as_one_process_and_a_rerun_writes_nothing(
        built: tuple[Path, Path, Path], tmp_path: Path, cluster: Any) -> None:
    result = run(built, tmp_path / "ix", cluster)
    assert (result.read, result.added, result.total) == (30, 30, 30)
    assert (result.partitions, result.partitions_reused) == (5, 0)
    same_index(built[0], built[2], tmp_path / "ix")
    assert not (tmp_path / "ix.embedded").exists()  # removed once all is stored
    again = run(built, tmp_path / "ix", cluster)
    assert (again.added, again.total, again.partitions) == (0, 30, 0)


def test_an_interrupted_import_resumes_reusing_what_was_embedded(
        built: tuple[Path, Path, Path], tmp_path: Path, cluster: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = ReferenceIndex.write_prepared
    calls: list[int] = []

    def interrupted(self: ReferenceIndex, prepared: Any) -> int:
        calls.append(len(prepared.ids))
        if len(calls) == 3:  # the driver dies writing the third partition
            raise KeyboardInterrupt
        return real(self, prepared)

    monkeypatch.setattr(ReferenceIndex, "write_prepared", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(built, tmp_path / "ix", cluster)
    monkeypatch.setattr(ReferenceIndex, "write_prepared", real)
    embedded = list((tmp_path / "ix.embedded").glob("rows-*.npz"))
    assert len(embedded) >= 3 and not list((tmp_path / "ix.embedded").glob("*.tmp"))
    result = run(built, tmp_path / "ix", cluster)
    # the two partitions written are skipped; the others' rows were embedded already
    assert (result.added, result.total, result.partitions) == (16, 30, 3)
    assert result.partitions_reused >= len(embedded) - 2  # (a worker may finish one more)
    same_index(built[0], built[2], tmp_path / "ix")
