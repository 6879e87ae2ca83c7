"""The final decision: scope from risk and the window, assembled into ComplaintClassified."""

from __future__ import annotations

import hashlib
from datetime import datetime

from complaints_classifier.domain.content import ContentDecision
from complaints_classifier.domain.rules import CommonRule, ScopeRules, human_duration
from complaints_classifier.domain.window import WindowOutcome
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintLifecycleEvent,
    LifecycleAction,
    Reason,
    Scope,
    Severity,
)

__all__ = ["cluster_joins", "decide", "human_duration", "risk_reasons", "window_reason"]


def decide(
    content: ContentDecision,
    window: WindowOutcome,
    *,
    rule: CommonRule,
    classified_at: datetime,
    scope: ScopeRules | None = None,
) -> ComplaintClassified:
    """Risk wins over common; common while the fingerprint's cluster is open; else individual."""
    member = window.cluster_id is not None and not window.late
    risks = risk_reasons(content, window, rules=scope or ScopeRules(common=rule), member=member)
    if content.risk_rule is not None or risks:
        decided = Scope.RISK
    elif member:
        decided = Scope.COMMON
    else:
        decided = Scope.INDIVIDUAL
    return ComplaintClassified(
        complaint_id=content.complaint.complaint_id,
        classified_at=classified_at,
        severity=content.severity,
        scope=decided,
        category=content.category,
        department=content.department,
        fingerprint=content.fingerprint,
        cluster_id=window.cluster_id if member else None,
        cluster_size=window.cluster_size if member else None,
        cluster_opened=member and window.opened,
        duplicate_of=content.duplicate_of,
        reasons=(*content.reasons, window_reason(window, rule=rule, member=member), *risks),
        complaint=content.complaint,
        model_version=content.model_version,
        confidence=content.confidence,
        needs_triage=content.needs_triage,
    )


def cluster_joins(
    event: ComplaintClassified, joined: tuple[str, ...]
) -> tuple[ComplaintLifecycleEvent, ...]:
    """The cluster `event` opened, told to the members classified before it (individual then):
    a `clustered` step keyed by each, with a deterministic id, so a resend changes nothing."""
    if not event.cluster_opened or event.cluster_id is None:
        return ()
    cluster = event.cluster_id
    return tuple(
        ComplaintLifecycleEvent(
            event_id="clustered:" + hashlib.sha256(f"{cluster}/{member}".encode()).hexdigest()[:32],
            complaint_id=member,
            action=LifecycleAction.CLUSTERED,
            occurred_at=event.classified_at,
            actor="classifier",
            note=f"{event.complaint_id} opened cluster {cluster} of {event.cluster_size}",
            cluster_id=cluster,
            cluster_size=event.cluster_size,
        )
        for member in joined
        if member != event.complaint_id
    )


def risk_reasons(
    content: ContentDecision, window: WindowOutcome, *, rules: ScopeRules, member: bool
) -> tuple[Reason, ...]:
    """Risk beyond phrases: a surge, a cluster past the risk threshold, a red VIP complaint."""
    reasons: list[Reason] = []
    surge = window.surge
    if surge is not None and surge.surging and not window.late and rules.surge is not None:
        span, base = (
            human_duration(rules.common.window),
            human_duration(rules.surge.baseline_window),
        )
        reasons.append(
            Reason(
                decision="scope",
                rule="scope.risk.surge",
                detail=f"{surge.count} similar complaint(s) within {span} >= {surge.factor:g} x "
                f"baseline {surge.baseline:.2f} (mean per {span} over the {base} before; "
                f"at least {surge.min_count})",
            )
        )
    limit = rules.common.risk_threshold
    if member and limit is not None and (window.cluster_size or 0) >= limit:
        reasons.append(
            Reason(
                decision="scope",
                rule="scope.risk.cluster_size",
                detail=f"cluster {window.cluster_id} has {window.cluster_size} complaint(s) "
                f"(risk threshold {limit})",
            )
        )
    tier = content.complaint.customer.tier
    # Red by its content (account, payment, safety, data leak), not red by the tier raise itself.
    if content.content_severity is Severity.RED and tier in rules.risk_when_red_for_tiers:
        reasons.append(
            Reason(
                decision="scope",
                rule="scope.risk.vip_red",
                detail=f"red complaint (by its content) from a {tier} customer",
            )
        )
    return tuple(reasons)


def window_reason(window: WindowOutcome, *, rule: CommonRule, member: bool) -> Reason:
    span = human_duration(rule.window)
    counted = f"{window.count} similar complaint(s) within {span} (threshold {rule.threshold})"
    if window.duplicate:
        counted += "; this complaint was already counted"
    if window.not_counted:
        counted += "; this duplicate is not counted again"
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
