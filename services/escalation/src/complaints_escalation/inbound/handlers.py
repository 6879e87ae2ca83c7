"""Record handlers: decode -> domain transition -> store, reschedule, publish."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from complaints_escalation.domain.calendar import CalendarError
from complaints_escalation.domain.clock_view import clocks_updated
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.domain.transitions import (
    Escalation,
    Outcome,
    Transition,
    due_steps,
    link_event,
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
    unknown_expired,
)
from complaints_escalation.metrics import EscalationMetrics, OpenComplaints
from complaints_escalation.outbound.publisher import Outgoing, Publisher, encode_escalated
from complaints_escalation.outbound.state_store import StateStore
from complaints_escalation.scheduling.due_message import DueBatch, DueMessage, InvalidDueMessage
from complaints_escalation.scheduling.index import DueEntry
from complaints_escalation.scheduling.release import Held, Release
from complaints_escalation.scheduling.timer import RETRY_DELAY, Timer
from complaints_kit.clock import Clock
from complaints_kit.records import Origin
from complaints_schemas.cloudevents import DecodeError, Headers, decode
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintClocksUpdated,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    Event,
)
from complaints_schemas.topics import LIFECYCLE

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

# A long batch yields to the event loop this often (sends due meanwhile go out on time).
YIELD_EVERY = 50
# Entries per `fired` message (each entry ~60 bytes).
MAX_FIRED_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Prepared:
    """One complaint's escalations, built and encoded before their instant."""

    complaint_id: str
    token: int
    partition: int
    at: datetime
    escalations: tuple[Escalation, ...]
    records: list[Outgoing]
    state: ComplaintState  # as prepared from (version `token`): recorded without a decode


@dataclass(frozen=True, slots=True)
class Unknown:
    """A complaint never classified whose grace window ends at `at` (handed over early by
    the look-ahead): refused at its instant, not before."""

    complaint_id: str
    token: int
    partition: int
    at: datetime


# Where clock views go (complaints.clocks-updated.v1): a batch, delivery awaited once.
ClockViews = Callable[[Sequence[ComplaintClocksUpdated]], Awaitable[None]]


class Handlers:
    """One instance per worker; every method is safe against bad input and redelivery."""

    def __init__(
        self,
        *,
        store: StateStore,
        timer: Timer,
        publisher: Publisher,
        policy: EscalationPolicy,
        clock: Clock,
        metrics: EscalationMetrics,
        clock_views: ClockViews | None = None,
        clock_view_batches: ClockViews | None = None,
        links: Callable[[ComplaintLifecycleEvent], Awaitable[None]] | None = None,
    ) -> None:
        # Where a duplicate's `linked` step goes (complaints.lifecycle.v1, keyed by the original).
        self.links = links
        self.store = store
        # Where the clocks go after each change (complaints.clocks-updated.v1), for read models:
        # queued per record (delivered before faust commits the cause), or, after a batch of
        # fired steps, sent together and awaited once.
        self.clock_views = clock_views
        self.clock_view_batches = clock_view_batches or clock_views
        self.timer = timer
        self.publisher = publisher
        self.policy = policy
        self.clock = clock
        self.metrics = metrics
        self.open = OpenComplaints(metrics.open_complaints, metrics.open_by_department)
        # Prepared escalations wait here for their instant; `release.run` is the sending task.
        self.release: Release[Prepared | Unknown] = Release(clock=clock, send=self.send_held)
        # Prepared or sent, not yet recorded as fired: not prepared a second time meanwhile.
        self._in_flight: dict[str, Prepared] = {}

    async def classified(self, value: bytes | None, headers: Headers, origin: Origin) -> None:
        self.metrics.events.labels("classified").inc()
        event = await self._decode(ComplaintClassified, value, headers, origin)
        if event is None:
            return
        before = self.store.get(event.complaint_id)
        try:
            result = on_classified(before, event, policy=self.policy)
        except CalendarError as exc:
            await self._calendar_error(exc, event.complaint_id, value, origin)
            return
        self._count_provisional(before, result.state)
        self._settle(result, origin.partition, source="classified")
        await self._publish_clocks(result)
        # A duplicate tells its original, also on a redelivery (the step's id is deterministic:
        # the original applies it once), so a crash before this send is repaired by the retry.
        link = link_event(result.state)
        if link is not None and self.links is not None:
            await self.links(link)

    async def lifecycle(self, value: bytes | None, headers: Headers, origin: Origin) -> None:
        self.metrics.events.labels("lifecycle").inc()
        event = await self._decode(ComplaintLifecycleEvent, value, headers, origin)
        if event is None:
            return
        before = self.store.get(event.complaint_id)
        try:
            result = on_lifecycle(before, event, policy=self.policy, now=self.clock.now())
        except CalendarError as exc:
            await self._calendar_error(exc, event.complaint_id, value, origin)
            return
        self._count_provisional(before, result.state)
        self._settle(result, origin.partition, source="lifecycle")
        await self._publish_clocks(result)

    async def due(self, value: bytes | None, origin: Origin) -> None:
        """Prepare the escalations of entries due now or soon and hold them until their
        instant (`release` sends them); or, for a `fired` message, record what was sent."""
        self.metrics.events.labels("timer").inc()
        try:
            batch = DueBatch.from_bytes(value)
        except InvalidDueMessage:
            log.warning("invalid due message dropped", extra={"offset": origin.offset})
            self.metrics.due_dropped.labels("invalid").inc()
            return
        if batch.fired:
            await self._record_fired(batch, origin.partition)
            return
        now = self.clock.now()
        held: list[Held[Prepared | Unknown]] = []
        views: list[ComplaintState] = []
        for n, message in enumerate(batch.items, 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long batch does not hold up sends due meanwhile
            flying = self._in_flight.get(message.complaint_id)
            if flying is not None and flying.token == message.token:
                self.metrics.due_dropped.labels("in_flight").inc()
                continue
            state = self.store.get(message.complaint_id)
            if state is None:
                self.metrics.due_dropped.labels("unknown").inc()
                continue
            # Built for the instant it goes out: escalated_at is the due instant (or now).
            at = max(now, message.due_at)
            if unknown_expired(state, token=message.token, now=at):
                if at > now:  # handed over early: held, and refused at its instant
                    pending = Unknown(state.complaint_id, message.token, origin.partition, at)
                    held.append(Held(at, origin.partition, pending))
                else:
                    await self._refuse_unknown(state, now=now, partition=origin.partition)
                continue
            escalations = on_due(state, token=message.token, now=at)
            if not escalations:
                stale = state.version != message.token
                self.metrics.due_dropped.labels("stale" if stale else "nothing_due").inc()
                if not stale:  # redelivered after a crash: re-send the fired marks (see _settle)
                    self.store.put(state, partition=origin.partition)
                    views.append(state)
                self._reschedule(state, origin.partition)
                continue
            prepared = Prepared(
                complaint_id=state.complaint_id,
                token=message.token,
                partition=origin.partition,
                at=at,
                escalations=escalations,
                records=encode_escalated([e.event for e in escalations], now=at),
                state=state,
            )
            self._in_flight[state.complaint_id] = prepared
            held.append(Held(at, origin.partition, prepared))
        lookahead = self.timer.lookahead
        if batch.items and lookahead is not None:
            first = batch.items[0]
            lookahead.prepared(
                (first.complaint_id, first.token), at=self.clock.now(), entries=len(batch.items)
            )
        self.release.hold(held)
        await self._publish_clock_views(views)

    async def send_held(self, held: Sequence[Held[Prepared | Unknown]]) -> None:
        """At their instant: publish every held escalation still current, wait for the acks
        once, then ask each partition's agent to record them as fired. A crash before the
        record re-emits the same escalation ids (the notifier dedups on them). Unknown
        complaints whose grace has ended go back to their agent as due messages."""
        ready: list[Prepared] = []
        refusals: dict[int, list[DueMessage]] = {}
        for item in held:
            prepared = item.payload
            if isinstance(prepared, Unknown):
                refusals.setdefault(prepared.partition, []).append(
                    DueMessage(prepared.complaint_id, prepared.token, prepared.at)
                )
                continue
            # The version only (no decode): 10,000 at one instant must not wait for decodes.
            if self.store.version(prepared.complaint_id) != prepared.token:  # changed meanwhile
                self._forget(prepared)
                self.metrics.due_dropped.labels("stale").inc()
                state = self.store.get(prepared.complaint_id)
                if state is not None:
                    self._reschedule(state, prepared.partition)
                continue
            ready.append(prepared)
        for partition, messages in refusals.items():
            try:  # its agent refuses them (a table write belongs to stream processing)
                await self.publisher.due(DueBatch(tuple(messages)), partition=partition)
            except Exception:
                log.exception("handing unknown complaints back failed; will retry")
                retry_at = self.clock.now() + RETRY_DELAY
                for m in messages:
                    self.timer.schedule(
                        complaint_id=m.complaint_id,
                        partition=partition,
                        due_at=retry_at,
                        token=m.token,
                    )
        if not ready:
            return
        try:
            await self.publisher.escalated([r for p in ready for r in p.records])
            sent_at = self.clock.now()
            by_partition: dict[int, list[DueMessage]] = {}
            for p in ready:
                by_partition.setdefault(p.partition, []).append(
                    DueMessage(p.complaint_id, p.token, p.at)
                )
            for partition, messages in by_partition.items():
                for start in range(0, len(messages), MAX_FIRED_BATCH):
                    chunk = tuple(messages[start : start + MAX_FIRED_BATCH])
                    await self.publisher.due(DueBatch(chunk, fired=True), partition=partition)
        except Exception:
            log.exception("publishing escalations failed; will retry", extra={"n": len(ready)})
            retry_at = self.clock.now() + RETRY_DELAY
            for p in ready:
                self._forget(p)
                self.timer.schedule(
                    complaint_id=p.complaint_id,
                    partition=p.partition,
                    due_at=retry_at,
                    token=p.token,
                )
            return
        for p in ready:
            self._count_fired(p, sent_at=sent_at)

    def _forget(self, prepared: Prepared) -> None:
        """No longer in flight, unless a newer preparation for the complaint replaced it."""
        if self._in_flight.get(prepared.complaint_id) is prepared:
            del self._in_flight[prepared.complaint_id]

    def _count_fired(self, prepared: Prepared, *, sent_at: datetime) -> None:
        for escalation in prepared.escalations:
            step = escalation.step
            lag = (sent_at - step.due_at).total_seconds()
            self.metrics.escalations.labels(step.kind.value, str(step.level)).inc()
            self.metrics.steps.labels(step.clock, step.kind.value).inc()
            self.metrics.fire_lag.observe(max(0.0, lag))
            log.info(
                "escalated",
                extra={
                    "complaint_id": prepared.complaint_id,
                    "escalation_id": escalation.event.escalation_id,
                    "escalation_level": step.level,
                    "lag_s": lag,
                },
            )

    async def _record_fired(self, batch: DueBatch, partition: int) -> None:
        """Mark the published steps as fired (inside stream processing: a table write), then
        publish the clock views of the states written (one awaited delivery)."""
        views: list[ComplaintState] = []
        for n, message in enumerate(batch.items, 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            flying = self._in_flight.get(message.complaint_id)
            if flying is not None and flying.token == message.token:
                del self._in_flight[message.complaint_id]
                steps = tuple(e.step for e in flying.escalations)
            else:
                flying = None
            # Re-read: a lifecycle event may have changed the state while the sends went out.
            if flying is not None and self.store.version(message.complaint_id) == flying.token:
                current: ComplaintState | None = flying.state  # unchanged: no decode
            else:
                current = self.store.get(message.complaint_id)
            if current is None:
                continue
            if flying is None:  # another worker prepared them (a rebalance in between)
                steps = tuple(
                    step for step, _ in due_steps(current, token=message.token, now=message.due_at)
                )
            after = record_fired(current, steps, at=message.due_at)
            if after is not current:
                self.store.put(after, partition=partition)
            self._reschedule(after, partition)
            views.append(after)
        await self._publish_clock_views(views, batch=True)

    async def _publish_clocks(self, result: Transition) -> None:
        """After a change (or a redelivery, which may follow a crash before the send)."""
        if result.changed or result.outcome is Outcome.DUPLICATE:
            await self._publish_clock_views([result.state])

    async def _publish_clock_views(
        self, states: Sequence[ComplaintState], *, batch: bool = False
    ) -> None:
        publish = self.clock_view_batches if batch else self.clock_views
        if publish is None:
            return
        now = self.clock.now()
        views: list[ComplaintClocksUpdated] = []
        for state in states:
            if state.classification is None:
                continue
            try:
                views.append(clocks_updated(state, now=now, calendars=self.policy.calendars))
            except CalendarError as exc:  # the view only: the state and its clocks stand
                self.metrics.calendar_errors.labels("clock_view").inc()
                log.error(
                    "clock view not computable",
                    extra={"complaint_id": state.complaint_id, "error": str(exc)},
                )
        if views:
            await publish(views)

    async def _refuse_unknown(
        self, state: ComplaintState, *, now: datetime, partition: int
    ) -> None:
        """Dead-letter the steps of a complaint never accepted (unknown_complaint), then drop
        its state; a failed publish keeps the state and tries again."""
        grace = self.policy.unknown_complaint_grace
        try:
            for fact in state.early_events:
                event = ComplaintLifecycleEvent(
                    event_id=fact.event_id,
                    complaint_id=state.complaint_id,
                    action=fact.action,
                    occurred_at=fact.occurred_at,
                    actor=fact.actor,
                    note=fact.note,
                    to_department=fact.to_department,
                    clock=fact.clock,
                )
                rejected = ComplaintRejected(
                    reason="unknown_complaint",
                    detail=f"no complaint {state.complaint_id} was classified within {grace} "
                    f"of this {fact.action.value} step",
                    original=event.model_dump_json().encode(),
                    source="kafka",
                    source_topic=LIFECYCLE.name,
                    rejected_at=now,
                )
                await self.publisher.rejected(
                    rejected, id=f"unknown:{state.complaint_id}:{fact.event_id}"
                )
                self.metrics.rejected.labels("unknown_complaint").inc()
        except Exception:
            log.exception("dead-lettering an unknown complaint failed; will retry")
            self.timer.schedule(
                complaint_id=state.complaint_id,
                partition=partition,
                due_at=self.clock.now() + RETRY_DELAY,
                token=state.version,
            )
            return
        log.warning(
            "lifecycle steps for an unknown complaint dead-lettered",
            extra={"complaint_id": state.complaint_id, "n": len(state.early_events)},
        )
        self.store.delete(state.complaint_id)
        self.timer.schedule(
            complaint_id=state.complaint_id, partition=partition, due_at=None, token=state.version
        )
        self.metrics.pending_timers.set(len(self.timer.index))

    def rebuild(self, partitions: set[int]) -> None:
        """Rebuild the due index and open-complaint counts for these partitions from the
        states' summaries (no state is decoded: a million take seconds, not minutes)."""
        entries: dict[int, list[DueEntry]] = {p: [] for p in partitions}
        index = self.timer.index
        index.revoke(index.partitions - partitions)
        self.open.keep_only(partitions)
        recovered = 0
        for s in self.store.summaries():
            if s.partition not in entries:
                continue
            recovered += 1
            if s.due_at is not None:
                entries[s.partition].append(
                    DueEntry(s.due_at, s.complaint_id, s.token, s.partition)
                )
            self.open.update(
                complaint_id=s.complaint_id,
                partition=s.partition,
                severity=s.severity,
                department=s.department,
                publish=False,
            )
        self.open.publish()
        for partition, due in entries.items():
            index.rebuild(partition, due)
        self.metrics.recovered_states.set(recovered)
        self.metrics.pending_timers.set(len(index))
        self.timer.wake()

    def revoke(self, partitions: set[int]) -> None:
        self.release.drop(partitions)  # their new owner fires them from the states
        for cid in [c for c, p in self._in_flight.items() if p.partition in partitions]:
            del self._in_flight[cid]
        self.timer.index.revoke(partitions)
        if self.timer.lookahead is not None:
            self.timer.lookahead.forget()
        self.open.keep_only(self.timer.index.partitions)
        self.timer.wake()

    async def _calendar_error(
        self, exc: CalendarError, complaint_id: str, value: bytes | None, origin: Origin
    ) -> None:
        """A deadline that cannot be computed (a calendar with no working time, a legacy state
        naming a calendar the policy no longer has): dead-lettered with the reason, never a
        guess and never only a log line."""
        self.metrics.calendar_errors.labels("calendar").inc()
        log.error(
            "deadline not computable; record dead-lettered",
            extra={"complaint_id": complaint_id, "error": str(exc)},
        )
        await self._reject(DecodeError("processing_failed", f"calendar: {exc}"), value, origin)

    def _count_provisional(self, before: ComplaintState | None, after: ComplaintState) -> None:
        """Count each clock (re)computed on a provisional calendar, by calendar and year."""
        old = (
            {(k.name, k.cycle, k.deadline, k.holiday_sources) for k in before.clocks}
            if before
            else set()
        )
        for k in after.clocks:
            if k.provisional_years and (k.name, k.cycle, k.deadline, k.holiday_sources) not in old:
                for year in k.provisional_years:
                    self.metrics.provisional_clocks.labels(k.calendar, str(year)).inc()

    def _settle(self, result: Transition, partition: int, *, source: str) -> None:
        self.metrics.transitions.labels(source, result.outcome.value).inc()
        log.debug(
            "transition",
            extra={
                "complaint_id": result.state.complaint_id,
                "source": source,
                "outcome": result.outcome.value,
                "version": result.state.version,
            },
        )
        # A redelivered event is written again: after a crash the local store can hold a
        # state whose changelog record was never sent, and the changelog is what another
        # worker taking the partition over recovers from.
        if result.changed or result.outcome is Outcome.DUPLICATE:
            self.store.put(result.state, partition=partition)
        self._reschedule(result.state, partition)

    def _reschedule(self, state: ComplaintState, partition: int) -> None:
        self.timer.schedule(
            complaint_id=state.complaint_id,
            partition=partition,
            due_at=next_due(state),
            token=state.version,
        )
        c = state.classification
        is_open = c is not None and state.status in (Status.OPEN, Status.RESOLVED)
        self.open.update(
            complaint_id=state.complaint_id,
            partition=partition,
            severity=c.severity.value if c is not None and is_open else None,
            department=c.department if c is not None else None,
        )
        self.metrics.pending_timers.set(len(self.timer.index))

    async def _decode(
        self, model: type[E], value: bytes | None, headers: Headers, origin: Origin
    ) -> E | None:
        try:
            event = decode(model, value, headers).data
            key = (origin.key or b"").decode("utf-8", "replace")
            if key != event.kafka_key():
                # A wrong key puts the record in another partition than its complaint's state.
                raise DecodeError("invalid_envelope", f"record key {key!r} is not the complaint id")
            return event
        except DecodeError as exc:
            await self._reject(exc, value, origin)
            return None

    async def failed(self, value: bytes | None, origin: Origin, error: Exception) -> None:
        """A record whose handling raised (a bug on its path): dead-lettered with the error."""
        await self._reject(DecodeError("processing_failed", repr(error)), value, origin)

    async def _reject(self, exc: DecodeError, value: bytes | None, origin: Origin) -> None:
        self.metrics.rejected.labels(exc.reason).inc()
        log.warning(
            "rejected input",
            extra={"reason": exc.reason, "topic": origin.topic, "offset": origin.offset},
        )
        dead_letter_id, rejected = dead_letter(
            exc,
            value=value,
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            at=self.clock.now(),
        )
        await self.publisher.rejected(rejected, id=dead_letter_id)
