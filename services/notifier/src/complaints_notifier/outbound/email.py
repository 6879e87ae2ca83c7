"""Email over SMTP (aiosmtplib): text and HTML parts; STARTTLS when offered; 4xx retry, 5xx not."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import (
    Delivered,
    Outcome,
    Permanent,
    Retryable,
    transport_failure,
)
from complaints_notifier.outbound.templates import render, title

KIND = "email"


def smtp_outcome(code: int, message: str) -> Outcome:
    """RFC 5321: 4xx is a transient failure, 5xx permanent."""
    reason = f"SMTP {code}: {message}"[:300]
    if 400 <= code < 500:
        return Retryable(reason)
    return Permanent(reason)


class EmailChannel:
    """To the configured `to` plus the owners' email contacts (the mentions)."""

    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int = 587,
        sender: str,
        to: tuple[str, ...] = (),
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,  # None: upgrade when the server offers STARTTLS
        cert_bundle: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._host = host
        self._port = port
        self._sender = sender
        self._to = to
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._cert_bundle = cert_bundle
        self._timeout = timeout

    def message(self, notification: Notification, *, now: datetime) -> EmailMessage:
        recipients = tuple(dict.fromkeys((*self._to, *notification.context.mentions)))
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = title(notification)
        message["Date"] = format_datetime(now)
        # Stable per notification, so a retried copy threads with (and can be deduped against) it.
        message["Message-ID"] = make_msgid(idstring=notification.id, domain="complaints.local")
        message["X-Notification-Id"] = notification.id
        message.set_content(render(notification, format="txt"))
        message.add_alternative(render(notification, format="html"), subtype="html")
        return message

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        message = self.message(notification, now=now)
        if not message["To"]:
            return Permanent("no recipients: set `to` or owners' email contacts")
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
                cert_bundle=self._cert_bundle,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            worst = max(codes) if codes else 550
            return smtp_outcome(worst, "; ".join(r.message for r in exc.recipients))
        except aiosmtplib.SMTPResponseException as exc:
            return smtp_outcome(exc.code, exc.message)
        except aiosmtplib.SMTPTimeoutError as exc:
            return transport_failure("timeout", str(exc))
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
            return transport_failure("connection error", f"{type(exc).__name__}: {exc}"[:300])
        except aiosmtplib.SMTPException as exc:  # e.g. STARTTLS required but not offered
            return Permanent(f"SMTP: {type(exc).__name__}: {exc}"[:300])
        return Delivered()

    async def aclose(self) -> None:
        return None
