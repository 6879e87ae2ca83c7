"""Ops HTTP plus the ledger and SLA report: GET /v1/complaints/{id}, GET /v1/reports/sla.

Those two answer only with `Authorization: Bearer <ESCALATION_STATUS_TOKEN>`; without a
token configured they are off (people use the console; this is for operators' tools).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from aiokafka.partitioner import murmur2
from prometheus_client import CollectorRegistry

from complaints_escalation.domain.calendar import Calendars
from complaints_escalation.domain.ledger import ledger
from complaints_escalation.domain.report import sla_report
from complaints_escalation.outbound.state_store import StateStore
from complaints_kit.clock import Clock
from complaints_kit.ops_server import OpsServer
from complaints_schemas.topics import COMPLAINT_PARTITIONS

JSON = "application/json"
DEFAULT_REPORT_DAYS = 30


def partition_of(complaint_id: str, partitions: int = COMPLAINT_PARTITIONS) -> int:
    """The partition of a complaint's records and state (murmur2, as producers key them)."""
    return int(murmur2(complaint_id.encode()) & 0x7FFFFFFF) % partitions


class StatusServer(OpsServer):
    """Answers for the complaints in this worker's partitions; says where the others live."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        host: str,
        port: int,
        store: StateStore,
        owned: Callable[[], frozenset[int]],
        calendars: Calendars,
        clock: Clock,
        token: str = "",
        partitions: int = COMPLAINT_PARTITIONS,
    ) -> None:
        super().__init__(registry=registry, ready=ready, host=host, port=port)
        self._token = token
        self._partitions = partitions  # KAFKA_TOPIC_PARTITIONS: where producers put the keys
        self._store = store
        self._owned = owned
        self._calendars = calendars
        self._clock = clock

    async def respond_to(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        if path.startswith(("/v1/complaints/", "/v1/reports/")):
            if not self._token:
                return _json(404, {"title": "status API disabled: see the console"})
            scheme, _, presented = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                presented.strip().encode(), self._token.encode()
            ):
                return _json(401, {"title": "send Authorization: Bearer <status token>"})
        return await self.respond(path)

    async def respond(self, path: str) -> tuple[int, str, bytes]:
        if path.startswith("/v1/complaints/"):
            return self._complaint(unquote(path.removeprefix("/v1/complaints/")))
        if path == "/v1/reports/sla" or path.startswith("/v1/reports/sla/"):
            return self._report(path.removeprefix("/v1/reports/sla").strip("/"))
        return await super().respond(path)

    def _complaint(self, complaint_id: str) -> tuple[int, str, bytes]:
        partition = partition_of(complaint_id, self._partitions)
        state = self._store.get(complaint_id)
        if state is None:
            owned = partition in self._owned()
            return _json(
                404,
                {
                    "title": "complaint not found" if owned else "complaint not on this worker",
                    "complaint_id": complaint_id,
                    "partition": partition,
                    "owned_here": owned,
                    "detail": None
                    if owned
                    else "ask the escalation worker that owns this partition (consumer group "
                    "assignment of complaints.classified.v1); every worker's /v1/complaints "
                    "answers for its own partitions",
                },
            )
        body = ledger(state, now=self._clock.now(), calendars=self._calendars)
        body["partition"] = partition
        return _json(200, body)

    def _report(self, period: str) -> tuple[int, str, bytes]:
        now = self._clock.now()
        try:
            if period:
                start_s, end_s = period.split("/")
                start = datetime.combine(date.fromisoformat(start_s), datetime.min.time(), UTC)
                end = datetime.combine(date.fromisoformat(end_s), datetime.min.time(), UTC)
            else:
                start, end = now - timedelta(days=DEFAULT_REPORT_DAYS), now
        except ValueError:
            return _json(400, {"title": "use /v1/reports/sla or /v1/reports/sla/<from>/<to>"})
        states = (state for _, state in self._store.entries())
        body = sla_report(states, start=start, end=end, now=now)
        body["partitions"] = sorted(self._owned())
        return _json(200, body)


def _json(status: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
    return status, JSON, json.dumps(body, ensure_ascii=False).encode()
