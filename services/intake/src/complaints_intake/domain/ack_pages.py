"""The pages an acknowledge link answers with (HTML, escaped), one per outcome."""

from __future__ import annotations

from html import escape

from complaints_schemas.ack_links import Problem

_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>{title}</h1>
{body}
</body></html>
"""

REFUSALS: dict[str, tuple[int, str, str]] = {
    # problem: (HTTP status, title, explanation)
    "expired": (
        410,
        "链接已过期 / Link expired",
        "This acknowledge link has expired. Acknowledge the complaint in the CRM, or use the "
        "link in a newer alert. 此确认链接已过期，请在工单系统中确认，或使用最新告警中的链接。",
    ),
    "signature": (
        403,
        "链接无效 / Invalid link",
        "This link was altered or was not issued by us, so it was not accepted. "
        "此链接已被修改或并非由本系统签发，未予受理。",
    ),
    "malformed": (
        400,
        "链接无效 / Invalid link",
        "This is not a complete acknowledge link (it may have been cut when copied). "
        "链接不完整（复制时可能被截断）。",
    ),
    "reused": (
        409,
        "已经确认过 / Already acknowledged",
        "This link has already been used; the acknowledgement was recorded the first time. "
        "此链接已使用过，首次确认已记录。",
    ),
    "disabled": (
        404,
        "未启用 / Not enabled",
        "Acknowledge links are not enabled on this server. 本服务器未启用确认链接。",
    ),
}


def refusal_page(problem: Problem | str) -> tuple[int, str]:
    """Status and page for a refused link."""
    status, title, text = REFUSALS[problem]
    return status, _PAGE.format(title=escape(title), body=f"<p>{escape(text)}</p>")


def what_stops(clock: str | None) -> str:
    """Exactly what acknowledging stops, in zh and en (the clock is the alert's)."""
    if clock is None:
        return (
            "Acknowledging stops the alerts of the clocks the policy stops on an "
            "acknowledgement (the first-response clock); other clocks keep alerting. "
            "确认后，策略规定在确认时停止的时限（首次响应）停止告警，其他时限继续告警。"
        )
    return (
        f"Acknowledging stops the escalation chain of the «{clock}» clock (its later levels and "
        "repeats) and the clocks the policy stops on an acknowledgement (the first-response "
        "clock). It does not resolve or close the complaint: the other clocks keep running and "
        f"alerting. 确认后，「{clock}」时限的升级链（后续级别与重复提醒）停止，"
        "首次响应时限也停止；投诉并未解决或关闭，其他时限照常计时和告警。"
    )


def confirm_page(
    *, complaint_id: str, escalation_id: str, action: str, clock: str | None = None
) -> str:
    """GET shows this form: link previews in chat apps fetch GET, so only the POST acknowledges."""
    body = (
        f"<p>Complaint / 投诉 <b>{escape(complaint_id)}</b>"
        f" (escalation {escape(escalation_id)})</p>"
        f"<p>{escape(what_stops(clock))}</p>"
        f'<form method="post" action="{escape(action)}">'
        '<button type="submit" style="font-size: 1.3em">确认受理 / Acknowledge</button></form>'
    )
    return _PAGE.format(title="确认受理 / Acknowledge", body=body)


def acknowledged_page(*, complaint_id: str, clock: str | None = None) -> str:
    stopped = (
        "its first-response escalation stops. 已确认受理，首次响应升级已停止。"
        if clock is None
        else f"the escalation of its «{clock}» clock stops. "
        f"已确认受理，「{clock}」时限的升级已停止。"
    )
    body = (
        f"<p>Complaint / 投诉 <b>{escape(complaint_id)}</b> is acknowledged; {escape(stopped)}</p>"
    )
    return _PAGE.format(title="已确认 / Acknowledged", body=body)
