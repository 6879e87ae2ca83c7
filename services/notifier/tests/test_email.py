"""Email channel against a real SMTP server (aiosmtpd), plain and with STARTTLS."""

from __future__ import annotations

import email
import email.header
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from complaints_notifier.domain.notification import Context, Notification, Route
from complaints_notifier.domain.outcome import Delivered, Permanent, Retryable
from complaints_notifier.outbound.email import EmailChannel

from .factories import escalated


class Inbox:
    """aiosmtpd handler: keeps messages, or answers a scripted SMTP reply to DATA."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.tls: list[bool] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        self.messages.append(email.message_from_bytes(envelope.content))
        self.tls.append(session.ssl is not None)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def smtp_starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    yield inbox, port
    controller.stop()


def notification(language: str = "zh") -> Notification:
    return Notification(
        escalated(),
        Route(receiver="directors", channel="mail"),
        Context(
            language=language,
            mentions=("li.na@example.com",),
            owners=("li.na",),
            ack_url="http://127.0.0.1:8080/v1/ack/abc",
            status_url="http://127.0.0.1:8080/v1/complaints/c-1",
        ),
    )


def channel(port: int, **kwargs: Any) -> EmailChannel:
    options: dict[str, Any] = {"to": ("directors@example.com",), "timeout": 5.0} | kwargs
    return EmailChannel(
        name="mail", host="127.0.0.1", port=port, sender="alerts@example.com", **options
    )


async def test_text_and_html_to_configured_and_owner_addresses(smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    assert await channel(port).send(notification("en"), now=datetime.now(UTC)) == Delivered()
    (message,) = inbox.messages
    assert message["To"] == "directors@example.com, li.na@example.com"
    assert "Complaint, response deadline overdue" in message["Subject"]
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk()
             if not p.is_multipart()}  # fmt: skip
    assert "Acknowledge: http://127.0.0.1:8080/v1/ack/abc" in parts["text/plain"]
    assert '<a href="http://127.0.0.1:8080/v1/ack/abc">' in parts["text/html"]
    assert inbox.tls == [False]


async def test_starttls_when_offered(smtp_starttls, certificate) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp_starttls
    sender = channel(port, cert_bundle=str(certificate[0]))
    assert await sender.send(notification(), now=datetime.now(UTC)) == Delivered()
    assert inbox.tls == [True]
    assert "投诉【响应时限】已超时" in str(
        email.header.make_header(email.header.decode_header(inbox.messages[0]["Subject"]))
    )


@pytest.mark.parametrize(
    ("reply", "kind"),
    [("451 4.3.0 Try again later", Retryable), ("554 5.7.1 Rejected", Permanent)],
)
async def test_4xx_retryable_5xx_permanent(smtp, reply, kind) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    inbox.reply = reply
    outcome = await channel(port).send(notification(), now=datetime.now(UTC))
    assert isinstance(outcome, kind)
    assert reply[:3] in outcome.reason


async def test_server_down_is_retryable() -> None:
    outcome = await channel(free_port()).send(notification(), now=datetime.now(UTC))
    assert isinstance(outcome, Retryable)
