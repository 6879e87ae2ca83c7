"""What the faust service (escalation) needs: the App and the worker.

Imported only by services that depend on faust-streaming; the kit itself does not.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.types import AppT, EventT, StreamT

from complaints_kit.logs import configure_logging
from complaints_kit.records import OffsetGaps, Origin, handle_record
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import Headers

log = logging.getLogger(__name__)

Handle = Callable[[bytes | None, Headers, Origin], Awaitable[None]]
Failed = Callable[[bytes | None, Origin, Exception], Awaitable[None]]


def faust_app(
    app_id: str,
    kafka: KafkaSettings,
    *,
    data_dir: Path,
    store: str = "memory://",
    group_instance_id: str | None = None,
) -> faust.App:
    """A faust App on our conventions: raw bytes in and out (we decode CloudEvents
    ourselves), co-partitioned topics, a 10 s session so a dead worker's partitions move
    quickly, and no faust web server (each service serves its own ops endpoints). Topics
    follow the cluster layout of the settings; with KAFKA_TOPICS=verify faust creates none
    (the provisioning Job did) and runs without its leader-election topic (unused here).

    `group_instance_id` (static membership, KIP-345): a worker restarted under the same id
    within the session timeout gets its partitions back without a rebalance, instead of
    waiting for the broker to expire its old member first."""
    data_dir.mkdir(parents=True, exist_ok=True)
    declare = kafka.topics == "create"
    return faust.App(
        app_id,
        broker=[f"kafka://{host}" for host in kafka.bootstrap_servers.split(",")],
        store=store,
        web_enabled=False,
        autodiscover=False,
        topic_partitions=kafka.topic_partitions,
        topic_replication_factor=kafka.topic_replication_factor,
        topic_allow_declare=declare,
        topic_disable_leader=not declare,
        broker_session_timeout=10,
        consumer_auto_offset_reset="earliest",
        datadir=str(data_dir),
        broker_credentials=faust_credentials(kafka),
        key_serializer="raw",
        value_serializer="raw",
        stream_publish_on_commit=False,
        consumer_group_instance_id=group_instance_id,
    )


def faust_credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """The same SASL/TLS settings the confluent clients get (KAFKA_SECURITY_PROTOCOL, ...)."""
    tls = kafka.security_protocol in ("SSL", "SASL_SSL")
    context = ssl.create_default_context(cafile=kafka.ssl_ca_location) if tls else None
    if kafka.security_protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            ssl_context=context,
            mechanism=kafka.sasl_mechanism or "PLAIN",
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


RAW: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}


def record_agent(handle: Handle, failed: Failed) -> Callable[[StreamT[Any]], Awaitable[None]]:
    """An agent body: each record of its partitions in order, handled by `handle`; broker
    trouble retried and a failing record dead-lettered through `failed` (handle_record);
    records the consumer skipped, and partitions it stopped delivering, are read again."""

    async def process(stream: StreamT[Any]) -> None:
        app, gaps = stream.app, OffsetGaps()
        keep_every_stream_record(app.consumer)

        async def forget(sender: Any, revoked: set[Any], **_: Any) -> None:
            gaps.forget({(tp.topic, tp.partition) for tp in revoked})

        app.on_partitions_revoked.connect(forget)  # type: ignore[arg-type]
        topics = set(getattr(stream.channel, "topics", ()) or ())
        watcher = asyncio.ensure_future(_watch_stalls(app, gaps, topics))
        try:
            await _handle_events(stream, app, gaps, handle, failed)
        finally:
            watcher.cancel()

    return process


class _StreamReadOffsets(dict[Any, int | None]):
    """faust's consumer drops a fetched record whose offset is below the last one it read of
    the partition, and takes a jump above it for a gap whose offsets count as acknowledged.
    So a stale prefetched record arriving after a seek (faust's own after recovering tables,
    or ours after OffsetGaps) makes it drop the records read again and commit past them.
    Stream topics here are neither compacted nor transactional and every handler takes a
    redelivery: they get every record. Changelogs keep faust's check (a stale changelog
    record applied after a newer one would roll a table value back)."""

    def __getitem__(self, tp: Any) -> int | None:
        return self.get(tp) if tp.topic.endswith("-changelog") else None


def keep_every_stream_record(consumer: Any) -> None:
    """Install _StreamReadOffsets on a faust consumer (faust-streaming 0.15's private
    `_read_offset`, read once when its fetcher starts: call before partitions are assigned)."""
    if not isinstance(consumer._read_offset, _StreamReadOffsets):
        consumer._read_offset = _StreamReadOffsets(consumer._read_offset)


async def _handle_events(
    stream: StreamT[Any], app: AppT, gaps: OffsetGaps, handle: Handle, failed: Failed
) -> None:
    consumer: Any = app.consumer
    event: EventT[Any]
    async for event in stream.events():
        message = event.message
        value, headers = event.value, _headers(message.headers)
        origin = Origin(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key if isinstance(message.key, bytes) else None,
        )

        async def handled() -> None:
            await handle(value, headers, origin)  # noqa: B023 (awaited in this iteration)

        async def dead_letter(exc: Exception) -> None:
            await failed(value, origin, exc)  # noqa: B023

        gaps.expect((origin.topic, origin.partition), consumer._committed_offset.get(message.tp))
        missing = gaps.missing_from(origin)
        if missing is not None:
            log.warning(
                "the consumer skipped records; reading them again",
                extra={**origin.log_fields(), "from_offset": missing},
            )
            await consumer.seek(message.tp, missing)
        gaps.handling += 1
        try:
            await handle_record(handled, origin=origin, failed=dead_letter, retryable=(KafkaError,))
        finally:
            gaps.handling -= 1


STALL_CHECK_S = 10.0


async def _watch_stalls(app: AppT, gaps: OffsetGaps, topics: set[str]) -> None:
    """Every STALL_CHECK_S, read again any partition of `topics` that faust stopped delivering
    while records wait in it (OffsetGaps.stalled)."""
    consumer: Any = app.consumer
    while True:
        await asyncio.sleep(STALL_CHECK_S)
        try:
            tps = {
                (tp.topic, tp.partition): tp for tp in consumer.assignment() if tp.topic in topics
            }
            if not tps or app.rebalancing:
                continue
            ends = await consumer.highwaters(*tps.values())
            committed = {key: consumer._committed_offset.get(tp) for key, tp in tps.items()}
            stalled = gaps.stalled(
                {(tp.topic, tp.partition): end for tp, end in ends.items()}, committed
            )
            for key, offset in stalled.items():
                log.warning(
                    "a partition stopped being delivered; reading it again",
                    extra={"topic": key[0], "partition": key[1], "from_offset": offset},
                )
                consumer.resume_partitions({tps[key]})
                await consumer.seek(tps[key], offset)
        except Exception:  # a failed check must not end the agent; the next one retries
            log.exception("stall check failed")


def _headers(raw: Any) -> Headers:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    return list(raw)


class JsonLoggingWorker(faust.Worker):
    """A faust worker that keeps our structured logging (mode replaces the root handlers) and
    stops on SIGHUP as on SIGTERM (mode handles SIGINT and SIGTERM only; SIGHUP's default would
    end the process without committing). A service that reloads on SIGHUP (the classifier's
    rules) installs its own handler once running, replacing this one."""

    def __init__(
        self, *args: Any, service: str, log_level: str, log_json: bool, **kwargs: Any
    ) -> None:
        self._service = service
        self._log_level = log_level
        self._log_json = log_json
        super().__init__(*args, **kwargs)

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()
        self.loop.add_signal_handler(signal.SIGHUP, stop_as_on_sigterm)

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        configure_logging(self._service, level=self._log_level, json_lines=self._log_json)


def stop_as_on_sigterm() -> None:
    """A SIGHUP handler: the process stops as it does on SIGTERM (through its own handler)."""
    os.kill(os.getpid(), signal.SIGTERM)
