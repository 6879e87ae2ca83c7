"""Routing: which receivers get an escalation, whom they mention, and when they keep quiet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
class RoleEntry:
    """Who one policy target (a role such as `team_lead` or `legal`) is in one department:
    the receivers (and so channels) that page it, and the owners those messages mention."""

    receivers: tuple[str, ...]
    owners: tuple[str, ...] = ()


ANY_DEPARTMENT = "*"


@dataclass(frozen=True, slots=True)
class Directory:
    """Who is paged. `roles`: department x role (the escalation policy's chain targets) ->
    receivers and owners, `*` for a department without its own entry for that role; the one
    source of truth for escalations that name targets. `by_department`: owners per escalation
    level, only for escalations that name no target the directory knows (a level without an
    entry uses the nearest lower one, and `*` a department without an entry)."""

    owners: Mapping[str, Owner] = field(default_factory=dict)
    by_department: Mapping[str, Mapping[int, tuple[str, ...]]] = field(default_factory=dict)
    roles: Mapping[str, Mapping[str, RoleEntry]] = field(default_factory=dict)

    def role(self, *, department: str, role: str) -> RoleEntry | None:
        """The department's own entry for `role`, else the `*` entry, else None."""
        own = self.roles.get(department, {}).get(role)
        return own if own is not None else self.roles.get(ANY_DEPARTMENT, {}).get(role)

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


@dataclass(frozen=True, slots=True)
class Addressees:
    """Whom one escalation pages: receivers, each with the owners it mentions, and the targets
    the directory does not know (then the routing tree's receivers are added: never dropped)."""

    receivers: tuple[str, ...]
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_targets: bool = False
    unresolved: tuple[str, ...] = ()


def addressees(routing: Routing, escalation: ComplaintEscalated) -> Addressees:
    """The escalation's targets through the directory's roles for its department; the routing
    tree when it names none the directory knows (or the directory has no roles)."""
    if not routing.directory.roles or not escalation.targets:
        return Addressees(receivers=matching_receivers(routing.tree, escalation))
    receivers: list[str] = []
    owners: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for target in escalation.targets:
        entry = routing.directory.role(department=escalation.department, role=target)
        if entry is None:
            unresolved.append(target)
            continue
        for name in entry.receivers:
            receivers.append(name)
            owners.setdefault(name, []).extend(entry.owners)
    if unresolved:
        receivers.extend(matching_receivers(routing.tree, escalation))
    return Addressees(
        receivers=tuple(dict.fromkeys(receivers)),
        owners={name: tuple(dict.fromkeys(found)) for name, found in owners.items()},
        by_targets=len(unresolved) < len(escalation.targets),
        unresolved=tuple(unresolved),
    )


def overrides_quiet_hours(escalation: ComplaintEscalated) -> bool:
    """Red and risk alerts are delivered even in quiet hours."""
    return escalation.severity is Severity.RED or escalation.scope is Scope.RISK


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one escalation goes now, and which receivers stay quiet (muted, as in Alertmanager)."""

    routes: tuple[Route, ...]
    muted: tuple[str, ...] = ()
    # The escalation's targets the directory has no entry for (the tree was used for them).
    unresolved: tuple[str, ...] = ()


def route(routing: Routing, escalation: ComplaintEscalated, *, now: datetime) -> Decision:
    """Routes for the receivers the targets (or the tree) name, minus those in quiet hours
    (unless overridden)."""
    routes: list[Route] = []
    muted: list[str] = []
    urgent = overrides_quiet_hours(escalation)
    found = addressees(routing, escalation)
    for name in found.receivers:
        receiver = routing.receivers[name]
        if receiver.quiet_hours and not urgent and receiver.quiet_hours.contains(now):
            muted.append(name)
            continue
        routes.append(Route(receiver=name, channel=receiver.channel))
    return Decision(routes=tuple(routes), muted=tuple(muted), unresolved=found.unresolved)


def _owners(
    routing: Routing, escalation: ComplaintEscalated, receiver: str | None
) -> tuple[Owner, ...]:
    """The owners a message to `receiver` names: those of the targets routed to it, or (routed by
    the tree) the department's owners at this level."""
    found = addressees(routing, escalation)
    if found.by_targets:
        names = (
            found.owners.get(receiver, ())
            if receiver is not None
            else tuple(dict.fromkeys(n for ns in found.owners.values() for n in ns))
        )
        return tuple(routing.directory.owners[n] for n in names)
    return routing.directory.owners_for(department=escalation.department, level=escalation.level)


def mentions(
    routing: Routing,
    escalation: ComplaintEscalated,
    *,
    channel: str,
    receiver: str | None = None,
) -> tuple[str, ...]:
    """Contacts, on the kind of `channel`, of the owners a message to `receiver` names."""
    kind = routing.channel_kinds.get(channel, channel)
    owners = _owners(routing, escalation, receiver)
    return tuple(o.contacts[kind] for o in owners if kind in o.contacts)


def owner_names(
    routing: Routing, escalation: ComplaintEscalated, *, receiver: str | None = None
) -> tuple[str, ...]:
    """Who owns this escalation step (for the message text)."""
    return tuple(o.name for o in _owners(routing, escalation, receiver))


@dataclass(frozen=True, slots=True)
class PolicyTarget:
    """One chain level's target in the escalation policy, where it is written, and the
    departments its policy matches (empty: any department)."""

    target: str
    line: int
    where: str
    departments: frozenset[str] = frozenset()


def uncovered(
    directory: Directory, targets: Iterable[PolicyTarget]
) -> tuple[tuple[PolicyTarget, str], ...]:
    """(target, department) pairs with no receiver in the directory's roles: a policy matching
    any department needs the role under `*`; one matching named departments, under each (or `*`)."""
    missing: list[tuple[PolicyTarget, str]] = []
    for target in targets:
        for department in sorted(target.departments) or [ANY_DEPARTMENT]:
            entry = directory.role(department=department, role=target.target)
            if entry is None or not entry.receivers:
                missing.append((target, department))
    return tuple(missing)
