"""Feishu/Lark custom bot: an interactive card with an acknowledge button, signed in the body."""

from __future__ import annotations

from datetime import datetime

import httpx

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome
from complaints_notifier.domain.robot_signatures import feishu_sign
from complaints_notifier.domain.vendor_codes import FEISHU_RETRYABLE
from complaints_notifier.outbound.http_post import post_json, robot_outcome
from complaints_notifier.outbound.templates import render, title

KIND = "feishu"
_HEADER_COLOUR = {"red": "red", "yellow": "orange", "green": "green"}


class FeishuChannel:
    """`url` is `…/open-apis/bot/v2/hook/<token>`; `secret` when signature verification is on."""

    def __init__(
        self, *, name: str, client: httpx.AsyncClient, url: str, secret: str | None = None
    ) -> None:
        self.name = name
        self._client = client
        self._url = url
        self._secret = secret

    def card(self, notification: Notification) -> dict[str, object]:
        context = notification.context
        mentions = " ".join(f"<at id={m}></at>" for m in context.mentions)
        elements: list[dict[str, object]] = [
            {
                "tag": "div",
                "text": {
                    "tag": "lark_md",
                    "content": render(notification, format="md", mention_text=mentions),
                },
            }
        ]
        if context.ack_url:
            label = "Acknowledge" if context.language == "en" else "确认受理"
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": label},
                            "type": "primary",
                            "url": context.ack_url,
                        }
                    ],
                }
            )
        severity = notification.escalation.severity.value
        return {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": title(notification)},
                "template": _HEADER_COLOUR.get(severity, "blue"),
            },
            "elements": elements,
        }

    def payload(self, notification: Notification, *, now: datetime) -> dict[str, object]:
        body: dict[str, object] = {"msg_type": "interactive", "card": self.card(notification)}
        if self._secret:
            timestamp = int(now.timestamp())
            body = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(secret=self._secret, timestamp_s=timestamp),
            } | body
        return body

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        payload = self.payload(notification, now=now)
        response = await post_json(self._client, self._url, payload, now=now)
        if not isinstance(response, httpx.Response):
            return response
        return robot_outcome(
            response,
            code_field="code",
            message_field="msg",
            retryable=FEISHU_RETRYABLE,
            vendor="feishu",
            now=now,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
