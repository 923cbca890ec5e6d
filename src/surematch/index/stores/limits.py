"""The store layer's view of the one limits table (`surematch/limits.py`), where it used to
live: points.py and filters.py check payloads and filters against it."""

from __future__ import annotations

from surematch.limits import LIMITS, Limits, json_depth

__all__ = ["LIMITS", "Limits", "json_depth"]
