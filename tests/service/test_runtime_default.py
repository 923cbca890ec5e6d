"""One runtime default everywhere: a model trained, exported, calibrated and served with every
default is calibrated end to end (the calibration is fitted on the runtime that serves)."""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi.testclient import TestClient
from tests.tiny_text_model import save_tiny_text_model

from surematch.data.esco import read_esco
from surematch.folder import resolve_runtime
from surematch.index.stores import IndexLocation
from surematch.service import create_app
from surematch.workflows.calibrate import calibrate_model
from surematch.workflows.export import export
from surematch.workflows.indexes import add_references


def _files(tmp: Path) -> tuple[Path, Path]:
    """60 ESCO occupations (id, preferred title) and labelled queries: their own titles and
    their alternative titles."""
    occupations = [o for o in read_esco() if o.alternatives][:60]
    refs, queries = tmp / "refs.csv", tmp / "queries.csv"
    with refs.open("w", newline="") as f:
        csv.writer(f).writerows([("id", "text"), *((o.uri, o.preferred) for o in occupations)])
    with queries.open("w", newline="") as f:
        rows = [(o.preferred, o.uri) for o in occupations]
        rows += [(t, o.uri) for o in occupations for t in o.alternatives[:3]]
        csv.writer(f).writerows([("text", "expected_id"), *rows])
    return refs, queries


def test_export_then_calibrate_and_serve_with_defaults_is_calibrated(tmp_path: Path) -> None:
    model_dir = save_tiny_text_model(tmp_path)
    export(model_dir)
    refs, queries = _files(tmp_path)
    result = calibrate_model(model_dir, references=refs, queries=queries)
    document = (model_dir / "calibration.json").read_text()
    assert '"retrieval": "onnx-int8"' in document  # fitted on what serves
    assert resolve_runtime(model_dir) == "onnx-int8"
    add_references(model_dir, refs, IndexLocation.of(tmp_path / "index", None))
    with TestClient(create_app(model_dir, tmp_path / "index")) as client:
        answer = client.post("/v1/match", json={"query": "data scientist", "k": 3}).json()
        assert not any("uncalibrated" in w for w in answer.get("warnings", []))
        assert all(m["probability"] is not None and m["band"] in ("accept", "review", "reject")
                   for m in answer["matches"])
        served = client.get("/v1/calibration").json()
        assert served  # the service reads the calibration it was given
    assert result.calibration.bands is not None
