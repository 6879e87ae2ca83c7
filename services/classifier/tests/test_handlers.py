"""The two stages with fakes: decode -> classify -> repartition -> window -> publish."""

from __future__ import annotations

import base64
from datetime import timedelta

from prometheus_client import CollectorRegistry

from complaints_classifier.inbound.handlers import Handlers
from complaints_classifier.live_rules import StaticRules
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.customer_store import MemoryCustomerStore
from complaints_classifier.outbound.window_store import MemoryWindowStore
from complaints_classifier.repartition import ToWindow
from complaints_kit.clock import FakeClock
from complaints_kit.records import Origin
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    LifecycleAction,
    Scope,
    Severity,
)

from .factories import T0, complaint, rules

ACCEPTED = Origin(topic="complaints.accepted.v1", partition=2, offset=41)


class FakePublisher:
    def __init__(self) -> None:
        self.to_customers: list[ToWindow] = []
        self.to_windows: list[ToWindow] = []
        self.classifieds: list[ComplaintClassified] = []
        self.rejecteds: list[tuple[ComplaintRejected, str]] = []
        self.lifecycles: list[ComplaintLifecycleEvent] = []

    def to_customer(self, message: ToWindow) -> None:
        self.to_customers.append(message)

    def to_window(self, message: ToWindow) -> None:
        self.to_windows.append(message)

    def classified(self, event: ComplaintClassified) -> None:
        self.classifieds.append(event)

    def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        self.rejecteds.append((event, id))

    def lifecycle(self, event: ComplaintLifecycleEvent) -> None:
        self.lifecycles.append(event)


def build(
    identity_key: bytes | None = None,
) -> tuple[Handlers, FakePublisher, MemoryWindowStore, CollectorRegistry, FakeClock]:
    publisher, store, registry = FakePublisher(), MemoryWindowStore(), CollectorRegistry()
    clock = FakeClock(T0)
    handlers = Handlers(
        rules=StaticRules(rules()),
        customers=MemoryCustomerStore(),
        store=store,
        publisher=publisher,
        clock=clock,
        metrics=ClassifierMetrics(registry, categories=tuple(c.id for c in rules().categories)),
        identity_key=identity_key,
    )
    return handlers, publisher, store, registry, clock


def test_accepted_complaint_flows_to_classified() -> None:
    handlers, publisher, store, registry, clock = build()
    accepted = complaint("C-1", title="Payment failed", description="Card declined twice.")
    record = encode(accepted, source="/services/intake", id="C-1", time=T0)
    handlers.accepted(record.value, record.headers, ACCEPTED)
    (to_customer,) = publisher.to_customers
    handlers.customer(to_customer.model_dump_json().encode(), ACCEPTED)
    (forwarded,) = publisher.to_windows
    assert forwarded.content.fingerprint.startswith("payment.")
    clock.advance(timedelta(milliseconds=20))
    handlers.windowed(forwarded.model_dump_json().encode(), ACCEPTED)
    clock.advance(timedelta(milliseconds=10))
    assert registry.get_sample_value("complaints_classifier_duration_seconds_count") == 0
    handlers.settled()  # the broker acknowledged the batch
    (event,) = publisher.classifieds
    assert (event.severity, event.scope, event.category, event.department) == (
        Severity.RED,
        Scope.INDIVIDUAL,
        "payment",
        "payments",
    )
    assert event.classified_at == T0 + timedelta(milliseconds=20)
    assert store.writes == 1
    labels = {"severity": "red", "scope": "individual", "category": "payment"}
    assert registry.get_sample_value("complaints_classifier_classified_total", labels) == 1
    assert registry.get_sample_value("complaints_classifier_duration_seconds_sum") == 0.03


def test_undecodable_record_becomes_a_dead_letter() -> None:
    handlers, publisher, _, registry, _ = build()
    handlers.accepted(b"\xff not json", [("ce_specversion", b"1.0")], ACCEPTED)
    handlers.accepted(b"\xff not json", [("ce_specversion", b"1.0")], ACCEPTED)
    (rejected, dead_id), (_, again_id) = publisher.rejecteds
    assert rejected.reason == "invalid_envelope"
    assert (rejected.source, rejected.source_topic, rejected.partition, rejected.offset) == (
        "kafka",
        "complaints.accepted.v1",
        2,
        41,
    )
    assert rejected.original == b"\xff not json"
    assert dead_id == again_id  # a redelivered bad record keeps its dead-letter id
    assert publisher.to_customers == []
    assert (
        registry.get_sample_value(
            "complaints_classifier_rejected_total", {"reason": "invalid_envelope"}
        )
        == 2
    )


def test_invalid_complaint_lists_the_bad_fields() -> None:
    handlers, publisher, *_ = build()
    record = encode(complaint("C-1"), source="/services/intake", id="C-1", time=T0)
    handlers.accepted(b'{"complaint_id": "C-1"}', record.headers, ACCEPTED)
    ((rejected, _),) = publisher.rejecteds
    assert rejected.reason == "invalid_event"
    assert "title" in {e.location for e in rejected.errors}


def test_bad_repartition_record_is_rejected_not_raised() -> None:
    handlers, publisher, *_ = build()
    handlers.windowed(
        b"{}", Origin(topic="complaints-classifier-by-fingerprint", partition=0, offset=0)
    )
    ((rejected, _),) = publisher.rejecteds
    assert rejected.reason == "invalid_event"
    assert base64.b64encode(rejected.original) == base64.b64encode(b"{}")


def test_five_similar_complaints_open_one_cluster_and_the_first_four_are_told() -> None:
    handlers, publisher, *_ = build()
    for n in range(1, 7):
        accepted = complaint(
            f"C-{n}",
            title="物流不更新",
            customer_id=f"cust-{n}",
            accepted_at=T0 + timedelta(minutes=n),
        )
        record = encode(accepted, source="/services/intake", id=f"C-{n}", time=T0)
        handlers.accepted(record.value, record.headers, ACCEPTED)
    for message in publisher.to_customers:
        handlers.customer(message.model_dump_json().encode(), ACCEPTED)
    for message in publisher.to_windows:
        handlers.windowed(message.model_dump_json().encode(), ACCEPTED)
    scopes = [e.scope for e in publisher.classifieds]
    assert scopes == [Scope.INDIVIDUAL] * 4 + [Scope.COMMON] * 2
    opener = publisher.classifieds[4]
    assert (opener.cluster_size, opener.cluster_opened) == (5, True)
    # The four classified individual before it join its cluster; the sixth was born in it.
    joins = publisher.lifecycles
    assert [(j.complaint_id, j.action, j.cluster_id, j.cluster_size) for j in joins] == [
        (f"C-{n}", LifecycleAction.CLUSTERED, opener.cluster_id, 5) for n in range(1, 5)
    ]
    assert len({j.event_id for j in joins}) == 4
    # The opener redelivered (its window state written): members are not told twice.
    again = publisher.to_windows[4]
    handlers.windowed(again.model_dump_json().encode(), ACCEPTED)
    assert len(publisher.lifecycles) == 4


def test_customer_stage_links_a_duplicate_and_writes_only_on_change() -> None:
    from complaints_schemas.events import Channel

    handlers, publisher, *_ = build()
    first = complaint("C-1", title="物流不更新", customer_id="alice")
    second = first.model_copy(
        update={
            "complaint_id": "C-2",
            "channel": Channel.HOTLINE,
            "accepted_at": T0 + timedelta(hours=1),
        }
    )
    for accepted in (first, second, second):  # the second is redelivered
        record = encode(accepted, source="/services/intake", id=accepted.complaint_id, time=T0)
        handlers.accepted(record.value, record.headers, ACCEPTED)
    customers = handlers._customers
    assert isinstance(customers, MemoryCustomerStore)
    for message in publisher.to_customers:
        handlers.customer(message.model_dump_json().encode(), ACCEPTED)
    assert customers.writes == 2  # the redelivery changed nothing
    for message in publisher.to_windows:
        handlers.windowed(message.model_dump_json().encode(), ACCEPTED)
    assert [e.duplicate_of for e in publisher.classifieds] == [None, "C-1", "C-1"]


def test_a_record_whose_handling_raises_is_dead_lettered_with_the_error() -> None:
    handlers, publisher, *_ = build()
    record = encode(complaint("C-1"), source="/services/intake", id="C-1", time=T0)
    handlers.failed(record.value, ACCEPTED, KeyError("no department for category"))
    ((rejected, _),) = publisher.rejecteds
    assert rejected.reason == "processing_failed"
    assert "no department for category" in rejected.detail
    assert (rejected.original, rejected.offset) == (record.value, ACCEPTED.offset)


def test_with_an_identity_key_two_customer_ids_with_one_phone_are_one_customer() -> None:
    from complaints_schemas.events import Channel, Customer

    handlers, publisher, *_ = build(identity_key=b"identity-key-for-tests-0123456789")
    first = complaint("C-1", title="物流不更新").model_copy(
        update={"customer": Customer(id="app-7", phone="+86 138-1234-1234")}
    )
    second = first.model_copy(
        update={
            "complaint_id": "C-2",
            "channel": Channel.HOTLINE,
            "customer": Customer(id="ivr-55", phone="13812341234"),
            "accepted_at": T0 + timedelta(hours=1),
        }
    )
    for accepted in (first, second):
        record = encode(accepted, source="/services/intake", id=accepted.complaint_id, time=T0)
        handlers.accepted(record.value, record.headers, ACCEPTED)
    keys = {m.customer_key for m in publisher.to_customers}
    assert len(keys) == 1  # one partition key and one history for both
    assert all("13812341234" not in k for k in keys)
    for message in publisher.to_customers:
        handlers.customer(message.model_dump_json().encode(), ACCEPTED)
    for message in publisher.to_windows:
        handlers.windowed(message.model_dump_json().encode(), ACCEPTED)
    assert [e.duplicate_of for e in publisher.classifieds] == [None, "C-1"]
