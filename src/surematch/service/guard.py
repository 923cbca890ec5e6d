"""The outermost ASGI layer: a request id and security headers on every answer, and a JSON 500
for whatever escaped every handler (a Rust panic is a BaseException, which they never see)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

log = logging.getLogger(__name__)

# the review page loads its own script and style sheet only; nothing may frame it
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# the bundled Swagger UI starts from an inline script
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer")]


class Guard:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = rid
        csp = DOCS_CSP if scope["path"] in ("/docs", "/docs/oauth2-redirect") else PAGE_CSP
        started = False

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *HEADERS,
                                      (b"content-security-policy", csp.encode()),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # pyo3 PanicException included
            log.error("500 request %s %s %s", rid, scope.get("method"), scope["path"],
                      exc_info=exc)
            if started:
                return
            body = json.dumps({"detail": "internal error; quote this request id to the "
                               "operator", "field": None, "request_id": rid}).encode()
            await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
