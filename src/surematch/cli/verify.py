"""`surematch verify`: are two texts the same thing? Distance, calibrated probability, band."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from surematch.cli import app
from surematch.logs import setup_logging

out = Console()
NOT_CALIBRATED = ("the model has no pair calibration (run `surematch calibrate MODEL --pairs "
                  "PAIRS`): verified, threshold, probability, confidence and band are null")


def verify_texts(model_dir: Path, text_a: str, text_b: str) -> dict[str, Any]:
    """The DESIGN.md `verify --json` object for one pair of texts."""
    from surematch.confidence.percent import percent
    from surematch.confidence.store import load_pair_calibration
    from surematch.distances import get_distance
    from surematch.errors import InputError
    from surematch.model import SimilarityModel

    if not text_a.strip() or not text_b.strip():
        raise InputError("TEXT_A and TEXT_B must be non-empty")
    model = SimilarityModel.load(model_dir)
    cal = load_pair_calibration(model_dir)
    a, b = model.embed([text_a]), model.embed([text_b])
    name = cal.distance if cal is not None else "cosine"
    value = float(get_distance(name).paired(a, b)[0])
    similarity = float(1.0 - get_distance("cosine").paired(a, b)[0])
    result: dict[str, Any] = {"verified": None, "distance": value, "distance_metric": name,
                              "similarity": similarity, "threshold": None, "probability": None,
                              "confidence": None, "band": None, "note": None}
    if cal is None:
        result["note"] = NOT_CALIBRATED
        return result
    p = float(cal.probability([value])[0])
    result.update({"verified": bool(cal.verified([value])[0]), "threshold": cal.threshold,
                   "probability": p, "confidence": float(percent(p)),
                   "band": str(cal.bands.band(p))})
    return result


@app.command()
def verify(
    model: Annotated[Path, typer.Argument(help="model folder")],
    text_a: Annotated[str, typer.Argument(help="first text")],
    text_b: Annotated[str, typer.Argument(help="second text")],
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Decide whether TEXT_A and TEXT_B match, with a calibrated probability."""
    setup_logging(verbose)
    result = verify_texts(model, text_a, text_b)
    if json_out:
        print(json.dumps(result))
        return
    if result["probability"] is None:
        out.print(f"distance {result['distance']:.4f} (similarity {result['similarity']:.4f})\n"
                  f"{result['note']}", highlight=False)
        return
    verdict = "verified" if result["verified"] else "not verified"
    out.print(f"{verdict}: distance {result['distance']:.4f} (threshold "
              f"{result['threshold']:.4f}), probability {result['probability']:.4f} "
              f"({result['confidence']:.1f} %), band {result['band']}", highlight=False)
