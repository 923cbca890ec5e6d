"""surematch: similarity learning with confidence you can act on.

The public API, resolved on first use so that `import surematch` loads neither torch nor
Qdrant (DESIGN.md, "Python API"):

    from surematch import load_model, ReferenceIndex, read_references
    model = load_model("my-model")                 # the fastest runtime the folder has
    with ReferenceIndex.create("my-index", model) as index:
        index.add(read_references("refs.csv"))
        print(index.match("python developer", k=3).matches[0])
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it (the one place each public name lives)
_PUBLIC = {
    # models and runtimes
    "load_model": "surematch.loader",
    "Embedder": "surematch.embedder",
    "SimilarityModel": "surematch.model",
    "Runtime": "surematch.folder",
    "DEFAULT_RUNTIME": "surematch.folder",
    "Config": "surematch.config",
    "train": "surematch.training",
    # data
    "References": "surematch.data",
    "LabelledQueries": "surematch.data",
    "GroupedTexts": "surematch.data",
    "TextPairs": "surematch.data",
    "read_references": "surematch.data",
    "read_queries": "surematch.data",
    "read_groups": "surematch.data",
    "read_pairs": "surematch.data",
    "read_rules": "surematch.data",
    # matching
    "ReferenceIndex": "surematch.index.reference_index",
    "MatchResult": "surematch.index.results",
    "Match": "surematch.index.results",
    "Reference": "surematch.index.results",
    "Rule": "surematch.index.rules",
    "new_rule": "surematch.index.rules",
    # calibration
    "Targets": "surematch.confidence.certification.targets",
    "MatchCalibration": "surematch.confidence.match_calibration",
    "save_calibration": "surematch.confidence.file.store",
    "load_calibration": "surematch.confidence.file.store",
    # errors
    "SurematchError": "surematch.errors",
    "InputError": "surematch.errors",
    "ModelFormatError": "surematch.errors",
}
__all__ = [
    "DEFAULT_RUNTIME",
    "Config",
    "Embedder",
    "GroupedTexts",
    "InputError",
    "LabelledQueries",
    "Match",
    "MatchCalibration",
    "MatchResult",
    "ModelFormatError",
    "Reference",
    "ReferenceIndex",
    "References",
    "Rule",
    "Runtime",
    "SimilarityModel",
    "SurematchError",
    "Targets",
    "TextPairs",
    "load_calibration",
    "load_model",
    "new_rule",
    "read_groups",
    "read_pairs",
    "read_queries",
    "read_references",
    "read_rules",
    "save_calibration",
    "train",
]

if TYPE_CHECKING:
    from surematch.confidence.certification.targets import Targets
    from surematch.confidence.file.store import load_calibration, save_calibration
    from surematch.confidence.match_calibration import MatchCalibration
    from surematch.config import Config
    from surematch.data import (
        GroupedTexts,
        LabelledQueries,
        References,
        TextPairs,
        read_groups,
        read_pairs,
        read_queries,
        read_references,
        read_rules,
    )
    from surematch.embedder import Embedder
    from surematch.errors import InputError, ModelFormatError, SurematchError
    from surematch.folder import DEFAULT_RUNTIME, Runtime
    from surematch.index.reference_index import ReferenceIndex
    from surematch.index.results import Match, MatchResult, Reference
    from surematch.index.rules import Rule, new_rule
    from surematch.loader import load_model
    from surematch.model import SimilarityModel
    from surematch.training import train


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'surematch' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
