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

A key is a payload path: names joined by dots (`a.b`), each optionally followed by `[]` (every
item of a list) or `[N]`; a name holding spaces, dots or brackets is quoted (`"isco major"`).
Limits (surematch/limits.py): conditions in all, nesting depth, `any` values, key and string
lengths; a filter over them is refused before the engine sees it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from surematch.errors import InputError
from surematch.index.stores.points import RESERVED_KEY, encodable, fits_int64
from surematch.limits import LIMITS, json_depth

_BOOL_KEYS = ("must", "must_not", "should")
_BOUNDS = ("gte", "gt", "lte", "lt")
_NAME = r'(?:[\w-]+|"[^"\\\x00-\x1f\x7f]+")(?:\[\d{0,9}\])*'
_PATH = re.compile(rf"{_NAME}(?:\.{_NAME})*")


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
    # a filter level is a list inside an object; a condition adds two more (range bounds)
    stop = 2 * LIMITS.filter_depth + 3
    if json_depth(spec, stop) > stop:
        raise InputError(f"the filter is nested more than {LIMITS.filter_depth} levels deep",
                         field=where)
    return _clause(spec, where, _Budget())


class _Budget:
    """Counts conditions as they are read, refusing a filter as soon as it holds too many."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, where: str) -> None:
        self.used += 1
        if self.used > LIMITS.filter_conditions:
            raise InputError(f"the filter holds more than {LIMITS.filter_conditions} "
                             "conditions; use an `any` list for alternatives of one key",
                             field=where)


def _clause(spec: Any, where: str, budget: _Budget, depth: int = 1) -> Clause:
    if not isinstance(spec, dict) or not spec:
        raise InputError(f"a filter must be a non-empty JSON object, got {_short(spec)}",
                         field=where)
    if depth > LIMITS.filter_depth:
        raise InputError(f"the filter is nested more than {LIMITS.filter_depth} levels deep",
                         field=where)
    if not any(k in spec for k in _BOOL_KEYS):
        if len(spec) > LIMITS.filter_conditions:
            budget.take(where)  # fails at once, whatever the count
        out = []
        for k, v in spec.items():
            budget.take(f"{where}.{k}")
            out.append(_match(k, v, f"{where}.{k}"))
        return Clause(must=tuple(out))
    if other := [k for k in spec if k not in _BOOL_KEYS]:
        raise InputError(f"must/must_not/should cannot sit beside other keys {other}; write "
                         'equality as {"key": k, "match": v} inside must', field=where)
    parts: dict[str, tuple[Condition | Clause, ...]] = {}
    for name in _BOOL_KEYS:
        items = spec.get(name, [])
        if not isinstance(items, list):
            raise InputError(f"{name} must be a list of conditions", field=f"{where}.{name}")
        if len(items) > LIMITS.filter_conditions:
            raise InputError(f"{name} holds {len(items)} conditions; a filter holds at most "
                             f"{LIMITS.filter_conditions}", field=f"{where}.{name}")
        parts[name] = tuple(_condition(c, f"{where}.{name}[{n}]", budget, depth)
                            for n, c in enumerate(items))
    return Clause(**parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _condition(spec: Any, where: str, budget: _Budget, depth: int) -> Condition | Clause:
    budget.take(where)
    if isinstance(spec, dict) and "key" not in spec and {"match", "any", "range"} & spec.keys():
        raise InputError("a condition needs a key", field=where)
    if not isinstance(spec, dict) or "key" not in spec:
        return _clause(spec, where, budget, depth + 1)  # a nested filter
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
        if len(value) > LIMITS.filter_any_values:
            raise InputError(f"any holds {len(value)} values, the most is "
                             f"{LIMITS.filter_any_values}", field=at)
        for v in value:
            _check_string(v, at)
            _check_int(v, at)
        if not (all(type(v) is str for v in value) or all(type(v) is int for v in value)):
            raise InputError("any values must be all strings or all integers, got "
                             f"{_short(value)}", field=at)
        return Condition(key, "any", list(value))
    if not isinstance(value, dict) or not value or any(b not in _BOUNDS for b in value):
        raise InputError(f"range needs an object with some of {list(_BOUNDS)}, got "
                         f"{_short(value)}", field=at)
    for bound, number in value.items():
        if type(number) is int:
            _check_int(number, f"{at}.{bound}")
        elif type(number) is not float or not math.isfinite(number):
            raise InputError(f"range bound must be a finite number, got {number!r}",
                             field=f"{at}.{bound}")
    return Condition(key, "range", dict(value))


def check_key(key: Any, where: str) -> str:
    """A payload path the engine accepts (see the module's grammar), within the length limit."""
    if not isinstance(key, str) or not key:
        raise InputError(f"a key must be a non-empty string, got {_short(key)}", field=where)
    if len(key) > LIMITS.filter_key_chars:
        raise InputError(f"key {key[:40]!r}... is {len(key)} characters long, the most is "
                         f"{LIMITS.filter_key_chars}", field=where)
    if not encodable(key):
        raise InputError("a key holds a lone surrogate (not valid Unicode)", field=where)
    if key == RESERVED_KEY:
        raise InputError(f"{key!r} is reserved; look points up by id instead", field=where)
    if not _PATH.fullmatch(key):
        raise InputError(f"{key!r} is not a payload path: names joined by dots, each optionally "
                         'followed by [] or [N]; quote a name holding spaces, dots or brackets '
                         '("isco major")', field=where)
    return key


def payload_path(name: str) -> str | None:
    """The filter key (path) of one top-level payload key: the name itself when it is a plain
    name, else the name quoted; None when no path can name it (a '"' or a control character)."""
    if re.fullmatch(r"[\w-]+", name):
        return name
    quoted = f'"{name}"'
    return quoted if _PATH.fullmatch(quoted) and len(quoted) <= LIMITS.filter_key_chars \
        else None


def _top_level(key: str) -> str:
    """The payload key a path names when it is one quoted name ('"a b"' -> 'a b')."""
    if len(key) > 1 and key[0] == key[-1] == '"' and '"' not in key[1:-1]:
        return key[1:-1]
    return key


def _check_string(value: Any, where: str) -> None:
    if isinstance(value, str) and len(value) > LIMITS.filter_string_chars:
        raise InputError(f"a filter value is {len(value)} characters long, the most is "
                         f"{LIMITS.filter_string_chars}", field=where)
    if isinstance(value, str) and not encodable(value):
        raise InputError("a filter value holds a lone surrogate (not valid Unicode)",
                         field=where)


def _check_int(value: Any, where: str) -> None:
    if type(value) is int and not fits_int64(value):
        raise InputError(f"an integer of {value.bit_length()} bits lies outside the engine's "
                         "signed 64-bit range", field=where)


def _match(key: str, value: Any, where: str) -> Condition:
    check_key(key, where)
    _check_string(value, where)
    _check_int(value, where)
    if type(value) is float:
        if not math.isfinite(value):
            raise InputError(f"cannot match {value}", field=where)
        return Condition(key, "range", {"gte": value, "lte": value})
    if type(value) not in (str, int, bool):
        hint = '; use {"key": k, "any": [...]} for a list' if isinstance(value, list) else ""
        raise InputError(f"match needs a string, number or boolean, got {_short(value)}{hint}",
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


_KINDS = {"keyword": "strings", "integer": "integers", "float": "numbers", "bool": "booleans"}


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "keyword"


def type_mismatches(clause: Clause | None, stored: dict[str, str]) -> list[str]:
    """Warnings for conditions whose value type differs from what the key holds (`stored`:
    key -> keyword / integer / float / bool, as the index recorded it); such a condition
    matches nothing, e.g. the number 2 against a key that holds the string "2"."""
    out: list[str] = []

    def walk(c: Condition | Clause) -> None:
        if isinstance(c, Clause):
            for part in (*c.must, *c.must_not, *c.should):
                walk(part)
            return
        kind = stored.get(_top_level(c.key))
        if kind is None:
            return
        values = c.value if c.kind == "any" else [c.value]
        given = {"float" if c.kind == "range" else _value_kind(v) for v in values}
        numeric = kind in ("integer", "float") and given <= {"integer", "float"}
        if numeric or given == {kind}:
            return
        shown = json.dumps(c.value)
        quoted = kind == "keyword" and c.kind != "range"
        hint = f' (quote it: "{c.key}": "{values[0]}")' if quoted else ""
        out.append(f"filter key {c.key!r} holds {_KINDS[kind]} in this index, but the filter "
                   f"gives {shown}: it matches nothing{hint}")

    if clause is not None:
        walk(clause)
    return list(dict.fromkeys(out))
