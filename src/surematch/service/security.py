"""API-key checks: writes need an X-API-Key when keys are set; reads only if asked to.

Keys may be named (`{"alice": key, "bob": key}`): the name of the key a request used is
`request.state.key_name`, and reviewer feedback records it. Every key is compared in constant
time, all of them each time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="writes always; reads when the server requires it")


def named_keys(api_key: str | Mapping[str, str] | None) -> dict[str, str]:
    """{name: key}; one unnamed key is named "" (feedback then records no reviewer)."""
    if api_key is None:
        return {}
    if isinstance(api_key, str):
        return {"": api_key} if api_key else {}
    keys = dict(api_key)
    if any(not isinstance(k, str) or not k for k in keys.values()):
        raise ValueError("every API key must be a non-empty string")
    return keys


def _check(request: Request, given: str | None, needed: bool) -> None:
    keys: dict[str, str] = request.app.state.api_keys
    if not keys or not needed:
        return
    if not given:
        raise HTTPException(401, "missing API key: send it in the X-API-Key header")
    found = None
    for name, key in keys.items():  # no early exit: every key is compared
        if hmac.compare_digest(given.encode(), key.encode()):
            found = name
    if found is None:
        raise HTTPException(403, "wrong API key")
    request.state.key_name = found or None


def write_key(request: Request, given: str | None = Security(API_KEY)) -> None:
    """Dependency of every route that changes stored data."""
    _check(request, given, True)


def read_key(request: Request, given: str | None = Security(API_KEY)) -> None:
    """Dependency of reading routes: open unless the app was built with read_key_required."""
    _check(request, given, request.app.state.read_key_required)
