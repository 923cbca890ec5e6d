"""Multivector stores ([n, D] rows per point, MaxSim), the same on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from surematch.errors import InputError
from surematch.index.stores import open_store
from surematch.index.stores.base import BaseStore
from surematch.index.stores.edge import EdgeStore
from surematch.index.stores.server import ServerStore

from .conftest import DIM, random_vectors


@pytest.fixture(params=["edge", "local"])
def multi(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    store: BaseStore = (EdgeStore(tmp_path / "edge", DIM, multivector=True)
                        if request.param == "edge"
                        else ServerStore(path=":memory:", dim=DIM, multivector=True))
    yield store
    store.close()


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_search_scores_the_best_row_of_each_point(multi: BaseStore) -> None:
    assert multi.multivector
    rows = [random_vectors(n, seed=s) for s, n in enumerate([1, 3, 5, 2] * 25)]
    ids = [f"r{i}" for i in range(len(rows))]
    multi.upsert(ids, rows, [{"i": i, "even": i % 2 == 0} for i in range(len(rows))])
    assert multi.count() == 100 and multi.count({"even": True}) == 50
    q = random_vectors(4, seed=99)
    best = np.array([[float((unit_rows(r) @ (v / np.linalg.norm(v))).max()) for r in rows]
                     for v in q])  # [Q, N]: exact max over each point's rows
    hits = multi.search(q, k=5, with_vectors=True)
    for row, sims in zip(hits, best, strict=True):
        order = np.argsort(-sims)[:5]
        assert [h.id for h in row] == [ids[i] for i in order]
        np.testing.assert_allclose([h.score for h in row], sims[order], atol=1e-5)
        assert row[0].vector is not None and row[0].vector.shape == rows[order[0]].shape
        np.testing.assert_allclose(row[0].vector, unit_rows(rows[order[0]]), atol=1e-6)
    filtered = multi.search(q[:1], k=50, filter={"even": False})[0]
    assert len(filtered) == 50 and all(h.payload["i"] % 2 == 1 for h in filtered)


def test_replace_rows_get_and_delete(multi: BaseStore) -> None:
    multi.upsert(["a", "b"], [random_vectors(2), random_vectors(3, seed=1)], [{"n": 1}, None])
    a = multi.get(["a"], with_vectors=True)[0]
    assert a is not None and a.vector is not None and a.vector.shape == (2, DIM)
    new = random_vectors(4, seed=2)
    multi.upsert(["a"], [new], [{"n": 2}])
    a = multi.get(["a"], with_vectors=True)[0]
    assert a is not None and a.payload == {"n": 2} and a.vector is not None
    np.testing.assert_allclose(a.vector, unit_rows(new), atol=1e-6)
    assert multi.count() == 2 and multi.delete(["a", "zz"]) == 1 and multi.count() == 1


def test_bad_rows_are_refused_and_nothing_stored(multi: BaseStore) -> None:
    bad_row = random_vectors(3)
    bad_row[1] = 0
    nan_row = random_vectors(2)
    nan_row[0, 3] = np.nan
    cases = [
        ([random_vectors(2), bad_row], r"id 'b': vector 1 is all zeros", "vectors[1][1]"),
        ([random_vectors(2), nan_row], r"id 'b': vector 0 is not finite", "vectors[1][0]"),
        ([random_vectors(2), np.zeros((0, DIM))], r"n >= 1", "vectors[1]"),
        ([random_vectors(2), np.ones((2, 8))], r"shape \[N, 16\], got \[2, 8\]", "vectors[1]"),
        ([random_vectors(2)], r"2 ids but 1 vectors", "vectors"),
        (random_vectors(2), r"one \[n, 16\] array per id", "vectors"),
    ]
    for vectors, message, field in cases:
        with pytest.raises(InputError, match=message) as err:
            multi.upsert(["a", "b"], vectors)
        assert err.value.field == field
    assert multi.count() == 0


def test_single_vector_store_stays_single(tmp_path: Path) -> None:
    """A store made before multivectors (store.json without the flag) opens as it was, even
    when asked for a multivector one; a new one records the flag and keeps it on reopening."""
    with EdgeStore(tmp_path / "old" / "references", DIM) as old:
        old.upsert(["a"], random_vectors(1))
    with open_store(tmp_path / "old", DIM, multivector=True) as again:
        assert not again.multivector and again.search(random_vectors(1), 1)[0][0].id == "a"
    with open_store(tmp_path / "new", DIM, multivector=True) as new:
        new.upsert(["a"], [random_vectors(2)])
    with open_store(tmp_path / "new", None) as again:
        assert again.multivector and again.get(["a"], with_vectors=True)[0].vector.shape == (2,
                                                                                              DIM)


def test_server_collection_records_multivector(tmp_path: Path) -> None:
    folder = str(tmp_path / "local")
    with ServerStore(path=folder, dim=DIM, multivector=True) as store:
        store.upsert(["a"], [random_vectors(3)])
    with ServerStore(path=folder) as again:
        assert again.multivector and again.search(random_vectors(1), 1)[0][0].id == "a"
    with ServerStore(path=str(tmp_path / "single"), dim=DIM) as single:
        assert not single.multivector
