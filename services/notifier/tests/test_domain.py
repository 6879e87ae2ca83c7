"""Table-driven tests of the pure notifier domain: no network, no event loop."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from complaints_notifier.domain.notification import (
    Notification,
    Route,
    notification_id,
    routes_for,
)
from complaints_notifier.domain.outcome import (
    Delivered,
    Outcome,
    Permanent,
    Retryable,
    classify_status,
    parse_retry_after,
    transport_failure,
)
from complaints_notifier.domain.payload import webhook_payload
from complaints_notifier.domain.retry import Decision, Done, GiveUp, RetryIn, RetryPolicy, decide
from complaints_notifier.domain.webhook_signature import (
    InvalidSecret,
    secret_key,
    sign,
    signed_headers,
    verify,
)
from complaints_schemas.events import ComplaintEscalated

from .factories import SECRET, T0, escalated

# The published Standard Webhooks test vector.
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = '{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
AT_TS = datetime.fromtimestamp(TS).astimezone()
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUA=="


@pytest.mark.parametrize(
    ("body", "expected"),
    [(BODY, EXPECTED), (BODY.encode(), EXPECTED)],
    ids=["str-body", "bytes-body"],
)
def test_sign_matches_the_spec_vector(body: str | bytes, expected: str) -> None:
    assert sign(secret=SECRET, msg_id=MSG_ID, timestamp=TS, body=body) == expected


def test_signed_headers_carry_id_timestamp_and_signature() -> None:
    headers = signed_headers(secret=SECRET, msg_id=MSG_ID, timestamp=TS, body=BODY.encode())
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": EXPECTED,
    }


@pytest.mark.parametrize(
    ("case", "overrides", "valid"),
    [
        ("the vector", {}, True),
        ("timestamp as int", {"timestamp": TS}, True),
        ("one of several signatures", {"signature_header": f"v1,bm9wZQ== {EXPECTED}"}, True),
        ("unknown version ignored", {"signature_header": f"v1a,xyz {EXPECTED}"}, True),
        ("299 s late, inside tolerance", {"now": AT_TS + timedelta(seconds=299)}, True),
        ("301 s late", {"now": AT_TS + timedelta(seconds=301)}, False),
        ("301 s early (clock skew)", {"now": AT_TS - timedelta(seconds=301)}, False),
        (
            "wider tolerance",
            {"now": AT_TS + timedelta(hours=1), "tolerance": timedelta(hours=2)},
            True,
        ),
        ("tampered body", {"body": '{"test": 2432232315}'}, False),
        ("other message id", {"msg_id": "msg_other"}, False),
        ("other timestamp, same signature", {"timestamp": str(TS + 1)}, False),
        ("other secret", {"secret": OTHER_SECRET}, False),
        ("malformed secret", {"secret": "whsec_%%%"}, False),
        ("timestamp not a number", {"timestamp": "yesterday"}, False),
        ("no signature", {"signature_header": ""}, False),
        ("signature without version", {"signature_header": EXPECTED.removeprefix("v1,")}, False),
    ],
)
def test_verify(case: str, overrides: dict[str, object], valid: bool) -> None:
    args: dict[str, object] = {
        "secret": SECRET,
        "msg_id": MSG_ID,
        "timestamp": str(TS),
        "body": BODY.encode(),
        "signature_header": EXPECTED,
        "now": AT_TS,
    }
    assert verify(**(args | overrides)) is valid, case  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_YWJj=x"])
def test_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        secret_key(secret)


def test_secret_prefix_is_optional() -> None:
    assert secret_key(SECRET) == secret_key(SECRET.removeprefix("whsec_"))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("esc-1", "default", "webhook"), ("esc-1", "default", "webhook"), True),
        (("esc-1", "default", "webhook"), ("esc-2", "default", "webhook"), False),
        (("esc-1", "default", "webhook"), ("esc-1", "ops-lead", "webhook"), False),
        (("esc-1", "default", "webhook"), ("esc-1", "default", "slack"), False),
        # Joining with a plain separator would make these two equal.
        (("esc.1", "a", "webhook"), ("esc", "1.a", "webhook"), False),
    ],
)
def test_notification_id_is_deterministic_per_escalation_receiver_channel(
    a: tuple[str, str, str], b: tuple[str, str, str], same: bool
) -> None:
    first = notification_id(escalation_id=a[0], receiver=a[1], channel=a[2])
    second = notification_id(escalation_id=b[0], receiver=b[1], channel=b[2])
    assert (first == second) is same
    assert first.startswith("ntf_")
    assert len(first) <= 128


def test_notification_records_its_outcome() -> None:
    event = escalated("esc-9", complaint_id="c-9")
    notification = Notification(event, Route(receiver="default", channel="webhook"))
    delivered = notification.delivered(at=T0, attempts=2)
    failed = notification.failed(at=T0, attempts=3, retryable=False, reason="HTTP 400")
    for record in (delivered, failed):
        assert record.notification_id == notification.id
        assert (record.escalation_id, record.complaint_id) == ("esc-9", "c-9")
        assert (record.receiver, record.channel) == ("default", "webhook")
        assert record.kafka_key() == notification.id
    assert delivered.attempts == 2
    assert (failed.retryable, failed.reason) == (False, "HTTP 400")


def test_every_escalation_goes_to_the_configured_receivers() -> None:
    receivers = (Route("default", "webhook"), Route("ops", "webhook"))
    assert routes_for(escalated(), receivers=receivers) == receivers


POLICY = RetryPolicy(max_attempts=5, base=timedelta(seconds=1), cap=timedelta(seconds=60))


@pytest.mark.parametrize(
    ("attempt", "unit", "low", "high"),
    [
        (1, 0.0, 0.5, 0.5),
        (1, 0.999, 0.5, 1.0),
        (2, 0.5, 1.0, 2.0),
        (3, 0.0, 2.0, 2.0),
        (3, 0.999, 2.0, 4.0),
        (7, 0.0, 30.0, 30.0),  # 64 s step capped at 60
        (7, 0.999, 30.0, 60.0),
        (200, 0.999, 30.0, 60.0),  # no overflow far out
    ],
)
def test_backoff_is_exponential_with_bounded_jitter(
    attempt: int, unit: float, low: float, high: float
) -> None:
    delay = POLICY.backoff(attempt=attempt, unit=unit).total_seconds()
    assert low <= delay <= high


def test_backoff_grows_with_attempts() -> None:
    delays = [POLICY.backoff(attempt=a, unit=0.5) for a in range(1, 8)]
    assert delays == sorted(delays)
    assert delays[-1] <= POLICY.cap


@pytest.mark.parametrize("unit", [-0.1, 1.0, 1.5])
def test_backoff_refuses_draws_outside_unit_interval(unit: float) -> None:
    with pytest.raises(ValueError, match="unit"):
        POLICY.backoff(attempt=1, unit=unit)


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"max_attempts": 0},
        {"base": timedelta(0)},
        {"base": timedelta(seconds=10), "cap": timedelta(seconds=1)},
    ],
)
def test_invalid_policy_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"max_attempts|backoff"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (None, 0.75),  # the backoff alone (attempt 1, unit 0.5)
        (timedelta(seconds=0.1), 0.75),  # the backoff when longer
        (timedelta(seconds=30), 30.0),  # the peer's wish when longer
        (timedelta(hours=1), 300.0),  # ... but not beyond max_retry_after
    ],
)
def test_delay_honours_retry_after(retry_after: timedelta | None, expected: float) -> None:
    delay = POLICY.delay(attempt=1, unit=0.5, retry_after=retry_after)
    assert delay.total_seconds() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attempt", "outcome", "expected"),
    [
        (1, Delivered(), Done()),
        (5, Delivered(), Done()),
        (1, Retryable("HTTP 503"), RetryIn(timedelta(seconds=0.75))),
        (4, Retryable("HTTP 503"), RetryIn(timedelta(seconds=6))),
        (1, Retryable("HTTP 429", timedelta(seconds=20)), RetryIn(timedelta(seconds=20))),
        (
            5,
            Retryable("HTTP 503"),
            GiveUp(retryable=True, reason="HTTP 503 (gave up after 5 attempts)"),
        ),
        (1, Permanent("HTTP 400"), GiveUp(retryable=False, reason="HTTP 400")),
        (3, Permanent("HTTP 404"), GiveUp(retryable=False, reason="HTTP 404")),
    ],
)
def test_decide(attempt: int, outcome: Outcome, expected: Decision) -> None:
    assert decide(POLICY, attempt=attempt, outcome=outcome, unit=0.5) == expected


NOW = datetime.fromisoformat("2025-03-03T09:00:00+00:00")


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (200, None, Delivered()),
        (202, None, Delivered()),
        (204, None, Delivered()),
        (408, None, Retryable("HTTP 408")),
        (425, None, Retryable("HTTP 425")),
        (429, "120", Retryable("HTTP 429", timedelta(seconds=120), rate_limited=True)),
        (429, None, Retryable("HTTP 429", rate_limited=True)),
        (500, None, Retryable("HTTP 500")),
        (502, None, Retryable("HTTP 502")),
        (
            503,
            "Mon, 03 Mar 2025 09:00:30 GMT",
            Retryable("HTTP 503", timedelta(seconds=30)),
        ),
        (503, "soon", Retryable("HTTP 503")),
        (504, None, Retryable("HTTP 504")),
        (301, None, Permanent("HTTP 301")),
        (400, None, Permanent("HTTP 400")),
        (401, None, Permanent("HTTP 401")),
        (403, None, Permanent("HTTP 403")),
        (404, None, Permanent("HTTP 404")),
        (410, None, Permanent("HTTP 410")),
        (413, None, Permanent("HTTP 413")),
        (422, None, Permanent("HTTP 422")),
    ],
)
def test_classify_status(status: int, retry_after: str | None, expected: Outcome) -> None:
    assert classify_status(status, retry_after=retry_after, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", timedelta(0)),
        (" 7 ", timedelta(seconds=7)),
        ("Mon, 03 Mar 2025 09:01:00 GMT", timedelta(minutes=1)),
        ("Mon, 03 Mar 2025 08:59:00 GMT", timedelta(0)),  # in the past: at once
        ("-5", None),
        ("next tuesday", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_transport_failures_are_retryable() -> None:
    assert transport_failure("timeout", "ReadTimeout") == Retryable("timeout: ReadTimeout")
    assert transport_failure("connection error", "") == Retryable("connection error")


def test_webhook_payload_wraps_the_escalation() -> None:
    event = escalated("esc-7")
    body = json.loads(webhook_payload(event))
    assert body["type"] == "complaint.escalated"
    assert datetime.fromisoformat(body["timestamp"]) == event.escalated_at
    assert ComplaintEscalated.model_validate(body["data"]) == event
    assert webhook_payload(event) == webhook_payload(event)  # retries send the same bytes
