"""The embedded store's own promises: one writer, nothing lost to kill -9, HNSW on demand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from surematch.distances import cosine_similarity
from surematch.errors import InputError, ModelFormatError, SurematchError
from surematch.index import IndexLocation, open_store
from surematch.index.stores.edge import EdgeStore

from .conftest import DIM, random_vectors

OPEN_ELSEWHERE = """
import sys
from surematch.index.stores.edge import EdgeStore
try:
    EdgeStore(sys.argv[1], 16).close()
    print("opened")
except Exception as exc:
    print(type(exc).__name__, exc)
"""

WRITER = """
import sys
import numpy as np
from surematch.index.stores import edge
edge.FLUSH_EVERY = 300  # flushes happen mid-run too, so a kill can land in one
store = edge.EdgeStore(sys.argv[1], 16)
rng = np.random.default_rng(0)
for b in range(1_000_000):
    ids = [f"b{b}-{i}" for i in range(50)]
    store.upsert(ids, rng.normal(size=(50, 16)), [{"batch": b}] * 50)
    print(ids[-1], flush=True)
"""


def _python(code: str, *args: Any) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


def test_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    store = EdgeStore(folder, DIM)
    out = subprocess.run(_python(OPEN_ELSEWHERE, folder), capture_output=True, text=True,
                         timeout=60).stdout.strip()
    assert out == (f"SurematchError index {folder} is open in another process "
                   f"(pid {os.getpid()}); close it there first")
    with pytest.raises(SurematchError, match=r"is open in this process \(pid \d+\)"):
        EdgeStore(folder, DIM)
    store.close()
    out = subprocess.run(_python(OPEN_ELSEWHERE, folder), capture_output=True, text=True,
                         timeout=60).stdout.strip()
    assert out == "opened"


def test_kill_9_during_bulk_upsert_loses_no_completed_batch(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    writer = subprocess.Popen(_python(WRITER, folder), stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    done = [writer.stdout.readline().strip() for _ in range(12)]
    writer.send_signal(signal.SIGKILL)
    done += [line.strip() for line in writer.stdout]  # batches finished before the kill
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL and all(done)
    with EdgeStore(folder) as store:  # the lock died with the writer
        n_done = len(done)
        assert done[-1] == f"b{n_done - 1}-49"
        ids = [f"b{b}-{i}" for b in range(n_done) for i in range(50)]
        assert all(p is not None for p in store.get(ids))
        assert store.count() in (50 * n_done, 50 * (n_done + 1))  # one upsert is all or nothing
        assert store.get(["b3-7"])[0].payload == {"batch": 3}


def test_optimize_builds_hnsw_and_search_stays_exact_where_needed(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "idx", DIM, indexing_threshold_kb=16)
    x, q = random_vectors(1500, seed=3), random_vectors(4, seed=4)
    ids = [f"v{i}" for i in range(1500)]
    store.upsert(ids, x, [{"n": i % 10} for i in range(1500)])
    assert store.stats()["indexed_vectors"] == 0  # plain segment: exact search
    store.optimize()
    assert store.stats()["indexed_vectors"] == 1500 and store.stats()["points"] == 1500
    sims = cosine_similarity(q, x)
    for row, sim in zip(store.search(q, 10, exact=True), sims, strict=True):
        assert [h.id for h in row] == [ids[i] for i in np.argsort(-sim)[:10]]
    hnsw = store.search(x[:20], 1)  # each stored vector finds itself through the graph
    assert [r[0].id for r in hnsw] == ids[:20]
    # the graph walks int8 copies, but returned similarities are the float32 ones, rescored
    for row, sim in zip(store.search(q, 10), sims, strict=True):
        exact = {ids[i]: sim[i] for i in range(len(ids))}
        np.testing.assert_allclose([h.score for h in row], [exact[h.id] for h in row],
                                   atol=1e-5)
    store.upsert(["late"], q[:1])  # lands in the appendable segment, found at once
    assert store.search(q[:1], 1)[0][0].id == "late"
    assert store.count({"n": 3}) == 150
    store.close()
    with EdgeStore(tmp_path / "idx", DIM) as again:
        assert again.stats()["indexed_vectors"] >= 1500 and again.count() == 1501


def test_dimension_and_damage_checks(tmp_path: Path) -> None:
    EdgeStore(tmp_path / "a", DIM).close()
    with pytest.raises(ModelFormatError, match="holds 16-dim vectors, not 8-dim ones"):
        EdgeStore(tmp_path / "a", 8)
    with pytest.raises(SurematchError, match="give its dimension"):
        EdgeStore(tmp_path / "none")
    with pytest.raises(InputError, match="dim must be a positive integer"):
        EdgeStore(tmp_path / "zero", 0)
    (tmp_path / "a" / "store.json").unlink()
    with pytest.raises(ModelFormatError, match=r"store\.json is missing"):
        EdgeStore(tmp_path / "a", DIM)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "store.json").write_text('{"backend": "faiss", "dim": 16}')
    with pytest.raises(ModelFormatError, match="not a surematch qdrant-edge index"):
        EdgeStore(tmp_path / "b", DIM)
    (tmp_path / "b" / "store.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="is damaged"):
        EdgeStore(tmp_path / "b", DIM)


def test_open_store_routes_paths_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          ) -> None:
    with open_store(tmp_path, DIM) as refs, open_store(tmp_path, DIM, collection="rules") as rules:
        assert isinstance(refs, EdgeStore) and refs.path == tmp_path / "references"
        assert isinstance(rules, EdgeStore) and rules.path == tmp_path / "rules"
        refs.upsert(["r"], random_vectors(1))
        assert (refs.count(), rules.count()) == (1, 0)
    with pytest.raises(InputError, match="collection name"):
        open_store(tmp_path, DIM, collection="../escape")
    seen: dict[str, Any] = {}
    monkeypatch.setattr("surematch.index.stores.server.ServerStore", lambda **kw: seen.update(kw))
    open_store(IndexLocation.of(url="https://qdrant.example:6333", api_key="k"), DIM,
               collection="rules")
    assert seen == {"url": "https://qdrant.example:6333", "api_key": "k",
                    "collection": "rules", "dim": DIM}


def test_new_store_gets_the_default_graph(tmp_path: Path) -> None:
    """A store created without hnsw= records HNSW_M links and HNSW_EF_CONSTRUCT (the graph
    the benchmark measures), which reopening keeps."""
    from surematch.index.stores.base import HNSW_EF_CONSTRUCT, HNSW_M, HNSW_PAYLOAD_M

    with EdgeStore(tmp_path / "s", DIM):
        pass
    with EdgeStore(tmp_path / "s"):
        config = json.loads((tmp_path / "s" / "shard" / "edge_config.json").read_text())
    hnsw = config["hnsw_config"]
    assert (hnsw["m"], hnsw["ef_construct"], hnsw["payload_m"]) == (
        HNSW_M, HNSW_EF_CONSTRUCT, HNSW_PAYLOAD_M)
    assert config["max_search_threads"] == 1


def test_hnsw_parameters_build_a_searchable_graph(tmp_path: Path) -> None:
    """hnsw=(m, ef_construct) on creation; optimize() builds the graph and search still finds
    each point first (tiny indexing threshold so that 300 points get a graph)."""
    vectors = random_vectors(300)
    with EdgeStore(tmp_path / "s", DIM, indexing_threshold_kb=1, hnsw=(8, 32)) as store:
        store.upsert([str(i) for i in range(300)], vectors)
        store.optimize()
        assert store.stats()["indexed_vectors"] == 300
        hits = store.search(vectors[:20], 1)
        assert [h[0].id for h in hits] == [str(i) for i in range(20)]
