"""A real HTTP webhook receiver on 127.0.0.1 that verifies signatures and answers as scripted."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from complaints_notifier.domain.webhook_signature import verify


@dataclass(frozen=True)
class Received:
    escalation_id: str | None
    webhook_id: str
    signature_valid: bool
    answered: int
    payload: Any


class ScriptedSink:
    """Answers 204 unless a status list was scripted for the escalation id (used up in order)."""

    def __init__(self, *, secret: str) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._script: dict[str, list[int]] = {}
        self._received: list[Received] = []
        self.down = False  # True: close connections unanswered, like a sink that is away
        self.delay = 0.0  # seconds before answering
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/escalations"

    def start(self) -> ScriptedSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, escalation_id: str, statuses: list[int]) -> None:
        with self._lock:
            self._script[escalation_id] = list(statuses)

    def all_received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def received(self, escalation_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.escalation_id == escalation_id]

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        valid = verify(
            secret=self.secret,
            msg_id=headers.get("webhook-id", ""),
            timestamp=headers.get("webhook-timestamp", ""),
            body=body,
            signature_header=headers.get("webhook-signature", ""),
            now=datetime.now(UTC),
        )
        try:
            payload = json.loads(body)
            escalation_id = payload["data"]["escalation_id"]
        except (ValueError, KeyError, TypeError):
            payload, escalation_id = None, None
        with self._lock:
            statuses = self._script.get(escalation_id or "", [])
            status = statuses.pop(0) if statuses else (204 if valid else 401)
            self._received.append(
                Received(escalation_id, headers.get("webhook-id", ""), valid, status, payload)
            )
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if sink.down:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if sink.delay:
                    time.sleep(sink.delay)
                status = sink._answer({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
