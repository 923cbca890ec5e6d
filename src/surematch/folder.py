"""A model folder's format, without torch: `surematch.json`, `runtime.json` and the runtime choice.

The folder holds the model (`surematch.json`, safetensors), the exported graphs listed in
`runtime.json`, and `calibration.json` (read and written by `surematch.confidence.file.store`).
Everything that decides which runtime runs a folder is here: `Runtime`, `DEFAULT_RUNTIME` and
`resolve_runtime`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal, get_args

import surematch
from surematch.errors import InputError, ModelFormatError

FORMAT_VERSION = 1
CONFIG_FILE = "surematch.json"
RUNTIME_FILE = "runtime.json"
RUNTIME_FORMAT_VERSION = 1

Runtime = Literal["torch", "onnx", "onnx-int8"]
"""What runs a model: the torch model, or its exported fp32 / int8 ONNX graph."""
RuntimeChoice = Literal["torch", "onnx", "onnx-int8", "auto"]
"""A runtime, or "auto": the fastest the folder has."""
RUNTIMES: tuple[str, ...] = get_args(RuntimeChoice)
DEFAULT_RUNTIME: RuntimeChoice = "auto"  # the one default, everywhere
GRAPH_FILES: dict[str, str] = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
FASTEST_FIRST: tuple[Runtime, ...] = ("onnx-int8", "onnx", "torch")  # what "auto" picks
FIX = "run `surematch export MODEL` (surematch.runtime.export.export_model) to write the graphs"


def read_model_meta(folder: Path) -> dict[str, Any]:
    """The folder's `surematch.json`, checked for a format this version can read."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelFormatError(f"{folder} is not a surematch model folder (no {CONFIG_FILE})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: not valid JSON ({exc})") from None
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{folder}: model format version {version!r}, but surematch {surematch.__version__} "
            f"reads version {FORMAT_VERSION}; retrain or use the surematch version that wrote it")
    return meta


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write `runtime.json` atomically (a temporary file renamed into place)."""
    path = folder / RUNTIME_FILE
    tmp = path.with_name(f".{RUNTIME_FILE}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's `runtime.json`, or None when the model was never exported."""
    path = folder / RUNTIME_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: not valid JSON ({exc}); export the model again") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != RUNTIME_FORMAT_VERSION:
        raise ModelFormatError(f"{path}: runtime format version {version!r}, this surematch "
                               f"reads {RUNTIME_FORMAT_VERSION}; export the model again")
    return manifest


def available_runtimes(folder: Path) -> list[Runtime]:
    """The runtimes a model folder offers, fastest first ("torch" always)."""
    graphs = (read_manifest(folder) or {}).get("graphs", {})
    return [r for r in FASTEST_FIRST if r == "torch" or r in graphs]


def check_runtime(runtime: str, field: str = "runtime") -> RuntimeChoice:
    """`runtime` if it names a runtime or "auto"; InputError naming `field` otherwise."""
    if runtime not in RUNTIMES:
        raise InputError(f"runtime {runtime!r} is unknown; choose one of {', '.join(RUNTIMES)}",
                         field=field)
    return runtime  # type: ignore[return-value]


def resolve_runtime(folder: Path, runtime: str = DEFAULT_RUNTIME) -> Runtime:
    """A concrete runtime for `runtime` ("auto" -> the fastest the folder has); InputError for
    an unknown runtime or one the folder lacks. The one place a runtime is chosen."""
    check_runtime(runtime)
    have = available_runtimes(Path(folder))
    if runtime == "auto":
        return have[0]
    if runtime not in have:
        raise InputError(f"runtime {runtime!r}: model folder {folder} has no {GRAPH_FILES[runtime]}"
                         f" (it offers {', '.join(have)}); {FIX}", field="runtime")
    return runtime


def checked_graph(folder: Path, runtime: str) -> tuple[Path, dict[str, Any]]:
    """(graph path, manifest) for an onnx runtime, after checking that the graph's sha256 is the
    one runtime.json records and that it was exported from the model in surematch.json."""
    manifest = read_manifest(folder)
    entry = (manifest or {}).get("graphs", {}).get(runtime)
    if manifest is None or not isinstance(entry, dict):
        raise InputError(f"runtime {runtime!r}: model folder {folder} has no such graph; {FIX}",
                         field="runtime")
    path = folder / GRAPH_FILES[runtime]
    if not path.is_file():
        raise ModelFormatError(f"{path} is missing though {RUNTIME_FILE} lists it; "
                               "export the model again")
    if sha256_file(path) != entry.get("sha256"):
        raise ModelFormatError(f"{path} is not the graph that was exported (its sha256 differs "
                               f"from {RUNTIME_FILE}); export the model again")
    model_id = read_model_meta(folder).get("model_id")
    if entry.get("model_id") != model_id:
        raise ModelFormatError(
            f"{path} was exported from model {entry.get('model_id')}, but the folder's model is "
            f"{model_id} (it was saved again since); export the model again")
    return path, manifest
