"""A local webhook receiver: verifies Standard Webhooks signatures and keeps what arrived.

Used by `complaints dev` as the demo destination and by the end-to-end tests as the
real HTTP peer of the notifier. GET /deliveries lists what was received.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from complaints_notifier.domain.webhook_signature import verify


class WebhookSink:
    def __init__(
        self, *, secret: str, host: str = "127.0.0.1", port: int = 0, log_path: Path | None = None
    ) -> None:
        self.secret = secret
        self.log_path = log_path
        self.deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._down_until = 0.0  # time.monotonic(): answer 503 until then
        self._delay = 0.0  # seconds before answering each POST
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/escalations"

    def start(self) -> WebhookSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` requests with `status`, as a sink in trouble would."""
        with self._lock:
            self._failures.extend([status] * count)

    def down_for(self, seconds: float) -> None:
        """Answer every request with 503 for `seconds`: a receiver that is down."""
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def slow(self, seconds: float) -> None:
        """Take `seconds` before answering each POST (0: answer at once)."""
        with self._lock:
            self._delay = seconds

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.deliveries)

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        now = datetime.now(UTC)
        valid = verify(
            secret=self.secret,
            msg_id=headers.get("webhook-id", ""),
            timestamp=headers.get("webhook-timestamp", ""),
            body=body,
            signature_header=headers.get("webhook-signature", ""),
            now=now,
        )
        with self._lock:
            delay = self._delay
        if delay:
            time.sleep(delay)  # in this request's own thread (ThreadingHTTPServer)
        with self._lock:
            if time.monotonic() < self._down_until:
                status = 503
            else:
                status = self._failures.pop(0) if self._failures else (204 if valid else 401)
            try:
                payload: Any = json.loads(body)
            except ValueError:
                payload = None
            entry = {
                "webhook_id": headers.get("webhook-id"),
                "signature_valid": valid,
                "answered": status,
                "received_at": now.isoformat(),
                "payload": payload,
            }
            if status < 300:
                self.deliveries.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(sink._record(headers, body))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                body = json.dumps(sink.received(), ensure_ascii=False).encode()
                self.send_response(200 if self.path == "/deliveries" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
