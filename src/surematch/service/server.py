"""The HTTP server's own bounds (uvicorn with h11): the request head's size, and the time a
client has to send it; the body's time is BodyLimit's (service/request_limits.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from surematch.limits import LIMITS

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
             b"content-length: 36\r\nconnection: close\r\n\r\n"
             b"request line and headers too large\r\n")


class TimedH11Protocol(H11Protocol):
    """h11 with a deadline for each request's head (LIMITS.read_seconds from the connection or
    the previous answer): a client sending half a head, or nothing, is cut off; and a head
    (request line and headers) over LIMITS.head_bytes is answered 431 before it is parsed,
    arriving whole or not (h11's own bound only holds back a head still incomplete). uvicorn
    itself only times out idle keep-alive connections."""

    head_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._waiting() and not self.transport.is_closing():
            buffered = self.conn.trailing_data[0] + data
            end = buffered.find(b"\r\n\r\n", 0, LIMITS.head_bytes + 4)
            if end == -1 and len(buffered) > LIMITS.head_bytes:
                self.transport.write(TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def _waiting(self) -> bool:
        """No request is being answered: what arrives is the next request's head."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
        self.head_timer = self.loop.call_later(LIMITS.read_seconds, self.head_timeout)

    def head_timeout(self) -> None:
        """Close the connection unless a request is being answered."""
        if self._waiting() and not self.transport.is_closing():
            self.transport.close()


def server_options() -> dict[str, Any]:
    """uvicorn.run's settings that bound what a client may make the server hold: the request
    line and headers together at most LIMITS.head_bytes (a longer method, path or header set
    gets h11's 400 before the app sees it), a head sent within LIMITS.read_seconds, idle
    keep-alive connections closed after 5 s, and no access log line per request."""
    return {"http": TimedH11Protocol, "h11_max_incomplete_event_size": LIMITS.head_bytes,
            "timeout_keep_alive": 5, "access_log": False}


def allowed_hosts(bound: str, given: list[str] | None) -> list[str] | None:
    """The Host names served: those given ("*": any), else the localhost names and the bound
    address; None (any) when bound to every address and none are given."""
    if given:
        return None if "*" in given else given
    if bound in WILDCARDS:
        return None
    return list(dict.fromkeys([*LOCAL_HOSTS, bound.strip("[]").lower()]))
