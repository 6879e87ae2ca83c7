"""What an alert says, as plain values for the templates (pure: `now` is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from complaints_notifier.domain.notification import Notification
from complaints_schemas.events import ComplaintEscalated, EscalationKind


def human_duration(delta: timedelta, *, language: str) -> str:
    """`1h 05m` / `1小时5分`; seconds only below a minute."""
    seconds = int(abs(delta).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if language == "zh":
        if hours:
            return f"{hours}小时{minutes}分"
        return f"{minutes}分{secs}秒" if minutes else f"{secs}秒"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True, slots=True)
class AlertView:
    language: str
    escalation: ComplaintEscalated
    breach: bool
    deadline: str
    late_by: str  # how late (breach) or how long left (warning)
    cluster_count: int
    folded: int
    folded_titles: tuple[str, ...]
    owners: tuple[str, ...]
    mentions: tuple[str, ...]
    customer: str | None
    status_url: str | None
    ack_url: str | None
    # Names people read, in the view's language (configured, built in, else the id).
    clock_name: str = ""
    department_name: str = ""
    category_name: str = ""
    scope_name: str = ""
    severity_name: str = ""
    # Complaints alike: the cluster's size on a per-cluster alert (an update past a threshold
    # says "now 23"), else how many this message folds of one cluster.
    similar: int = 1


def alert_view(notification: Notification, *, customer: str | None = None) -> AlertView:
    """Everything a template shows; `customer` must already be masked."""
    escalation = notification.escalation
    context = notification.context
    language = context.language
    gap = escalation.escalated_at - escalation.deadline
    folded = context.folded or (escalation,)
    clusters = {e.cluster_id or e.complaint_id for e in folded}
    names = context.names
    cluster_count = len(folded) if len(clusters) == 1 and len(folded) > 1 else 1
    return AlertView(
        language=language,
        escalation=escalation,
        breach=escalation.kind is EscalationKind.BREACH,
        deadline=_local(escalation.deadline),
        late_by=human_duration(gap, language=language),
        cluster_count=cluster_count,
        similar=max(escalation.cluster_size or 0, cluster_count),
        folded=len(folded),
        folded_titles=tuple(f"{e.title} ({e.complaint_id})" for e in folded[:10]),
        owners=context.owners,
        mentions=context.mentions,
        customer=customer,
        status_url=context.status_url,
        ack_url=context.ack_url,
        clock_name=names.name("clocks", escalation.clock, language=language),
        department_name=names.name("departments", escalation.department, language=language),
        category_name=names.name("categories", escalation.category, language=language),
        scope_name=names.name("scopes", escalation.scope.value, language=language),
        severity_name=names.name("severities", escalation.severity.value, language=language),
    )


def _local(when: datetime) -> str:
    """Deadlines shown in China Standard Time, where the owners are."""
    return (when + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"
