"""DingTalk custom robot: markdown with @mentions, signed with timestamp + HMAC-SHA256."""

from __future__ import annotations

from datetime import datetime

import httpx

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome
from complaints_notifier.domain.robot_signatures import dingtalk_query
from complaints_notifier.domain.vendor_codes import DINGTALK_RETRYABLE
from complaints_notifier.outbound.http_post import post_json, robot_outcome
from complaints_notifier.outbound.templates import render, title

KIND = "dingtalk"


class DingTalkChannel:
    """`url` is the robot's `…/robot/send?access_token=…`; `secret` (SEC…) when signing is on."""

    def __init__(
        self, *, name: str, client: httpx.AsyncClient, url: str, secret: str | None = None
    ) -> None:
        self.name = name
        self._client = client
        self._url = url
        self._secret = secret

    def payload(self, notification: Notification) -> dict[str, object]:
        mentions = notification.context.mentions
        # A mention shows only when "@<mobile or user id>" also appears in the text.
        text = render(notification, format="md", mention_text=" ".join(f"@{m}" for m in mentions))
        return {
            "msgtype": "markdown",
            "markdown": {"title": title(notification), "text": text},
            "at": {
                "atMobiles": [m for m in mentions if m.lstrip("+").isdigit()],
                "atUserIds": [m for m in mentions if not m.lstrip("+").isdigit()],
                "isAtAll": False,
            },
        }

    def url(self, *, now: datetime) -> str:
        if not self._secret:
            return self._url
        query = dingtalk_query(secret=self._secret, timestamp_ms=int(now.timestamp() * 1000))
        return f"{self._url}{'&' if '?' in self._url else '?'}{query}"

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        response = await post_json(
            self._client, self.url(now=now), self.payload(notification), now=now
        )
        if not isinstance(response, httpx.Response):
            return response
        return robot_outcome(
            response,
            code_field="errcode",
            message_field="errmsg",
            retryable=DINGTALK_RETRYABLE,
            vendor="dingtalk",
            now=now,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
