"""Per-complaint escalation state, serialisable to JSON for the state table."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from complaints_escalation.domain.calendar import CalendarSpec
from complaints_escalation.domain.policy import (
    Chain,
    ClockSpec,
    Level,
    Target,
    Unit,
    WarningRule,
)
from complaints_schemas.events import (
    CustomerTier,
    EscalationKind,
    LifecycleAction,
    Scope,
    Severity,
)

STATE_FORMAT = 2
# A frozen spec to and from its JSON form; the codec caches them (a few hundred distinct).
SpecEncoder = Callable[["ClockSpec"], Any]
SpecDecoder = Callable[[Any], "ClockSpec"]
CalendarEncoder = Callable[["CalendarSpec"], Any]
CalendarDecoder = Callable[[Any], "CalendarSpec"]
# (year, source name, provisional): where a clock's holiday decisions came from.
HolidaySources = tuple[tuple[int, str, bool], ...]


class Status(StrEnum):
    AWAITING_CLASSIFICATION = "awaiting_classification"
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Step(NamedTuple):
    """One step of a clock: due at an instant, identified by clock, cycle, kind, level, repeat."""

    clock: str
    kind: EscalationKind
    level: int
    repeat: int
    due_at: datetime
    cycle: int = 0
    targets: tuple[str, ...] = ()

    @property
    def clock_id(self) -> str:
        """The clock's name, with the cycle after a restart (reopen) so ids stay distinct."""
        return self.clock if self.cycle == 0 else f"{self.clock}#{self.cycle}"

    @property
    def key(self) -> str:
        return f"{self.clock_id}:{self.kind}:{self.level}:{self.repeat}"


@dataclass(frozen=True, slots=True)
class SlaClock:
    """A clock with its policy frozen at start; `used` is the allowance spent before `run_since`.

    `budget` and `used` are elapsed time for minute/hour targets and working time in the
    clock's calendar otherwise. A paused clock has no `run_since`; its deadline is the last
    one computed (shown, not fired).
    """

    name: str
    spec: ClockSpec
    calendar: str
    started_at: datetime
    budget: timedelta
    deadline: datetime
    run_since: datetime | None
    used: timedelta = timedelta(0)
    cycle: int = 0
    stopped_at: datetime | None = None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    warn_at: tuple[datetime | None, ...] = ()
    # The calendar as it was when the clock started (None: 24x7, or a state from before).
    calendar_spec: CalendarSpec | None = None
    holiday_sources: HolidaySources = ()
    # An acknowledgement naming this clock (an alert's link): its chain is silent from then on,
    # while the clock itself runs on to its stop (the SLA still counts).
    acknowledged_at: datetime | None = None

    @property
    def provisional_years(self) -> tuple[int, ...]:
        """Years whose holidays this clock's deadline was computed on without official data."""
        return tuple(year for year, _, provisional in self.holiday_sources if provisional)

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.run_since is not None

    @property
    def paused(self) -> bool:
        return self.stopped_at is None and self.run_since is None

    @property
    def alerting(self) -> bool:
        """Running and not acknowledged: its warnings and chain still fire."""
        return self.running and self.acknowledged_at is None

    @property
    def clock_id(self) -> str:
        return self.name if self.cycle == 0 else f"{self.name}#{self.cycle}"

    def next_repeat(self, fired: Collection[str]) -> int | None:
        """The repeat of the top level after the last one in `fired`, or None when the chain
        does not repeat or its cap is reached; computed, never listed, so an unbounded repeat
        costs one pass over `fired`. After the last: repeats missed while the service was
        down are not in `fired` (see `steps(catch_up=True)`)."""
        chain = self.spec.chain
        if chain.repeat_every is None:
            return None
        prefix = f"{self.clock_id}:breach:{chain.levels[-1].level}:"
        repeat = 1 + max(
            (int(key[len(prefix) :]) for key in fired if key.startswith(prefix)), default=0
        )
        if chain.max_repeats is not None and repeat > chain.max_repeats:
            return None
        return repeat

    def repeats_due_by(self, at: datetime) -> int:
        """How many repeats of the top level are due by `at` (capped)."""
        chain = self.spec.chain
        if chain.repeat_every is None:
            return 0
        since = at - (self.deadline + chain.levels[-1].after)
        count = max(0, since // chain.repeat_every)
        return count if chain.max_repeats is None else min(count, chain.max_repeats)

    def repeat_due(self, repeat: int) -> datetime:
        chain = self.spec.chain
        assert chain.repeat_every is not None
        return self.deadline + chain.levels[-1].after + repeat * chain.repeat_every

    def next_pending(self, fired: tuple[str, ...]) -> datetime | None:
        """The earliest step not in `fired`, without building every step (a hot path)."""
        best: datetime | None = None
        cid = self.clock_id
        for i, at in enumerate(self.warn_at):
            if (
                at is not None
                and (best is None or at < best)
                and f"{cid}:warning:0:{i}" not in fired
            ):
                best = at
        chain = self.spec.chain
        # Levels and repeats are due in order and fire in order: the first unfired is earliest.
        for lv in chain.levels:
            if f"{cid}:breach:{lv.level}:0" not in fired:
                at = self.deadline + lv.after
                return at if best is None or at < best else best
        repeat = self.next_repeat(fired)
        if repeat is not None:
            at = self.repeat_due(repeat)
            return at if best is None or at < best else best
        return best

    def steps(
        self, *, until: datetime | None = None, fired: Collection[str] = (), catch_up: bool = False
    ) -> Iterator[Step]:
        """Warnings, breach level 1 at the deadline, then the chain's later levels and repeats.

        Repeats start after the last in `fired` and end at the cap, or at `until` (needed
        when the chain repeats without a cap). With `catch_up`, of the repeats due by `until`
        only the latest is listed: a worker back after a day down sends the owner one
        reminder, not the 48 it missed."""
        for i, at in enumerate(self.warn_at):
            if at is None:  # passed before the current run
                continue
            yield Step(self.name, EscalationKind.WARNING, 0, i, at, self.cycle)
        chain = self.spec.chain
        for lv in chain.levels:
            yield Step(
                self.name,
                EscalationKind.BREACH,
                lv.level,
                0,
                self.deadline + lv.after,
                self.cycle,
                lv.targets,
            )
        top = chain.levels[-1]
        repeat = self.next_repeat(fired)
        if repeat is None:
            return
        if until is None and chain.max_repeats is None:
            raise ValueError("an uncapped repeat lists its steps only up to an instant")
        if catch_up and until is not None:
            repeat = max(repeat, self.repeats_due_by(until))
        while chain.max_repeats is None or repeat <= chain.max_repeats:
            at = self.repeat_due(repeat)
            if until is not None and at > until:
                return
            yield Step(
                self.name, EscalationKind.BREACH, top.level, repeat, at, self.cycle, top.targets
            )
            repeat += 1


def inhibited(clock: SlaClock, clocks: Sequence[SlaClock]) -> bool:
    """Silent while a clock it names in `inhibited_by`, or one naming it in `inhibits`, alerts
    (running, unacknowledged); its steps wait and fire, in order, once the inhibition ends with
    the clock still running."""
    names, name = clock.spec.inhibited_by, clock.name
    return any(
        (o.name in names or name in o.spec.inhibits) and o.alerting
        for o in clocks
        if o is not clock and o.name != name
    )


@dataclass(frozen=True, slots=True)
class LifecycleFact:
    """The part of a lifecycle event the escalation state keeps."""

    event_id: str
    action: LifecycleAction
    occurred_at: datetime
    to_department: str | None = None
    actor: str | None = None
    note: str | None = None
    # A reclassification's new values (None: unchanged).
    severity: Severity | None = None
    scope: Scope | None = None
    category: str | None = None
    clock: str | None = None
    # A link: the complaint that joined this one as a duplicate, and its channel.
    linked_complaint_id: str | None = None
    linked_channel: str | None = None
    # A cluster opened after this complaint was classified: it is a member from then on.
    cluster_id: str | None = None
    cluster_size: int | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    severity: Severity
    scope: Scope
    category: str
    department: str
    title: str
    accepted_at: datetime
    cluster_id: str | None = None
    tier: CustomerTier = CustomerTier.STANDARD
    cluster_size: int | None = None
    customer_contact: str | None = None  # masked
    channel: str | None = None  # the channel it came through (None: a state from before)
    cluster_channels: tuple[str, ...] = ()  # its cluster's channels when last classified


@dataclass(frozen=True, slots=True)
class ComplaintState:
    """Everything escalation knows about one complaint; `version` is the timer token."""

    complaint_id: str
    status: Status = Status.AWAITING_CLASSIFICATION
    version: int = 0
    classification: Classification | None = None
    clocks: tuple[SlaClock, ...] = ()
    fired: tuple[str, ...] = ()
    early_events: tuple[LifecycleFact, ...] = ()
    seen_event_ids: tuple[str, ...] = ()
    paused_since: datetime | None = None
    policy_version: str | None = None
    # When each fired step was published (parallel to `fired`), for the ledger.
    fired_at: tuple[datetime, ...] = ()
    history: tuple[LifecycleFact, ...] = ()
    transfers: int = 0
    reclassifications: int = 0
    # While awaiting classification: when its lifecycle steps are refused as unknown_complaint.
    expires_at: datetime | None = None
    # Omni-channel: the original this complaint joined (then it has no clocks of its own), and
    # the complaints that joined this one, with their channels, in the order they came.
    duplicate_of: str | None = None
    linked: tuple[tuple[str, str | None], ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        """Its own channel, then the linked complaints' (each once)."""
        own = self.classification.channel if self.classification is not None else None
        found = [own, *(channel for _, channel in self.linked)]
        return tuple(dict.fromkeys(c for c in found if c is not None))

    def clock(self, name: str) -> SlaClock | None:
        return next((c for c in self.clocks if c.name == name), None)

    def to_json(
        self,
        *,
        spec_encoder: SpecEncoder | None = None,
        calendar_encoder: CalendarEncoder | None = None,
    ) -> dict[str, Any]:
        """JSON-ready; the encoders may replace each clock's frozen spec and calendar (e.g. by
        a cached text)."""
        encode_spec = spec_encoder or spec_json
        encode_calendar = calendar_encoder or calendar_json
        c = self.classification
        return {
            "format": STATE_FORMAT,
            "complaint_id": self.complaint_id,
            "status": self.status.value,
            "version": self.version,
            "classification": None
            if c is None
            else {
                "severity": c.severity.value,
                "scope": c.scope.value,
                "category": c.category,
                "department": c.department,
                "title": c.title,
                "accepted_at": c.accepted_at.isoformat(),
                "cluster_id": c.cluster_id,
                "tier": c.tier.value,
                "cluster_size": c.cluster_size,
                "customer_contact": c.customer_contact,
                **({} if c.channel is None else {"channel": c.channel}),
                **({"cluster_channels": list(c.cluster_channels)} if c.cluster_channels else {}),
            },
            "clocks": [_clock_json(k, encode_spec, encode_calendar) for k in self.clocks],
            "fired": list(self.fired),
            "fired_at": [t.isoformat() for t in self.fired_at],
            "early_events": [_fact_json(e) for e in self.early_events],
            "history": [_fact_json(e) for e in self.history],
            "seen_event_ids": list(self.seen_event_ids),
            "paused_since": _iso(self.paused_since),
            "policy_version": self.policy_version,
            "transfers": self.transfers,
            "reclassifications": self.reclassifications,
            **({} if self.expires_at is None else {"expires_at": self.expires_at.isoformat()}),
            **({} if self.duplicate_of is None else {"duplicate_of": self.duplicate_of}),
            **({} if not self.linked else {"linked": [list(pair) for pair in self.linked]}),
        }

    @classmethod
    def from_json(
        cls,
        data: dict[str, Any],
        *,
        spec_decoder: SpecDecoder | None = None,
        calendar_decoder: CalendarDecoder | None = None,
    ) -> ComplaintState:
        decode_spec = spec_decoder or spec_from
        decode_calendar = calendar_decoder or calendar_from
        c = data["classification"]
        return cls(
            complaint_id=data["complaint_id"],
            status=Status(data["status"]),
            version=int(data["version"]),
            classification=None
            if c is None
            else Classification(
                severity=Severity(c["severity"]),
                scope=Scope(c["scope"]),
                category=c["category"],
                department=c["department"],
                title=c["title"],
                accepted_at=datetime.fromisoformat(c["accepted_at"]),
                cluster_id=c.get("cluster_id"),
                tier=CustomerTier(c.get("tier", CustomerTier.STANDARD.value)),
                cluster_size=c.get("cluster_size"),
                customer_contact=c.get("customer_contact"),
                channel=c.get("channel"),
                cluster_channels=tuple(c.get("cluster_channels", ())),
            ),
            clocks=tuple(_clock_from(k, decode_spec, decode_calendar) for k in data["clocks"]),
            fired=tuple(data["fired"]),
            fired_at=tuple(datetime.fromisoformat(t) for t in data.get("fired_at", ())),
            early_events=tuple(_fact_from(e) for e in data["early_events"]),
            history=tuple(_fact_from(e) for e in data.get("history", ())),
            seen_event_ids=tuple(data["seen_event_ids"]),
            paused_since=_dt(data.get("paused_since")),
            policy_version=data.get("policy_version"),
            transfers=int(data.get("transfers", 0)),
            reclassifications=int(data.get("reclassifications", 0)),
            expires_at=_dt(data.get("expires_at")),
            duplicate_of=data.get("duplicate_of"),
            linked=tuple((str(cid), ch) for cid, ch in data.get("linked", ())),
        )


def _fact_json(e: LifecycleFact) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "event_id": e.event_id,
        "action": e.action.value,
        "occurred_at": e.occurred_at.isoformat(),
        "to_department": e.to_department,
    }
    if e.actor is not None:
        fact["actor"] = e.actor
    if e.note is not None:
        fact["note"] = e.note
    # Only a reclassification carries these: other facts keep their earlier form.
    if e.severity is not None:
        fact["severity"] = e.severity.value
    if e.scope is not None:
        fact["scope"] = e.scope.value
    if e.category is not None:
        fact["category"] = e.category
    if e.clock is not None:
        fact["clock"] = e.clock
    if e.linked_complaint_id is not None:
        fact["linked_complaint_id"] = e.linked_complaint_id
        fact["linked_channel"] = e.linked_channel
    if e.cluster_id is not None:
        fact["cluster_id"] = e.cluster_id
        fact["cluster_size"] = e.cluster_size
    return fact


def _fact_from(e: dict[str, Any]) -> LifecycleFact:
    return LifecycleFact(
        event_id=e["event_id"],
        action=LifecycleAction(e["action"]),
        occurred_at=datetime.fromisoformat(e["occurred_at"]),
        to_department=e.get("to_department"),
        actor=e.get("actor"),
        note=e.get("note"),
        severity=Severity(e["severity"]) if e.get("severity") else None,
        scope=Scope(e["scope"]) if e.get("scope") else None,
        category=e.get("category"),
        clock=e.get("clock"),
        linked_complaint_id=e.get("linked_complaint_id"),
        linked_channel=e.get("linked_channel"),
        cluster_id=e.get("cluster_id"),
        cluster_size=e.get("cluster_size"),
    )


def spec_json(spec: ClockSpec) -> dict[str, Any]:
    chain = spec.chain
    return {
        "name": spec.name,
        "target": [spec.target.amount, spec.target.unit.value],
        "calendar": spec.calendar,
        "start": spec.start,
        "stop": sorted(a.value for a in spec.stop),
        "pause": sorted(a.value for a in spec.pause),
        "resume": sorted(a.value for a in spec.resume),
        "restart": sorted(a.value for a in spec.restart),
        "per_cluster": spec.per_cluster,
        **({"inhibited_by": sorted(spec.inhibited_by)} if spec.inhibited_by else {}),
        **({"inhibits": sorted(spec.inhibits)} if spec.inhibits else {}),
        **({"update_at": list(spec.update_at)} if spec.update_at else {}),
        "warnings": [
            [w.percent, None if w.lead is None else w.lead.total_seconds()] for w in spec.warnings
        ],
        "chain": {
            "levels": [
                [lv.level, lv.after.total_seconds(), list(lv.targets)] for lv in chain.levels
            ],
            "repeat_every_s": None
            if chain.repeat_every is None
            else chain.repeat_every.total_seconds(),
            "max_repeats": chain.max_repeats,  # null: until someone acts
        },
    }


def spec_from(d: dict[str, Any]) -> ClockSpec:
    chain = d["chain"]
    return ClockSpec(
        name=d["name"],
        target=Target(float(d["target"][0]), Unit(d["target"][1])),
        calendar=d["calendar"],
        start=d["start"],
        stop=frozenset(LifecycleAction(a) for a in d["stop"]),
        pause=frozenset(LifecycleAction(a) for a in d["pause"]),
        resume=frozenset(LifecycleAction(a) for a in d["resume"]),
        restart=frozenset(LifecycleAction(a) for a in d["restart"]),
        per_cluster=bool(d.get("per_cluster", False)),
        inhibited_by=frozenset(d.get("inhibited_by", ())),
        inhibits=frozenset(d.get("inhibits", ())),
        update_at=tuple(int(n) for n in d.get("update_at", ())),
        warnings=tuple(
            WarningRule(percent=p, lead=None if s is None else timedelta(seconds=s))
            for p, s in d["warnings"]
        ),
        chain=Chain(
            levels=tuple(
                Level(level=int(n), after=timedelta(seconds=a), targets=tuple(t))
                for n, a, t in chain["levels"]
            ),
            repeat_every=None
            if chain["repeat_every_s"] is None
            else timedelta(seconds=chain["repeat_every_s"]),
            max_repeats=None if chain["max_repeats"] is None else int(chain["max_repeats"]),
        ),
    )


def calendar_json(spec: CalendarSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "zone": spec.zone,
        "hours": [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in spec.hours],
        "weekdays": sorted(spec.weekdays),
        "national_holidays": spec.national_holidays,
        "extra_holidays": sorted(d.isoformat() for d in spec.extra_holidays),
        "extra_workdays": sorted(d.isoformat() for d in spec.extra_workdays),
    }


def calendar_from(d: dict[str, Any]) -> CalendarSpec:
    return CalendarSpec(
        name=d["name"],
        zone=d["zone"],
        hours=tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in d["hours"]),
        weekdays=frozenset(int(w) for w in d["weekdays"]),
        national_holidays=bool(d["national_holidays"]),
        extra_holidays=frozenset(date.fromisoformat(x) for x in d["extra_holidays"]),
        extra_workdays=frozenset(date.fromisoformat(x) for x in d["extra_workdays"]),
    )


def _clock_json(
    k: SlaClock, encode_spec: SpecEncoder, encode_calendar: CalendarEncoder
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if k.calendar_spec is not None:
        extra["calendar_spec"] = encode_calendar(k.calendar_spec)
    if k.holiday_sources:
        extra["holiday_sources"] = [list(s) for s in k.holiday_sources]
    if k.acknowledged_at is not None:
        extra["acknowledged_at"] = k.acknowledged_at.isoformat()
    return {
        "name": k.name,
        "spec": encode_spec(k.spec),
        "calendar": k.calendar,
        "started_at": k.started_at.isoformat(),
        "budget_s": k.budget.total_seconds(),
        "deadline": k.deadline.isoformat(),
        "run_since": _iso(k.run_since),
        "used_s": k.used.total_seconds(),
        "cycle": k.cycle,
        "stopped_at": _iso(k.stopped_at),
        "pauses": [[a.isoformat(), _iso(b)] for a, b in k.pauses],
        "warn_at": [_iso(w) for w in k.warn_at],
        **extra,
    }


def _clock_from(
    k: dict[str, Any], decode_spec: SpecDecoder, decode_calendar: CalendarDecoder
) -> SlaClock:
    started = datetime.fromisoformat(k["started_at"])
    deadline = datetime.fromisoformat(k["deadline"])
    stopped = _dt(k.get("stopped_at"))
    if "spec" not in k:  # format 1: a 24x7 response clock with a paced chain
        spec = ClockSpec(
            name=k["name"],
            target=Target.of(deadline - started),
            stop=frozenset(
                {
                    LifecycleAction.ACKNOWLEDGED,
                    LifecycleAction.RESPONDED,
                    LifecycleAction.RESOLVED,
                    LifecycleAction.CLOSED,
                }
            ),
            pause=frozenset(),
            resume=frozenset(),
            chain=Chain.paced(
                interval=timedelta(seconds=k["level_interval_s"]), max_level=int(k["max_level"])
            ),
        )
        return SlaClock(
            name=k["name"],
            spec=spec,
            calendar=spec.calendar,
            started_at=started,
            budget=deadline - started,
            deadline=deadline,
            run_since=None if stopped else started,
            stopped_at=stopped,
        )
    return SlaClock(
        name=k["name"],
        spec=decode_spec(k["spec"]),
        calendar=k["calendar"],
        started_at=started,
        budget=timedelta(seconds=k["budget_s"]),
        deadline=deadline,
        run_since=_dt(k.get("run_since")),
        used=timedelta(seconds=k["used_s"]),
        cycle=int(k["cycle"]),
        stopped_at=stopped,
        pauses=tuple((datetime.fromisoformat(a), _dt(b)) for a, b in k["pauses"]),
        warn_at=tuple(_dt(w) for w in k["warn_at"]),
        calendar_spec=None if "calendar_spec" not in k else decode_calendar(k["calendar_spec"]),
        holiday_sources=tuple(
            (int(y), str(name), bool(p)) for y, name, p in k.get("holiday_sources", ())
        ),
        acknowledged_at=_dt(k.get("acknowledged_at")),
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
