"""Health, readiness, Prometheus metrics, the review queue and the calibration view's data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from surematch.confidence.store import calibration_document
from surematch.service.security import read_key

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> dict[str, Any]:
    state = request.app.state.service
    with state.lock.read():
        count = state.index.count()
    return {"status": "ready", "references": count, "model": state.model.identity()}


@router.get("/metrics", dependencies=[Depends(read_key)])
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/review-queue", dependencies=[Depends(read_key)])
def review_queue(request: Request, limit: int = Query(100, ge=1, le=10_000)
                 ) -> dict[str, Any]:
    """Up to `limit` queries in question, one item per normalised query with its count and
    when it was last seen: an audit sample of all top matches, any band (each marked
    "audit": true), then conflicts, then review-band matches, the traffic a review would
    settle (count x (1 - probability)) first; "total": how many are queued."""
    state = request.app.state.service
    return {"items": state.review_items(limit), "total": len(state.queue)}


@router.get("/v1/calibration", dependencies=[Depends(read_key)])
def calibration(request: Request) -> dict[str, Any]:
    """The model's calibration (bands, thresholds, statistics); {} when uncalibrated."""
    return calibration_document(request.app.state.service.model_dir)


@router.get("/v1/calibration/reliability.png", dependencies=[Depends(read_key)])
def reliability(request: Request) -> FileResponse:
    """The reliability diagram of the model's report folder (`report/` beside the model)."""
    model_dir = request.app.state.service.model_dir
    for path in (model_dir / "reliability.png", model_dir.parent / "report" / "reliability.png"):
        if path.exists():
            return FileResponse(path, media_type="image/png")
    raise HTTPException(404, "no reliability diagram: run `surematch evaluate` with a report")
