"""Adding partitions keeps co-partitioning: every escalation state ends in the partition
its complaint's new records go to, with its header saying so, and nothing is lost."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from complaints_cli.partitions import NotDrained, Report, add_partitions, moves, partition_of
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import on_classified
from complaints_escalation.outbound import state_codec
from complaints_kit.kafka import consumer_config, producer_config, provision_topics, read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import (
    Channel,
    ComplaintAccepted,
    ComplaintClassified,
    Customer,
    Scope,
    Severity,
)
from complaints_schemas.topics import Cleanup, Topic

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def state(cid: str) -> ComplaintState:
    accepted = ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=f"ch-{cid}",
        customer=Customer(id="cust-1"),
        title="Payment failed",
        description="Charged twice.",
        occurred_at=T0,
        complaint_id=cid,
        accepted_at=T0,
        language="en",
    )
    event = ComplaintClassified(
        complaint_id=cid,
        classified_at=T0,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="payment_failure",
        department="payments",
        fingerprint="fp",
        reasons=(),
        complaint=accepted,
    )
    return on_classified(None, event, policy=EscalationPolicy.response_only()).state


def key(cid: str) -> bytes:
    return json.dumps(cid).encode()  # faust's JSON key serializer


def test_moves_are_the_live_states_whose_partition_changes() -> None:
    cids = [f"M-{n}" for n in range(40)]
    records = [
        (
            partition_of(c, 2),
            n,
            key(c),
            state_codec.encode(state(c), partition=partition_of(c, 2)),
            [],
        )
        for n, c in enumerate(cids)
    ]
    gone = cids[0]
    records.append((partition_of(gone, 2), 99, key(gone), None, []))  # deleted later
    planned = moves(records, partitions=4)
    moving = [c for c in cids[1:] if partition_of(c, 4) != partition_of(c, 2)]
    assert moving  # murmur2 moves about half of the keys from 2 to 4
    assert sorted(json.loads(m.key) for m in planned) == sorted(moving)
    for m in planned:
        cid = json.loads(m.key)
        assert m.new == partition_of(cid, 4)
        assert m.old == (partition_of(cid, 2),)
        assert m.value is not None
        assert state_codec.summary(cid, m.value).partition == m.new
    # Interrupted after writing the new copies: only the old copies' tombstones are left.
    written = [(m.new, 100 + n, m.key, m.value, []) for n, m in enumerate(planned)]
    again = moves([*records, *written], partitions=4)
    assert [(m.key, m.value, m.old) for m in again] == [(m.key, None, m.old) for m in planned]


@pytest.mark.kafka
def test_adding_partitions_moves_every_state_to_its_new_partition(
    kafka_settings: KafkaSettings,
) -> None:
    run = uuid.uuid4().hex[:8]
    inputs = [
        Topic(f"test.classified-{run}.v1", 2, key="complaint_id", description="t"),
        Topic(f"test.lifecycle-{run}.v1", 2, key="complaint_id", description="t"),
    ]
    changelog = Topic(
        f"esc-{run}-complaint-state-changelog",
        2,
        key="complaint_id",
        description="t",
        cleanup=Cleanup.COMPACT,
    )
    settings = kafka_settings.model_copy(update={"topic_partitions": 2})
    provision_topics(settings, [*inputs, changelog])
    group = f"esc-{run}"
    cids = [f"P-{run}-{n}" for n in range(60)]
    producer = Producer(producer_config(settings))
    for cid in cids:  # the state, and the classified record it came from, in partition p
        p = partition_of(cid, 2)
        producer.produce(
            changelog.name,
            key=key(cid),
            value=state_codec.encode(state(cid), partition=p),
            partition=p,
        )
        producer.produce(inputs[0].name, key=cid.encode(), value=b"{}")
    producer.flush(30)

    def grow() -> Report:
        return add_partitions(
            settings,
            to=4,
            topics=[*inputs, changelog],
            changelog=changelog.name,
            group=group,
            inputs=[t.name for t in inputs],
        )

    with pytest.raises(NotDrained, match="left to consume"):  # classified not consumed yet
        grow()
    consumer = Consumer(consumer_config(settings, group))  # the group consumed it all
    done = []
    for p in range(2):
        _, high = consumer.get_watermark_offsets(TopicPartition(inputs[0].name, p), timeout=30)
        done.append(TopicPartition(inputs[0].name, p, high))
    consumer.commit(offsets=done, asynchronous=False)
    consumer.close()
    assert grow().moved > 0
    assert grow().moved == 0  # run again: nothing left to move

    latest: dict[str, dict[int, bytes | None]] = {}
    for partition, _, k, value, _ in sorted(read_topic(settings, changelog.name)):
        assert k is not None
        latest.setdefault(json.loads(k), {})[partition] = value
    assert sorted(latest) == sorted(cids)
    for cid, copies in latest.items():
        new = partition_of(cid, 4)  # where the new records of cid go
        assert {p for p, v in copies.items() if v is not None} == {new}  # old copies deleted
        value = copies[new]
        assert value is not None
        assert state_codec.summary(cid, value).partition == new
        assert state_codec.decode(value)[1] == state(cid)
