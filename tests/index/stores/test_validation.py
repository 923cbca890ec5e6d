"""Bad ids, vectors and payloads: a clear InputError naming the culprit, and nothing stored."""

from __future__ import annotations

import numpy as np
import pytest

from surematch.errors import InputError
from surematch.index.stores.base import BaseStore
from surematch.index.stores.points import MAX_ID_CHARS, MAX_PAYLOAD_BYTES, RESERVED_KEY

from .conftest import DIM, random_vectors

BAD_PAYLOADS = [
    ({"score": float("nan")}, r'field "payload.score".*\'bad\'.*NaN'),
    ({"deep": {"xs": [1.0, float("inf")]}}, r'"payload.deep.xs\[1\]".*not a JSON number'),
    ({"blob": b"\x00"}, r'"payload.blob".*bytes is not JSON'),
    ({"tags": {"a", "b"}}, r'"payload.tags".*set is not JSON'),
    ({"obj": object()}, r'"payload.obj".*object is not JSON'),
    ({"x": np.float32(1.5)}, r"float32 is not JSON.*tolist"),
    ({1: "int key"}, r"key 1 is not a string"),
    ({"huge": 2**70}, r"does not fit in 64 bits"),
    ({RESERVED_KEY: "x"}, r"reserved key"),
    ({"text": "x" * MAX_PAYLOAD_BYTES}, rf"'bad' is {MAX_PAYLOAD_BYTES + 11} bytes.*the most is"),
    ("not a dict", r"must be a JSON object"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_PAYLOADS)
def test_bad_payload_is_refused_and_nothing_stored(store: BaseStore, payload: object,
                                                   message: str) -> None:
    with pytest.raises(InputError, match=message):
        store.upsert(["good", "bad"], random_vectors(2), [{"ok": 1}, payload])
    assert store.count() == 0


BAD_IDS = [
    (5, r"must be a string, got int 5"),
    ("", r"must not be empty"),
    ("x" * (MAX_ID_CHARS + 1), rf"is {MAX_ID_CHARS + 1} characters long"),
    ("tab\there", r"non-printable"),
    (None, r"must be a string, got NoneType"),
]


@pytest.mark.parametrize(("bad_id", "message"), BAD_IDS)
def test_bad_id_is_refused_everywhere(store: BaseStore, bad_id: object, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        store.upsert(["fine", bad_id], random_vectors(2))  # type: ignore[list-item]
    assert err.value.field == "ids[1]"
    assert store.count() == 0
    for call in (store.get, store.delete):
        with pytest.raises(InputError, match=message):
            call([bad_id])  # type: ignore[list-item]


def test_ids_must_be_a_list(store: BaseStore) -> None:
    with pytest.raises(InputError, match="ids must be a list"):
        store.upsert("abc", random_vectors(3))  # type: ignore[arg-type]


def test_bad_vectors_are_refused(store: BaseStore) -> None:
    x = random_vectors(3)
    x[2, 4] = np.nan
    with pytest.raises(InputError, match=r"vector of id 'c' is not finite") as err:
        store.upsert(["a", "b", "c"], x)
    assert err.value.field == "vectors[2]"
    with pytest.raises(InputError, match=r"vector of id 'b' is all zeros"):
        store.upsert(["a", "b"], np.vstack([random_vectors(1), np.zeros((1, DIM))]))
    with pytest.raises(InputError, match=r"shape \[N, 16\], got \[2, 8\]"):
        store.upsert(["a", "b"], np.ones((2, 8)))
    with pytest.raises(InputError, match="3 ids but 2 vectors"):
        store.upsert(["a", "b", "c"], random_vectors(2))
    with pytest.raises(InputError, match="2 ids but 1 payloads"):
        store.upsert(["a", "b"], random_vectors(2), [{}])
    with pytest.raises(InputError, match="numeric array"):
        store.upsert(["a"], [["x"] * DIM])
    with pytest.raises(InputError, match="'a' appears more than once"):
        store.upsert(["a", "b", "a"], random_vectors(3))
    assert store.count() == 0


def test_odd_but_valid_ids_work(store: BaseStore) -> None:
    ids = ["with space", "ünïcødé ✓", "x" * MAX_ID_CHARS, "a/b?c=d#e", "123"]
    store.upsert(ids, random_vectors(len(ids)), [{"i": i} for i in range(len(ids))])
    assert [p.id for p in store.get(ids)] == ids
    assert sorted(store.ids()) == sorted(ids)


def test_bad_filter_surfaces_from_every_call(store: BaseStore) -> None:
    bad = {"must": [{"key": "n", "range": {"gte": "ten"}}]}
    for call in (lambda: store.count(bad), lambda: store.search(random_vectors(1), 3, bad),
                 lambda: store.ids(bad), lambda: store.scan(bad)):
        with pytest.raises(InputError, match=r'field "filter.must\[0\].range.gte"'):
            call()
