"""An accepted complaint's Location resolves: GET /v1/complaints/{id} leads to the console."""

from __future__ import annotations

import httpx

from .factories import complaint
from .test_http import Harness


async def test_location_redirects_to_the_console_page() -> None:
    harness = Harness(console_url="https://console.example.com/")
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        accepted = await client.post("/v1/complaints", json=complaint())
        followed = await client.get(accepted.headers["location"])
    assert followed.status_code == 303
    complaint_id = accepted.json()["complaint_id"]
    assert followed.headers["location"] == f"https://console.example.com/complaints/{complaint_id}"


async def test_without_a_console_the_location_answers_a_problem() -> None:
    harness = Harness()
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        answer = await client.get("/v1/complaints/C-1")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_reclassification_carries_its_new_values() -> None:
    from complaints_schemas import cloudevents
    from complaints_schemas.events import ComplaintLifecycleEvent
    from complaints_schemas.topics import LIFECYCLE

    harness = Harness()
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        answer = await client.post(
            "/v1/complaints/C-1/events",
            json={"action": "reclassified", "severity": "green", "actor": "console:wang"},
        )
        refused = await client.post(
            "/v1/complaints/C-1/events", json={"action": "acknowledged", "severity": "green"}
        )
    assert answer.status_code == 202
    assert refused.status_code == 422
    [record] = harness.sent_to(LIFECYCLE.name)
    event = cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers).data
    assert (event.severity, event.category) == ("green", None)
