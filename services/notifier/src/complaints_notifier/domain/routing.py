"""Routing: which receivers get an escalation, whom they mention, and when they keep quiet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from complaints_notifier.domain.display_names import DEFAULT_NAMES, DisplayNames
from complaints_notifier.domain.notification import Route
from complaints_schemas.events import ComplaintEscalated, Scope, Severity

# Kinds of channel a receiver can use; an owner's contact is keyed by the same names.
CHANNEL_KINDS = frozenset({"webhook", "wecom", "dingtalk", "feishu", "slack", "email"})


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions of one route node; an empty field matches anything."""

    departments: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    level_min: int | None = None
    level_max: int | None = None

    def __call__(self, escalation: ComplaintEscalated) -> bool:
        def one(allowed: frozenset[str], value: str) -> bool:
            return not allowed or value in allowed

        return (
            one(self.departments, escalation.department)
            and one(self.severities, escalation.severity.value)
            and one(self.scopes, escalation.scope.value)
            and one(self.categories, escalation.category)
            and (self.level_min is None or escalation.level >= self.level_min)
            and (self.level_max is None or escalation.level <= self.level_max)
        )


@dataclass(frozen=True, slots=True)
class RouteNode:
    """Alertmanager semantics: children are tried in order; the first match wins unless it says
    `continue`; a node whose children all miss uses its own receivers."""

    match: Match = Match()
    receivers: tuple[str, ...] = ()
    routes: tuple[RouteNode, ...] = ()
    continue_: bool = False


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in a fixed UTC offset; `start > end` wraps past midnight."""

    start: time
    end: time
    utc_offset: timedelta = timedelta(hours=8)

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(timezone(self.utc_offset)).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class Receiver:
    """A named destination: one channel instance, an optional fallback instance, quiet hours."""

    name: str
    channel: str
    fallback: str | None = None
    quiet_hours: QuietHours | None = None
    language: str = "zh"


@dataclass(frozen=True, slots=True)
class Owner:
    """A person or a group, reachable per channel kind (DingTalk mobile, WeCom user id, ...)."""

    name: str
    kind: str = "person"
    contacts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Directory:
    """Owners per department and escalation level; a level without an entry uses the nearest
    lower one, and `*` is the department used when a department has no entry."""

    owners: Mapping[str, Owner] = field(default_factory=dict)
    by_department: Mapping[str, Mapping[int, tuple[str, ...]]] = field(default_factory=dict)

    def owners_for(self, *, department: str, level: int) -> tuple[Owner, ...]:
        levels = self.by_department.get(department) or self.by_department.get("*") or {}
        eligible = [lvl for lvl in levels if lvl <= level]
        if not eligible:
            return ()
        return tuple(self.owners[name] for name in levels[max(eligible)])


@dataclass(frozen=True, slots=True)
class Routing:
    """The whole configuration: tree, receivers (by name), channel kinds (instance -> kind)."""

    tree: RouteNode
    receivers: Mapping[str, Receiver]
    channel_kinds: Mapping[str, str]
    directory: Directory = Directory()
    names: DisplayNames = DEFAULT_NAMES


def matching_receivers(node: RouteNode, escalation: ComplaintEscalated) -> tuple[str, ...]:
    """Receiver names for an escalation that matched `node` (depth first, see RouteNode)."""
    found: list[str] = []
    for child in node.routes:
        if not child.match(escalation):
            continue
        found.extend(matching_receivers(child, escalation))
        if not child.continue_:
            break
    if not found:
        found.extend(node.receivers)
    return tuple(dict.fromkeys(found))  # once each, in order


def overrides_quiet_hours(escalation: ComplaintEscalated) -> bool:
    """Red and risk alerts are delivered even in quiet hours."""
    return escalation.severity is Severity.RED or escalation.scope is Scope.RISK


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one escalation goes now, and which receivers stay quiet (muted, as in Alertmanager)."""

    routes: tuple[Route, ...]
    muted: tuple[str, ...] = ()


def route(routing: Routing, escalation: ComplaintEscalated, *, now: datetime) -> Decision:
    """Routes for the receivers the tree names, minus those in quiet hours (unless overridden)."""
    routes: list[Route] = []
    muted: list[str] = []
    urgent = overrides_quiet_hours(escalation)
    for name in matching_receivers(routing.tree, escalation):
        receiver = routing.receivers[name]
        if receiver.quiet_hours and not urgent and receiver.quiet_hours.contains(now):
            muted.append(name)
            continue
        routes.append(Route(receiver=name, channel=receiver.channel))
    return Decision(routes=tuple(routes), muted=tuple(muted))


def mentions(routing: Routing, escalation: ComplaintEscalated, *, channel: str) -> tuple[str, ...]:
    """Contacts of the department's owners at this level on the kind of `channel`."""
    kind = routing.channel_kinds.get(channel, channel)
    owners = routing.directory.owners_for(department=escalation.department, level=escalation.level)
    return tuple(o.contacts[kind] for o in owners if kind in o.contacts)


def owner_names(routing: Routing, escalation: ComplaintEscalated) -> tuple[str, ...]:
    """Who owns this escalation step (for the message text)."""
    owners = routing.directory.owners_for(department=escalation.department, level=escalation.level)
    return tuple(o.name for o in owners)
