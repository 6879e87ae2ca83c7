"""ASGI middleware: RED metrics by route template, and a cap on request body size."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from complaints_intake.inbound.http.problems import BodyTooLarge
from complaints_intake.metrics import IntakeMetrics

UNMATCHED = "unmatched"


class RedMetrics:
    """Counts requests and times them; the route label is the template, never the raw path."""

    def __init__(self, app: ASGIApp, *, metrics: IntakeMetrics) -> None:
        self.app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"]
            route = _route_template(scope)
            self._metrics.http_requests.labels(method=method, route=route, status=str(status)).inc()
            self._metrics.http_duration.labels(method=method, route=route).observe(
                time.perf_counter() - started
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")  # set by the router on this same scope when a route matched
    path = getattr(route, "path", None)
    return str(path) if path is not None else UNMATCHED


class BodySizeLimit:
    """Refuses bodies over `max_bytes` with 413 problem details, declared or streamed.

    Before the 413 goes out, the rest of the body is read and dropped (up to `drain_bytes`):
    a server that closes a connection with unread bytes makes the kernel reset it, and a
    client still sending then gets a connection reset instead of the answer. Over
    `drain_bytes` the answer says `Connection: close` and the connection is dropped."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, drain_bytes: int = 64 * 1_048_576) -> None:
        self.app = app
        self._max = max_bytes
        self._drain = drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self._max
        received = 0
        refused = False  # this request's body was refused; its rest waits to be drained
        body_done = False

        async def counting_receive() -> Message:
            # Refusing from inside receive lets routing happen first, so RED metrics get the
            # route; an HTTPException passes FastAPI's body parsing and its handler answers 413.
            nonlocal received, refused, body_done
            if too_large:
                refused = True
                raise BodyTooLarge(self._max)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self._max:
                    refused = True
                    raise BodyTooLarge(self._max)
            return message

        async def drain() -> bool:
            """Read and drop the rest of the body; False if it is larger than drain_bytes."""
            drained = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return True  # the client went away
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return True
                if drained > self._drain:
                    return False

        async def draining_send(message: Message) -> None:
            nonlocal body_done
            if refused and not body_done and message["type"] == "http.response.start":
                body_done = True
                if not await drain():
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, counting_receive, draining_send)
