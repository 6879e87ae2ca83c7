"""The HTTP API fuzzed: from its own OpenAPI document (schemathesis) and with arbitrary bodies
(hypothesis). No input makes it answer 5xx; every 4xx is RFC 7807 problem details."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from .test_http import Harness

harness = Harness()
schema = schemathesis.openapi.from_asgi("/openapi.json", harness.app)
client = TestClient(harness.app)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
FIELDS = ("channel", "channel_event_id", "customer", "title", "description", "occurred_at")


def assert_clean(status: int, headers: Any, body: bytes) -> None:
    assert status < 500, body[:500]
    if 400 <= status < 500 and status != 405:
        content_type = headers["content-type"]
        if isinstance(content_type, list):  # schemathesis keeps every value of a header
            content_type = content_type[0]
        assert content_type.startswith("application/problem+json"), headers
        problem = json.loads(body)
        assert problem["status"] == status
        assert problem["title"]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    if case.path.startswith("/v1/ack/"):  # pages for people following an alert's link
        assert response.status_code < 500, response.content[:500]
        return
    assert_clean(response.status_code, response.headers, response.content)


@given(body=st.binary(max_size=2048))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_bytes_are_refused_clearly(body: bytes) -> None:
    for path in ("/v1/complaints", "/v1/complaints/batch", "/v1/complaints/CMP-1/events"):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert_clean(response.status_code, response.headers, response.content)
        assert response.status_code in (202, 207, 400, 413, 415, 422)


@given(
    document=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=len(FIELDS)) | JSON,
)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_json_is_refused_clearly(document: Any) -> None:
    for path, body in (
        ("/v1/complaints", document),
        ("/v1/complaints/batch", [document, document]),
        ("/v1/complaints/CMP-1/events", document),
    ):
        response = client.post(path, json=body)
        assert_clean(response.status_code, response.headers, response.content)


# The edges an SRE tried first: unreadable text, occurred_at anywhere in years 1-9999,
# numbers JSON cannot hold, and bodies and batches over the limits. None may answer 5xx.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u00ad\u3000 "
CONTROLS = "".join(map(chr, range(32))) + "\x7f\x85"
EDGE_TEXT = st.text(alphabet=INVISIBLE + CONTROLS, min_size=1, max_size=8) | st.text(
    alphabet=INVISIBLE + CONTROLS + "ab支付", min_size=1, max_size=20
)
WHEN = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
HUGE = st.sampled_from(["1e400", "-1e400", "1E309", "2e308", "0", "12.5", "1e308"])


@given(title=EDGE_TEXT, description=EDGE_TEXT, when=WHEN, spend=HUGE)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_edge_cases_are_refused_clearly(
    title: str, description: str, when: datetime, spend: str
) -> None:
    document = {
        "channel": "app",
        "channel_event_id": f"fuzz-{uuid.uuid4().hex}",
        "title": title,
        "description": description,
        "occurred_at": when.isoformat(),
    }
    text = json.dumps(document)[:-1] + f', "customer": {{"id": "c-1", "annual_spend": {spend}}}}}'
    for path, body in (
        ("/v1/complaints", text),
        ("/v1/complaints/batch", f"[{text}, {text}]"),
    ):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert_clean(response.status_code, response.headers, response.content)
        assert response.status_code in (202, 422), response.text
        results = response.json().get("results", [response.json()])
        assert all(r.get("status", 202) in (202, 422) for r in results)
    event = {"action": "acknowledged", "occurred_at": when.isoformat(), "note": title}
    response = client.post("/v1/complaints/CMP-1/events", json=event)
    assert_clean(response.status_code, response.headers, response.content)


@given(items=st.integers(min_value=501, max_value=100_000), pad=st.integers(0, 3))
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_oversized_batches_and_bodies_get_413_problems(items: int, pad: int) -> None:
    body = "[" + ",".join(["{}"] * items) + "]" + " " * pad
    response = client.post(
        "/v1/complaints/batch", content=body, headers={"content-type": "application/json"}
    )
    assert_clean(response.status_code, response.headers, response.content)
    assert response.status_code == 413
    big = b'{"title": "' + b"x" * (harness.settings.max_body_bytes + pad) + b'"}'
    for path in ("/v1/complaints", "/v1/complaints/batch", "/v1/complaints/CMP-1/events"):
        response = client.post(path, content=big, headers={"content-type": "application/json"})
        assert_clean(response.status_code, response.headers, response.content)
        assert response.status_code == 413
