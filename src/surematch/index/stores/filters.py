"""Our filter JSON: its grammar, checked and normalised, and read from the command line.

Grammar (a filter is a JSON object):

- `{"key": value, ...}`: equality, every key must hold. A value is a string, an integer, a
  boolean or a float (a float compares numerically, as a range gte = lte = value).
- `{"must": [c, ...], "must_not": [c, ...], "should": [c, ...]}`: all of must, none of must_not,
  at least one of should (an empty or missing list sets no constraint). A condition c is
  `{"key": k, "match": value}`, `{"key": k, "any": [v, ...]}` (strings or integers, not mixed),
  `{"key": k, "range": {"gte": .., "gt": .., "lte": .., "lt": ..}}` or a nested filter.

A payload list matches when any of its items does; a missing key matches nothing (so it passes
must_not). Integers match integers only (3 does not match 3.0), booleans match booleans only.
`{}` and None mean no filter. Errors name the offending part, e.g. `filter.must[1].range`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from surematch.errors import InputError
from surematch.index.stores.points import RESERVED_KEY

_BOOL_KEYS = ("must", "must_not", "should")
_BOUNDS = ("gte", "gt", "lte", "lt")


@dataclass(frozen=True)
class Condition:
    key: str
    kind: Literal["match", "any", "range"]
    value: Any  # a scalar, a list of scalars, or {bound: number}


@dataclass(frozen=True)
class Clause:
    must: tuple[Condition | Clause, ...] = ()
    must_not: tuple[Condition | Clause, ...] = ()
    should: tuple[Condition | Clause, ...] = ()


def parse_filter(spec: Any, where: str = "filter") -> Clause | None:
    """The filter checked and normalised; None when it sets no constraint."""
    if spec is None or spec == {}:
        return None
    return _clause(spec, where)


def _clause(spec: Any, where: str) -> Clause:
    if not isinstance(spec, dict) or not spec:
        raise InputError(f"a filter must be a non-empty JSON object, got {spec!r}", field=where)
    if not any(k in spec for k in _BOOL_KEYS):
        return Clause(must=tuple(_match(k, v, f"{where}.{k}") for k, v in spec.items()))
    if other := [k for k in spec if k not in _BOOL_KEYS]:
        raise InputError(f"must/must_not/should cannot sit beside other keys {other}; write "
                         'equality as {"key": k, "match": v} inside must', field=where)
    parts: dict[str, tuple[Condition | Clause, ...]] = {}
    for name in _BOOL_KEYS:
        items = spec.get(name, [])
        if not isinstance(items, list):
            raise InputError(f"{name} must be a list of conditions", field=f"{where}.{name}")
        parts[name] = tuple(_condition(c, f"{where}.{name}[{n}]") for n, c in enumerate(items))
    return Clause(**parts)


def _condition(spec: Any, where: str) -> Condition | Clause:
    if isinstance(spec, dict) and "key" not in spec and {"match", "any", "range"} & spec.keys():
        raise InputError("a condition needs a key", field=where)
    if not isinstance(spec, dict) or "key" not in spec:
        return _clause(spec, where)  # a nested filter
    key = check_key(spec["key"], f"{where}.key")
    kinds = [k for k in spec if k != "key"]
    if len(kinds) != 1 or kinds[0] not in ("match", "any", "range"):
        raise InputError(f"a condition on {key!r} needs exactly one of match, any, range; got "
                         f"{kinds}", field=where)
    kind, value, at = kinds[0], spec[kinds[0]], f"{where}.{kinds[0]}"
    if kind == "match":
        return _match(key, value, at)
    if kind == "any":
        if not isinstance(value, list) or not value:
            raise InputError("any needs a non-empty list of values", field=at)
        if not (all(type(v) is str for v in value) or all(type(v) is int for v in value)):
            raise InputError(f"any values must be all strings or all integers, got {value!r}",
                             field=at)
        return Condition(key, "any", list(value))
    if not isinstance(value, dict) or not value or any(b not in _BOUNDS for b in value):
        raise InputError(f"range needs an object with some of {list(_BOUNDS)}, got {value!r}",
                         field=at)
    for bound, number in value.items():
        if type(number) not in (int, float) or not math.isfinite(number):
            raise InputError(f"range bound must be a finite number, got {number!r}",
                             field=f"{at}.{bound}")
    return Condition(key, "range", dict(value))


def check_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not key:
        raise InputError(f"a key must be a non-empty string, got {key!r}", field=where)
    if key == RESERVED_KEY:
        raise InputError(f"{key!r} is reserved; look points up by id instead", field=where)
    return key


def _match(key: str, value: Any, where: str) -> Condition:
    check_key(key, where)
    if type(value) is float:
        if not math.isfinite(value):
            raise InputError(f"cannot match {value}", field=where)
        return Condition(key, "range", {"gte": value, "lte": value})
    if type(value) not in (str, int, bool):
        hint = '; use {"key": k, "any": [...]} for a list' if isinstance(value, list) else ""
        raise InputError(f"match needs a string, number or boolean, got {value!r}{hint}",
                         field=where)
    return Condition(key, "match", value)


def parse_cli_filter(items: list[str]) -> dict[str, Any]:
    """`["lang=en", "year=2020", "tags=[\"a\",\"b\"]"]` -> our filter JSON.

    A value is read as a JSON literal when it is one (42, 1.5, true, "quoted", [list]) and
    as the plain string otherwise (en, 007); quote it to force a string: `code='"123"'`.
    A list becomes an `any` condition. Each key may be given once.
    """
    must: list[dict[str, Any]] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"expected key=value, got {item!r}", field="--filter")
        if any(c["key"] == key for c in must):
            raise InputError(f"key {key!r} is given twice", field="--filter")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if value is None or isinstance(value, dict):
            value = raw
        must.append({"key": key, "any" if isinstance(value, list) else "match": value})
    spec: dict[str, Any] = (
        {"must": must} if any("any" in c for c in must) else {c["key"]: c["match"] for c in must}
    )
    parse_filter(spec, where="--filter")
    return spec
