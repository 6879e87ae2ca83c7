"""The HTTP API fuzzed: from its own OpenAPI document (schemathesis) and with arbitrary bodies
(hypothesis). No input makes it answer 5xx; every 4xx is RFC 7807 problem details."""

from __future__ import annotations

import json
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
