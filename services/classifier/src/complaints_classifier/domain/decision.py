"""The final decision: scope from risk and the window, assembled into ComplaintClassified."""

from __future__ import annotations

from datetime import datetime, timedelta

from complaints_classifier.domain.content import ContentDecision
from complaints_classifier.domain.rules import CommonRule
from complaints_classifier.domain.window import WindowOutcome
from complaints_schemas.events import ComplaintClassified, Reason, Scope


def decide(
    content: ContentDecision,
    window: WindowOutcome,
    *,
    rule: CommonRule,
    classified_at: datetime,
) -> ComplaintClassified:
    """Risk wins over common; common while the fingerprint's cluster is open; else individual."""
    member = window.cluster_id is not None and not window.late
    if content.risk_rule is not None:
        scope = Scope.RISK
    elif member:
        scope = Scope.COMMON
    else:
        scope = Scope.INDIVIDUAL
    return ComplaintClassified(
        complaint_id=content.complaint.complaint_id,
        classified_at=classified_at,
        severity=content.severity,
        scope=scope,
        category=content.category,
        department=content.department,
        fingerprint=content.fingerprint,
        cluster_id=window.cluster_id if member else None,
        cluster_size=window.cluster_size if member else None,
        reasons=(*content.reasons, window_reason(window, rule=rule, member=member)),
        complaint=content.complaint,
    )


def window_reason(window: WindowOutcome, *, rule: CommonRule, member: bool) -> Reason:
    span = human_duration(rule.window)
    counted = f"{window.count} similar complaint(s) within {span} (threshold {rule.threshold})"
    if window.duplicate:
        counted += "; this complaint was already counted"
    if window.late:
        return Reason(
            decision="scope",
            rule="scope.window.late",
            detail=f"accepted more than {span} before the newest similar complaint; not counted",
        )
    if member:
        state = "opened by this complaint" if window.opened else "open"
        return Reason(
            decision="scope",
            rule="scope.common",
            detail=f"{counted}; cluster {window.cluster_id} {state}, size {window.cluster_size}",
        )
    return Reason(decision="scope", rule="scope.individual", detail=counted)


def human_duration(span: timedelta) -> str:
    """24h, 7d, 30m, 90s: days only beyond one day, as people write windows."""
    seconds = int(span.total_seconds())
    if seconds > 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
