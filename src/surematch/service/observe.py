"""Per-route Prometheus metrics and the error handlers: clear 4xx, 500 with a request id."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException

from surematch.errors import InputError, SurematchError

log = logging.getLogger(__name__)


def install_metrics(app: FastAPI) -> None:
    """Request counts by route, method and status; latency histograms by route."""
    registry = CollectorRegistry()
    app.state.registry = registry
    count = Counter("surematch_requests", "HTTP requests", ["route", "method", "status"],
                    registry=registry)
    latency = Histogram("surematch_request_seconds", "request latency", ["route"],
                        registry=registry)

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Any:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        count.labels(name, request.method, str(response.status_code)).inc()
        latency.labels(name).observe(time.perf_counter() - start)
        return response


def _field(loc: Any) -> str:
    return ".".join(str(p) for p in loc if p != "body") or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        message = f'field "{_field(first["loc"])}": {first["msg"]}'
        log.info("422 %s %s: %s", request.method, request.url.path, message)
        return JSONResponse({"detail": message, "field": _field(first["loc"]),
                             "errors": [{"field": _field(e["loc"]), "message": e["msg"]}
                                        for e in errors]}, status_code=422)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        log.info("422 %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(SurematchError)
    async def refused(request: Request, exc: SurematchError) -> JSONResponse:
        log.info("400 %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        log.info("%d %s %s: %s", exc.status_code, request.method, request.url.path, exc.detail)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.error("500 request %s %s %s", request_id, request.method, request.url.path,
                  exc_info=exc)
        return JSONResponse({"detail": "internal error; quote this request id to the operator",
                             "request_id": request_id}, status_code=500)
