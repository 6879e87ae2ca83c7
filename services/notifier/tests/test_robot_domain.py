"""Pure parts of the channels: signatures, vendor error codes, the alert view and templates."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from urllib.parse import unquote_plus

import pytest

from complaints_notifier.domain.alert_view import alert_view, human_duration
from complaints_notifier.domain.notification import Context, Notification, Route
from complaints_notifier.domain.outcome import Delivered, Permanent, Retryable
from complaints_notifier.domain.robot_signatures import dingtalk_query, dingtalk_sign, feishu_sign
from complaints_notifier.domain.vendor_codes import (
    DINGTALK_RETRYABLE,
    FEISHU_RETRYABLE,
    WECOM_RETRYABLE,
    classify_code,
)
from complaints_notifier.outbound.templates import render

from .factories import escalated


def test_dingtalk_signature_keyed_by_secret() -> None:
    secret, ts = "SECabc", 1_700_000_000_000
    expected = hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()
    assert dingtalk_sign(secret=secret, timestamp_ms=ts) == base64.b64encode(expected).decode()


def test_dingtalk_query_url_encodes_the_sign() -> None:
    # Find a timestamp whose signature holds '+', '/' or '=' so encoding matters.
    for ts in range(1_700_000_000_000, 1_700_000_000_100):
        sign = dingtalk_sign(secret="SECabc", timestamp_ms=ts)
        if "+" in sign or "/" in sign:
            break
    query = dingtalk_query(secret="SECabc", timestamp_ms=ts)
    assert "+" not in query
    assert "/" not in query
    assert "=" in query
    assert unquote_plus(query.split("sign=")[1]) == sign
    assert query.startswith(f"timestamp={ts}&sign=")


def test_feishu_signature_key_is_timestamp_and_secret_message_empty() -> None:
    expected = hmac.new(b"1599360473\nsecret", b"", hashlib.sha256).digest()
    assert (
        feishu_sign(secret="secret", timestamp_s=1599360473) == base64.b64encode(expected).decode()
    )
    assert feishu_sign(secret="secret", timestamp_s=1599360473) != dingtalk_sign(
        secret="secret", timestamp_ms=1599360473
    )


@pytest.mark.parametrize(
    ("code", "table", "kind", "rate_limited"),
    [
        (0, DINGTALK_RETRYABLE, Delivered, False),
        (None, FEISHU_RETRYABLE, Delivered, False),
        (130101, DINGTALK_RETRYABLE, Retryable, True),
        (-1, DINGTALK_RETRYABLE, Retryable, False),
        (310000, DINGTALK_RETRYABLE, Permanent, False),
        (300001, DINGTALK_RETRYABLE, Permanent, False),
        (11232, FEISHU_RETRYABLE, Retryable, True),
        (19021, FEISHU_RETRYABLE, Permanent, False),
        (19024, FEISHU_RETRYABLE, Permanent, False),
        (45009, WECOM_RETRYABLE, Retryable, True),
        (93000, WECOM_RETRYABLE, Permanent, False),
    ],
)
def test_vendor_codes(code, table, kind, rate_limited) -> None:  # type: ignore[no-untyped-def]
    outcome = classify_code(code, "msg", retryable=table, vendor="v")
    assert isinstance(outcome, kind)
    if isinstance(outcome, Retryable):
        assert outcome.rate_limited is rate_limited


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [(5, "5秒", "5s"), (65, "1分5秒", "1m 05s"), (3900, "1小时5分", "1h 05m")],
)
def test_human_duration(seconds: int, zh: str, en: str) -> None:
    assert human_duration(timedelta(seconds=seconds), language="zh") == zh
    assert human_duration(timedelta(seconds=seconds), language="en") == en


def notification(language: str, folded: int = 1) -> Notification:
    first = escalated()
    others = tuple(
        escalated(f"esc-{i}", complaint_id=f"c-{i}").model_copy(update={"cluster_id": "k1"})
        for i in range(2, folded + 1)
    )
    return Notification(
        first.model_copy(update={"cluster_id": "k1"}) if folded > 1 else first,
        Route(receiver="r", channel="c"),
        Context(
            language=language,
            owners=("li.na",),
            ack_url="https://ack/x",
            status_url="https://status/c-1",
            folded=(first.model_copy(update={"cluster_id": "k1"}), *others) if folded > 1 else (),
        ),
    )


@pytest.mark.parametrize(
    ("language", "format", "expected"),
    [
        (
            "zh",
            "md",
            [
                "投诉【响应时限】已超时",
                "已超时 1秒",
                "[确认受理](https://ack/x)",
                "138****1234",
                "li.na",
            ],
        ),
        ("en", "md", ["overdue", "late by 1s", "[Acknowledge](https://ack/x)", "138****1234"]),
        ("en", "slack", ["<https://ack/x|Acknowledge>", "*Clock*: response deadline"]),
        ("zh", "txt", ["确认受理：https://ack/x", "时钟：响应时限"]),
        ("en", "html", ['<a href="https://ack/x">', "138****1234"]),
    ],
)
def test_templates(language: str, format: str, expected: list[str]) -> None:
    text = render(notification(language), format=format, customer="王先生 13812341234")  # type: ignore[arg-type]
    for fragment in expected:
        assert fragment in text, text
    assert "13812341234" not in text


def test_the_contact_carried_by_the_escalation_is_shown_masked() -> None:
    def with_contact(contact: str) -> Notification:
        n = notification("en")
        escalation = n.escalation.model_copy(update={"customer_contact": contact})
        return Notification(escalation, n.route, n.context)

    assert "139****5678" in render(with_contact("139****5678"), format="md")
    text = render(with_contact("13912345678"), format="md")  # masked again if it arrives plain
    assert "13912345678" not in text
    assert "139****5678" in text


def test_grouped_message_counts() -> None:
    text = render(notification("zh", folded=3), format="md")
    assert "【3条合并】" in text
    assert "同类投诉**：3 件" in text
    assert alert_view(notification("en", folded=3)).cluster_count == 3


def test_html_escapes_the_title() -> None:
    n = notification("en")
    evil = Notification(
        n.escalation.model_copy(update={"title": "<script>x</script>"}), n.route, n.context
    )
    assert "<script>" not in render(evil, format="html")


@pytest.mark.parametrize("format", ["md", "slack", "txt", "html"])
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "provisional calendar: no official holidays loaded for 2027"),
        ("zh", "暂定日历：2027"),
    ],
)
def test_a_deadline_on_a_provisional_calendar_says_so(
    language: str, expected: str, format: str
) -> None:
    n = notification(language)
    plain = render(n, format=format)  # type: ignore[arg-type]
    assert "2027" not in plain
    provisional = Notification(
        n.escalation.model_copy(update={"provisional_years": (2027,)}), n.route, n.context
    )
    assert expected in render(provisional, format=format)  # type: ignore[arg-type]
