"""Per-route Prometheus metrics and the error handlers: clear 4xx, 500 with a request id.

Every error answers JSON `{"detail": text, "field": where or null, "request_id": id}`;
details never hold file paths nor the engine's own words (those go to the log).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from surematch.errors import DiskFullError, EngineError, InputError, SurematchError

log = logging.getLogger(__name__)


# metrics labels take a closed set of values: any other method is counted as "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def install_metrics(app: FastAPI) -> None:
    """Request counts by route, method and status; latency histograms by route."""
    registry = CollectorRegistry()
    app.state.registry = registry
    count = Counter("surematch_requests", "HTTP requests", ["route", "method", "status"],
                    registry=registry)
    latency = Histogram("surematch_request_seconds", "request latency", ["route"],
                        registry=registry)
    app.add_middleware(Metrics, count=count, latency=latency)


class Metrics:
    """ASGI middleware counting each HTTP request by route, method and status and timing it
    (a plain ASGI wrapper: Starlette's BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app: ASGIApp, count: Counter, latency: Histogram) -> None:
        self.app, self.count, self.latency = app, count, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.count.labels(name, method, str(status[0])).inc()
            self.latency.labels(name).observe(time.perf_counter() - start)


def _field(loc: Any) -> str:
    return ".".join(str(p) for p in loc if p != "body") or "body"


_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"/:]+/)*[^\s'\":,)]*")


def scrub(message: str) -> str:
    """The message without absolute file paths (an index folder, a model folder)."""
    return _PATH.sub("<path>", message)


def where(request: Request) -> tuple[str, str]:
    """(method, path) for a log line, each cut short: a client chooses their length, and a
    long line costs the log handler far more than its length."""
    return request.method[:16], request.url.path[:200]


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", None) or uuid.uuid4().hex[:12])


def clean(text: str) -> str:
    """text with lone surrogates escaped ("\\udfff"), so an answer naming a client's key or
    value can always be sent as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error(request: Request, status: int, detail: str, field: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape: {"detail", "field", "request_id"} (field: where, or null)."""
    return JSONResponse({"detail": clean(detail), "field": None if field is None else
                         clean(field), "request_id": request_id(request)},
                        status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}

        def field(e: Any) -> str:  # a JSON syntax error's loc is a character offset
            return "body" if e.get("type") == "json_invalid" else _field(e["loc"])

        message = f'field "{field(first)}": {first["msg"]}'
        if first.get("type") == "json_invalid":
            message += f" (at character {first['loc'][-1]})"
        log.info("422 %s %s: %s", *where(request), message)
        response = error(request, 422, message, field(first))
        body = json.loads(bytes(response.body))
        body["errors"] = [{"field": clean(field(e)), "message": clean(e["msg"])}
                          for e in errors]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        log.info("422 %s %s: %s", *where(request), exc)
        return error(request, 422, scrub(str(exc)), exc.field)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        log.info("422 %s %s: nested too deeply", *where(request))
        return error(request, 422, "the request is nested too deeply", "body")

    @app.exception_handler(DiskFullError)
    async def disk_full(request: Request, exc: DiskFullError) -> JSONResponse:
        log.error("507 %s %s: %s", *where(request), exc)
        return error(request, 507, "the server's disk is full: writes are refused until the "
                     "operator frees space; reads keep working")

    @app.exception_handler(EngineError)
    async def engine_failed(request: Request, exc: EngineError) -> JSONResponse:
        response = error(request, 500, "the index engine failed; quote this request id to "
                         "the operator")
        log.error("500 request %s %s %s: %s", request_id(request), request.method,
                  request.url.path, exc, exc_info=exc)
        return response

    @app.exception_handler(SurematchError)
    async def refused(request: Request, exc: SurematchError) -> JSONResponse:
        log.info("400 %s %s: %s", *where(request), exc)
        return error(request, 400, scrub(str(exc)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer when json.loads itself fails: RecursionError on a body nested
            # tens of thousands of levels deep, or a body that is not JSON (or UTF-8) at all
            log.info("422 %s %s: body not parsed", *where(request))
            deep = isinstance(exc.__cause__ or exc.__context__, RecursionError)
            return error(request, 422, "the body is nested too deeply to read as JSON" if deep
                         else "the body is not JSON (send an object, as UTF-8)", "body")
        log.info("%d %s %s: %s", exc.status_code, *where(request), exc.detail)
        return error(request, exc.status_code, str(exc.detail),
                     headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id(request)
        log.error("500 request %s %s %s", rid, *where(request), exc_info=exc)
        return error(request, 500, "internal error; quote this request id to the operator")
