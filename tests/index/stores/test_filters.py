"""Filters: every form agrees with a Python reference on both backends; bad ones are named."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from surematch.distances import cosine_similarity
from surematch.errors import InputError
from surematch.index.stores.base import BaseStore
from surematch.index.stores.filters import parse_cli_filter, parse_filter
from surematch.index.stores.points import RESERVED_KEY

from .conftest import random_vectors

_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # 1 is not True, 3 is not 3.0


def _values(payload: dict, key: str) -> list:
    v = payload.get(key, _MISSING)
    return [] if v is _MISSING else v if isinstance(v, list) else [v]


def _number(x: Any) -> bool:
    return type(x) in (int, float)


def ref_condition(c: dict, payload: dict) -> bool:
    """What a condition means, written plainly (the grammar: surematch.index.stores.filters)."""
    if "key" not in c:
        return ref_filter(c, payload)
    xs = _values(payload, c["key"])
    if "match" in c:
        m = c["match"]
        if type(m) is float:
            return any(_number(x) and x == m for x in xs)
        return any(_same(x, m) for x in xs)
    if "any" in c:
        return any(_same(x, m) for x in xs for m in c["any"])
    r = c["range"]
    ops = {"gte": lambda x, v: x >= v, "gt": lambda x, v: x > v, "lte": lambda x, v: x <= v,
           "lt": lambda x, v: x < v}
    return any(_number(x) and all(ops[b](x, v) for b, v in r.items()) for x in xs)


def ref_filter(f: dict, payload: dict) -> bool:
    if not any(k in f for k in ("must", "must_not", "should")):
        return all(ref_condition({"key": k, "match": v}, payload) for k, v in f.items())
    should = f.get("should", [])
    return (all(ref_condition(c, payload) for c in f.get("must", []))
            and not any(ref_condition(c, payload) for c in f.get("must_not", []))
            and (not should or any(ref_condition(c, payload) for c in should)))


FILTERS: list[dict] = [
    {"lang": "en"},
    {"lang": "en", "active": True},
    {"active": False},
    {"n": 7},
    {"f": 2.5},
    {"must": [{"key": "tags", "match": "b"}]},
    {"must": [{"key": "tags", "any": ["a", "c"]}]},
    {"must": [{"key": "n", "any": [1, 2, 3, 40]}]},
    {"must": [{"key": "n", "range": {"gte": 10, "lt": 20}}]},
    {"must": [{"key": "f", "range": {"gt": 1.5, "lte": 3.0}}]},
    {"must_not": [{"key": "lang", "match": "de"}]},
    {"must_not": [{"key": "tags", "any": ["a"]}]},
    {"should": [{"key": "lang", "match": "fr"}, {"key": "tags", "any": ["b"]}]},
    {"must": [{"should": [{"key": "n", "range": {"lt": 5}}, {"key": "n", "range": {"gt": 45}}]}],
     "must_not": [{"lang": "en"}]},
    {"must": [{"key": "active", "match": True},
              {"must_not": [{"key": "tags", "any": ["a"]}, {"key": "f", "range": {"gte": 4}}]}],
     "should": [{"lang": "de"}, {"must": [{"key": "n", "range": {"lte": 25}}]}]},
    {"must": [], "should": []},
]


def _payloads(n: int) -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        p: dict[str, Any] = {"n": i % 50, "f": float(rng.integers(0, 10)) / 2,
                             "tags": sorted(rng.choice(["a", "b", "c"], rng.integers(0, 3),
                                                       replace=False).tolist()),
                             "active": bool(i % 4)}
        if i % 7:
            p["lang"] = ["en", "de", "fr"][i % 3]
        out.append(p)
    return out


def test_every_filter_form_agrees_with_the_reference(store: BaseStore) -> None:
    ids, x, payloads = [f"p{i}" for i in range(200)], random_vectors(200, seed=5), _payloads(200)
    store.upsert(ids, x, payloads)
    store.create_payload_index("lang", "keyword")  # indexed and unindexed keys both covered
    q = random_vectors(2, seed=6)
    sims = cosine_similarity(q, x)
    for f in FILTERS:
        keep = np.array([ref_filter(f, p) for p in payloads])
        assert 0 < keep.sum() < 200 or f == FILTERS[-1], f  # every filter is a real test
        assert store.count(f) == keep.sum(), f
        assert sorted(store.ids(f)) == sorted(i for i, k in zip(ids, keep, strict=True) if k), f
        for row, sim in zip(store.search(q, 5, f), sims, strict=True):
            best = np.argsort(-np.where(keep, sim, -np.inf))[: min(5, keep.sum())]
            assert [h.id for h in row] == [ids[i] for i in best], f


BAD_FILTERS = [
    ("lang=en", "filter", "non-empty JSON object"),
    ({"lang": None}, "filter.lang", "match needs a string, number or boolean"),
    ({"lang": ["en", "de"]}, "filter.lang", "use .*any"),
    ({"lang": float("nan")}, "filter.lang", "cannot match nan"),
    ({"must": [{"key": "n", "match": 1}], "lang": "en"}, "filter", "cannot sit beside"),
    ({"must": {"key": "n", "match": 1}}, "filter.must", "must be a list"),
    ({"must": [{"key": "n"}]}, "filter.must[0]", "exactly one of match, any, range"),
    ({"must": [{"key": "n", "match": 1, "any": [1]}]}, "filter.must[0]", "exactly one of"),
    ({"must": [{"key": "n", "equals": 1}]}, "filter.must[0]", "exactly one of"),
    ({"must": [{"match": 1}]}, "filter.must[0]", "needs a key"),
    ({"must": [{"key": "", "match": 1}]}, "filter.must[0].key", "non-empty string"),
    ({"must": [{"key": 3, "match": 1}]}, "filter.must[0].key", "non-empty string"),
    ({"must": [{"key": RESERVED_KEY, "match": "x"}]}, "filter.must[0].key", "reserved"),
    ({"should": [{"key": "n", "match": 1}, {"key": "n", "any": []}]}, "filter.should[1].any",
     "non-empty list"),
    ({"must": [{"key": "n", "any": [1, "a"]}]}, "filter.must[0].any", "all strings or all int"),
    ({"must": [{"key": "n", "any": [True]}]}, "filter.must[0].any", "all strings or all int"),
    ({"must": [{"key": "n", "range": {}}]}, "filter.must[0].range", "some of"),
    ({"must": [{"key": "n", "range": {"gte": 1, "above": 2}}]}, "filter.must[0].range",
     "some of"),
    ({"must": [{"key": "n", "match": 1}, {"key": "n", "range": {"gte": "a"}}]},
     "filter.must[1].range.gte", "finite number"),
    ({"must_not": [{"must": [{"key": "n", "range": {"lt": float("inf")}}]}]},
     "filter.must_not[0].must[0].range.lt", "finite number"),
    ({"must": ["lang"]}, "filter.must[0]", "non-empty JSON object"),
    ({"must": [{}]}, "filter.must[0]", "non-empty JSON object"),
]


@pytest.mark.parametrize(("spec", "field", "message"), BAD_FILTERS)
def test_bad_filter_names_the_offending_part(spec: Any, field: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        parse_filter(spec)
    assert err.value.field == field


def test_empty_filters_set_no_constraint() -> None:
    assert parse_filter(None) is None and parse_filter({}) is None


def test_cli_filter_reads_json_literals_else_strings() -> None:
    items = ["lang=en", "year=2020", "score=0.5", "ok=true", 'code="123"', "zip=007",
             "expr=a=b", "none=null", "obj={}", "sp=hello world"]
    assert parse_cli_filter(items) == {
        "lang": "en", "year": 2020, "score": 0.5, "ok": True, "code": "123", "zip": "007",
        "expr": "a=b", "none": "null", "obj": "{}", "sp": "hello world"}
    assert parse_cli_filter(['tags=["a","b"]', "lang=en"]) == {
        "must": [{"key": "tags", "any": ["a", "b"]}, {"key": "lang", "match": "en"}]}
    assert parse_cli_filter([]) == {}


@pytest.mark.parametrize(("items", "message"), [
    (["novalue"], "expected key=value"),
    (["=x"], "expected key=value"),
    (["a=1", "a=2"], "given twice"),
    (['tags=[1,"a"]'], "all strings or all integers"),
    ([f"{RESERVED_KEY}=x"], "reserved"),
])
def test_bad_cli_filter(items: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_cli_filter(items)


def test_types_compare_strictly_except_floats(store: BaseStore) -> None:
    store.upsert(["int3", "float3", "true", "one", "str3"], random_vectors(5),
                 [{"v": 3}, {"v": 3.0}, {"v": True}, {"v": 1}, {"v": "3"}])
    expected = [({"v": 3}, ["int3"]), ({"v": 3.0}, ["float3", "int3"]), ({"v": True}, ["true"]),
                ({"v": 1}, ["one"]), ({"v": "3"}, ["str3"]),
                ({"must": [{"key": "v", "any": [1, 3]}]}, ["int3", "one"]),
                ({"must": [{"key": "v", "range": {"gte": 1}}]}, ["float3", "int3", "one"])]
    for f, ids in expected:
        assert sorted(store.ids(f)) == ids, f
