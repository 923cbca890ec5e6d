"""Checks on what goes into a store: user ids, vectors [N, D] and JSON payloads."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from surematch.errors import InputError
from surematch.limits import LIMITS, json_depth, long_id

RESERVED_KEY = "_surematch_id"  # payload key holding the user's id; stripped on the way out
INTERNAL_PREFIX = "_surematch_"  # keys surematch keeps in a payload (ids, texts, kinds)
MAX_PAYLOAD_BYTES = LIMITS.payload_bytes  # the defaults; LIMITS holds the ones in force
MAX_ID_CHARS = LIMITS.id_chars
_NAMESPACE = uuid.UUID("6f1c2a5e-9d3b-5c47-8e21-3a4b5c6d7e8f")  # fixed forever: ids map through it
INT64 = 2**63


def point_uuid(point_id: str) -> str:
    """The Qdrant point id (a UUID5 string) standing for one user id."""
    return str(uuid.uuid5(_NAMESPACE, point_id))


def check_id(point_id: object, field: str = "id") -> str:
    """A user id: a non-empty printable string of at most MAX_ID_CHARS characters."""
    if not isinstance(point_id, str):
        raise InputError(f"an id must be a string, got {type(point_id).__name__} {point_id!r}",
                         field=field)
    if not point_id:
        raise InputError("an id must not be empty", field=field)
    if (too_long := long_id(point_id)) is not None:
        raise InputError(too_long, field=field)
    if not point_id.isprintable():
        raise InputError(f"id {point_id!r} holds a control or non-printable character",
                         field=field)
    return point_id


def check_ids(ids: Sequence[str], *, unique: bool = False) -> list[str]:
    """Every id checked; with unique=True an id given twice is an error."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Sequence | np.ndarray):
        raise InputError(f"ids must be a list of strings, got {type(ids).__name__}", field="ids")
    out = [check_id(i, f"ids[{n}]") for n, i in enumerate(ids)]
    if unique and len(set(out)) != len(out):
        seen: set[str] = set()
        for n, i in enumerate(out):
            if i in seen:
                raise InputError(f"id {i!r} appears more than once in one upsert",
                                 field=f"ids[{n}]")
            seen.add(i)
    return out


def encodable(text: str) -> bool:
    """Whether text is valid Unicode for storage: a lone surrogate ("\\udfff") is not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fits_int64(value: int) -> bool:
    """Whether an integer fits the engine's signed 64 bits."""
    return -INT64 <= value < INT64


def check_positive_int(value: Any, field: str) -> int:
    """value if it is an int of at least 1 (not a bool), else InputError naming field."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{field} must be a positive integer, got {value!r}", field=field)
    return value


def check_vectors(vectors: Any, dim: int, names: Sequence[str] | None = None) -> np.ndarray:
    """Rows as float32 [N, D] scaled to unit length; each finite and non-zero.

    `names` (the ids, when storing) name the offending row in errors; else its index.
    """
    try:
        arr = np.asarray(vectors, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"vectors must be a numeric array [N, {dim}]: {exc}",
                         field="vectors") from None
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InputError(f"vectors must have shape [N, {dim}], got {list(arr.shape)}",
                         field="vectors")
    if names is not None and arr.shape[0] != len(names):
        raise InputError(f"{len(names)} ids but {arr.shape[0]} vectors", field="vectors")
    norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))  # NaN or inf in a row: not finite
    bad = ~(np.isfinite(norms) & (norms > 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "is not finite (NaN or inf)" if not np.isfinite(arr[row]).all() else "is all zeros"
        who = f"of id {names[row]!r}" if names is not None else f"{row}"
        raise InputError(f"vector {who} {what}", field=f"vectors[{row}]")
    return (arr / norms[:, None]).astype(np.float32)


def _check_json(value: Any, where: str, point_id: str) -> None:
    def fail(why: str) -> InputError:
        return InputError(f"payload of id {point_id!r}: {why}", field=where)

    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if not encodable(value):
            raise fail("a string holds a lone surrogate (not valid Unicode)")
    elif isinstance(value, int):
        if not fits_int64(value):
            raise fail(f"integer {value} does not fit in 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise fail(f"{value} is not a JSON number (NaN and infinity are not allowed)")
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check_json(item, f"{where}[{n}]", point_id)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail(f"key {key!r} is not a string")
            if not encodable(key):
                raise fail(f"key {key!r} holds a lone surrogate (not valid Unicode)")
            _check_json(item, f"{where}.{key}", point_id)
    else:
        hint = " (convert numpy values with .tolist() or float())" if isinstance(
            value, np.generic | np.ndarray) else ""
        raise fail(f"a {type(value).__name__} is not JSON; use strings, numbers, booleans, "
                   f"null, lists and objects{hint}")


def check_payload(point_id: str, payload: Any) -> dict[str, Any]:
    """A plain-JSON copy of the payload with the user id under RESERVED_KEY."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InputError(f"payload of id {point_id!r} must be a JSON object (dict), got "
                         f"{type(payload).__name__}", field="payload")
    if RESERVED_KEY in payload:
        raise InputError(f"payload of id {point_id!r} uses the reserved key {RESERVED_KEY!r}",
                         field=f"payload.{RESERVED_KEY}")
    depth = json_depth(payload, LIMITS.payload_depth)
    if depth > LIMITS.payload_depth:
        raise InputError(f"payload of id {point_id!r} is nested more than "
                         f"{LIMITS.payload_depth} levels deep", field="payload")
    _check_json(payload, "payload", point_id)
    # the limits bound what the user stores: the texts a reference index keeps under its
    # own keys are bounded by the text limits instead
    own = {k: v for k, v in payload.items() if not k.startswith(INTERNAL_PREFIX)}
    keys = _count_keys(own)
    if keys > LIMITS.payload_keys:
        raise InputError(f"payload of id {point_id!r} holds {keys} keys, the most is "
                         f"{LIMITS.payload_keys}", field="payload")
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    size = len(json.dumps(own, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > LIMITS.payload_bytes:
        raise InputError(f"payload of id {point_id!r} is {size} bytes as JSON, the most is "
                         f"{LIMITS.payload_bytes}", field="payload")
    return {**json.loads(text), RESERVED_KEY: point_id}


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_count_keys(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_count_keys(v) for v in value)
    return 0


def check_multivectors(vectors: Any, dim: int, names: Sequence[str]) -> list[np.ndarray]:
    """One [n_i, D] array per id (n_i >= 1), each row checked and scaled to unit length as
    check_vectors does; errors name the id and the row."""
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        raise InputError(f"a multivector store takes one [n, {dim}] array per id, got one "
                         f"[N, {dim}] array", field="vectors")
    try:
        items = list(vectors)
    except TypeError:
        raise InputError(f"vectors must be a list of [n, {dim}] arrays, one per id",
                         field="vectors") from None
    if len(items) != len(names):
        raise InputError(f"{len(names)} ids but {len(items)} vectors", field="vectors")
    out = []
    for n, (name, rows) in enumerate(zip(names, items, strict=True)):
        try:
            arr = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"vectors of id {name!r} must be a numeric array [n, {dim}]: {exc}",
                             field=f"vectors[{n}]") from None
        if arr.ndim != 2 or arr.shape[0] < 1:
            raise InputError(f"vectors of id {name!r} must have shape [n, {dim}] with n >= 1, "
                             f"got {list(arr.shape)}", field=f"vectors[{n}]")
        try:
            out.append(check_vectors(arr, dim))
        except InputError as exc:
            row = (exc.field or "").removeprefix("vectors")
            raise InputError(f"id {name!r}: {exc.message}", field=f"vectors[{n}]{row}") from None
    return out
