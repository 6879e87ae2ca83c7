"""The HTTP API over a fake producer: status codes, problem details, dedup, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from confluent_kafka import KafkaError, KafkaException
from prometheus_client import CollectorRegistry

from complaints_intake.domain.dedup import DedupWindow
from complaints_intake.inbound.handlers import IntakeHandlers
from complaints_intake.inbound.http.api import create_http_app
from complaints_intake.metrics import IntakeMetrics
from complaints_intake.outbound.publisher import IntakePublisher
from complaints_intake.settings import IntakeSettings
from complaints_kit.clock import FakeClock
from complaints_schemas import cloudevents
from complaints_schemas.cloudevents import KafkaRecord
from complaints_schemas.events import ComplaintAccepted, ComplaintLifecycleEvent
from complaints_schemas.topics import ACCEPTED, LIFECYCLE

from .factories import complaint

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class FakeSender:
    """Acknowledges at once, or fails the way the real producer does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, KafkaRecord]] = []
        self.fail_with: BaseException | None = None
        self.queue_full = False

    def send(self, topic: str, record: KafkaRecord) -> asyncio.Future[Any]:
        if self.queue_full:
            raise BufferError("Local: Queue full")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail_with is not None:
            future.set_exception(self.fail_with)
        else:
            self.sent.append((topic, record))
            future.set_result(None)
        return future


class Harness:
    def __init__(self, **settings: Any) -> None:
        self.registry = CollectorRegistry()
        self.clock = FakeClock(T0)
        self.sender = FakeSender()
        self.settings = IntakeSettings(**settings)
        metrics = IntakeMetrics(self.registry)
        self.ready = True
        self.app = create_http_app(
            settings=self.settings,
            metrics=metrics,
            registry=self.registry,
            clock=self.clock,
            ready=lambda: self.ready,
        )
        self.app.state.handlers = IntakeHandlers(
            publisher=IntakePublisher(self.sender),
            dedup=DedupWindow(ttl=timedelta(hours=1), max_entries=1000),
            clock=self.clock,
            metrics=metrics,
        )

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def sent_to(self, topic: str) -> list[KafkaRecord]:
        return [r for t, r in self.sender.sent if t == topic]


@pytest.fixture
def harness() -> Harness:
    return Harness(batch_max_items=3, max_body_bytes=4096)


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        yield c


async def test_submit_answers_202_with_id_location_and_one_record(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    response = await client.post("/v1/complaints", json=complaint())
    assert response.status_code == 202
    body = response.json()
    assert body["duplicate"] is False
    assert response.headers["location"] == f"/v1/complaints/{body['complaint_id']}"
    [record] = harness.sent_to(ACCEPTED.name)
    accepted = cloudevents.decode(ComplaintAccepted, record.value, record.headers).data
    assert record.key == body["complaint_id"].encode()
    assert accepted.title == "Payment failed but I was charged"
    assert accepted.language == "en"
    assert accepted.accepted_at == T0
    assert harness.metric("complaints_intake_accepted_total", channel="app", source="http") == 1


async def test_resend_is_the_same_complaint_and_publishes_nothing(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    body = complaint()
    first = (await client.post("/v1/complaints", json=body)).json()
    second = await client.post("/v1/complaints", json=body)
    assert second.status_code == 202
    assert second.json() == {"complaint_id": first["complaint_id"], "duplicate": True}
    assert len(harness.sent_to(ACCEPTED.name)) == 1
    assert harness.metric("complaints_intake_duplicates_total", source="http") == 1


async def test_concurrent_resends_publish_once(client: httpx.AsyncClient, harness: Harness) -> None:
    body = complaint()
    answers = await asyncio.gather(*(client.post("/v1/complaints", json=body) for _ in range(5)))
    assert {a.json()["complaint_id"] for a in answers} == {answers[0].json()["complaint_id"]}
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True, True]
    assert len(harness.sent_to(ACCEPTED.name)) == 1


@pytest.mark.parametrize(
    ("body", "locations"),
    [
        (complaint(channel="fax", title=""), {"channel", "title"}),
        (complaint(customer={"id": "c", "phone": "call me"}), {"customer.phone"}),
        (complaint(occurred_at="yesterday"), {"occurred_at"}),
        (
            {"channel": "app"},
            {"channel_event_id", "customer", "title", "description", "occurred_at"},
        ),
        ([complaint()], {"(body)"}),
    ],
)
async def test_invalid_fields_answer_422_problem_naming_each(
    client: httpx.AsyncClient, harness: Harness, body: Any, locations: set[str]
) -> None:
    response = await client.post("/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("validation-error")
    assert {"title", "detail"} <= problem.keys()
    assert {e["location"] for e in problem["errors"]} == locations
    assert harness.sender.sent == []
    assert (
        harness.metric("complaints_intake_rejected_total", reason="invalid_event", source="http")
        == 1
    )


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe"])
async def test_malformed_json_answers_422_problem(
    client: httpx.AsyncClient, harness: Harness, raw: bytes
) -> None:
    response = await client.post(
        "/v1/complaints", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["location"] == "(body)"
    assert harness.sender.sent == []


async def test_body_over_the_limit_answers_413(client: httpx.AsyncClient, harness: Harness) -> None:
    response = await client.post("/v1/complaints", json=complaint(description="x" * 5000))
    assert response.status_code == 413
    assert response.json()["type"].endswith("too-large")
    assert (
        harness.metric(
            "complaints_http_requests_total", method="POST", route="/v1/complaints", status="413"
        )
        == 1
    )


async def test_streamed_body_over_the_limit_answers_413(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await client.post(
        "/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_queue_full_answers_503_with_retry_after(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    harness.sender.queue_full = True
    response = await client.post("/v1/complaints", json=complaint())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    # Nothing was accepted, so a retry publishes.
    harness.sender.queue_full = False
    retry = await client.post("/v1/complaints", json=complaint())
    assert retry.json()["duplicate"] is False


async def test_broker_failure_answers_503_and_a_retry_is_not_a_duplicate(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    body = complaint()
    harness.sender.fail_with = KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT))
    failed = await client.post("/v1/complaints", json=body)
    assert failed.status_code == 503
    assert "retry-after" in failed.headers
    harness.sender.fail_with = None
    retry = await client.post("/v1/complaints", json=body)
    assert retry.status_code == 202
    assert retry.json()["duplicate"] is False


async def test_not_ready_answers_503(client: httpx.AsyncClient, harness: Harness) -> None:
    harness.ready = False
    assert (await client.post("/v1/complaints", json=complaint())).status_code == 503
    assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/healthz")).status_code == 200


async def test_batch_reports_each_item_and_invalid_ones_block_nothing(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    good = complaint()
    response = await client.post("/v1/complaints/batch", json=[good, {"channel": "app"}, good])
    assert response.status_code == 202
    body = response.json()
    first, bad, again = body["results"]
    assert (first["status"], first["duplicate"]) == (202, False)
    assert bad["status"] == 422
    assert "customer" in {e["location"] for e in bad["problem"]["errors"]}
    assert (again["complaint_id"], again["duplicate"]) == (first["complaint_id"], True)
    assert (body["accepted"], body["duplicates"], body["failed"]) == (1, 1, 1)
    assert len(harness.sent_to(ACCEPTED.name)) == 1


async def test_batch_over_the_cap_answers_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/complaints/batch", json=[complaint() for _ in range(4)])
    assert response.status_code == 413
    assert response.json()["type"].endswith("batch-too-large")


async def test_batch_must_be_an_array(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/complaints/batch", json=complaint())
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "(body)"


async def test_lifecycle_event_is_published_keyed_by_complaint(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    response = await client.post(
        "/v1/complaints/CMP-abc/events", json={"action": "acknowledged", "actor": "agent-7"}
    )
    assert response.status_code == 202
    event_id = response.json()["event_id"]
    [record] = harness.sent_to(LIFECYCLE.name)
    envelope = cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers)
    assert record.key == b"CMP-abc"
    assert envelope.id == event_id == envelope.data.event_id
    assert envelope.data.occurred_at == T0
    assert envelope.source == "/services/intake"


async def test_lifecycle_event_keeps_the_callers_event_id(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    response = await client.post(
        "/v1/complaints/CMP-abc/events",
        json={"action": "transferred", "to_department": "logistics", "event_id": "ev-1"},
    )
    assert response.json() == {"event_id": "ev-1"}


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"action": "shrugged"}, "action"),
        ({"action": "policy_reapplied"}, "action"),  # an operator's, not a channel's
        ({"action": "transferred"}, "(body)"),
        ({"action": "acknowledged", "occurred_at": "2025-03-01T09:00:00"}, "occurred_at"),
        ({"action": "acknowledged", "extra": 1}, "extra"),
    ],
)
async def test_invalid_lifecycle_event_answers_422(
    client: httpx.AsyncClient, harness: Harness, body: dict[str, Any], location: str
) -> None:
    response = await client.post("/v1/complaints/CMP-abc/events", json=body)
    assert response.status_code == 422
    assert location in {e["location"] for e in response.json()["errors"]}
    assert harness.sender.sent == []


async def test_red_metrics_use_the_route_template(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    await client.post("/v1/complaints/CMP-1/events", json={"action": "acknowledged"})
    await client.post("/v1/complaints/CMP-2/events", json={"action": "acknowledged"})
    await client.get("/nowhere/42")
    route = "/v1/complaints/{complaint_id}/events"
    assert (
        harness.metric("complaints_http_requests_total", method="POST", route=route, status="202")
        == 2
    )
    assert (
        harness.metric("complaints_http_request_duration_seconds_count", method="POST", route=route)
        == 2
    )
    assert (
        harness.metric(
            "complaints_http_requests_total", method="GET", route="unmatched", status="404"
        )
        == 1
    )
    exposition = (await client.get("/metrics")).text
    assert "CMP-1" not in exposition
    assert "complaints_intake_accepted_total" in exposition


async def test_phone_of_separators_only_is_422_not_500(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    body = complaint(customer={"id": "c-1", "phone": "-----"})
    response = await client.post("/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "customer.phone"
    batch = await client.post("/v1/complaints/batch", json=[body])
    assert batch.json()["results"][0]["status"] == 422
    assert harness.sender.sent == []


async def test_openapi_documents_the_complaint_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths) == {
        "/v1/complaints",
        "/v1/complaints/batch",
        "/v1/complaints/{complaint_id}",
        "/v1/complaints/{complaint_id}/events",
        "/v1/ack/{token}",
    }
