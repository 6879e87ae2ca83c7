"""WeCom (企业微信) group robot: markdown with <@userid> mentions; key in the URL, unsigned."""

from __future__ import annotations

from datetime import datetime

import httpx

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome
from complaints_notifier.domain.vendor_codes import WECOM_RETRYABLE
from complaints_notifier.outbound.http_post import post_json, robot_outcome
from complaints_notifier.outbound.templates import render

KIND = "wecom"
MAX_CONTENT_BYTES = 4096  # documented limit of markdown.content


def _truncate(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


class WeComChannel:
    """`url` is `…/cgi-bin/webhook/send?key=…`."""

    def __init__(self, *, name: str, client: httpx.AsyncClient, url: str) -> None:
        self.name = name
        self._client = client
        self._url = url

    def payload(self, notification: Notification) -> dict[str, object]:
        mentions = " ".join(f"<@{m}>" for m in notification.context.mentions)
        text = render(notification, format="md", mention_text=mentions)
        return {"msgtype": "markdown", "markdown": {"content": _truncate(text, MAX_CONTENT_BYTES)}}

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        response = await post_json(self._client, self._url, self.payload(notification), now=now)
        if not isinstance(response, httpx.Response):
            return response
        return robot_outcome(
            response,
            code_field="errcode",
            message_field="errmsg",
            retryable=WECOM_RETRYABLE,
            vendor="wecom",
            now=now,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
