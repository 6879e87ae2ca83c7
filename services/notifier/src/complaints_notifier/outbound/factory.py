"""Channel instances from the routing file's `channels:` (or the one default webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import httpx

from complaints_notifier.outbound.channel import Channel
from complaints_notifier.outbound.dingtalk import DingTalkChannel
from complaints_notifier.outbound.email import EmailChannel
from complaints_notifier.outbound.feishu import FeishuChannel
from complaints_notifier.outbound.slack import SlackChannel
from complaints_notifier.outbound.webhook import WebhookChannel
from complaints_notifier.outbound.wecom import WeComChannel
from complaints_notifier.routing_file import ChannelSpec

# Documented robot limits: DingTalk and WeCom 20 a minute, Feishu 100 a minute, Slack about 1/s.
DEFAULT_RATE_PER_MINUTE = {"dingtalk": 20, "wecom": 20, "feishu": 100, "slack": 60}


def throttle_options(spec: ChannelSpec) -> tuple[int | None, timedelta]:
    """The channel's rate limit per minute (None: unlimited) and group window."""
    rate = spec.options.get("rate_per_minute", DEFAULT_RATE_PER_MINUTE.get(spec.kind))
    window = timedelta(seconds=float(spec.options.get("group_window", 0)))
    return (int(rate) if rate is not None else None), window


def _client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False)


def build_channel(
    spec: ChannelSpec,
    *,
    timeout: float,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> Channel:
    """One channel; a webhook without its own url uses NOTIFIER_WEBHOOK_URL and _SECRET."""
    o: Mapping[str, object] = spec.options
    url = str(o.get("url", ""))
    secret = str(o["secret"]) if o.get("secret") else None
    if spec.kind == "webhook":
        url = url or (webhook_url or "")
        secret = secret or webhook_secret
        if not url or not secret:
            raise ValueError(
                f"channel {spec.name!r}: a webhook needs url and secret "
                "(or NOTIFIER_WEBHOOK_URL and NOTIFIER_WEBHOOK_SECRET)"
            )
        return WebhookChannel(name=spec.name, client=_client(timeout), url=url, secret=secret)
    if spec.kind == "dingtalk":
        return DingTalkChannel(name=spec.name, client=_client(timeout), url=url, secret=secret)
    if spec.kind == "feishu":
        return FeishuChannel(name=spec.name, client=_client(timeout), url=url, secret=secret)
    if spec.kind == "wecom":
        return WeComChannel(name=spec.name, client=_client(timeout), url=url)
    if spec.kind == "slack":
        return SlackChannel(name=spec.name, client=_client(timeout), url=url)
    if spec.kind == "email":
        to = o.get("to", ())
        return EmailChannel(
            name=spec.name,
            host=str(o["host"]),
            port=int(str(o.get("port", 587))),
            sender=str(o["sender"]),
            to=tuple(to) if isinstance(to, list | tuple) else (str(to),),
            username=str(o["username"]) if o.get("username") else None,
            password=str(o["password"]) if o.get("password") else None,
            use_tls=bool(o.get("use_tls", False)),
            start_tls=None if o.get("start_tls") is None else bool(o["start_tls"]),
            cert_bundle=str(o["cert_bundle"]) if o.get("cert_bundle") else None,
            timeout=timeout,
        )
    raise ValueError(f"channel {spec.name!r}: unknown kind {spec.kind!r}")
