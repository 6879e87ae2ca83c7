"""The FastAPI application: complaint routes plus /metrics, /healthz and /readyz."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from complaints_intake.channels_file import load_channels
from complaints_intake.inbound.http import problems
from complaints_intake.inbound.http.ack import router as ack_router
from complaints_intake.inbound.http.auth import ChannelGate
from complaints_intake.inbound.http.middleware import BodySizeLimit, RedMetrics
from complaints_intake.inbound.http.routes import router
from complaints_intake.metrics import IntakeMetrics
from complaints_intake.settings import IntakeSettings
from complaints_kit.clock import Clock

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_http_app(
    *,
    settings: IntakeSettings,
    metrics: IntakeMetrics,
    registry: CollectorRegistry,
    clock: Clock,
    ready: Callable[[], bool],
    lifespan: Lifespan | None = None,
) -> FastAPI:
    """Routes and middleware; `lifespan` sets app.state.handlers once the producer is up."""
    app = FastAPI(
        title="Complaint intake",
        version="1",
        description="Accepts complaints from channels and lifecycle events from agents and CRMs.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.ready = ready
    app.state.handlers = None
    channels = None if settings.channels_file is None else load_channels(settings.channels_file)
    if channels is None:
        log.warning("INTAKE_CHANNELS_FILE is not set: channel authentication is OFF (development)")
    app.state.gate = ChannelGate(channels, metrics=metrics, clock=clock)
    app.include_router(router)
    app.include_router(ack_router)
    problems.install(app, metrics=metrics, retry_after=settings.retry_after_seconds)
    # Added last = outermost: RED sees every answer, including the body-size refusals.
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, drain_bytes=settings.drain_max_bytes
    )
    app.add_middleware(RedMetrics, metrics=metrics)

    # Sync on purpose: FastAPI runs it in its thread pool, so the consumer-lag collector's
    # broker round trips never block the event loop.
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return Response("ok\n", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        if ready():
            return Response("ready\n", media_type="text/plain")
        return Response("not ready\n", status_code=503, media_type="text/plain")

    return app
