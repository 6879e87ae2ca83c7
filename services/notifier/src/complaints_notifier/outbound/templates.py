"""Jinja2 templates per language and format: markdown (robots), Slack mrkdwn, text and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import jinja2

from complaints_notifier.domain.alert_view import alert_view
from complaints_notifier.domain.notification import Notification
from complaints_schemas.pii import mask

Format = Literal["md", "slack", "txt", "html"]
LANGUAGES = ("zh", "en")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
)


def render(
    notification: Notification,
    *,
    format: Format,
    mention_text: str = "",
    customer: str | None = None,
) -> str:
    """The alert in the receiver's language; the customer's contact is masked here."""
    language = notification.context.language
    if language not in LANGUAGES:
        language = "zh"
    contact = customer or notification.escalation.customer_contact
    view = alert_view(notification, customer=mask(contact) if contact else None)
    template = _ENV.get_template(f"{language}/alert.{format}.j2")
    return template.render(v=view, mention_text=mention_text).strip()


def title(notification: Notification) -> str:
    """A one-line title (robot cards, email subject)."""
    e = notification.escalation
    context = notification.context
    count = len(context.folded)
    prefix = f"[{count}] " if count > 1 else ""
    language = "en" if context.language == "en" else "zh"
    clock = context.names.name("clocks", e.clock, language=language)
    if language == "en":
        state = "overdue" if e.kind.value == "breach" else "due soon"
        return f"{prefix}[{e.severity.value.upper()}] Complaint, {clock} {state}: {e.title}"
    state = "已超时" if e.kind.value == "breach" else "即将超时"
    severity = context.names.name("severities", e.severity.value, language=language)
    return f"{prefix}【{severity}】投诉【{clock}】{state}：{e.title}"
