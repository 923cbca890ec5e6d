"""Issue #12 regressions in the store layer: every client-controlled size is refused with an
InputError before the engine sees it; engine failures and a full disk become clear errors."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from surematch.errors import DiskFullError, EngineError, InputError
from surematch.index.stores import files
from surematch.index.stores.base import BaseStore
from surematch.index.stores.edge import EdgeStore
from surematch.index.stores.filters import check_key, parse_filter, type_mismatches
from surematch.limits import LIMITS, json_depth

from .conftest import DIM, Opener, random_vectors


def nested(levels: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def test_json_depth_counts_without_recursion() -> None:
    assert json_depth(1, 5) == 0 and json_depth({"a": [1]}, 5) == 2
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep, 40) == 41  # stops counting past the limit


@pytest.mark.parametrize("levels", [128, 130, 5000])
def test_deep_payload_is_refused_and_the_index_reopens(tmp_path: Path, levels: int) -> None:
    """Finding 1: a payload 128+ levels deep was stored and bricked the index."""
    store = EdgeStore(tmp_path / "e", DIM)
    store.upsert(["ok"], random_vectors(1), [{"x": 1}])
    with pytest.raises(InputError, match="nested more than 32 levels") as err:
        store.upsert(["poison"], random_vectors(1, seed=1), [nested(levels)])
    assert err.value.field == "payload"
    assert store.get(["poison"]) == [None]
    assert store.count({"x": 1}) == 1
    store.close()
    store = EdgeStore(tmp_path / "e")  # a restart replays the log: nothing poisoned in it
    assert store.count({"x": 1}) == 1 and store.get(["poison"]) == [None]
    store.close()


def test_payload_at_the_depth_limit_is_stored(store: BaseStore) -> None:
    store.upsert(["deep"], random_vectors(1), [nested(LIMITS.payload_depth)])
    assert store.get(["deep"])[0].payload == nested(LIMITS.payload_depth)


def test_payload_key_count_is_limited(store: BaseStore) -> None:
    many = {f"k{n}": n for n in range(LIMITS.payload_keys + 1)}
    with pytest.raises(InputError, match=f"the most is {LIMITS.payload_keys}"):
        store.upsert(["many"], random_vectors(1), [many])


def test_limits_are_configurable(store: BaseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LIMITS, "payload_depth", 2)
    with pytest.raises(InputError, match="nested more than 2 levels"):
        store.upsert(["x"], random_vectors(1), [nested(3)])
    monkeypatch.setattr(LIMITS, "filter_conditions", 2)
    with pytest.raises(InputError, match="more than 2 conditions"):
        store.count({"a": 1, "b": 2, "c": 3})


@pytest.mark.parametrize("shape", ["should", "must", "equality", "nested"])
def test_huge_filter_is_refused_before_the_engine(store: BaseStore, shape: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 2: a should of 9,000 clauses held the engine (and the GIL) for 70 s."""
    def engine(*_: object) -> None:
        raise AssertionError("the engine saw the filter")

    monkeypatch.setattr(store, "_count", engine)
    monkeypatch.setattr(store, "_search", engine)
    conditions = [{"key": "a", "match": n} for n in range(9000)]
    spec = {"should": conditions} if shape == "should" else {"must": conditions} \
        if shape == "must" else {f"k{n}": n for n in range(9000)} if shape == "equality" \
        else {"must": [{"should": conditions[:60]}, {"should": conditions[:60]}]}
    with pytest.raises(InputError, match="conditions") as err:
        store.count(spec)
    assert err.value.field.startswith("filter")
    with pytest.raises(InputError, match="conditions"):
        store.search(random_vectors(1), 3, spec)


@pytest.mark.parametrize("key", ["a[", "a..b", ".a", " ", "a\u0000b", "a b", 'a"b', "a.", "$",
                                 "x" * 300])
def test_keys_that_are_not_payload_paths_are_refused(store: BaseStore, key: str) -> None:
    """Finding 4: such keys reached the engine and answered 500."""
    with pytest.raises(InputError) as err:
        store.count({key: 1})
    assert err.value.field == f"filter.{key}"
    with pytest.raises(InputError):
        store.count({"must": [{"key": key, "match": 1}]})


@pytest.mark.parametrize("key", ["a", "a.b", "l[].b", "l[0].b", "t-1", "é", '"c d"', "a_1"])
def test_payload_paths_work(opener: Opener, key: str) -> None:
    store = opener(on_disk=False)
    store.upsert(["p"], random_vectors(1), [{"a": {"b": 1}, "c d": 1, "l": [{"b": 1}],
                                             "t-1": 1, "é": 1, "a_1": 1}])
    assert store.count({key: 1}) in (0, 1)  # accepted by us and by the engine


@pytest.mark.parametrize("levels", [9, 300, 5000])
def test_deeply_nested_filter_is_refused_at_once(store: BaseStore, levels: int) -> None:
    """Finding 4: a must nested 300+ levels deep raised RecursionError after 3 s."""
    spec: Any = {"x": 1}
    for _ in range(levels):
        spec = {"must": [spec]}
    with pytest.raises(InputError, match="nested more than 8 levels"):
        store.count(spec)


def test_filter_at_the_limits_works(store: BaseStore) -> None:
    store.upsert(["p"], random_vectors(1), [{"a": 5}])
    spec: Any = {"should": [{"key": "a", "match": n} for n in range(LIMITS.filter_conditions)]}
    assert store.count(spec) == 1
    nested_ok: Any = {"a": 5}
    for _ in range(LIMITS.filter_depth - 1):
        nested_ok = {"must": [nested_ok]}
    assert store.count(nested_ok) == 1
    with pytest.raises(InputError, match="any holds"):
        store.count({"must": [{"key": "a", "any": list(range(LIMITS.filter_any_values + 1))}]})
    with pytest.raises(InputError, match="characters long"):
        store.count({"a": "x" * (LIMITS.filter_string_chars + 1)})


def test_engine_panic_becomes_engine_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 1/5: a Rust panic (pyo3 PanicException, a BaseException) escaped handlers."""
    class PanicException(BaseException):
        pass

    store = EdgeStore(tmp_path / "e", DIM)

    class Shard:
        def __getattr__(self, name: str) -> Any:
            def panic(*_: object, **__: object) -> None:
                raise PanicException("called `Result::unwrap()` on an `Err` value")
            return panic

    real = store._shard
    monkeypatch.setattr(store, "_shard", Shard())
    with pytest.raises(EngineError, match="count failed"):
        store.count({"x": 1})
    monkeypatch.setattr(store, "_shard", real)
    store.close()


def enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_refuses_writes_keeps_reads(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 3: a write with little disk left killed the process with SIGBUS."""
    store = EdgeStore(tmp_path / "e", DIM)
    store.upsert(["kept"], random_vectors(1), [{"x": 1}])
    monkeypatch.setattr(files, "free_bytes", lambda _: 512 * 1024)
    with pytest.raises(DiskFullError, match="0 MiB free"):
        store.upsert(["new"], random_vectors(1, seed=2), [{"x": 2}])
    with pytest.raises(DiskFullError):
        store.delete(["kept"])
    with pytest.raises(DiskFullError):
        store.create_payload_index("x", "integer")
    with pytest.raises(DiskFullError):
        store.write_meta({"a": 1})
    assert store.get(["kept"])[0].payload == {"x": 1} and store.count() == 1
    assert store.search(random_vectors(1), 1)[0][0].id == "kept"
    store.close()  # skips the flush: the log already holds every acknowledged write
    with pytest.raises(DiskFullError, match="opening index"):
        EdgeStore(tmp_path / "e")
    monkeypatch.undo()
    store = EdgeStore(tmp_path / "e")
    assert store.ids() and list(store.ids()) == ["kept"]
    store.upsert(["new"], random_vectors(1, seed=2), [{"x": 2}])
    assert store.count() == 2
    store.close()


def test_enospc_from_the_engine_is_disk_full(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = EdgeStore(tmp_path / "e", DIM)

    class Shard:
        update = staticmethod(enospc)

    real = store._shard
    monkeypatch.setattr(store, "_shard", Shard())
    with pytest.raises(DiskFullError, match="disk is full"):
        store.upsert(["a"], random_vectors(1), None)
    monkeypatch.setattr(store, "_shard", real)
    monkeypatch.setattr(files.os, "fdopen", enospc)
    with pytest.raises(DiskFullError, match="disk is full"):
        store.write_meta({"a": 1})
    monkeypatch.undo()
    store.close()


def test_type_mismatch_is_named() -> None:
    """Finding 7: the number 2 against a key holding the string "2" matches nothing."""
    stored = {"major": "keyword", "year": "integer", "score": "float", "ok": "bool"}
    [warning] = type_mismatches(parse_filter({"major": 2}), stored)
    assert "'major' holds strings" in warning and '"major": "2"' in warning
    assert type_mismatches(parse_filter({"major": "2", "year": 3, "score": 2}), stored) == []
    assert len(type_mismatches(parse_filter({"must": [{"key": "year", "any": ["a"]}, {
        "key": "major", "range": {"gte": 1}}, {"key": "ok", "match": 1}]}), stored)) == 3
    assert type_mismatches(parse_filter({"unknown": 2}), stored) == []


def test_check_key_accepts_quoted_names() -> None:
    assert check_key('"isco major"', "k") == '"isco major"'


def test_payload_keys_with_spaces_are_indexed_quoted(opener: Opener) -> None:
    from surematch.index.payloads import auto_index

    store = opener(on_disk=False)
    payloads = [{"isco major": "2", "a.b": 1, 'q"k': 1}]
    assert auto_index(store, payloads, {}) == {"isco major": "keyword", "a.b": "integer"}
    store.upsert(["p"], random_vectors(1), payloads)
    assert store.count({'"isco major"': "2"}) == 1 and store.count({'"a.b"': 1}) == 1
    [warning] = type_mismatches(parse_filter({'"isco major"': 2}), {"isco major": "keyword"})
    assert "holds strings" in warning
