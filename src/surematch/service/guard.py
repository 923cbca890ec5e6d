"""The outermost ASGI layer: a request id and security headers on every answer, a cheap 405 for
a method HTTP does not have and a 400 for a Host not allowed (DNS rebinding), both before any
logging or routing, and a JSON 500 for whatever escaped every handler (a Rust panic is a
BaseException, which they never see)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from surematch.service.observe import METHODS
from surematch.service.request_limits import answer

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
    """allowed_hosts: the Host header names (any port) answered; None: any."""

    def __init__(self, app: Any, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

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

        if scope["method"] not in METHODS:  # answered without a log line: a made-up method
            await answer(scope, send_with_headers, 405, "method not allowed", None,
                         [(b"allow", b"GET, POST, DELETE")])  # may be thousands of bytes long
            return
        if self.hosts is not None and host_name(scope) not in self.hosts:
            await answer(scope, send_with_headers, 400, "this Host is not served here; "
                         "the operator can allow it with --allowed-host", "host")
            return
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


def host_name(scope: dict[str, Any]) -> str:
    """The Host header's name, lower case, without the port ("[::1]:8000" -> "::1")."""
    raw = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").strip().lower()
    if raw.startswith("["):
        return raw[1:raw.find("]")] if "]" in raw else raw
    return raw.rpartition(":")[0] if raw.count(":") == 1 else raw
