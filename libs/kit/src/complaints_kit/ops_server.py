"""A small HTTP server for /metrics, /healthz and /readyz, for services without a web app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class OpsServer:
    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        host: str,
        port: int,
    ) -> None:
        self._registry = registry
        self._ready = ready
        self._host = host
        self._port = port
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when configured with port 0)."""
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def respond(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            # In a thread: collectors may ask the broker (consumer lag), and the loop they
            # would block runs the service's timers.
            body = await asyncio.to_thread(generate_latest, self._registry)
            return 200, CONTENT_TYPE_LATEST, body
        if path == "/healthz":
            return 200, "text/plain", b"ok\n"
        if path == "/readyz":
            ready = self._ready()
            return (200 if ready else 503), "text/plain", b"ready\n" if ready else b"not ready\n"
        return 404, "text/plain", b"not found\n"

    async def respond_to(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        """A request with its headers (names lower-cased); subclasses may check them."""
        return await self.respond(path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            headers: dict[str, str] = {}
            while (line := await asyncio.wait_for(reader.readline(), timeout=5)) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                name, sep, value = line.decode("latin-1").partition(":")
                if sep and len(headers) < 100:
                    headers[name.strip().lower()] = value.strip()
            parts = request_line.decode("latin-1").split()
            if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
                status, ctype, body = 405, "text/plain", b"method not allowed\n"
            else:
                status, ctype, body = await self.respond_to(parts[1].split("?")[0], headers)
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if parts[:1] == ["HEAD"] else body))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


_REASONS = {
    200: "OK",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}
