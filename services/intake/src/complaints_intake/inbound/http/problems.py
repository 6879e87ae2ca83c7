"""Problem details responses (RFC 9457) and the exception handlers that produce them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from confluent_kafka import KafkaException
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from complaints_intake.domain.bounds import Unacceptable
from complaints_intake.domain.problems import (
    PROBLEM_JSON,
    Problem,
    invalid_fields,
    problem,
    validation_problem,
)
from complaints_intake.metrics import IntakeMetrics


class ProblemError(Exception):
    """Raised by a route to answer with a problem; `headers` e.g. Retry-After."""

    def __init__(self, body: Problem, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("detail", ""))
        self.body = body
        self.headers = headers or {}


class BodyTooLarge(HTTPException):
    """A streamed body went over the limit (raised from inside the ASGI receive)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413)
        self.max_bytes = max_bytes


class NotReady(Exception):
    """The service is starting or stopping: the broker is not reachable yet."""


def problem_response(body: Problem, *, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body, status_code=int(body["status"]), media_type=PROBLEM_JSON, headers=headers
    )


def unavailable(detail: str, *, retry_after: int, kind: str = "unavailable") -> JSONResponse:
    body = problem(kind=kind, title="Service temporarily unavailable", status=503, detail=detail)
    return problem_response(body, headers={"Retry-After": str(retry_after)})


def too_large_response(max_bytes: int) -> JSONResponse:
    body = problem(
        kind="too-large",
        title="Request body too large",
        status=413,
        detail=f"The body is larger than {max_bytes} bytes.",
    )
    return problem_response(body)


def unacceptable_problem(exc: Unacceptable) -> Problem:
    return invalid_fields(exc.errors())


def rejection_reason(body: Problem) -> str:
    """The ComplaintRejected-style reason for a 422 body (a bounded metric label)."""
    return "undecodable" if str(body["type"]).endswith("malformed-json") else "invalid_event"


def install(app: FastAPI, *, metrics: IntakeMetrics, retry_after: int) -> None:
    """Map validation errors, a full producer queue and broker failures to problem details."""

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        body = validation_problem(exc.errors(), drop_prefix=("body",))
        metrics.rejected.labels(reason=rejection_reason(body), source="http").inc()
        return problem_response(body)

    async def invalid_after_normalising(request: Request, exc: Exception) -> JSONResponse:
        # Valid as sent but not once normalised (e.g. a phone of separators only).
        assert isinstance(exc, ValidationError)
        body = validation_problem(exc.errors())
        metrics.rejected.labels(reason="invalid_event", source="http").inc()
        return problem_response(body)

    async def route_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.body, headers=exc.headers)

    async def queue_full(request: Request, exc: Exception) -> JSONResponse:
        metrics.backpressure.labels(source="http").inc()
        return unavailable(
            "The producer queue is full; retry shortly.", retry_after=retry_after, kind="busy"
        )

    async def broker_failed(request: Request, exc: Exception) -> JSONResponse:
        metrics.backpressure.labels(source="http").inc()
        return unavailable(
            f"The broker did not acknowledge the event: {_kafka_reason(exc)}",
            retry_after=retry_after,
            kind="broker-unavailable",
        )

    async def body_too_large(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BodyTooLarge)
        metrics.rejected.labels(reason="too_large", source="http").inc()
        return too_large_response(exc.max_bytes)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # The framework's own refusals (unparseable body, unknown route, wrong method) in the
        # same problem format as ours.
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            metrics.rejected.labels(reason="undecodable", source="http").inc()
        phrase = HTTPStatus(exc.status_code).phrase
        body = problem(
            kind=phrase.lower().replace(" ", "-"),
            title=phrase,
            status=exc.status_code,
            detail=str(exc.detail),
        )
        return problem_response(body, headers=dict(exc.headers or {}))

    async def unacceptable(request: Request, exc: Exception) -> JSONResponse:
        # Valid by the schema, refused by the domain's bounds (text, occurred_at).
        assert isinstance(exc, Unacceptable)
        metrics.rejected.labels(reason="invalid_event", source="http").inc()
        return problem_response(unacceptable_problem(exc))

    async def not_ready(request: Request, exc: Exception) -> JSONResponse:
        return unavailable("The service is not ready.", retry_after=retry_after, kind="not-ready")

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(ValidationError, invalid_after_normalising)
    app.add_exception_handler(ProblemError, route_problem)
    app.add_exception_handler(BufferError, queue_full)
    app.add_exception_handler(KafkaException, broker_failed)
    app.add_exception_handler(NotReady, not_ready)
    app.add_exception_handler(Unacceptable, unacceptable)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _kafka_reason(exc: Exception) -> str:
    args: Any = exc.args
    if args and hasattr(args[0], "str"):
        return str(args[0].str())
    return str(exc)
