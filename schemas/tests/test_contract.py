"""The contract: committed schema files are current, and the codec round-trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from complaints_schemas import cloudevents, dead_letters, generate, topics
from complaints_schemas.events import (
    ComplaintLifecycleEvent,
    ComplaintRejected,
    ComplaintSubmitted,
    LifecycleAction,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def submitted(**overrides: object) -> ComplaintSubmitted:
    data: dict[str, object] = {
        "channel": "app",
        "channel_event_id": "app-1",
        "customer": {"id": "cust-1", "tier": "vip", "phone": "13812341234"},
        "title": "支付失败 扣款未到账",
        "description": "昨天支付失败但是银行卡已经扣款",
        "occurred_at": NOW.isoformat(),
    }
    data.update(overrides)
    return ComplaintSubmitted.model_validate(data)


def test_generated_files_are_current() -> None:
    assert generate.stale_files() == [], "run `uv run complaints-schemas` and commit the result"


def test_every_topic_has_an_event_model() -> None:
    assert set(generate.TOPIC_EVENTS) == {t.name for t in topics.ALL_TOPICS}


def test_per_complaint_topics_are_copartitioned() -> None:
    keyed = [t for t in topics.ALL_TOPICS if t.key == "complaint_id"]
    assert {t.partitions for t in keyed} == {topics.COMPLAINT_PARTITIONS}
    assert topics.CLASSIFIED in keyed
    assert topics.LIFECYCLE in keyed


def test_binary_mode_round_trip() -> None:
    event = submitted()
    record = cloudevents.encode(event, source="/channels/app", id="app-1", time=NOW)
    assert record.key == b"app-1"
    headers = dict(record.headers)
    assert headers["ce_type"] == b"com.complaints.complaint.submitted.v1"
    assert headers["content-type"] == b"application/json"
    envelope = cloudevents.decode(ComplaintSubmitted, record.value, record.headers)
    assert envelope.data == event
    assert (envelope.id, envelope.source, envelope.time) == ("app-1", "/channels/app", NOW)


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"\xff\xfe", None, "undecodable"),
        (b"{not json", None, "undecodable"),
        (b'{"channel": "fax"}', None, "invalid_event"),
        (None, None, "undecodable"),
    ],
)
def test_decode_data_says_why(value: bytes | None, headers: None, reason: str) -> None:
    with pytest.raises(cloudevents.DecodeError) as info:
        cloudevents.decode_data(ComplaintSubmitted, value)
    assert info.value.reason == reason


def test_invalid_event_names_each_bad_field() -> None:
    with pytest.raises(cloudevents.DecodeError) as info:
        cloudevents.decode_data(ComplaintSubmitted, b'{"channel": "fax", "title": ""}')
    locations = {e.location for e in info.value.errors}
    assert {"channel", "title", "customer", "description"} <= locations


def test_decode_refuses_wrong_type_header() -> None:
    record = cloudevents.encode(submitted(), source="s", id="1", time=NOW)
    with pytest.raises(cloudevents.DecodeError) as info:
        cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers)
    assert info.value.reason == "invalid_envelope"


def test_transfer_requires_department() -> None:
    base = {"event_id": "e1", "complaint_id": "c1", "occurred_at": NOW.isoformat()}
    with pytest.raises(ValueError, match="to_department"):
        ComplaintLifecycleEvent.model_validate({**base, "action": "transferred"})
    event = ComplaintLifecycleEvent.model_validate(
        {**base, "action": "transferred", "to_department": "logistics"}
    )
    assert event.action is LifecycleAction.TRANSFERRED


def test_dead_letter_keeps_the_original_bytes_through_json() -> None:
    raw = b"\xff\x00 not json"
    error = cloudevents.DecodeError("undecodable", "value is not UTF-8")
    dead_id, event = dead_letters.dead_letter(
        error, value=raw, topic="complaints.submitted.v1", partition=2, offset=41, at=NOW
    )
    assert dead_id == "rejected:complaints.submitted.v1:2:41"
    assert event.original == raw
    record = cloudevents.encode(event, source="/test", id=dead_id, time=NOW)
    assert b'"original":"_wAgbm90IGpzb24="' in record.value  # base64url, as the schema says
    decoded = cloudevents.decode(ComplaintRejected, record.value, record.headers).data
    assert decoded.original == raw
    assert (decoded.reason, decoded.offset) == ("undecodable", 41)
