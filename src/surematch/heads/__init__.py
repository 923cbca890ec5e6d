"""Output heads (encoder output [B, in_dim] -> [B, out_dim]), their registry and builders."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from surematch.errors import InputError
from surematch.heads.base import Head
from surematch.heads.feature_groups import FeatureGroupHead
from surematch.heads.gated import GatedHead
from surematch.heads.linear import LinearHead
from surematch.heads.skip import SkipConnectionHead
from surematch.heads.stack import HeadStack, find_feature_groups
from surematch.registry import Registry

__all__ = [
    "HEADS", "FeatureGroupHead", "GatedHead", "Head", "HeadStack", "LinearHead",
    "SkipConnectionHead", "build_head", "check_head_spec", "find_feature_groups", "head_config",
    "head_from_config",
]

HEADS: Registry[type[Head]] = Registry("head kind", "kinds", option="head.kind")
for _cls in (SkipConnectionHead, LinearHead, GatedHead, FeatureGroupHead, HeadStack):
    HEADS.add(_cls.kind, _cls)
_CHECKED = (bool, int, float, type(None))


def _head_class(kind: Any) -> type[Head]:
    return HEADS[kind]


def _allowed(hint: Any) -> tuple[type, ...] | None:
    """The plain types a parameter accepts, or None where it is not a plain scalar."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if not all(option in _CHECKED for option in options):
        return None
    return (*options, int) if float in options else options


def _check_params(kind: str, params: dict[str, Any]) -> type[Head]:
    """HEADS[kind], with unknown and mistyped parameters named."""
    cls = _head_class(kind)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    hints = typing.get_type_hints(cls.__init__)
    for name, value in params.items():
        if name not in accepted:
            raise InputError(f'{kind} head: unknown parameter "{name}"; '
                             f"it takes {', '.join(accepted)}")
        allowed = _allowed(hints.get(name))
        bad_bool = isinstance(value, bool) and bool not in (allowed or ())
        if allowed is not None and (bad_bool or not isinstance(value, allowed)):
            wanted = " or ".join("None" if t is type(None) else t.__name__
                                 for t in dict.fromkeys(allowed))
            raise InputError(f'{kind} head: parameter "{name}" must be {wanted}, got {value!r}')
    return cls


def check_head_spec(spec: Any) -> None:
    """Check a head spec (as `build_head` takes it) without building it: kinds, parameter
    names and types, nested stacks; so a config fails before any encoder is loaded."""
    if isinstance(spec, list):
        if not spec:
            raise InputError("head spec: an empty list names no head")
        for item in spec:
            check_head_spec(item)
        return
    if not isinstance(spec, dict):
        raise InputError(f"head spec: expected a mapping with a 'kind' or a list, got {spec!r}")
    params = dict(spec)
    kind = params.pop("kind", None)
    if kind == "stack":
        if sorted(params) != ["heads"] or not isinstance(params["heads"], list):
            raise InputError(f"stack head: takes only a list 'heads'; got {sorted(params)}")
        check_head_spec(params["heads"])
        return
    _check_params(kind, params)


def _construct(kind: str, params: dict[str, Any]) -> Head:
    """HEADS[kind](**params), with unknown, missing and mistyped parameters named."""
    cls = _check_params(kind, params)
    try:
        return cls(**params)
    except ValueError as error:  # the heads' own checks, already naming the head
        raise InputError(str(error)) from error
    except TypeError as error:  # a missing parameter
        raise InputError(f"{kind} head: {error}") from error


def build_head(spec: dict[str, Any] | list[dict[str, Any]], in_dim: int) -> Head:
    """A head from `{"kind": ..., **params}` or a list of them (stacked), taking in_dim inputs.

    Each head's in_dim is filled in: the encoder's width for the first, the previous head's
    out_dim for the next. A single-item list gives that head itself.
    """
    if isinstance(spec, list):
        if not spec:
            raise InputError("head spec: an empty list names no head")
        heads = []
        for item in spec:
            heads.append(build_head(item, in_dim))
            in_dim = heads[-1].out_dim
        return heads[0] if len(heads) == 1 else HeadStack(heads)
    if not isinstance(spec, dict):
        raise InputError(f"head spec: expected a mapping with a 'kind' or a list, got {spec!r}")
    params = dict(spec)
    kind = params.pop("kind", None)
    if kind == "stack":
        extra = sorted(set(params) - {"heads"})
        if extra or not isinstance(params.get("heads"), list):
            raise InputError(f"stack head: takes only a list 'heads'; got {sorted(params)}")
        return build_head(params["heads"], in_dim)
    _head_class(kind)
    if params.setdefault("in_dim", in_dim) != in_dim:
        raise InputError(f"{kind} head: in_dim={params['in_dim']} is given but its input has "
                         f"{in_dim} dimensions; leave in_dim out")
    return _construct(kind, params)


def head_from_config(config: dict[str, Any]) -> Head:
    """Rebuild a head from `head_config(head)`: `{"kind": ..., **head.config()}`."""
    if not isinstance(config, dict):
        raise InputError(f"head config: expected a mapping with a 'kind', got {config!r}")
    params = dict(config)
    kind = params.pop("kind", None)
    if kind == HeadStack.kind and isinstance(params.get("heads"), list):
        params["heads"] = [head_from_config(h) for h in params["heads"]]
    return _construct(kind, params)


def head_config(head: Head) -> dict[str, Any]:
    """`{"kind": ..., **head.config()}`, JSON-serialisable; `head_from_config` rebuilds it
    (a stack's config holds its heads' configs)."""
    return {"kind": head.kind, **head.config()}
