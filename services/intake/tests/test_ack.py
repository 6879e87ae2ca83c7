"""Acknowledge links: GET confirms, POST publishes `acknowledged` once; bad links get a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from complaints_schemas import cloudevents
from complaints_schemas.ack_links import AckClaims, ack_event_id, sign_ack_token
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction
from complaints_schemas.topics import LIFECYCLE

from .test_http import T0, Harness

SECRET = "shared-ack-secret"


def token(*, expires_in: timedelta = timedelta(hours=1), secret: str = SECRET) -> str:
    claims = AckClaims(
        complaint_id="c-42", escalation_id="esc-7", receiver="oncall", expires_at=T0 + expires_in
    )
    return sign_ack_token(claims, secret=secret)


@pytest.fixture
def harness() -> Harness:
    return Harness(ACK_LINK_SECRET=SECRET)


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        yield c


async def test_get_confirms_without_acknowledging_then_post_publishes_once(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    link = f"/v1/ack/{token()}"
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'method="post"' in page.text
    assert "c-42" in page.text
    assert harness.sent_to(LIFECYCLE.name) == []  # a link preview must not acknowledge

    done = await client.post(link)
    assert done.status_code == 200
    assert "Acknowledged" in done.text
    [record] = harness.sent_to(LIFECYCLE.name)
    event = cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers).data
    assert record.key == b"c-42"
    assert event.action is LifecycleAction.ACKNOWLEDGED
    assert event.event_id == ack_event_id(token())  # a resend elsewhere is ignored downstream
    assert event.actor == "ack-link:oncall"
    assert event.occurred_at == T0


async def test_reused_link_is_refused_with_a_page(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    link = f"/v1/ack/{token()}"
    assert (await client.post(link)).status_code == 200
    for again in (await client.post(link), await client.get(link)):
        assert again.status_code == 409
        assert "Already acknowledged" in again.text
    assert len(harness.sent_to(LIFECYCLE.name)) == 1


@pytest.mark.parametrize(
    ("make", "status", "text"),
    [
        (lambda: token(expires_in=timedelta(seconds=-1)), 410, "Link expired"),
        (lambda: token(expires_in=timedelta(0)), 410, "Link expired"),
        (lambda: token(secret="someone-else"), 403, "altered"),
        (lambda: token()[:-3] + "AAA", 403, "altered"),
        (lambda: "e30." + token().split(".")[1], 403, "altered"),  # claims swapped
        (lambda: "not-a-token", 400, "not a complete"),
        (lambda: "%%%.%%%", 400, "not a complete"),
    ],
)
async def test_expired_altered_or_broken_links_are_refused(
    client: httpx.AsyncClient, harness: Harness, make, status: int, text: str
) -> None:  # type: ignore[no-untyped-def]
    for method in ("GET", "POST"):
        answer = await client.request(method, f"/v1/ack/{make()}")
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert text in answer.text
    assert harness.sent_to(LIFECYCLE.name) == []


async def test_disabled_without_a_secret() -> None:
    harness = Harness()
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        answer = await c.post(f"/v1/ack/{token()}")
    assert answer.status_code == 404
    assert harness.sent_to(LIFECYCLE.name) == []


@pytest.mark.parametrize(
    "clock", ["response", "resolution", "closure", "refund", "risk", "cluster"]
)
async def test_the_link_names_its_clock_and_the_page_says_what_stops(
    client: httpx.AsyncClient, harness: Harness, clock: str
) -> None:
    claims = AckClaims(
        complaint_id="c-43",
        escalation_id="esc-8",
        receiver="oncall",
        expires_at=T0 + timedelta(hours=1),
        clock=clock,
    )
    link = f"/v1/ack/{sign_ack_token(claims, secret=SECRET)}"
    page = await client.get(link)
    assert f"escalation chain of the «{clock}» clock" in page.text
    assert "does not resolve or close the complaint" in page.text
    done = await client.post(link)
    assert f"«{clock}» clock stops" in done.text
    [record] = harness.sent_to(LIFECYCLE.name)
    event = cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers).data
    assert (event.action, event.clock) == (LifecycleAction.ACKNOWLEDGED, clock)


async def test_a_link_minted_before_clocks_acknowledges_without_one(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    link = f"/v1/ack/{token()}"
    assert "first-response clock" in (await client.get(link)).text
    assert (await client.post(link)).status_code == 200
    [record] = harness.sent_to(LIFECYCLE.name)
    assert (
        cloudevents.decode(ComplaintLifecycleEvent, record.value, record.headers).data.clock is None
    )
