"""Intake's edges: oversized bodies and batches get 413 problems (on a real server, no
connection reset), unreadable text and an occurred_at far from now are refused, non-finite
numbers too; every refusal is counted, and on the Kafka path dead-lettered."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from starlette.testclient import TestClient

from complaints_cli.broker import free_port
from complaints_intake.domain.bounds import OccurredWindow, occurred_violation, text_violation
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintRejected
from complaints_schemas.topics import REJECTED, SUBMITTED

from .broker_io import eventually, produce_raw, read_topic
from .factories import complaint
from .test_broker import running
from .test_http import T0, Harness

NUL_TITLE = "\x00"
INVISIBLE = ("\u200b", "\u200b\u200c\u200d", "\ufeff", " \u2060 ", "\u3000\u200b", "\u202e")


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("Payment failed", None),
        ("支付失败，已扣款", None),
        ("line one\nline two\ttabbed\r\n", None),
        ("family 👨\u200d👩\u200d👧 emoji", None),  # joiners between visible characters: fine
        (NUL_TITLE, "control character U+0000"),
        ("bell\x07", "control character U+0007"),
        ("esc\x1b[31m", "control character U+001B"),
        ("c1\x85", "control character U+0085"),
        *((text, "no visible character") for text in INVISIBLE),
        ("   ", "no visible character"),
    ],
)
def test_text_rules(text: str, refused: str | None) -> None:
    found = text_violation(text)
    if refused is None:
        assert found is None
    else:
        assert found is not None
        assert refused in found


WINDOW = OccurredWindow(max_age=timedelta(days=1830), max_ahead=timedelta(minutes=15))


@pytest.mark.parametrize(
    ("occurred", "refused"),
    [
        (T0, None),
        (T0 + timedelta(minutes=14), None),  # a channel's clock a little ahead
        (T0 - timedelta(days=1800), None),
        (T0 + timedelta(minutes=16), "after now"),
        (T0 - timedelta(days=1831), "before now"),
        (datetime(3000, 1, 1, tzinfo=UTC), "after now"),
        (datetime(1, 1, 1, tzinfo=UTC), "before now"),
    ],
)
def test_occurred_window(occurred: datetime, refused: str | None) -> None:
    found = occurred_violation(occurred, now=T0, window=WINDOW)
    assert (found is None) if refused is None else (refused in (found or ""))


EDGES: list[tuple[str, dict[str, object], str]] = [
    ("nul title", {"title": NUL_TITLE}, "title"),
    ("zero-width title", {"title": "\u200b\u200b"}, "title"),
    ("bidi-only description", {"description": "\u202e\u202d"}, "description"),
    ("control in customer name", {"customer": {"id": "c-1", "name": "a\x00b"}}, "customer.name"),
    ("year 3000", {"occurred_at": "3000-01-01T00:00:00+00:00"}, "occurred_at"),
    ("year 1", {"occurred_at": "0001-01-01T00:00:00+00:00"}, "occurred_at"),
]


def _raw(body: dict[str, object], *, spend: str | None = None) -> bytes:
    text = json.dumps(body)
    if spend is not None:  # a literal json.dumps cannot write
        text = text[:-1] + f', "customer": {{"id": "c-1", "annual_spend": {spend}}}}}'
    return text.encode()


@pytest.mark.parametrize(("case", "changes", "field"), EDGES, ids=[e[0] for e in EDGES])
def test_http_refuses_edges_with_a_named_field(
    case: str, changes: dict[str, object], field: str
) -> None:
    harness = Harness()
    client = TestClient(harness.app)
    response = client.post("/v1/complaints", json=complaint(**changes))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["location"] for e in response.json()["errors"]}
    assert (
        harness.metric("complaints_intake_rejected_total", reason="invalid_event", source="http")
        == 1
    )
    assert not harness.sender.sent
    batch = client.post("/v1/complaints/batch", json=[complaint(**changes), complaint()])
    assert batch.status_code == 202
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [422, 202]
    assert field in {e["location"] for e in results[0]["problem"]["errors"]}


@pytest.mark.parametrize("spend", ["1e400", "-1e400", "1E999"])
def test_non_finite_numbers_are_refused(spend: str) -> None:
    harness = Harness()
    body = complaint()
    del body["customer"]
    response = TestClient(harness.app).post(
        "/v1/complaints",
        content=_raw(body, spend=spend),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "customer.annual_spend" in {e["location"] for e in response.json()["errors"]}
    assert not harness.sender.sent


def test_a_lifecycle_step_far_from_now_is_refused() -> None:
    harness = Harness()
    client = TestClient(harness.app)
    for occurred in ("3000-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00"):
        response = client.post(
            "/v1/complaints/CMP-1/events", json={"action": "acknowledged", "occurred_at": occurred}
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["location"] == "occurred_at"
    response = client.post(
        "/v1/complaints/CMP-1/events", json={"action": "acknowledged", "note": "\x00"}
    )
    assert response.status_code == 422
    assert not harness.sender.sent


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, Harness]]:
    """Intake's app behind a real uvicorn, as deployed: what a client on a socket sees."""
    harness = Harness()
    port = free_port()
    config = uvicorn.Config(
        harness.app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield port, harness
    instance.should_exit = True
    thread.join(10)


def _post_raw(
    port: int, path: str, body: bytes, *, chunked: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Send the whole request (as a client that writes everything first), then read."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        length = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
        sock.sendall(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: intake\r\n"
            b"Content-Type: application/json\r\n" + length + b"\r\n\r\n"
        )
        step = 256 * 1024
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            assert data, "connection closed before an answer"
            answer += data
        head, _, rest = answer.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        while len(rest) < int(headers.get("content-length", "0")):
            rest += sock.recv(65536)
        return int(lines[0].split()[1]), headers, rest


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_20_mb_body_gets_a_413_problem_not_a_reset(
    server: tuple[int, Harness], chunked: bool
) -> None:
    port, _ = server
    body = b'{"title": "' + b"a" * 20_000_000 + b'"}'
    status, headers, content = _post_raw(port, "/v1/complaints", body, chunked=chunked)
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(content)["type"].endswith("too-large")


def test_a_100000_item_batch_gets_a_413_problem(server: tuple[int, Harness]) -> None:
    port, harness = server
    before = harness.metric("complaints_intake_rejected_total", reason="too_large", source="http")
    small = json.dumps([{}] * 100_000).encode()  # under the byte limit, over the item limit
    status, _, content = _post_raw(port, "/v1/complaints/batch", small)
    assert status == 413
    assert json.loads(content)["type"].endswith("batch-too-large")
    full = json.dumps([complaint() for _ in range(100_000)]).encode()  # over both
    status, _, content = _post_raw(port, "/v1/complaints/batch", full)
    assert status == 413
    assert json.loads(content)["status"] == 413
    after = harness.metric("complaints_intake_rejected_total", reason="too_large", source="http")
    assert after == before + 2
    assert not harness.sender.sent


@pytest.mark.kafka
async def test_kafka_edges_are_dead_lettered_and_counted(kafka_settings: KafkaSettings) -> None:
    marker = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat()
    edges = [
        complaint(**{"channel_event_id": f"{name}-{marker}", "occurred_at": now, **changes})
        for name, changes, _ in EDGES
    ]
    spend = complaint(channel_event_id=f"spend-{marker}", occurred_at=now)
    del spend["customer"]
    values = [json.dumps(e).encode() for e in edges] + [_raw(spend, spend="1e400")]
    produce_raw(kafka_settings, SUBMITTED.name, [(b"k", value, None) for value in values])
    group = f"intake-edges-{marker}"
    async with running(kafka_settings, consumer_group=group) as (_, registry):

        def dead_letters() -> list[ComplaintRejected]:
            found = [
                cloudevents.decode(ComplaintRejected, r.value, list(r.headers.items())).data
                for r in read_topic(kafka_settings, REJECTED.name)
            ]
            mine = [d for d in found if marker.encode() in d.original]
            return mine if len(mine) >= len(values) else []

        rejected = await eventually(dead_letters, within=30, what="the edge cases dead-lettered")
        counted = registry.get_sample_value(
            "complaints_intake_rejected_total", {"reason": "invalid_event", "source": "kafka"}
        )
    by_original = {bytes(d.original): d for d in rejected}
    for value, (_, _, field) in zip(
        values, [*EDGES, ("", {}, "customer.annual_spend")], strict=True
    ):
        dead = by_original[value]
        assert dead.reason == "invalid_event"
        assert field in {e.location for e in dead.errors}, dead
    assert (counted or 0) >= len(values)
