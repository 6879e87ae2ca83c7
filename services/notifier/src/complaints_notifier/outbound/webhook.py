"""Generic webhook channel: POST the escalation, signed per the Standard Webhooks spec."""

from __future__ import annotations

from datetime import datetime

import httpx

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import (
    Outcome,
    Permanent,
    classify_status,
    transport_failure,
)
from complaints_notifier.domain.payload import webhook_payload
from complaints_notifier.domain.webhook_signature import signed_headers

CHANNEL = "webhook"
USER_AGENT = "complaints-notifier/0.1"


class WebhookChannel:
    def __init__(
        self, *, client: httpx.AsyncClient, url: str, secret: str, name: str = CHANNEL
    ) -> None:
        self.name = name
        self._client = client
        self._url = url
        self._secret = secret

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        body = webhook_payload(notification.escalation, notification.context)
        # webhook-id is the notification id: stable across retries, so receivers can dedupe.
        headers = signed_headers(
            secret=self._secret, msg_id=notification.id, timestamp=int(now.timestamp()), body=body
        )
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return transport_failure("timeout", type(exc).__name__)
        except httpx.UnsupportedProtocol as exc:
            return Permanent(f"unsupported URL: {exc}")
        except httpx.TransportError as exc:
            return transport_failure("connection error", f"{type(exc).__name__}: {exc}"[:300])
        return classify_status(
            response.status_code, retry_after=response.headers.get("retry-after"), now=now
        )

    async def aclose(self) -> None:
        await self._client.aclose()
