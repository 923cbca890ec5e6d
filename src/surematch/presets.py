"""Bundled training presets: named YAML recipes in `resources/presets`, the bottom config layer."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

from surematch.errors import InputError


def _folder() -> Any:
    return files("surematch").joinpath("resources", "presets")


def presets() -> dict[str, str]:
    """Every bundled preset's name -> its one-line description (the file's first comment)."""
    found = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            first = entry.read_text("utf-8").splitlines()[0] if entry.read_text("utf-8") else ""
            found[entry.name[: -len(".yaml")]] = first.lstrip("# ").strip()
    return found


def preset_settings(name: str) -> dict[str, Any]:
    """The preset's settings as plain data (the layer a --config file and flags go over);
    an unknown name is an InputError that lists every preset with its description."""
    known = presets()
    if name not in known:
        listing = "; ".join(f"{n}: {d}" for n, d in known.items())
        raise InputError(f"unknown preset {name!r}; presets: {listing}", field="--preset")
    raw = yaml.safe_load(_folder().joinpath(f"{name}.yaml").read_text("utf-8")) or {}
    if not isinstance(raw, dict):  # a bundled file: a packaging error, not the user's
        raise InputError("a preset must be a mapping of config sections", file=f"{name}.yaml")
    return raw


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`base` with `over` laid on it, section by section: a mapping merges key by key, any
    other value (a list such as `head`, a number) replaces the one below."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        out[key] = merged(below, value) if isinstance(below, dict) and isinstance(value, dict) \
            else value
    return out
