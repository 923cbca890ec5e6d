"""Health, readiness, Prometheus metrics, the review queue and the calibration view's data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, Security
from fastapi.responses import FileResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from surematch.confidence.certification.certificate import guarantees
from surematch.confidence.file.store import calibration_document
from surematch.service.security import API_KEY, key_of, read_key, role_of

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """On the event loop: answers while every worker thread waits on the index."""
    return {"status": "ok"}


@router.get("/v1/key")
def key(request: Request, given: str | None = Security(API_KEY)) -> dict[str, Any]:
    """What the X-API-Key sent may do: {"name", "role": read | review | admin | null (no key,
    or a wrong one), "keys": whether the server has keys}; the page shows what the role allows."""
    role = role_of(request, given)
    name = key_of(request, given) if request.app.state.api_keys else None
    return {"name": name or None, "role": role, "keys": bool(request.app.state.api_keys)}


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
    """The model's calibration (bands, thresholds, statistics, what each certifies); {} when
    uncalibrated."""
    return calibration_view(request.app.state.service.model_dir)


def calibration_view(model_dir: Path) -> dict[str, Any]:
    """The calibration document with its guarantee sentences: "guarantees" {kind: sentence}
    and "guarantee", the one matching applies (retrieval's, else verification's)."""
    document = calibration_document(model_dir)
    if not document:
        return {}
    said = guarantees(document)
    return {**document, "guarantees": said,
            "guarantee": said.get("retrieval") or said.get("verification")}


@router.get("/v1/calibration/reliability.png", dependencies=[Depends(read_key)])
def reliability(request: Request) -> FileResponse:
    """The reliability diagram of the model's report folder (`report/` beside the model)."""
    model_dir = request.app.state.service.model_dir
    for path in (model_dir / "reliability.png", model_dir.parent / "report" / "reliability.png"):
        if path.exists():
            return FileResponse(path, media_type="image/png")
    raise HTTPException(404, "no reliability diagram: run `surematch evaluate` with a report")
