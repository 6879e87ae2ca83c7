"""Slack incoming webhook: Block Kit message; 429 honours Retry-After, other 4xx are permanent."""

from __future__ import annotations

from datetime import datetime

import httpx

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome, Permanent, classify_status
from complaints_notifier.outbound.http_post import post_json
from complaints_notifier.outbound.templates import render, title

KIND = "slack"
MAX_SECTION = 3000  # characters in a section block's text


class SlackChannel:
    def __init__(self, *, name: str, client: httpx.AsyncClient, url: str) -> None:
        self.name = name
        self._client = client
        self._url = url

    def payload(self, notification: Notification) -> dict[str, object]:
        context = notification.context
        mentions = " ".join(f"<@{m}>" for m in context.mentions)
        text = render(notification, format="slack", mention_text=mentions)
        blocks: list[dict[str, object]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title(notification)[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}},
        ]
        if context.ack_url:
            label = "Acknowledge" if context.language == "en" else "确认受理"
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": label},
                            "style": "primary",
                            "url": context.ack_url,
                        }
                    ],
                }
            )
        return {"text": title(notification), "blocks": blocks}

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        response = await post_json(self._client, self._url, self.payload(notification), now=now)
        if not isinstance(response, httpx.Response):
            return response
        outcome = classify_status(
            response.status_code, retry_after=response.headers.get("retry-after"), now=now
        )
        if isinstance(outcome, Permanent):
            # Slack names the problem in the body: invalid_payload, no_service, channel_is_archived.
            return Permanent(f"{outcome.reason}: {response.text[:200]}")
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()
