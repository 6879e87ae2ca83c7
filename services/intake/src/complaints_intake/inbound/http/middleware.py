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
    """Refuses bodies over `max_bytes` with 413 problem details, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self._max
        received = 0

        async def counting_receive() -> Message:
            # Refusing from inside receive lets routing happen first, so RED metrics get the
            # route; an HTTPException passes FastAPI's body parsing and its handler answers 413.
            nonlocal received
            if too_large:
                raise BodyTooLarge(self._max)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max:
                    raise BodyTooLarge(self._max)
            return message

        await self.app(scope, counting_receive, send)
