"""Each channel against a real local peer that checks the request as the vendor documents it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from complaints_notifier.domain.notification import Context, Notification, Route
from complaints_notifier.domain.outcome import Delivered, Permanent, Retryable
from complaints_notifier.outbound.dingtalk import DingTalkChannel
from complaints_notifier.outbound.feishu import FeishuChannel
from complaints_notifier.outbound.slack import SlackChannel
from complaints_notifier.outbound.wecom import WeComChannel

from .factories import escalated
from .robot_peers import VendorPeer

SECRET = "SEC6d0f1b5c0f1e4d3a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6"


def now() -> datetime:
    return datetime.now(UTC)


def notification(mentions: tuple[str, ...] = (), *, ack: bool = True) -> Notification:
    return Notification(
        escalated(),
        Route(receiver="r", channel="robot"),
        Context(
            mentions=mentions,
            owners=("张伟",),
            ack_url="http://127.0.0.1:8080/v1/ack/tok" if ack else None,
            status_url="http://127.0.0.1:8080/v1/complaints/c-1",
        ),
    )


@pytest.fixture
def client() -> Iterator[httpx.AsyncClient]:
    return httpx.AsyncClient(timeout=5)


@pytest.fixture
def peers() -> Iterator[list[VendorPeer]]:
    started: list[VendorPeer] = []
    yield started
    for peer in started:
        peer.stop()


def peer(peers: list[VendorPeer], kind: str, **kwargs: str) -> VendorPeer:
    started = VendorPeer(kind, **kwargs)
    peers.append(started)
    return started


# --- DingTalk --------------------------------------------------------------------------------


async def test_dingtalk_signed_markdown_with_mentions(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "dingtalk", secret=SECRET)
    channel = DingTalkChannel(name="d", client=client, url=robot.url, secret=SECRET)
    # Repeat: base64 signatures with '+' or '/' only verify if URL-encoded.
    for _ in range(5):
        assert await channel.send(notification(("13800001234", "user42")), now=now()) == Delivered()
    hit = robot.delivered()[0]
    assert hit.body["at"] == {
        "atMobiles": ["13800001234"],
        "atUserIds": ["user42"],
        "isAtAll": False,
    }
    assert "@13800001234" in hit.body["markdown"]["text"]
    assert "Payment failed twice" in hit.body["markdown"]["title"]
    assert len(robot.delivered()) == 5
    await channel.aclose()


async def test_dingtalk_wrong_secret_is_permanent(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "dingtalk", secret=SECRET)
    channel = DingTalkChannel(name="d", client=client, url=robot.url, secret="SECwrong")
    outcome = await channel.send(notification(), now=now())
    assert isinstance(outcome, Permanent)
    assert "310000" in outcome.reason


async def test_dingtalk_unsigned_bad_token_is_permanent(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "dingtalk")
    url = robot.url.replace("tok", "nope")
    outcome = await DingTalkChannel(name="d", client=client, url=url).send(
        notification(), now=now()
    )
    assert isinstance(outcome, Permanent)
    assert "300001" in outcome.reason


async def test_dingtalk_rate_limit_is_retryable(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "dingtalk")
    robot.script.append((200, {"errcode": 130101, "errmsg": "send too fast"}, {}))
    channel = DingTalkChannel(name="d", client=client, url=robot.url)
    outcome = await channel.send(notification(), now=now())
    assert isinstance(outcome, Retryable)
    assert outcome.rate_limited
    assert await channel.send(notification(), now=now()) == Delivered()


# --- Feishu ----------------------------------------------------------------------------------


async def test_feishu_signed_card_with_button(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "feishu", secret="feishu-secret")
    channel = FeishuChannel(name="f", client=client, url=robot.url, secret="feishu-secret")
    assert await channel.send(notification(("ou_abc",)), now=now()) == Delivered()
    card = robot.delivered()[0].body["card"]
    assert card["header"]["template"] == "red"
    assert "<at id=ou_abc></at>" in card["elements"][0]["text"]["content"]
    button = card["elements"][1]["actions"][0]
    assert button["url"] == "http://127.0.0.1:8080/v1/ack/tok"


async def test_feishu_dingtalk_style_signature_is_refused(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "feishu", secret="feishu-secret")
    channel = FeishuChannel(name="f", client=client, url=robot.url, secret="other")
    outcome = await channel.send(notification(), now=now())
    assert isinstance(outcome, Permanent)
    assert "19021" in outcome.reason


async def test_feishu_rate_limit_retryable(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "feishu")
    robot.script.append((200, {"code": 11232, "msg": "frequency limited psm"}, {}))
    outcome = await FeishuChannel(name="f", client=client, url=robot.url).send(
        notification(), now=now()
    )
    assert isinstance(outcome, Retryable)
    assert outcome.rate_limited


# --- WeCom -----------------------------------------------------------------------------------


async def test_wecom_markdown_with_mentions(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "wecom")
    channel = WeComChannel(name="w", client=client, url=robot.url)
    assert await channel.send(notification(("zhangwei",)), now=now()) == Delivered()
    content = robot.delivered()[0].body["markdown"]["content"]
    assert "<@zhangwei>" in content
    assert "确认受理" in content


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, Retryable),
        ({"errcode": -1, "errmsg": "system busy"}, Retryable),
        ({"errcode": 93000, "errmsg": "invalid webhook url"}, Permanent),
        ({"errcode": 40058, "errmsg": "invalid parameter"}, Permanent),
    ],
)
async def test_wecom_error_codes(peers, client, answer, kind) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "wecom")
    robot.script.append((200, answer, {}))
    outcome = await WeComChannel(name="w", client=client, url=robot.url).send(
        notification(), now=now()
    )
    assert isinstance(outcome, kind)


async def test_wecom_long_content_truncated_to_limit(peers, client) -> None:  # type: ignore[no-untyped-def]
    robot = peer(peers, "wecom")
    long = notification(tuple(f"user{i:04d}" for i in range(600)))
    assert (
        await WeComChannel(name="w", client=client, url=robot.url).send(long, now=now())
        == Delivered()
    )


# --- Slack -----------------------------------------------------------------------------------


async def test_slack_blocks(peers, client) -> None:  # type: ignore[no-untyped-def]
    hook = peer(peers, "slack")
    channel = SlackChannel(name="s", client=client, url=hook.url)
    assert await channel.send(notification(("U024BE7LH",)), now=now()) == Delivered()
    blocks = hook.delivered()[0].body["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "actions"]
    assert "<@U024BE7LH>" in blocks[1]["text"]["text"]


async def test_slack_429_retry_after_then_404_permanent(peers, client) -> None:  # type: ignore[no-untyped-def]
    hook = peer(peers, "slack")
    hook.script.append((429, "rate_limited", {"retry-after": "7"}))
    channel = SlackChannel(name="s", client=client, url=hook.url)
    outcome = await channel.send(notification(), now=now())
    assert isinstance(outcome, Retryable)
    assert outcome.rate_limited
    assert outcome.retry_after is not None
    assert outcome.retry_after.total_seconds() == 7
    gone = SlackChannel(name="s", client=client, url=hook.url.replace("tok", "x"))
    outcome = await gone.send(notification(), now=now())
    assert isinstance(outcome, Permanent)
    assert "no_service" in outcome.reason


async def test_dead_peer_is_retryable(client) -> None:  # type: ignore[no-untyped-def]
    channel = SlackChannel(name="s", client=client, url="http://127.0.0.1:9/services/x")
    assert isinstance(await channel.send(notification(), now=now()), Retryable)
