"""One JSON POST to a chat peer; transport failures become outcomes, never exceptions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from complaints_notifier.domain.outcome import (
    Outcome,
    Permanent,
    Retryable,
    classify_status,
    transport_failure,
)
from complaints_notifier.domain.vendor_codes import classify_code

USER_AGENT = "complaints-notifier/0.1"


async def post_json(
    client: httpx.AsyncClient, url: str, payload: Any, *, now: datetime
) -> httpx.Response | Outcome:
    """The response, or the outcome when there is none (timeout, connection error, bad URL)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
    try:
        return await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        return transport_failure("timeout", type(exc).__name__)
    except httpx.UnsupportedProtocol as exc:
        return Permanent(f"unsupported URL: {exc}")
    except httpx.TransportError as exc:
        return transport_failure("connection error", f"{type(exc).__name__}: {exc}"[:300])


def robot_outcome(
    response: httpx.Response,
    *,
    code_field: str,
    message_field: str,
    retryable: frozenset[int],
    vendor: str,
    now: datetime,
) -> Outcome:
    """Non-2xx by HTTP status; a 2xx is delivered only if the body's error code is 0."""
    status = classify_status(
        response.status_code, retry_after=response.headers.get("retry-after"), now=now
    )
    if not 200 <= response.status_code < 300:
        return status
    try:
        reply = response.json()
    except ValueError:
        return Retryable(f"{vendor}: HTTP {response.status_code} with a body that is not JSON")
    if not isinstance(reply, dict):
        return Retryable(f"{vendor}: unexpected reply {str(reply)[:100]}")
    code = reply.get(code_field)
    if code is not None and not isinstance(code, int):
        return Retryable(f"{vendor}: {code_field} is not a number: {str(code)[:50]}")
    return classify_code(
        code, str(reply.get(message_field, "")), retryable=retryable, vendor=vendor
    )
