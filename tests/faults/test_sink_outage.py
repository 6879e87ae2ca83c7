"""The webhook receiver down, then slow: every breach still arrives, exactly once.

FAULTS_SINK_DOWN_S (default 20; the issue's minute: 60) is how long the receiver answers
503 to everything while breaches fall due; FAULTS_SINK_SLOW_S (default 2) how long it then
takes to answer each request while more fall due.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Producer

from complaints_cli.stack import Stack
from complaints_escalation.domain.transitions import escalation_id
from complaints_intake.domain.identity import complaint_id
from complaints_schemas import topics
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.faults.deliveries import settle
from tests.faults.test_crashes import red_complaint

pytestmark = pytest.mark.e2e

DOWN_S = float(os.environ.get("FAULTS_SINK_DOWN_S", "20"))
SLOW_S = float(os.environ.get("FAULTS_SINK_SLOW_S", "2"))


def publish(stack: Stack, marker: str, numbers: range) -> dict[str, str]:
    """Unacknowledged red complaints; returns their response breach ids."""
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    expected = {}
    for n in numbers:
        body = json.dumps(red_complaint(marker, n)).encode()
        producer.produce(topics.SUBMITTED.name, key=f"{marker}-{n}".encode(), value=body)
        cid = complaint_id("app", f"{marker}-{n}")
        eid = escalation_id(complaint_id=cid, clock="response", kind="breach", level=1, repeat=0)
        expected[eid] = cid
    assert producer.flush(30) == 0
    return expected


def test_a_receiver_down_then_slow_still_gets_each_breach_once(
    fault_stack: Stack, report: Callable[..., None]
) -> None:
    stack, marker = fault_stack, uuid.uuid4().hex
    assert stack.sink is not None
    sink = stack.sink
    refused_before = sum(1 for line in _sink_log(stack) if line.get("answered") == 503)

    sink.down_for(DOWN_S)
    expected = publish(stack, marker, range(0, 30))  # fall due while the receiver is down
    time.sleep(DOWN_S)
    sink.slow(SLOW_S)
    expected |= publish(stack, marker, range(30, 45))  # fall due while it is slow
    time.sleep(RED_SLA_SECONDS + 4 * SLOW_S)
    sink.slow(0)

    counts, lost, duplicates = settle(
        stack, expected, timeout=180, what="every breach after the outage"
    )
    refused = sum(1 for line in _sink_log(stack) if line.get("answered") == 503) - refused_before
    report(
        f"sink down {DOWN_S:.0f} s then {SLOW_S:.0f} s per request: escalations expected "
        f"{len(expected)}, delivered {len(set(counts) & set(expected))}, refused while down "
        f"{refused}, duplicates {len(duplicates)}, lost {len(lost)}"
    )
    assert refused > 0, "the outage was not exercised"
    assert lost == []
    assert duplicates == {}


def _sink_log(stack: Stack) -> list[dict[str, object]]:
    path = stack.workdir / "sink.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
