"""Every limit on what a client controls, in one place, checked before the engine sees input.

The store layer (points.py, filters.py) reads them, so the Python API, the CLI and the HTTP
API refuse the same inputs with the same InputError (HTTP: 422 naming the field and limit).
Change a limit for a process with `LIMITS.payload_depth = 64` (or `dataclasses.replace`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    id_chars: int = 256              # one id, in characters
    payload_bytes: int = 64 * 1024   # one payload, as compact UTF-8 JSON
    payload_depth: int = 32          # nested objects / lists in one payload (the engine: <128)
    payload_keys: int = 1_000        # object keys in one payload, nested ones included
    filter_conditions: int = 100     # conditions and nested filters in one filter, all levels
    filter_depth: int = 8            # filters nested inside must / must_not / should
    filter_any_values: int = 1_000   # values of one `any` condition
    filter_key_chars: int = 256      # one filter key (a payload path)
    filter_string_chars: int = 2_000  # one string value in a filter
    free_disk_bytes: int = 64 * 1024 * 1024  # an embedded index refuses writes below this


LIMITS = Limits()


def json_depth(value: object, stop: int) -> int:
    """Nesting depth of a JSON-like value (a scalar is 0), counted without recursion;
    stops counting past `stop`, so a hostile value costs little."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > stop:
            return deepest
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list | tuple))
    return deepest
