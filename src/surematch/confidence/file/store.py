"""`calibration.json` inside a model folder: retrieval and pair calibrations travel with the model.

The file holds {"format": 1, "model_id": ..., "retrieval": {...} | null, "verification":
{...} | null}; saving one mode keeps the other. Each calibration carries its "certificate"
(what its guarantee covers; older files lack it and still load). `SimilarityModel.save`
keeps the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from surematch.confidence.certification.certificate import certificate
from surematch.confidence.match_calibration import MatchCalibration
from surematch.confidence.pair_calibration import PairCalibration
from surematch.errors import ModelFormatError

CALIBRATION_FILE = "calibration.json"
FORMAT = 1


def _read(folder: Path) -> dict[str, Any] | None:
    path = folder / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path}: not a readable calibration file ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        got = d.get("format") if isinstance(d, dict) else None
        raise ModelFormatError(f"{path}: calibration format {got!r}, this version reads {FORMAT}")
    return d


def _write(folder: Path, key: str, value: dict[str, Any], model_id: str | None,
           runtime: str | None) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFormatError(f"{folder}: not a folder; calibration is saved inside the model "
                               "folder")
    d = _read(folder) or {"format": FORMAT, "retrieval": None, "verification": None}
    d[key] = value
    if model_id is not None:
        d["model_id"] = model_id
    if runtime is not None:
        d.setdefault("runtimes", {})[key] = runtime
    fd, tmp = tempfile.mkstemp(prefix=".calibration.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(d, f, indent=2)
    os.replace(tmp, folder / CALIBRATION_FILE)
    return folder / CALIBRATION_FILE


def save_calibration(folder: str | Path, calibration: MatchCalibration | PairCalibration,
                     model_id: str | None = None, runtime: str | None = None,
                     source: dict[str, Any] | None = None) -> Path:
    """Write the retrieval or the pair calibration into `folder`/calibration.json, with the
    model id, the runtime ("torch", "onnx", "onnx-int8") whose embeddings it was fitted on,
    and its certificate (`confidence.certificate`): what its guarantee covers, the
    calibration data's `source` included (`file_source`, `reviews_source`)."""
    retrieval = isinstance(calibration, MatchCalibration)
    key = "retrieval" if retrieval else "verification"
    n = calibration.report.get("n_queries" if retrieval else "n_pairs", 0)
    depth = calibration.candidate_depth if isinstance(calibration, MatchCalibration) else None
    record = certificate(calibration.bands, n=int(n), source=source, runtime=runtime or "torch",
                         candidate_depth=depth, unit="queries" if retrieval else "pairs")
    return _write(Path(folder), key, {**calibration.to_dict(), "certificate": record},
                  model_id, runtime)


def load_calibration(folder: str | Path) -> MatchCalibration | None:
    """The folder's retrieval calibration, or None when it has none."""
    return _load(Path(folder), "retrieval", MatchCalibration)


def load_pair_calibration(folder: str | Path) -> PairCalibration | None:
    """The folder's pair-verification calibration, or None when it has none."""
    return _load(Path(folder), "verification", PairCalibration)


def _load(folder: Path, key: str, cls: Any) -> Any:
    d = _read(folder)
    if d is None or d.get(key) is None:
        return None
    try:
        return cls.from_dict(d[key])
    except ModelFormatError as exc:
        raise ModelFormatError(f"{folder / CALIBRATION_FILE}: {exc}") from None


def calibrated_for(folder: str | Path) -> str | None:
    """The model id the calibration was fitted for (None when not recorded)."""
    d = _read(Path(folder))
    return None if d is None else d.get("model_id")


def calibration_document(folder: str | Path) -> dict[str, Any]:
    """The whole calibration file as plain JSON ({} when the folder has none)."""
    return _read(Path(folder)) or {}


def calibration_for_model(folder: str | Path, model_id: str, runtime: str
                          ) -> tuple[MatchCalibration | None, str | None]:
    """The folder's retrieval calibration if it was fitted for model `model_id` run by
    `runtime`, and a note.

    (calibration, None) when it fits; (None, why) when the folder holds one fitted for
    another model or on another runtime's embeddings (an int8 graph's differ from fp32
    ones): match uncalibrated and say so; (None, None) when there is none. The one place
    that decides whether a calibration may be used.
    """
    return _fitted_for(Path(folder), "retrieval", load_calibration(folder), model_id, runtime)


def pair_calibration_for_model(folder: str | Path, model_id: str, runtime: str
                               ) -> tuple[PairCalibration | None, str | None]:
    """The folder's pair calibration if it was fitted for `model_id` run by `runtime`, and a
    note, as `calibration_for_model` decides it."""
    return _fitted_for(Path(folder), "verification", load_pair_calibration(folder), model_id,
                       runtime)


def _fitted_for(folder: Path, key: str, calibration: Any, model_id: str, runtime: str
                ) -> tuple[Any, str | None]:
    if calibration is None:
        return None, None
    fitted_for = calibrated_for(folder)
    if fitted_for is not None and fitted_for != model_id:
        return None, (f"the calibration in {folder} was fitted for model {fitted_for}, not "
                      f"this model {model_id}: uncalibrated (calibrate again)")
    fitted_on = (_read(folder) or {}).get("runtimes", {}).get(key, "torch")
    if fitted_on != runtime:
        return None, (f"the calibration in {folder} was fitted on the {fitted_on} runtime, "
                      f"not {runtime}: uncalibrated (calibrate with --runtime {runtime}, "
                      f"or match with --runtime {fitted_on})")
    return calibration, None
