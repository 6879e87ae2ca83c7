"""The classifier as a separate process over the real broker: accepted in, classified out."""

from __future__ import annotations

import re
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from confluent_kafka import Producer

from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import decode, encode
from complaints_schemas.events import ComplaintClassified, ComplaintRejected, Scope, Severity
from complaints_schemas.topics import ACCEPTED, CLASSIFIED, REJECTED

from .factories import complaint
from .worker import Classifier, Records, decisions_in, read_until, start_classifier

pytestmark = pytest.mark.kafka

OUTPUT_TIMEOUT_S = 45.0


@pytest.fixture(scope="module")
def classifier(
    kafka_settings: KafkaSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Classifier]:
    service = start_classifier(kafka_settings, tmp_path_factory.mktemp("classifier"))
    print(f"classifier ready after {service.ready_after_s:.1f}s")
    try:
        yield service
    finally:
        if service.process.poll() is None:
            stopping = time.monotonic()
            code = service.stop()
            print(f"classifier stopped in {time.monotonic() - stopping:.1f}s with code {code}")


def test_classifies_over_the_broker(classifier: Classifier, kafka_settings: KafkaSettings) -> None:
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    product = f"P-{run}"  # unique per run: the broker is shared by the whole session
    similar = [
        complaint(
            f"{run}-L{n}",
            title="物流不更新",
            description="订单物流三天没有更新",
            customer_id=f"cust-{n}",
            product_id=product,
            region="上海",
            accepted_at=now,
            language="zh",
        )
        for n in range(1, 6)
    ]
    risky = complaint(
        f"{run}-R",
        title="Account hacked",
        description="I will report this to 12315.",
        product_id=product,
        accepted_at=now,
    )
    marker = f"not an event {run}".encode()
    producer = Producer(producer_config(kafka_settings))
    producer.produce(ACCEPTED.name, key=b"garbage", value=marker, headers=[("ce_type", b"x")])
    for accepted in [*similar, risky]:
        record = encode(accepted, source="/services/intake", id=accepted.complaint_id, time=now)
        producer.produce(ACCEPTED.name, key=record.key, value=record.value, headers=record.headers)
    assert producer.flush(10) == 0

    wanted = {c.complaint_id for c in [*similar, risky]}

    def ours(records: Records) -> dict[str, ComplaintClassified]:
        return {e.complaint_id: e for e, _ in decisions_in(records) if e.complaint_id in wanted}

    records = read_until(
        kafka_settings.bootstrap_servers,
        CLASSIFIED.name,
        done=lambda r: set(ours(r)) == wanted,
        timeout=OUTPUT_TIMEOUT_S,
    )
    found = ours(records)
    assert set(found) == wanted, f"missing {wanted - set(found)}:\n{classifier.tail()}"

    window = [found[c.complaint_id] for c in similar]
    assert sorted(e.scope for e in window) == [Scope.COMMON] + [Scope.INDIVIDUAL] * 4
    (common,) = [e for e in window if e.scope is Scope.COMMON]
    assert common.cluster_id is not None
    assert common.cluster_size == 5
    assert {e.fingerprint for e in window} == {common.fingerprint}
    # A parcel late for days: logistics, yellow by the labelling policy (the model decides).
    assert {(e.category, e.department, e.severity) for e in window} == {
        ("logistics", "logistics", Severity.YELLOW)
    }
    assert all(e.model_version and e.confidence is not None for e in window)

    risk = found[risky.complaint_id]
    assert (risk.severity, risk.scope, risk.category) == (Severity.RED, Scope.RISK, "account")
    assert any(r.rule.endswith(".risk") and "regulator" in r.detail for r in risk.reasons)

    # CloudEvents binary mode, keyed by complaint id, id = complaint id.
    headers = next(h for e, h in decisions_in(records) if e.complaint_id == risky.complaint_id)
    attributes = dict(headers)
    assert attributes["ce_source"] == b"/services/classifier"
    assert attributes["ce_id"] == risky.complaint_id.encode()

    dead = read_until(
        kafka_settings.bootstrap_servers,
        REJECTED.name,
        done=lambda r: any(v is not None and marker in _original(v, h) for v, h in r),
        timeout=OUTPUT_TIMEOUT_S,
    )
    (letter,) = [
        decode(ComplaintRejected, v, h).data
        for v, h in dead
        if v is not None and marker in _original(v, h)
    ]
    assert (letter.reason, letter.source, letter.source_topic) == (
        "invalid_envelope",
        "kafka",
        ACCEPTED.name,
    )
    assert classifier.process.poll() is None  # bad input did not stop it

    metrics = httpx.get(f"http://127.0.0.1:{classifier.port}/metrics", timeout=5).text
    # At least ours: the group reads the session broker's topic from its start.
    common_total = re.search(
        r'^complaints_classifier_classified_total\{category="logistics",scope="common",'
        r'severity="yellow"\} (\S+)$',
        metrics,
        re.M,
    )
    assert common_total is not None
    assert float(common_total[1]) >= 1
    assert 'complaints_classifier_rejected_total{reason="invalid_envelope"}' in metrics


def _original(value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    try:
        return decode(ComplaintRejected, value, headers).data.original
    except Exception:
        return b""


def test_sighup_reloads_the_rules(classifier: Classifier) -> None:
    classifier.process.send_signal(signal.SIGHUP)
    sample = 'complaints_classifier_rule_reloads_total{outcome="unchanged"} 1.0'
    deadline = time.monotonic() + 10
    metrics = ""
    while time.monotonic() < deadline:
        metrics = httpx.get(f"http://127.0.0.1:{classifier.port}/metrics", timeout=5).text
        if sample in metrics:
            break
        time.sleep(0.2)
    assert sample in metrics, classifier.tail()
    assert classifier.process.poll() is None  # SIGHUP did not stop it
