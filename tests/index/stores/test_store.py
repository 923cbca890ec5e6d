"""Store behaviour, the same on the embedded edge store and on qdrant-client (local mode)."""

from __future__ import annotations

import numpy as np
import pytest

from surematch.distances import cosine_similarity
from surematch.errors import InputError, SurematchError
from surematch.index import VectorStore
from surematch.index.stores.base import BaseStore

from .conftest import DIM, Opener, random_vectors


def test_upsert_get_count_delete(store: BaseStore) -> None:
    assert isinstance(store, VectorStore)
    x = random_vectors(3)
    store.upsert(["a", "b", "c"], x, [{"lang": "en"}, None, {"n": 1, "tags": ["x"]}])
    assert store.count() == 3
    a, missing, c = store.get(["a", "nope", "c"], with_vectors=True)
    assert missing is None
    assert (a.id, a.payload, c.id, c.payload) == ("a", {"lang": "en"}, "c", {"n": 1, "tags": ["x"]})
    np.testing.assert_allclose(a.vector, x[0] / np.linalg.norm(x[0]), atol=1e-6)
    assert store.get(["b"])[0].payload == {} and store.get(["b"])[0].vector is None
    assert store.delete(["a", "a", "zzz"]) == 1
    assert store.count() == 2 and store.get(["a"]) == [None]
    assert store.delete([]) == 0 and store.get([]) == []


def test_reupsert_replaces_without_duplicating(store: BaseStore) -> None:
    x = random_vectors(2)
    store.upsert(["p", "q"], x, [{"v": 1}, {"v": 2}])
    store.upsert(["p"], x[1:], [{"v": 3}])
    store.upsert(["p"], x[1:], [{"v": 3}])  # idempotent
    assert store.count() == 2
    p = store.get(["p"], with_vectors=True)[0]
    assert p.payload == {"v": 3}
    np.testing.assert_allclose(p.vector, x[1] / np.linalg.norm(x[1]), atol=1e-6)


def test_search_matches_numpy_brute_force(store: BaseStore) -> None:
    x, q = random_vectors(500, seed=1), random_vectors(5, seed=2)
    ids = [f"id-{i}" for i in range(500)]
    store.upsert(ids, x, [{"i": i} for i in range(500)])
    sims = cosine_similarity(q, x)  # [5, 500]
    hits = store.search(q, k=10, with_vectors=True)
    assert len(hits) == 5
    for row, sim in zip(hits, sims, strict=True):
        best = np.argsort(-sim)[:10]
        assert [h.id for h in row] == [ids[i] for i in best]
        np.testing.assert_allclose([h.score for h in row], sim[best], atol=1e-5)
        assert [h.payload for h in row] == [{"i": int(i)} for i in best]
        np.testing.assert_allclose(row[0].vector, x[best[0]] / np.linalg.norm(x[best[0]]),
                                   atol=1e-6)
    exact = store.search(q, k=10, exact=True)
    assert [[h.id for h in r] for r in exact] == [[h.id for h in r] for r in hits]


def test_search_can_return_only_some_payload_keys(store: BaseStore) -> None:
    x = random_vectors(2)
    store.upsert(["a", "b"], x, [{"radius": 0.8, "big": [0.5] * 64}, {"big": [1.0]}])
    hits = store.search(x[:1], k=2, payload_keys=["radius"])[0]
    assert [(h.id, h.payload) for h in hits] == [("a", {"radius": 0.8}), ("b", {})]
    assert store.search(x[:1], k=1)[0][0].payload == {"radius": 0.8, "big": [0.5] * 64}


def test_search_edges(store: BaseStore) -> None:
    assert store.search(random_vectors(2), k=3) == [[], []]
    store.upsert(["a", "b"], random_vectors(2))
    assert [len(r) for r in store.search(random_vectors(1), k=50)] == [2]
    assert store.search(np.zeros((0, DIM)), k=1) == []
    for bad_k in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="k must be a positive integer"):
            store.search(random_vectors(1), k=bad_k)
    with pytest.raises(InputError, match=r"shape \[N, 16\]"):
        store.search(np.ones(DIM), k=1)
    with pytest.raises(InputError, match="all zeros"):
        store.search(np.zeros((1, DIM)), k=1)


def test_search_width_is_checked_and_never_below_k(store: BaseStore) -> None:
    """search_ef defaults to SEARCH_EF, takes positive integers only, and a width below k
    still returns k hits (k candidates are examined then)."""
    from surematch.index.stores.base import SEARCH_EF

    assert store.search_ef == SEARCH_EF
    for bad in (0, -3, 2.5, True, "64"):
        with pytest.raises(InputError, match="search_ef must be a positive integer") as err:
            store.search_ef = bad
        assert err.value.field == "search_ef"
    assert store.search_ef == SEARCH_EF
    x = random_vectors(30)
    store.upsert([str(i) for i in range(30)], x)
    store.search_ef = 1
    assert [len(row) for row in store.search(x[:3], k=10)] == [10, 10, 10]


def test_scan_and_ids_cover_everything_once(store: BaseStore) -> None:
    ids = [f"p{i}" for i in range(300)]
    store.upsert(ids, random_vectors(300), [{"even": i % 2 == 0} for i in range(300)])
    scanned = list(store.scan(batch_size=64))
    assert sorted(p.id for p in scanned) == sorted(ids)
    assert sorted(store.ids()) == sorted(ids)
    assert sorted(store.ids({"even": True})) == sorted(ids[::2])
    assert all(p.vector is not None for p in store.scan({"even": False}, with_vectors=True))


def test_any_json_payload_round_trips(store: BaseStore) -> None:
    exclude = np.random.default_rng(3).normal(size=384).tolist()
    payload = {"exclude": exclude, "nested": {"a": [1, None, True, "x"], "b": {}},
               "text": "héllo ✓", "big": 2**62, "neg": -1.25}
    store.upsert(["r1"], random_vectors(1), [payload])
    got = store.get(["r1"])[0].payload
    # qdrant_edge parses floats to within one ulp (0.41809884672577885 -> 0.4180988467257789)
    np.testing.assert_allclose(got.pop("exclude"), payload.pop("exclude"), rtol=1e-15)
    assert got == payload


def test_metadata_is_replaced_whole(store: BaseStore) -> None:
    assert store.read_meta() == {}
    store.write_meta({"model": "minilm", "dim": DIM, "extra": [1, 2]})
    store.write_meta({"model": "other"})
    assert store.read_meta() == {"model": "other"}
    for bad in ({"x": float("nan")}, {"x": {1, 2}}, ["not", "a", "dict"]):
        with pytest.raises(InputError, match="metadata"):
            store.write_meta(bad)
    assert store.read_meta() == {"model": "other"}


def test_reopen_keeps_points_and_metadata(opener: Opener) -> None:
    store = opener()
    x = random_vectors(40)
    store.upsert([f"k{i}" for i in range(40)], x, [{"i": i} for i in range(40)])
    store.delete(["k0"])
    store.write_meta({"model": "m1"})
    store.close()
    store.close()  # harmless
    with pytest.raises(SurematchError, match="closed"):
        store.count()
    again = opener(dim=None)  # dimension read from the store
    assert again.dim == DIM and again.count() == 39 and again.read_meta() == {"model": "m1"}
    assert again.search(x[5:6], k=1)[0][0].id == "k5"
    assert again.get(["k7"])[0].payload == {"i": 7}


def test_payload_index_keeps_filters_right(store: BaseStore) -> None:
    store.upsert([f"p{i}" for i in range(30)], random_vectors(30),
                 [{"lang": ["en", "de"][i % 2], "n": i, "f": i / 2} for i in range(30)])
    store.create_payload_index("lang", "keyword")
    store.create_payload_index("n", "integer")
    store.create_payload_index("f", "float")
    assert store.count({"lang": "de"}) == 15
    assert store.count({"must": [{"key": "n", "range": {"gte": 10}}]}) == 20
    assert store.count({"must": [{"key": "f", "range": {"lt": 2.0}}]}) == 4
    with pytest.raises(InputError, match="index type"):
        store.create_payload_index("lang", "text")  # type: ignore[arg-type]
    store.optimize()  # nothing to build at this size; must not break anything
    assert store.count({"lang": "de"}) == 15
