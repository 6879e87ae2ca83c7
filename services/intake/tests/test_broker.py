"""The real service over the real broker: HTTP in, records out, and the Kafka intake path."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from complaints_intake.app import create_app
from complaints_intake.settings import IntakeSettings
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import (
    ComplaintAccepted,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    ComplaintSubmitted,
)
from complaints_schemas.topics import ACCEPTED, LIFECYCLE, REJECTED, SUBMITTED

from .broker_io import Raw, committed, eventually, produce_raw, read_topic, wait_for
from .factories import complaint

pytestmark = pytest.mark.kafka


@asynccontextmanager
async def running(
    kafka: KafkaSettings, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, CollectorRegistry]]:
    """The app with its lifespan started, once /readyz answers 200."""
    registry = CollectorRegistry()
    app = create_app(IntakeSettings(**settings), kafka, registry=registry)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            deadline = time.monotonic() + 30
            while not await ready():
                assert time.monotonic() < deadline, "intake never became ready"
                await _pause()
            yield client, registry


async def _pause() -> None:
    await asyncio.sleep(0.1)


def records_for(kafka: KafkaSettings, topic: str, key: str) -> list[Raw]:
    return [r for r in read_topic(kafka, topic) if r.key == key.encode()]


async def test_http_complaint_lands_on_accepted_with_key_and_cloudevents_headers(
    kafka_settings: KafkaSettings,
) -> None:
    body = complaint(title="支付失败  但已扣款")
    async with running(kafka_settings, consume_submitted=False) as (client, _):
        response = await client.post("/v1/complaints", json=body)
    assert response.status_code == 202
    complaint_id = response.json()["complaint_id"]
    [record] = records_for(kafka_settings, ACCEPTED.name, complaint_id)
    assert record.headers["ce_specversion"] == b"1.0"
    assert record.headers["ce_id"] == complaint_id.encode()
    assert record.headers["ce_source"] == b"/services/intake"
    assert record.headers["ce_type"] == ComplaintAccepted.ce_type.encode()
    assert record.headers["ce_subject"] == complaint_id.encode()
    assert record.headers["content-type"] == b"application/json"
    accepted = ComplaintAccepted.model_validate_json(record.value or b"")
    assert (accepted.channel_event_id, accepted.language) == (body["channel_event_id"], "zh")
    assert accepted.title == "支付失败 但已扣款"


async def test_same_channel_event_id_twice_is_one_record(kafka_settings: KafkaSettings) -> None:
    body = complaint()
    async with running(kafka_settings, consume_submitted=False) as (client, registry):
        first = (await client.post("/v1/complaints", json=body)).json()
        second = (await client.post("/v1/complaints", json=body)).json()
        duplicates = registry.get_sample_value(
            "complaints_intake_duplicates_total", {"source": "http"}
        )
    assert second == {"complaint_id": first["complaint_id"], "duplicate": True}
    assert first["duplicate"] is False
    assert len(records_for(kafka_settings, ACCEPTED.name, first["complaint_id"])) == 1
    assert duplicates == 1


async def test_bad_body_is_422_and_publishes_nothing(kafka_settings: KafkaSettings) -> None:
    body = complaint(channel="fax", customer={"phone": "x"})
    async with running(kafka_settings, consume_submitted=False) as (client, _):
        response = await client.post("/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    locations = {e["location"] for e in response.json()["errors"]}
    assert locations == {"channel", "customer.id", "customer.phone"}
    accepted = read_topic(kafka_settings, ACCEPTED.name)
    assert not [r for r in accepted if body["channel_event_id"].encode() in (r.value or b"")]


async def test_lifecycle_event_lands_keyed_by_complaint(kafka_settings: KafkaSettings) -> None:
    complaint_id = f"CMP-{uuid.uuid4().hex}"
    async with running(kafka_settings, consume_submitted=False) as (client, _):
        response = await client.post(
            f"/v1/complaints/{complaint_id}/events", json={"action": "acknowledged"}
        )
    assert response.status_code == 202
    [record] = records_for(kafka_settings, LIFECYCLE.name, complaint_id)
    envelope = cloudevents.decode(
        ComplaintLifecycleEvent, record.value, list(record.headers.items())
    )
    assert envelope.id == response.json()["event_id"]
    assert envelope.data.complaint_id == complaint_id


def _ce_record(
    submitted: dict[str, Any], *, ce_type: str | None = None
) -> tuple[bytes, bytes, Any]:
    event = ComplaintSubmitted.model_validate(submitted)
    record = cloudevents.encode(
        event, source="/channels/test", id=event.channel_event_id, time=datetime.now(UTC)
    )
    headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in record.headers]
    if ce_type is not None:
        headers = [(k, ce_type.encode() if k == "ce_type" else v) for k, v in headers]
    return record.key, record.value, headers


async def test_kafka_input_bad_records_are_dead_lettered_and_valid_ones_accepted(
    kafka_settings: KafkaSettings,
) -> None:
    marker = uuid.uuid4().hex
    missing = complaint(channel_event_id=f"missing-{marker}")
    del missing["title"], missing["customer"]
    plain = complaint(channel_event_id=f"plain-{marker}", channel="web")
    enveloped = complaint(channel_event_id=f"ce-{marker}", channel="chat")
    bad = [
        (b"\xff\xfe garbage " + marker.encode(), "undecodable"),
        (b"{not json " + marker.encode(), "undecodable"),
        (json.dumps(missing).encode(), "invalid_event"),
    ]
    wrong_type = _ce_record(
        complaint(channel_event_id=f"wrongtype-{marker}"), ce_type="com.example.other"
    )
    produce_raw(
        kafka_settings,
        SUBMITTED.name,
        [(b"k", value, None) for value, _ in bad]
        + [wrong_type, (b"k", json.dumps(plain).encode(), None), _ce_record(enveloped)],
    )
    group = f"intake-test-{marker}"
    async with running(kafka_settings, consumer_group=group) as (client, registry):

        def dead_letters() -> list[ComplaintRejected]:
            found = [
                cloudevents.decode(ComplaintRejected, r.value, list(r.headers.items())).data
                for r in read_topic(kafka_settings, REJECTED.name)
            ]
            mine = [d for d in found if marker.encode() in d.original]
            return mine if len(mine) >= 4 else []

        def accepted() -> list[ComplaintAccepted]:
            # Other suites share this topic, some with deliberately broken records.
            mine = [
                a
                for r in read_topic(kafka_settings, ACCEPTED.name)
                if r.value and marker.encode() in r.value
                for a in [ComplaintAccepted.model_validate_json(r.value)]
            ]
            return mine if len(mine) >= 2 else []

        rejected = await eventually(dead_letters, within=30, what="four dead letters")
        ok = await eventually(accepted, within=30, what="two accepted complaints")
        assert (await client.get("/readyz")).status_code == 200  # still running
        rejected_metric = registry.get_sample_value(
            "complaints_intake_rejected_total", {"reason": "undecodable", "source": "kafka"}
        )

    by_original = {bytes(d.original): d for d in rejected}
    for value, reason in bad:
        dead = by_original[value]
        assert dead.reason == reason
        assert (dead.source, dead.source_topic) == ("kafka", SUBMITTED.name)
        assert dead.partition == 0
        assert dead.offset is not None
    assert {e.location for e in by_original[bad[2][0]].errors} >= {"title", "customer"}
    assert by_original[wrong_type[1]].reason == "invalid_envelope"
    assert {a.channel_event_id for a in ok} == {f"plain-{marker}", f"ce-{marker}"}
    assert {str(a.channel) for a in ok} == {"web", "chat"}
    assert (rejected_metric or 0) >= 2
    # Everything handled was committed (offsets are only committed after the broker's ack).
    last = max(d.offset or 0 for d in rejected)
    assert committed(kafka_settings, group, SUBMITTED.name, 0) >= last + 2


async def test_kafka_resend_after_http_is_a_duplicate(kafka_settings: KafkaSettings) -> None:
    body = complaint()
    group = f"intake-test-{uuid.uuid4().hex}"
    async with running(kafka_settings, consumer_group=group) as (client, registry):
        first = (await client.post("/v1/complaints", json=body)).json()
        produce_raw(kafka_settings, SUBMITTED.name, [(b"k", json.dumps(body).encode(), None)])

        def duplicate_seen() -> bool:
            value = registry.get_sample_value(
                "complaints_intake_duplicates_total", {"source": "kafka"}
            )
            return bool(value)

        await eventually(duplicate_seen, within=30, what="the Kafka resend counted as duplicate")
    assert len(records_for(kafka_settings, ACCEPTED.name, first["complaint_id"])) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_process_serves_then_stops_cleanly_on_sigterm(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "INTAKE_HTTP_PORT": str(port),
        "INTAKE_LOG_JSON": "true",
        "INTAKE_CONSUMER_GROUP": f"intake-test-{uuid.uuid4().hex}",
    }
    log_path = tmp_path / "intake.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "complaints_intake"], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert process.poll() is None, log_path.read_text()
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=60, what="/readyz")
        response = httpx.post(f"{base}/v1/complaints", json=complaint(), timeout=10)
        assert response.status_code == 202
        assert "complaints_intake_accepted_total" in httpx.get(f"{base}/metrics").text
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, log_path.read_text()
        assert time.monotonic() - started < 10
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line]
        assert any(line.get("msg") == "intake stopped" for line in lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
