"""Reads and validates config/escalation/policy.yaml; errors name the file and line."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from complaints_escalation.domain.calendar import (
    CALENDAR_24X7,
    WEEKDAYS,
    CalendarError,
    Calendars,
    CalendarSpec,
    HolidayData,
    WorkingCalendar,
    build_calendar,
)
from complaints_escalation.domain.policy import (
    CLASSIFIED_EVENT,
    Chain,
    ClockRule,
    ClockSpec,
    EscalationPolicy,
    Level,
    Match,
    PolicyRule,
    Target,
    Unit,
    WarningRule,
)
from complaints_escalation.outbound.yaml_lines import ConfigError, Node, Reader
from complaints_schemas.events import CustomerTier, LifecycleAction, Scope, Severity

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z_ ]+?)\s*$")
_UNITS: dict[str, tuple[Unit, float]] = {
    "second": (Unit.MINUTES, 1 / 60),
    "seconds": (Unit.MINUTES, 1 / 60),
    "minute": (Unit.MINUTES, 1),
    "minutes": (Unit.MINUTES, 1),
    "hour": (Unit.HOURS, 1),
    "hours": (Unit.HOURS, 1),
    "business hour": (Unit.BUSINESS_HOURS, 1),
    "business hours": (Unit.BUSINESS_HOURS, 1),
    "working day": (Unit.WORKING_DAYS, 1),
    "working days": (Unit.WORKING_DAYS, 1),
}
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DURATION = TypeAdapter(timedelta)


class PolicyError(ConfigError):
    """An invalid policy file; the message starts with `file:line:`."""


def load_policy(path: Path, *, holiday_data: HolidayData | None) -> EscalationPolicy:
    """The policy in `path`, validated; raises PolicyError naming the file and line."""
    reader = _Reader(path)
    return reader.policy(reader.load(), holiday_data)


class _Reader(Reader):
    error = PolicyError
    what = "policy file"

    def policy(self, data: Any, holiday_data: HolidayData | None) -> EscalationPolicy:
        root = self.mapping(data, "the file")
        self.check_keys(
            root,
            "top level",
            {
                "version",
                "calendars",
                "departments",
                "owners",
                "policies",
                "unknown_complaint_grace",
            },
        )
        if "version" not in root:
            raise self.fail(root, "version is required (it is recorded on every complaint)")
        if "owners" in root:
            owners = root["owners"]
            raise self.fail(
                owners if hasattr(owners, "line") else root,
                "owners: who is paged is no longer named here: chain targets are roles "
                "(team_lead, legal, ...) resolved per department by the notifier's directory "
                "(directory.roles in config/notifier/routing.yaml); remove this section",
            )
        calendars = self.calendars(root, holiday_data)
        rules_raw = root.get("policies")
        if not isinstance(rules_raw, list) or not rules_raw:
            raise self.fail(root, "policies must be a non-empty list")
        rules = tuple(self.rule(r, i, calendars) for i, r in enumerate(rules_raw))
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise self.fail(root, "policy names must be unique")
        grace = self.guard(
            root,
            "unknown_complaint_grace",
            lambda: _duration(root.get("unknown_complaint_grace", "15 minutes")),
        )
        if grace <= timedelta(0):
            raise self.fail(root, "unknown_complaint_grace must be positive")
        return EscalationPolicy(
            rules=rules,
            version=str(root["version"]),
            calendars=calendars,
            unknown_complaint_grace=grace,
        )

    def calendars(self, root: Node, holiday_data: HolidayData | None) -> Calendars:
        by_name: dict[str, WorkingCalendar] = {CALENDAR_24X7.name: CALENDAR_24X7}
        for name, raw in self.mapping(root.get("calendars", {}), "calendars", root).items():
            node = self.mapping(raw, f"calendar {name}", root)
            where = f"calendar {name}"
            self.check_keys(
                node,
                where,
                {
                    "zone",
                    "hours",
                    "weekdays",
                    "national_holidays",
                    "extra_holidays",
                    "extra_workdays",
                },
            )
            spec = self.guard(
                node,
                where,
                lambda node=node, name=name: CalendarSpec(  # type: ignore[misc]
                    name=str(name),
                    zone=str(node.get("zone", "UTC")),
                    hours=tuple(_span(s) for s in node.get("hours", ())),
                    weekdays=frozenset(DAYS[str(d).lower()[:3]] for d in node["weekdays"])
                    if "weekdays" in node
                    else WEEKDAYS,
                    national_holidays=_national(node.get("national_holidays")),
                    extra_holidays=frozenset(_date(d) for d in node.get("extra_holidays", ())),
                    extra_workdays=frozenset(_date(d) for d in node.get("extra_workdays", ())),
                ),
            )
            try:
                by_name[str(name)] = build_calendar(spec, holiday_data=holiday_data)
            except CalendarError as exc:
                raise self.fail(node, str(exc)) from exc
        by_department: dict[str, str] = {}
        for dept, raw in self.mapping(root.get("departments", {}), "departments", root).items():
            node = self.mapping(raw, f"department {dept}", root)
            self.check_keys(node, f"department {dept}", {"calendar"})
            cal = str(node.get("calendar", ""))
            if cal not in by_name:
                raise self.fail(node, f"department {dept}: unknown calendar {cal!r}")
            by_department[str(dept)] = cal
        return Calendars(by_name=by_name, by_department=by_department, holiday_data=holiday_data)

    def rule(self, raw: Any, index: int, calendars: Calendars) -> PolicyRule:
        node = self.mapping(raw, f"policy #{index + 1}")
        self.check_keys(node, f"policy #{index + 1}", {"name", "match", "clocks"})
        name = str(node.get("name") or f"policy-{index + 1}")
        m = self.mapping(node.get("match", {}) or Node(), f"policy {name}: match", node)
        self.check_keys(
            m, f"policy {name}: match", {"severity", "scope", "category", "department", "tier"}
        )
        match = self.guard(
            m,
            f"policy {name}: match",
            lambda: Match(
                severity=frozenset(Severity(v) for v in _list(m.get("severity"))),
                scope=frozenset(Scope(v) for v in _list(m.get("scope"))),
                category=frozenset(str(v) for v in _list(m.get("category"))),
                department=frozenset(str(v) for v in _list(m.get("department"))),
                tier=frozenset(CustomerTier(v) for v in _list(m.get("tier"))),
            ),
        )
        clocks_raw = node.get("clocks")
        if not isinstance(clocks_raw, list) or not clocks_raw:
            raise self.fail(node, f"policy {name}: clocks must be a non-empty list")
        clocks = tuple(self.clock(c, name, calendars, node) for c in clocks_raw)
        return PolicyRule(name=name, match=match, clocks=clocks)

    def clock(self, raw: Any, policy: str, calendars: Calendars, parent: Node) -> ClockRule:
        node = self.mapping(raw, f"policy {policy}: clock", parent)
        where = f"policy {policy}, clock {node.get('name', '?')}"
        self.check_keys(
            node,
            where,
            {
                "name",
                "target",
                "target_by_severity",
                "calendar",
                "start",
                "stop",
                "pause",
                "resume",
                "restart",
                "warnings",
                "chain",
                "per_cluster",
                "inhibited_by",
                "inhibits",
                "update_at",
            },
        )
        if "name" not in node:
            raise self.fail(node, f"{where}: name is required")
        if "target" not in node and "target_by_severity" not in node:
            raise self.fail(node, f"{where}: target or target_by_severity is required")
        by_severity = self.guard(
            node,
            where,
            lambda: {
                Severity(k): _target(v)
                for k, v in self.mapping(node.get("target_by_severity", {}), where, node).items()
            },
        )
        if "target" not in node and set(by_severity) != set(Severity):
            raise self.fail(node, f"{where}: target_by_severity needs red, yellow and green")
        calendar = str(node.get("calendar", CALENDAR_24X7.name))
        if calendar not in calendars.by_name:
            raise self.fail(node, f"{where}: unknown calendar {calendar!r}")
        chain_node = self.mapping(node.get("chain", {}) or Node(), f"{where}: chain", node)
        spec = self.guard(
            node,
            where,
            lambda: ClockSpec(
                name=str(node["name"]),
                target=_target(node["target"]) if "target" in node else by_severity[Severity.GREEN],
                calendar=calendar,
                start=_start(node.get("start", CLASSIFIED_EVENT)),
                stop=_actions(node.get("stop")),
                pause=_actions(node.get("pause", [LifecycleAction.PAUSED.value])),
                resume=_actions(node.get("resume", [LifecycleAction.RESUMED.value])),
                restart=_actions(node.get("restart")),
                per_cluster=bool(node.get("per_cluster", False)),
                inhibited_by=frozenset(str(n) for n in _list(node.get("inhibited_by"))),
                inhibits=frozenset(str(n) for n in _list(node.get("inhibits"))),
                update_at=tuple(sorted({int(n) for n in _list(node.get("update_at"))})),
                warnings=tuple(self.warning(w, where, node) for w in _list(node.get("warnings"))),
                chain=self.chain(chain_node, where),
            ),
        )
        if spec.per_cluster and (len(spec.chain.levels) > 1 or spec.chain.repeat_every):
            # An ack through the cluster's alert reaches the one complaint it names; a later
            # level or a repeat would still fire from every other member's clock.
            raise self.fail(
                node,
                f"{where}: a per_cluster clock has one level and no repeat_every"
                " (an acknowledgement is not cluster-wide: later levels would not stop)",
            )
        if any(not t.elapsed for t in (spec.target, *by_severity.values())) and (
            calendar == CALENDAR_24X7.name and not calendars.by_department
        ):
            raise self.fail(node, f"{where}: business hours and working days need a calendar")
        return ClockRule(spec=spec, target_by_severity=by_severity)

    def warning(self, raw: Any, where: str, parent: Node) -> WarningRule:
        node = self.mapping(raw, f"{where}: warning", parent)
        self.check_keys(node, f"{where}: warning", {"percent", "lead"})
        return self.guard(
            node,
            f"{where}: warning",
            lambda: WarningRule(
                percent=float(node["percent"]) if "percent" in node else None,
                lead=_duration(node["lead"]) if "lead" in node else None,
            ),
        )

    def chain(self, node: Node, where: str) -> Chain:
        self.check_keys(node, f"{where}: chain", {"levels", "repeat_every", "max_repeats"})
        levels_raw = node.get("levels") or [{"after": 0}]
        levels = []
        for n, raw in enumerate(levels_raw, start=1):
            lv = self.mapping(raw, f"{where}: chain level {n}", node)
            self.check_keys(lv, f"{where}: chain level {n}", {"after", "targets"})
            levels.append(
                self.guard(
                    lv,
                    f"{where}: chain level {n}",
                    lambda lv=lv, n=n: Level(  # type: ignore[misc]
                        level=n,
                        after=_duration(lv.get("after", 0)),
                        targets=tuple(str(t) for t in _list(lv.get("targets"))),
                    ),
                )
            )
        return self.guard(
            node,
            f"{where}: chain",
            lambda: Chain(
                levels=tuple(levels),
                repeat_every=_duration(node["repeat_every"]) if "repeat_every" in node else None,
                max_repeats=_max_repeats(node.get("max_repeats")),
            ),
        )


def _max_repeats(value: Any) -> int | None:
    """Absent, `none` or null: repeat until someone acts on the complaint."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
        return None
    if isinstance(value, bool):
        raise ValueError("max_repeats must be a whole number or none")
    return int(value)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _target(value: Any) -> Target:
    """'10 minutes', '2 hours', '8 business hours', '3 working days' (a bare number: seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Target(float(value) / 60, Unit.MINUTES)
    found = _AMOUNT.match(str(value).lower())
    if not found or found.group(2) not in _UNITS:
        raise ValueError(
            f"target {value!r}: use '<n> seconds|minutes|hours|business hours|working days'"
        )
    unit, factor = _UNITS[found.group(2)]
    return Target(float(found.group(1)) * factor, unit)


def _duration(value: Any) -> timedelta:
    """Seconds, ISO-8601 ('PT12H') or '<n> seconds|minutes|hours|days'."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    found = _AMOUNT.match(text)
    if found:
        unit = found.group(2).rstrip("s")
        if unit in ("second", "minute", "hour", "day"):
            return timedelta(**{unit + "s": float(found.group(1))})
        raise ValueError(f"duration {value!r}: unknown unit")
    return _DURATION.validate_python(str(value))


def _span(value: Any) -> tuple[time, time]:
    found = _SPAN.match(str(value).replace(" ", ""))
    if not found:
        raise ValueError(f"working period {value!r}: use 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    return time(h1, m1), time(h2, m2)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _national(value: Any) -> bool:
    if value in (None, False, "none"):
        return False
    if value in ("cn", True):
        return True
    raise ValueError(f"national_holidays {value!r}: only 'cn' (chinese-calendar) is available")


def _actions(value: Any) -> frozenset[LifecycleAction]:
    return frozenset(LifecycleAction(v) for v in _list(value))


def _start(value: Any) -> str:
    if value == CLASSIFIED_EVENT:
        return CLASSIFIED_EVENT
    return LifecycleAction(value).value
