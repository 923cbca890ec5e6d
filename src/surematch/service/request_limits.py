"""ASGI middleware bounding what one request costs: 413 for a body larger than allowed, 408 for
a body sent too slowly, 429 (with Retry-After) past a client's requests in flight."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from surematch.limits import LIMITS

Scope = dict[str, Any]
OPEN_PATHS = ("/healthz", "/readyz")  # probes are never refused for company


async def answer(scope: Scope, send: Any, status: int, detail: str, field: str | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """The one error shape, sent from below the app (no exception handler is reached)."""
    body = json.dumps({"detail": detail, "field": field,
                       "request_id": scope.get("state", {}).get("request_id")}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Checks Content-Length first, then counts the streamed body (chunked uploads too), which
    must arrive within LIMITS.read_seconds."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, send)
            return
        chunks, size, more = [], 0, True
        deadline = time.monotonic() + LIMITS.read_seconds
        while more:
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                await answer(scope, send, 408, f"the body did not arrive within "
                             f"{LIMITS.read_seconds:g} s", "body", [(b"connection", b"close")])
                return
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Any) -> None:
        await answer(scope, send, 413, f"request body larger than {self.max_bytes} bytes; "
                     "send fewer or shorter items per request", "body")


class ClientLimit:
    """At most `limit` requests in flight per client address (LIMITS.client_requests by
    default; 0: no limit); past it 429 with Retry-After. The probes are never refused."""

    def __init__(self, app: Any, limit: int | None = None) -> None:
        self.app, self.limit = app, LIMITS.client_requests if limit is None else limit
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.limit or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        if self.in_flight[client] >= self.limit:
            await answer(scope, send, 429, f"more than {self.limit} requests in flight from "
                         "one client; retry after the others finish", None,
                         [(b"retry-after", b"1")])
            return
        self.in_flight[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[client] -= 1
            if not self.in_flight[client]:
                del self.in_flight[client]
