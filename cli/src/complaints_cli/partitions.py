"""`complaints add-partitions`: more partitions for the pipeline, co-partitioning kept.

A complaint's records go to murmur2(complaint id) % partitions, and its escalation state
lives in the same partition of the state changelog (faust writes it to the partition of
the record being processed). Adding partitions moves keys: after it, a complaint's new
records land in another partition than its state. So, with the pipeline drained and
stopped (docs/operations.md, "Adding partitions"):

1. refuse while the escalation group has members or has not consumed its inputs to the
   end (a record still waiting in an old partition would reach a worker without its state);
2. add partitions to every co-partitioned topic (those laid out with
   KAFKA_TOPIC_PARTITIONS), Kafka's only direction;
3. move each state whose partition changes: written, re-encoded for its new partition, to
   that partition of the changelog, and a tombstone in its old one (compaction then
   forgets it there; a worker's local store reads both on recovery).

Due records are not moved: the workers rebuild every timer from the states at start, and a
due record for a state that moved is dropped as unknown. Each step is idempotent: after a
failure the command can be run again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

import typer
from aiokafka.partitioner import murmur2
from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewPartitions  # type: ignore[attr-defined]
from rich.console import Console

from complaints_escalation.app import state_changelog
from complaints_escalation.outbound import state_codec
from complaints_escalation.settings import EscalationSettings
from complaints_kit.kafka import StoredRecord, client_config, laid_out, producer_config, read_topic
from complaints_kit.lag import GroupOffsets, lag_by_partition
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import CLASSIFIED, COMPLAINT_PARTITIONS, LIFECYCLE, Topic

console = Console()


class NotDrained(RuntimeError):
    """The escalation group is running or has records left in its inputs."""


def partition_of(complaint_id: str, partitions: int) -> int:
    """Where producers (murmur2, like faust's aiokafka) put a complaint's records."""
    return int(murmur2(complaint_id.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class Move:
    """A state to write to partition `new` (unless `value` is None: it is there already)
    and to tombstone in the partitions `old` (its key as faust wrote it: JSON)."""

    key: bytes
    new: int
    value: bytes | None
    old: tuple[int, ...]


def moves(records: Iterable[StoredRecord], *, partitions: int) -> list[Move]:
    """For each live state (a key whose newest record in some partition is not a
    tombstone) that is not only in its partition under the new count: where to write it,
    re-encoded for that partition, and which old copies to tombstone."""
    latest: dict[bytes, dict[int, bytes | None]] = {}
    for partition, _offset, key, value, _headers in sorted(records, key=lambda r: (r[0], r[1])):
        if key is not None:
            latest.setdefault(key, {})[partition] = value
    out = []
    for key, copies in latest.items():
        live = {p: v for p, v in copies.items() if v is not None}
        if not live:
            continue
        new = partition_of(json.loads(key), partitions)
        stale = tuple(sorted(p for p in live if p != new))
        if not stale:
            continue
        value = None
        if new not in live:  # moved: re-encoded, its header names the new partition
            _, state = state_codec.decode(live[stale[0]])
            value = state_codec.encode(state, partition=new)
        out.append(Move(key, new, value, stale))
    return out


@dataclass(frozen=True, slots=True)
class Report:
    grown: list[str]
    moved: int


def add_partitions(
    kafka: KafkaSettings,
    *,
    to: int,
    topics: list[Topic],
    changelog: str,
    group: str,
    inputs: list[str],
    timeout: float = 30.0,
) -> Report:
    """Grow `topics` to `to` partitions and move the states of `changelog` (see above)."""
    admin = AdminClient(client_config(kafka))
    listed = admin.list_consumer_groups(request_timeout=timeout).result(timeout)
    for listing in listed.valid:  # a group with members is not EMPTY (or gone: DEAD)
        if listing.group_id == group and listing.state not in (
            ConsumerGroupState.EMPTY,
            ConsumerGroupState.DEAD,
        ):
            raise NotDrained(f"consumer group {group} is {listing.state.name}: stop its members")
    offsets = GroupOffsets(kafka, group=group, topics=inputs, timeout=timeout)
    left = {tp: n for tp, n in lag_by_partition(offsets.committed(), offsets.ends()).items() if n}
    if left:
        raise NotDrained(f"group {group} has records left to consume: {sorted(left.items())}")
    names = [t.name for t in topics]
    metadata = admin.list_topics(timeout=timeout)
    current = {name: len(metadata.topics[name].partitions) for name in names}
    if any(n > to for n in current.values()):
        raise ValueError(f"partitions can only grow: now {current}, asked for {to}")
    grow = [name for name in names if current[name] < to]
    if grow:
        for name, future in admin.create_partitions([NewPartitions(n, to) for n in grow]).items():
            future.result(timeout)
            current[name] = to
    todo = moves(_read_when_led(kafka, changelog, timeout=timeout), partitions=to)
    producer = Producer(producer_config(kafka))
    for move in todo:  # the state in its new partition first, then the old copies' tombstones
        if move.value is not None:
            producer.produce(changelog, key=move.key, value=move.value, partition=move.new)
        for old in move.old:
            producer.produce(changelog, key=move.key, value=None, partition=old)
        producer.poll(0)
    if producer.flush(timeout):
        raise RuntimeError("moved states not all delivered; run the command again")
    return Report(grown=grow, moved=sum(1 for m in todo if m.value is not None))


def _read_when_led(kafka: KafkaSettings, topic: str, *, timeout: float) -> list[StoredRecord]:
    """The topic read whole, once its new partitions have leaders (a moment after growing)."""
    give_up = time.monotonic() + timeout
    while True:
        try:
            return read_topic(kafka, topic, timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION:
                raise
            if time.monotonic() > give_up:
                raise
            time.sleep(0.5)


def co_partitioned(kafka: KafkaSettings, topics: Iterable[Topic]) -> list[Topic]:
    """The topics laid out with KAFKA_TOPIC_PARTITIONS (keyed by complaint id)."""
    return [laid_out(kafka, t) for t in topics if t.partitions == COMPLAINT_PARTITIONS]


def add_partitions_command(
    to: Annotated[int, typer.Option("--to", help="The new partition count (it only grows).")],
) -> None:
    """Add partitions to the pipeline's co-partitioned topics and move escalation states to
    their new partitions. Stop the pipeline first (docs/operations.md, "Adding partitions");
    then start every service with KAFKA_TOPIC_PARTITIONS set to the new count."""
    from complaints_cli.topics import pipeline_topics

    kafka = KafkaSettings()
    escalation = EscalationSettings()
    try:
        report = add_partitions(
            kafka,
            to=to,
            topics=co_partitioned(kafka, pipeline_topics(escalation=escalation)),
            changelog=state_changelog(escalation.app_id),
            group=escalation.app_id,
            inputs=[CLASSIFIED.name, LIFECYCLE.name],
        )
    except (NotDrained, ValueError) as exc:
        console.print(f"[red]not changed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"grown to {to}: {', '.join(report.grown) or 'nothing (already there)'}; "
        f"{report.moved} escalation states moved. Start every service with "
        f"KAFKA_TOPIC_PARTITIONS={to}."
    )
