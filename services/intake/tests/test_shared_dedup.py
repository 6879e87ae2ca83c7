"""Resends are one complaint across intake processes and restarts: every process reads
complaints.accepted.v1 back into its dedup window (outbound/accepted_log.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from complaints_intake.domain.dedup import DedupWindow
from complaints_intake.domain.identity import complaint_id
from complaints_intake.inbound.handlers import IntakeHandlers
from complaints_intake.metrics import IntakeMetrics
from complaints_intake.outbound.accepted_log import caught_up
from complaints_kit.clock import FakeClock
from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import ComplaintSubmitted
from complaints_schemas.topics import ACCEPTED

from .factories import complaint
from .test_broker import records_for, running

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("positions", "ends", "done"),
    [
        ({0: 5, 1: 3}, {0: 5, 1: 3}, True),
        ({0: 6, 1: 3}, {0: 5, 1: 0}, True),
        ({0: 4, 1: 3}, {0: 5, 1: 3}, False),
        ({0: 5}, {0: 5, 1: 1}, False),  # a partition never read
        ({}, {0: 0, 1: 0}, True),  # empty topic
    ],
)
def test_caught_up(positions: dict[int, int], ends: dict[int, int], done: bool) -> None:
    assert caught_up(positions, ends) is done


class OtherProcesses:
    """A fake of the accepted topic read back: on sync, what others accepted lands in the window."""

    def __init__(self, window: DedupWindow, *, accepted_elsewhere: set[str], ok: bool = True):
        self.window = window
        self.accepted_elsewhere = accepted_elsewhere
        self.ok = ok
        self.syncs = 0

    async def sync(self, *, within: float) -> bool:
        self.syncs += 1
        for cid in self.accepted_elsewhere:
            self.window.record(cid, now=T0)
        return self.ok


class Publisher:
    def __init__(self) -> None:
        self.accepted_ids: list[str] = []

    def accepted(self, event):  # type: ignore[no-untyped-def]
        self.accepted_ids.append(event.complaint_id)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def handlers(shared: OtherProcesses, window: DedupWindow, publisher: Publisher):  # type: ignore[no-untyped-def]
    registry = CollectorRegistry()
    return (
        IntakeHandlers(
            publisher=publisher,  # type: ignore[arg-type]
            dedup=window,
            clock=FakeClock(T0),
            metrics=IntakeMetrics(registry),
            shared=shared,
        ),
        registry,
    )


async def test_a_complaint_accepted_by_another_process_is_a_duplicate_and_not_published() -> None:
    submitted = ComplaintSubmitted.model_validate(complaint(channel_event_id="resent-1"))
    window = DedupWindow(ttl=timedelta(hours=24), max_entries=100)
    cid = complaint_id(submitted.channel, submitted.channel_event_id)
    shared, publisher = OtherProcesses(window, accepted_elsewhere={cid}), Publisher()
    intake, registry = handlers(shared, window, publisher)
    result = await intake.accept(submitted, source="http")
    assert (result.complaint_id, result.duplicate) == (cid, True)
    assert publisher.accepted_ids == []
    again = await intake.accept(submitted, source="http")
    assert again.duplicate
    assert shared.syncs == 1  # known here now: no second sync
    synced = registry.get_sample_value(
        "complaints_intake_dedup_syncs_total", {"result": "caught_up"}
    )
    assert synced == 1


@pytest.mark.parametrize("ok", [True, False])
async def test_a_new_complaint_is_published_after_the_sync(ok: bool) -> None:
    submitted = ComplaintSubmitted.model_validate(complaint(channel_event_id="new-1"))
    window = DedupWindow(ttl=timedelta(hours=24), max_entries=100)
    shared, publisher = OtherProcesses(window, accepted_elsewhere=set(), ok=ok), Publisher()
    intake, registry = handlers(shared, window, publisher)
    result = await intake.accept(submitted, source="http")
    assert not result.duplicate
    assert publisher.accepted_ids == [result.complaint_id]
    outcome = "caught_up" if ok else "timeout"
    assert (
        registry.get_sample_value("complaints_intake_dedup_syncs_total", {"result": outcome}) == 1
    )


@pytest.mark.kafka
async def test_a_resend_to_a_second_intake_process_is_a_duplicate(
    kafka_settings: KafkaSettings,
) -> None:
    body = complaint(channel_event_id=f"pods-{uuid.uuid4().hex}")
    async with (
        running(kafka_settings, consume_submitted=False) as (first, _),
        running(kafka_settings, consume_submitted=False) as (second, registry),
    ):
        accepted = await first.post("/v1/complaints", json=body)
        assert accepted.status_code == 202
        assert accepted.json()["duplicate"] is False
        resent = await second.post("/v1/complaints", json=body)  # another pod's memory
        assert resent.status_code == 202
        assert resent.json() == {**accepted.json(), "duplicate": True}
        assert registry.get_sample_value("complaints_intake_duplicates_total", {"source": "http"})
    assert len(records_for(kafka_settings, ACCEPTED.name, accepted.json()["complaint_id"])) == 1


@pytest.mark.kafka
async def test_a_resend_after_a_restart_is_a_duplicate(kafka_settings: KafkaSettings) -> None:
    body = complaint(channel_event_id=f"restart-{uuid.uuid4().hex}")
    async with running(kafka_settings, consume_submitted=False) as (client, _):
        accepted = await client.post("/v1/complaints", json=body)
        assert accepted.json()["duplicate"] is False
    async with running(kafka_settings, consume_submitted=False) as (client, _):
        resent = await client.post("/v1/complaints", json=body)
        assert resent.json()["duplicate"] is True
    assert len(records_for(kafka_settings, ACCEPTED.name, accepted.json()["complaint_id"])) == 1


@pytest.mark.kafka
async def test_without_the_shared_log_a_second_process_cannot_know(
    kafka_settings: KafkaSettings,
) -> None:
    body = complaint(channel_event_id=f"alone-{uuid.uuid4().hex}")
    async with (
        running(kafka_settings, consume_submitted=False, dedup_shared=False) as (first, _),
        running(kafka_settings, consume_submitted=False, dedup_shared=False) as (second, _),
    ):
        assert (await first.post("/v1/complaints", json=body)).json()["duplicate"] is False
        assert (await second.post("/v1/complaints", json=body)).json()["duplicate"] is False
