"""The complaint routes: one complaint, a batch, and lifecycle events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from confluent_kafka import KafkaException
from fastapi import APIRouter, Body, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from complaints_intake.domain.bounds import Unacceptable
from complaints_intake.domain.channels import Channel
from complaints_intake.domain.problems import problem, validation_problem
from complaints_intake.inbound.handlers import Acceptance, IntakeHandlers
from complaints_intake.inbound.http.auth import Caller, ChannelGate, Gate
from complaints_intake.inbound.http.models import (
    AcceptedResponse,
    BatchItemResult,
    BatchResponse,
    LifecycleRequest,
    LifecycleResponse,
)
from complaints_intake.inbound.http.problems import (
    NotReady,
    ProblemError,
    rejection_reason,
    unacceptable_problem,
)
from complaints_intake.settings import IntakeSettings
from complaints_kit.clock import Clock
from complaints_schemas.events import ComplaintLifecycleEvent, ComplaintSubmitted

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown channel API key (problem details)"},
    403: {"description": "Another channel's complaint or a step this channel may not report"},
    429: {"description": "Over the channel's rate; see Retry-After"},
    413: {"description": "Body or batch too large (problem details)"},
    422: {"description": "Invalid JSON or fields (problem details naming each field)"},
    503: {"description": "Producer queue full or broker unavailable; see Retry-After"},
}

router = APIRouter(prefix="/v1/complaints", responses=PROBLEM_RESPONSES)


def intake(request: Request) -> IntakeHandlers:
    """The handlers, once the service is ready to publish."""
    handlers: IntakeHandlers | None = request.app.state.handlers
    if handlers is None or not request.app.state.ready():
        raise NotReady
    return handlers


def settings(request: Request) -> IntakeSettings:
    value: IntakeSettings = request.app.state.settings
    return value


def clock(request: Request) -> Clock:
    value: Clock = request.app.state.clock
    return value


Handlers = Annotated[IntakeHandlers, Depends(intake)]


@router.post("", status_code=202, response_model=AcceptedResponse)
async def submit_complaint(
    complaint: ComplaintSubmitted,
    response: Response,
    handlers: Handlers,
    channel: Caller,
    channels: Gate,
) -> AcceptedResponse:
    """Accept one complaint; answers after the broker acknowledged it (or it was a resend)."""
    refusal = channels.other_channel(channel, complaint.channel.value)
    if refusal is not None:
        raise ProblemError(refusal)
    result = await handlers.accept(complaint, source="http")
    response.headers["Location"] = f"/v1/complaints/{result.complaint_id}"
    return AcceptedResponse(complaint_id=result.complaint_id, duplicate=result.duplicate)


@router.get(
    "/{complaint_id}",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "The complaint's page in the console"}},
)
async def complaint_page(
    complaint_id: Annotated[str, Path(min_length=1, max_length=128)],
    config: Annotated[IntakeSettings, Depends(settings)],
) -> RedirectResponse:
    """Where an accepted complaint's Location points: its page in the console."""
    if not config.console_url:
        raise ProblemError(
            problem(
                kind="not-found",
                title="No console configured",
                status=404,
                detail="Set INTAKE_CONSOLE_URL to redirect to the complaint's console page.",
            )
        )
    base = config.console_url.rstrip("/")
    return RedirectResponse(f"{base}/complaints/{quote(complaint_id, safe='')}", status_code=303)


@router.post("/batch", status_code=202, response_model=BatchResponse)
async def submit_batch(
    items: Annotated[list[Any], Body(description="An array of ComplaintSubmitted objects.")],
    handlers: Handlers,
    config: Annotated[IntakeSettings, Depends(settings)],
    channel: Caller,
    channels: Gate,
) -> BatchResponse:
    """Accept many complaints; an invalid item is reported in its result and blocks no other."""
    if len(items) > config.batch_max_items:
        handlers.count_http_rejection("too_large")
        raise ProblemError(
            problem(
                kind="batch-too-large",
                title="Too many items in the batch",
                status=413,
                detail=f"{len(items)} items; at most {config.batch_max_items} per batch.",
            )
        )
    if channel is not None and len(items) > 1:
        channels.admit(channel, len(items) - 1)  # the rate counts complaints, not requests
    results = await asyncio.gather(
        *(
            _accept_item(handlers, index, item, channel, channels)
            for index, item in enumerate(items)
        )
    )
    return BatchResponse(
        accepted=sum(1 for r in results if r.status == 202 and not r.duplicate),
        duplicates=sum(1 for r in results if r.duplicate),
        failed=sum(1 for r in results if r.status != 202),
        results=list(results),
    )


async def _accept_item(
    handlers: IntakeHandlers,
    index: int,
    item: Any,
    channel: Channel | None,
    channels: ChannelGate,
) -> BatchItemResult:
    try:
        complaint = ComplaintSubmitted.model_validate(item)
    except ValidationError as exc:
        body = validation_problem(exc.errors())
        handlers.count_http_rejection(rejection_reason(body))
        return BatchItemResult(index=index, status=422, problem=body)
    refusal = channels.other_channel(channel, complaint.channel.value)
    if refusal is not None:
        return BatchItemResult(index=index, status=403, problem=refusal)
    try:
        result: Acceptance = await handlers.accept(complaint, source="http")
    except Unacceptable as exc:
        handlers.count_http_rejection("invalid_event")
        return BatchItemResult(index=index, status=422, problem=unacceptable_problem(exc))
    except ValidationError as exc:
        body = validation_problem(exc.errors())
        handlers.count_http_rejection("invalid_event")
        return BatchItemResult(index=index, status=422, problem=body)
    except (BufferError, KafkaException) as exc:
        body = problem(
            kind="unavailable",
            title="Service temporarily unavailable",
            status=503,
            detail=f"Not accepted, retry this item: {exc}",
        )
        return BatchItemResult(index=index, status=503, problem=body)
    return BatchItemResult(
        index=index, status=202, complaint_id=result.complaint_id, duplicate=result.duplicate
    )


@router.post("/{complaint_id}/events", status_code=202, response_model=LifecycleResponse)
async def record_lifecycle_event(
    complaint_id: Annotated[str, Path(min_length=1, max_length=128)],
    step: LifecycleRequest,
    handlers: Handlers,
    now: Annotated[Clock, Depends(clock)],
    channel: Caller,
    channels: Gate,
) -> LifecycleResponse:
    """Publish a lifecycle step (acknowledged, responded, ...) keyed by the complaint id."""
    if channel is not None and step.action not in channel.actions:
        raise channels.forbid(
            f"Channel {channel.name!r} may not report {step.action.value!r}.",
            reason="action_not_allowed",
        )
    try:
        event = ComplaintLifecycleEvent(
            event_id=step.event_id or uuid.uuid4().hex,
            complaint_id=complaint_id,
            action=step.action,
            occurred_at=step.occurred_at or now.now(),
            actor=step.actor,
            note=step.note,
            to_department=step.to_department,
            severity=step.severity,
            scope=step.scope,
            category=step.category,
        )
    except ValidationError as exc:
        body = validation_problem(exc.errors())
        handlers.count_http_rejection(rejection_reason(body))
        raise ProblemError(body) from exc
    await handlers.record_lifecycle(event)
    return LifecycleResponse(event_id=event.event_id)
