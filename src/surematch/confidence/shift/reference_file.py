"""`drift_reference.json` beside `calibration.json`: the calibration queries' sketch that the
shift monitor compares live queries with (`confidence.drift`).

The file holds {"format": 2, "calibration": the hash of the retrieval calibration it belongs
to, "source": where the queries came from, "created": a UTC time, "n": how many,
"features": {name: [values, null where missing]}, "content": the `ContentBasis` that
projects a query's embedding onto the `content_i` features ({"mean": [D], "axes": [K][D]}),
or null}. Format 1 (before the content features) is read as a reference without them. A
reference whose calibration hash is not that of the retrieval calibration in the folder now
is stale: nothing is monitored.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surematch.confidence.file.store import calibration_document
from surematch.confidence.shift.content import ContentBasis
from surematch.errors import ModelFormatError

REFERENCE_FILE = "drift_reference.json"
FORMAT = 2
READS = (1, 2)


def retrieval_hash(folder: str | Path) -> str | None:
    """A short hash of the folder's retrieval calibration (None when it has none)."""
    retrieval = calibration_document(folder).get("retrieval")
    if not retrieval:
        return None
    return hashlib.sha256(json.dumps(retrieval, sort_keys=True).encode()).hexdigest()[:12]


def save_reference(folder: str | Path, sketch: Mapping[str, ArrayLike], source: str,
                   content: ContentBasis | None = None) -> Path:
    """Write the sketch {feature: values [N]} of the queries the folder's retrieval
    calibration was fitted on (saved already) as its drift reference, with the basis of its
    content features (None: it has none)."""
    folder = Path(folder)
    columns = {name: np.asarray(v, dtype=np.float64).reshape(-1) for name, v in sketch.items()}
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise ValueError(f"sketch features of different lengths {sorted(sizes)}")
    doc = {"format": FORMAT, "calibration": retrieval_hash(folder), "source": source,
           "created": datetime.now(UTC).isoformat(timespec="seconds"),
           "n": sizes.pop() if sizes else 0,
           "features": {name: [None if not math.isfinite(x) else round(float(x), 5)
                               for x in v] for name, v in columns.items()},
           "content": None if content is None else content.to_dict()}
    fd, tmp = tempfile.mkstemp(prefix=".drift_reference.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(tmp, folder / REFERENCE_FILE)
    return folder / REFERENCE_FILE


def load_reference(folder: str | Path) -> tuple[dict[str, np.ndarray] | None, dict[str, Any]]:
    """(sketch {feature: values [N]}, the file's other fields) of the folder's drift reference
    when it belongs to the retrieval calibration there now; (None, {"note": why}) else."""
    path = Path(folder) / REFERENCE_FILE
    if not path.is_file():
        return None, {"note": "no drift reference: calibrate on labelled queries to record "
                              "one"}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") not in READS:
            raise ValueError(f"format {doc.get('format') if isinstance(doc, dict) else None!r}"
                             f", this version reads {' and '.join(map(str, READS))}")
        features = {str(name): np.array([np.nan if x is None else float(x) for x in values])
                    for name, values in doc["features"].items()}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFormatError(f"{path}: not a readable drift reference ({exc})") from None
    info = {k: doc.get(k) for k in ("calibration", "source", "created", "n")}
    if doc.get("calibration") != retrieval_hash(folder):
        return None, {**info, "note": "the drift reference belongs to an earlier calibration: "
                                      "calibrate again to record one"}
    return features, info


def load_basis(folder: str | Path) -> ContentBasis | None:
    """The content basis of the folder's drift reference (None: no reference, or one
    without content features)."""
    path = Path(folder) / REFERENCE_FILE
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8")).get("content")
        return None if content is None else ContentBasis.from_dict(content)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFormatError(f"{path}: not a readable drift reference ({exc})") from None
