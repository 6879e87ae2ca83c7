"""`complaints replay`: put dead letters and failed notifications through the pipeline again,
chosen by reason and time range; a dry run unless --apply, and idempotent.

- **Dead letters** (complaints.rejected.v1): the original record is read back from its topic,
  partition and offset (key, value and CloudEvents headers as they were) and produced again to
  that topic. A dead letter whose record has left its topic is listed as not replayable.
- **Failed notifications** (notifications.failed.v1): the escalation they belonged to is read
  back from complaints.escalated.v1 and produced again; the notifier skips every receiver its
  dedup log says was delivered, so only the failed ones are sent. A notification delivered
  since its failure is left alone.

Every replayed record carries `complaints-replay-of` (the dead letter's id, or the
escalation's) and `complaints-replayed-at`; a later run reads them back and skips what was
replayed already: a dead letter once for ever, an escalation until it fails again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from complaints_kit.kafka import client_config, producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import decode
from complaints_schemas.events import ComplaintEscalated, ComplaintRejected, NotificationFailed
from complaints_schemas.topics import DELIVERED, ESCALATED, FAILED, REJECTED

REPLAY_OF = "complaints-replay-of"
REPLAYED_AT = "complaints-replayed-at"
# An escalation is produced before its notifications fail (retries last hours at most).
ESCALATION_LOOKBACK = timedelta(days=2)

app = typer.Typer(help="Replay dead letters and failed notifications (a dry run unless --apply).")
console = Console()


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode() if found else None


@dataclass(frozen=True, slots=True)
class Replay:
    """One record to produce again, or why it cannot be (`record` None)."""

    ref: str  # the marker: dead letter id or escalation:<id>
    reason: str
    at: datetime
    topic: str
    record: Record | None
    note: str = ""


# ---- planning: pure, over what was read -------------------------------------------------


def _in(at: datetime, since: datetime, until: datetime) -> bool:
    return since <= at <= until


def _matches(reason: str, wanted: Sequence[str]) -> bool:
    return not wanted or any(w == reason or w in reason for w in wanted)


def replayed_marks(records: Iterable[Record]) -> dict[str, datetime]:
    """Marker -> the latest instant it was replayed, from records carrying the headers."""
    marks: dict[str, datetime] = {}
    for record in records:
        ref, at = record.header(REPLAY_OF), record.header(REPLAYED_AT)
        if ref is None or at is None:
            continue
        when = datetime.fromisoformat(at)
        marks[ref] = max(marks.get(ref, when), when)
    return marks


def plan_dead_letters(
    letters: Iterable[tuple[str, ComplaintRejected]],
    *,
    reasons: Sequence[str],
    since: datetime,
    until: datetime,
    replayed: dict[str, datetime],
    original: Any,
) -> list[Replay]:
    """Dead letters in range with a wanted reason, not replayed before, each with its original
    record (`original(topic, partition, offset)` -> Record | None)."""
    plan: list[Replay] = []
    seen: set[str] = set()
    for ref, letter in letters:
        if ref in seen or ref in replayed:
            continue
        seen.add(ref)
        if not (_in(letter.rejected_at, since, until) and _matches(letter.reason, reasons)):
            continue
        topic = letter.source_topic or ""
        if letter.source != "kafka" or letter.partition is None or letter.offset is None:
            plan.append(
                Replay(ref, letter.reason, letter.rejected_at, topic, None, "not from Kafka")
            )
            continue
        record = original(topic, letter.partition, letter.offset)
        if record is None or record.value != letter.original:
            plan.append(
                Replay(
                    ref, letter.reason, letter.rejected_at, topic, None, "record gone from topic"
                )
            )
            continue
        plan.append(Replay(ref, letter.reason, letter.rejected_at, topic, record))
    return plan


def plan_failed_notifications(
    failures: Iterable[NotificationFailed],
    *,
    reasons: Sequence[str],
    since: datetime,
    until: datetime,
    delivered: set[str],
    replayed: dict[str, datetime],
    escalations: dict[str, Record],
) -> list[Replay]:
    """One replay per escalation with a failed, still undelivered notification in range that
    failed after the escalation was last replayed."""
    latest: dict[str, NotificationFailed] = {}
    for failure in failures:
        if failure.notification_id in delivered:
            continue
        if not (_in(failure.failed_at, since, until) and _matches(failure.reason, reasons)):
            continue
        known = latest.get(failure.escalation_id)
        if known is None or failure.failed_at > known.failed_at:
            latest[failure.escalation_id] = failure
    plan: list[Replay] = []
    for escalation_id, failure in sorted(latest.items(), key=lambda kv: kv[1].failed_at):
        ref = f"escalation:{escalation_id}"
        last_replay = replayed.get(ref)
        if last_replay is not None and last_replay >= failure.failed_at:
            continue
        record = escalations.get(escalation_id)
        note = "" if record is not None else "escalation gone from topic"
        plan.append(Replay(ref, failure.reason, failure.failed_at, ESCALATED.name, record, note))
    return plan


# ---- Kafka --------------------------------------------------------------------------------


def _reader(kafka: KafkaSettings) -> Consumer:
    return Consumer(
        {
            **client_config(kafka),
            "group.id": "complaints-replay",  # assigned, never subscribed: no group joined
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )


def read_topic(
    kafka: KafkaSettings, topic: str, *, since: datetime | None = None
) -> Iterator[Record]:
    """Every record of `topic` from `since` (record time; the start if None) to its end now."""
    consumer = _reader(kafka)
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return
        ms = -2 if since is None else int(since.timestamp() * 1000)
        wanted = [TopicPartition(topic, p, ms) for p in metadata.partitions]
        starts = (
            _retrying(lambda: consumer.offsets_for_times(wanted, timeout=10)) if since else wanted
        )
        ranges: dict[int, tuple[int, int]] = {}
        for start in starts:
            tp = TopicPartition(topic, start.partition)
            low, high = _retrying(lambda: consumer.get_watermark_offsets(tp, timeout=10))  # noqa: B023
            if since is not None and start.offset < 0:
                continue  # no record at or after `since` in this partition
            begin = low if start.offset < 0 else max(start.offset, low)
            if begin < high:
                ranges[start.partition] = (begin, high)
        if not ranges:
            return
        # All partitions at once: one fetch session instead of one per partition.
        consumer.assign([TopicPartition(topic, p, begin) for p, (begin, _) in ranges.items()])
        pending = {p: high for p, (_, high) in ranges.items()}
        while pending:
            message = consumer.poll(5)
            if message is None:
                break
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.pop(message.partition() or 0, None)
                continue
            partition, offset = message.partition() or 0, message.offset() or 0
            if partition not in pending:
                continue
            if offset + 1 >= pending[partition]:
                pending.pop(partition)
            yield _record(message)
    finally:
        consumer.close()


def _retrying(call: Any, attempts: int = 20) -> Any:
    """A broker call retried while leadership settles (a topic just created, a restart)."""
    for attempt in range(attempts):
        try:
            return call()
        except KafkaException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def fetch(kafka: KafkaSettings, topic: str, partition: int, offset: int) -> Record | None:
    """The record at one position, or None when it has left the topic."""
    consumer = _reader(kafka)
    try:
        tp = TopicPartition(topic, partition)
        low, high = _retrying(lambda: consumer.get_watermark_offsets(tp, timeout=10))
        if not low <= offset < high:
            return None
        consumer.assign([TopicPartition(topic, partition, offset)])
        for _ in range(20):
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                return _record(message) if message.offset() == offset else None
        return None
    finally:
        consumer.close()


def _record(message: Any) -> Record:
    headers = tuple((k, v or b"") for k, v in (message.headers() or []))
    return Record(
        message.topic(),
        message.partition(),
        message.offset(),
        message.key(),
        message.value(),
        headers,
    )


def produce_again(kafka: KafkaSettings, plan: Sequence[Replay], *, now: datetime) -> int:
    producer = Producer(producer_config(kafka))
    count = 0
    for item in plan:
        if item.record is None:
            continue
        marks = {REPLAY_OF, REPLAYED_AT}
        headers: list[tuple[str, str | bytes | None]] = [
            (k, v) for k, v in item.record.headers if k not in marks
        ]
        headers += [(REPLAY_OF, item.ref.encode()), (REPLAYED_AT, now.isoformat().encode())]
        producer.produce(item.topic, key=item.record.key, value=item.record.value, headers=headers)
        count += 1
    if producer.flush(30) != 0:
        raise RuntimeError("the broker did not acknowledge every replayed record")
    return count


# ---- the commands -------------------------------------------------------------------------

Reasons = Annotated[
    list[str] | None, typer.Option("--reason", help="Only these reasons (repeat; a part matches).")
]
Since = Annotated[str, typer.Option(help="From: ISO 8601 instant, or a duration back (P7D, PT6H).")]
Until = Annotated[str | None, typer.Option(help="To: ISO 8601 instant (default: now).")]
Apply = Annotated[bool, typer.Option("--apply", help="Produce the records (default: dry run).")]


def instant(text: str, *, now: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return now - TypeAdapter(timedelta).validate_python(text)
    except ValidationError as exc:
        raise typer.BadParameter(f"{text!r}: neither an ISO instant nor a duration") from exc


def _show(plan: Sequence[Replay], *, title: str, apply: bool, done: int) -> None:
    table = Table(title=title)
    for column in ("what", "reason", "at", "to", "status"):
        table.add_column(column)
    for item in plan[:50]:
        status = item.note or ("replayed" if apply else "would replay")
        table.add_row(item.ref, item.reason[:60], item.at.isoformat(), item.topic, status)
    console.print(table)
    ready = sum(1 for p in plan if p.record is not None)
    summary = {"listed": len(plan), "replayable": ready, "replayed": done}
    verb = "replayed" if apply else "dry run: would replay"
    console.print(f"{verb} {ready} of {len(plan)}" + ("" if apply else "; --apply to replay"))
    console.print(json.dumps(summary))


def _window(since: str, until: str | None) -> tuple[KafkaSettings, datetime, datetime, datetime]:
    kafka, now = KafkaSettings(), datetime.now(UTC)
    return kafka, now, instant(since, now=now), instant(until, now=now) if until else now


def _carry_out(
    kafka: KafkaSettings,
    plan: Sequence[Replay],
    *,
    what: str,
    window: tuple[datetime, datetime, datetime],
    apply: bool,
) -> None:
    """Produce the plan (with --apply) and show it."""
    now, start, end = window
    done = produce_again(kafka, plan, now=now) if apply else 0
    _show(plan, title=f"{what} {start.isoformat()} .. {end.isoformat()}", apply=apply, done=done)


@app.command("dead-letters")
def dead_letters(
    reason: Reasons = None, since: Since = "P7D", until: Until = None, apply: Apply = False
) -> None:
    """Produce dead letters' original records again to the topic they came from."""
    kafka, now, start, end = _window(since, until)
    letters = []
    for record in read_topic(kafka, REJECTED.name, since=start):
        try:
            letter = decode(ComplaintRejected, record.value, list(record.headers)).data
        except Exception:
            continue
        ref = f"rejected:{letter.source_topic}:{letter.partition}:{letter.offset}"
        letters.append((ref, letter))
    targets = {letter.source_topic for _, letter in letters if letter.source_topic}
    replayed: dict[str, datetime] = {}
    for topic in sorted(targets):
        replayed |= replayed_marks(read_topic(kafka, topic, since=start))
    plan = plan_dead_letters(
        letters,
        reasons=reason or [],
        since=start,
        until=end,
        replayed=replayed,
        original=lambda t, p, o: fetch(kafka, t, p, o),
    )
    _carry_out(kafka, plan, what="Dead letters", window=(now, start, end), apply=apply)


@app.command("failed-notifications")
def failed_notifications(
    reason: Reasons = None, since: Since = "P7D", until: Until = None, apply: Apply = False
) -> None:
    """Produce the escalations of failed, undelivered notifications again for the notifier."""
    kafka, now, start, end = _window(since, until)
    failures = []
    for record in read_topic(kafka, FAILED.name, since=start):
        try:
            failures.append(decode(NotificationFailed, record.value, list(record.headers)).data)
        except Exception:
            continue
    delivered = {(r.key or b"").decode() for r in read_topic(kafka, DELIVERED.name) if r.value}
    wanted = {f.escalation_id for f in failures}
    escalations: dict[str, Record] = {}
    replays: list[Record] = []
    for record in read_topic(kafka, ESCALATED.name, since=start - ESCALATION_LOOKBACK):
        if record.header(REPLAY_OF) is not None:
            replays.append(record)
            continue
        try:
            escalation = decode(ComplaintEscalated, record.value, list(record.headers)).data
        except Exception:
            continue
        if escalation.escalation_id in wanted:
            escalations.setdefault(escalation.escalation_id, record)
    plan = plan_failed_notifications(
        failures,
        reasons=reason or [],
        since=start,
        until=end,
        delivered=delivered,
        replayed=replayed_marks(replays),
        escalations=escalations,
    )
    _carry_out(kafka, plan, what="Failed notifications", window=(now, start, end), apply=apply)
