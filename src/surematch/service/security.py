"""API-key checks and key roles: writes need an X-API-Key when keys are set; reads only if asked
to; each key has a role that bounds what it may do.

Keys may be named (`{"alice": key, "bob": key}`): the name of the key a request used is
`request.state.key_name`, and reviewer feedback records it. Every key is compared in constant
time, all of them each time. Roles, each allowing what the ones before it do:
`read` (matches and every read), `review` (feedback), `admin` (references, rules, the
calibration refit). A key without a role, the unnamed one included, is `admin`: what every
key could do before roles.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="writes always; reads when the server requires it")
ROLES: tuple[str, ...] = ("read", "review", "admin")


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


def check_roles(roles: Mapping[str, str] | None, keys: Mapping[str, str]) -> dict[str, str]:
    """{name: role} for every key (admin where none is given), each role one of ROLES."""
    roles = dict(roles or {})
    for name, role in roles.items():
        if name not in keys:
            raise ValueError(f"a role is given for {name!r}, which names no key")
        if role not in ROLES:
            raise ValueError(f"role of key {name!r} must be one of {list(ROLES)}, got {role!r}")
    return {name: roles.get(name, "admin") for name in keys}


def key_of(request: Request, given: str | None) -> str | None:
    """The name of the key given ("" for the unnamed one); None when none matches."""
    found = None
    if given:
        for name, key in request.app.state.api_keys.items():  # no early exit: all compared
            if hmac.compare_digest(given.encode(), key.encode()):
                found = name
    return found


def role_of(request: Request, given: str | None) -> str | None:
    """The role the request acts with: admin when the server has no keys, the key's role,
    or None for no key or a wrong one."""
    if not request.app.state.api_keys:
        return "admin"
    name = key_of(request, given)
    return None if name is None else str(request.app.state.key_roles[name])


def _check(request: Request, given: str | None, needed: str | None) -> None:
    keys: dict[str, str] = request.app.state.api_keys
    if not keys or needed is None:
        return
    if not given:
        raise HTTPException(401, "missing API key: send it in the X-API-Key header")
    found = key_of(request, given)
    if found is None:
        raise HTTPException(403, "wrong API key")
    role = request.app.state.key_roles[found]
    if ROLES.index(role) < ROLES.index(needed):
        raise HTTPException(403, f"this key's role is {role}; this needs {needed}")
    request.state.key_name = found or None


def write_key(request: Request, given: str | None = Security(API_KEY)) -> None:
    """Dependency of every route that changes references, rules or the calibration (admin)."""
    _check(request, given, "admin")


def review_key(request: Request, given: str | None = Security(API_KEY)) -> None:
    """Dependency of the routes that store a review (role review or admin)."""
    _check(request, given, "review")


def read_key(request: Request, given: str | None = Security(API_KEY)) -> None:
    """Dependency of reading routes: open unless the app was built with read_key_required."""
    _check(request, given, "read" if request.app.state.read_key_required else None)
