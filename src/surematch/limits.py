"""Every limit on what a client controls, in one table, read by the HTTP API, the CLI, the
Python API and the feedback store alike, so all of them refuse the same inputs with the same
message (HTTP: 422 naming the field and the limit).

Change a limit for a process with `LIMITS.payload_depth = 64` (or `dataclasses.replace`).
This module imports nothing of surematch: every floor may read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    id_chars: int = 256              # one id (reference, rule, review), in characters
    text_chars: int = 2_000          # one text: a query, a reference's text, a rule's text
    texts_per_reference: int = 1_000  # texts of one reference (HTTP: in one request)
    texts_per_request: int = 256     # texts one HTTP write embeds: under a second on 2 cores
    k: int = 100                     # matches asked per query
    open_match_budget: int = 2_560   # texts x k of one match request sent without a key
    open_match_chars: int = 100_000  # characters of the texts of one such request
    client_requests: int = 16        # requests one client address has in flight at once
    head_bytes: int = 8 * 1024       # an HTTP request line and headers, together
    read_seconds: float = 10.0       # to send a request's head, and then again its body
    payload_bytes: int = 64 * 1024   # one payload, as compact UTF-8 JSON
    payload_depth: int = 32          # nested objects / lists in one payload (the engine: <128)
    payload_keys: int = 1_000        # object keys in one payload, nested ones included
    payload_indexes: int = 16        # top-level payload keys an index indexes automatically
    payload_index_points: int = 20_000  # points up to which a server indexes new keys (a
    #                                     build pauses the process: 0.1 s at 20,000 points)
    filter_conditions: int = 100     # conditions and nested filters in one filter, all levels
    filter_depth: int = 8            # filters nested inside must / must_not / should
    filter_any_values: int = 1_000   # values of one `any` condition
    filter_key_chars: int = 256      # one filter key (a payload path)
    filter_string_chars: int = 2_000  # one string value in a filter
    free_disk_bytes: int = 64 * 1024 * 1024  # an embedded index refuses writes below this


LIMITS = Limits()


def long_id(value: str) -> str | None:
    """The one message for an id over LIMITS.id_chars (None: within it)."""
    if len(value) <= LIMITS.id_chars:
        return None
    return f"id {value[:40]!r}... is {len(value)} characters long, the most is {LIMITS.id_chars}"


def long_text(value: str) -> str | None:
    """The one message for a text over LIMITS.text_chars (None: within it)."""
    if len(value) <= LIMITS.text_chars:
        return None
    return f"a text is {len(value)} characters long, the most is {LIMITS.text_chars}"


def big_k(k: int) -> str | None:
    """The one message for a k over LIMITS.k (None: within it)."""
    if k <= LIMITS.k:
        return None
    return f"k is {k}, the most is {LIMITS.k}"


def over_open_budget(texts: int, k: int, chars: int) -> str | None:
    """The one message for a match request over what one sent without a key may ask:
    texts x k over LIMITS.open_match_budget or LIMITS.open_match_chars characters of texts
    (None: within both)."""
    if texts * k <= LIMITS.open_match_budget and chars <= LIMITS.open_match_chars:
        return None
    return (f"{texts} queries x k {k} ({chars:,} characters) is over what a request without "
            f"a key may ask: queries x k {LIMITS.open_match_budget}, "
            f"{LIMITS.open_match_chars:,} characters; send fewer or shorter queries, a smaller "
            "k, or a key")


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
