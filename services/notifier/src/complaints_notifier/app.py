"""Builds the notifier from settings: dedup log, channel, publisher, handler, consumer, ops."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from confluent_kafka import Consumer
from prometheus_client import CollectorRegistry

from complaints_kit.clock import Clock, service_clock
from complaints_kit.kafka import AsyncProducer, client_config, consumer_config, producer_config
from complaints_kit.ops_server import OpsServer
from complaints_kit.settings import KafkaSettings
from complaints_notifier.domain.links import AlertLinks
from complaints_notifier.domain.notification import Route
from complaints_notifier.domain.routing import Routing
from complaints_notifier.domain.throttle import TokenBucket
from complaints_notifier.inbound.consumer import EscalationConsumer
from complaints_notifier.inbound.handlers import EscalationHandler
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.outbound.channel import Channel
from complaints_notifier.outbound.dedup_log import DedupLog
from complaints_notifier.outbound.factory import build_channel, throttle_options
from complaints_notifier.outbound.grouping import GroupingChannel
from complaints_notifier.outbound.publisher import KafkaPublisher
from complaints_notifier.outbound.webhook import CHANNEL as WEBHOOK
from complaints_notifier.routing_file import ChannelSpec, load_routing
from complaints_notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


@dataclass
class NotifierService:
    settings: NotifierSettings
    registry: CollectorRegistry
    metrics: NotifierMetrics
    dedup: DedupLog
    producer: AsyncProducer
    channels: dict[str, Channel]
    consumer: EscalationConsumer
    ops: OpsServer

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then drain, commit, close and flush."""
        await self.ops.start()
        log.info("ops server listening", extra={"port": self.ops.port})
        try:
            started = time.monotonic()
            read = await asyncio.to_thread(self.dedup.catch_up)
            self.metrics.dedup_log_load_seconds.set(time.monotonic() - started)
            self.metrics.dedup_log_size.set(len(self.dedup))
            log.info(
                "dedup log loaded",
                extra={"records": read, "notifications": len(self.dedup)},
            )
            await self.consumer.run(stop)
        finally:
            for channel in self.channels.values():
                await channel.aclose()
            await asyncio.to_thread(self.producer.close, 5.0)
            await asyncio.to_thread(self.dedup.close)
            await self.ops.stop()
            log.info("notifier stopped")


def build_service(
    settings: NotifierSettings,
    kafka: KafkaSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    rng: random.Random | None = None,
) -> NotifierService:
    """Wire the service; clients are created here (not at import) and connect when run."""
    clock = clock or service_clock()
    registry = registry if registry is not None else CollectorRegistry()
    rng = rng or random.Random()
    timeout = settings.request_timeout.total_seconds()
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    routing: Routing | None = None
    specs = {WEBHOOK: ChannelSpec(name=WEBHOOK, kind="webhook")}
    if settings.routing_file is not None:
        # RoutingFileError names file and line (a policy target with no receiver: the policy's)
        config = load_routing(settings.routing_file, policy_file=settings.policy_file)
        routing, specs = config.routing, dict(config.channels)
    channels: dict[str, Channel] = {
        name: build_channel(
            spec, timeout=timeout, webhook_url=settings.webhook_url, webhook_secret=webhook_secret
        )
        for name, spec in specs.items()
    }
    metrics = NotifierMetrics(registry, channels=tuple(channels))
    for name, spec in specs.items():
        rate, window = throttle_options(spec)
        if rate is not None or window > timedelta(0):
            channels[name] = GroupingChannel(
                channels[name],
                clock=clock,
                metrics=metrics,
                window=window,
                bucket=TokenBucket.under_limit(rate) if rate is not None else None,
            )
    links = AlertLinks(
        ack_base_url=settings.ack_base_url,
        ack_secret=settings.ack_link_secret.get_secret_value(),
        ack_ttl=settings.ack_link_ttl,
        status_template=settings.status_url_template,
    )
    dedup = DedupLog(client_config(kafka))
    producer = AsyncProducer(producer_config(kafka))
    handler = EscalationHandler(
        channels=channels,
        receivers=(Route(receiver=settings.receiver, channel=WEBHOOK),),
        dedup=dedup,
        publisher=KafkaPublisher(producer),
        policy=settings.retry_policy(),
        clock=clock,
        jitter=rng.random,
        metrics=metrics,
        routing=routing,
        links=links,
    )
    consumer = EscalationConsumer(
        consumer=Consumer(consumer_config(kafka, settings.consumer_group)),
        handle=handler.handle,
        dedup=dedup,
        metrics=metrics,
        concurrency=settings.concurrency,
        shutdown_grace=settings.shutdown_grace.total_seconds(),
    )

    def ready() -> bool:
        """Ready once the dedup log is loaded and the consumer is subscribed and polling."""
        return dedup.loaded and consumer.polling

    return NotifierService(
        settings=settings,
        registry=registry,
        metrics=metrics,
        dedup=dedup,
        producer=producer,
        channels=channels,
        consumer=consumer,
        ops=OpsServer(
            registry=registry, ready=ready, host=settings.ops_host, port=settings.ops_port
        ),
    )
