"""API-key checks: writes need the X-API-Key when a key is set; reads only if asked to."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request


def _check(request: Request, needed: bool) -> None:
    key: str | None = request.app.state.api_key
    if not key or not needed:
        return
    given = request.headers.get("x-api-key")
    if not given:
        raise HTTPException(401, "missing API key: send it in the X-API-Key header")
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise HTTPException(403, "wrong API key")


def write_key(request: Request) -> None:
    """Dependency of every route that changes stored data."""
    _check(request, True)


def read_key(request: Request) -> None:
    """Dependency of reading routes: open unless the app was built with read_key_required."""
    _check(request, request.app.state.read_key_required)
