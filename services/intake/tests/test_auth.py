"""Channels authenticate with hashed API keys, stay in their lane and within their rate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from complaints_intake.channels_file import ChannelsFileError, load_channels
from complaints_intake.domain.channels import TokenBucket, hash_key

from .factories import complaint
from .test_http import Harness

APP_KEY = "app-key-1c5d9e0a7b"
CRM_KEY = "crm-key-77f0b2e4aa"


@pytest.fixture
def channels_file(tmp_path: Path) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(
        f"""channels:
  app:
    keys: [{{id: app-1, sha256: "{hash_key(APP_KEY)}"}}]
    actions: [acknowledged]
    rate: {{per_second: 2, burst: 3}}
  hotline:
    keys: [{{id: crm-1, sha256: "{hash_key(CRM_KEY)}"}}]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def harness(channels_file: Path) -> Harness:
    return Harness(channels_file=channels_file, batch_max_items=10)


@pytest.fixture
async def client(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_file_keeps_only_hashes(channels_file: Path) -> None:
    text = channels_file.read_text()
    assert APP_KEY not in text
    assert CRM_KEY not in text
    assert load_channels(channels_file).identify(APP_KEY) is not None
    assert load_channels(channels_file).identify("app-key-guess") is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing_key"), (bearer("nope"), "unknown_key"), ({"X-Api-Key": "nope"}, "unknown_key")],
)
async def test_no_or_unknown_key_is_401_and_nothing_is_published(
    client: httpx.AsyncClient, harness: Harness, headers: dict[str, str], reason: str
) -> None:
    response = await client.post("/v1/complaints", json=complaint(), headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert harness.sender.sent == []
    assert harness.metric("complaints_intake_auth_refused_total", reason=reason) == 1
    assert harness.metric("complaints_intake_auth_enabled") == 1


async def test_a_channel_submits_its_own_complaints_only(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    ok = await client.post("/v1/complaints", json=complaint(channel="app"), headers=bearer(APP_KEY))
    assert ok.status_code == 202
    other = await client.post(
        "/v1/complaints", json=complaint(channel="hotline"), headers={"X-Api-Key": APP_KEY}
    )
    assert other.status_code == 403
    batch = await client.post(
        "/v1/complaints/batch",
        json=[complaint(channel="hotline"), complaint(channel="app")],
        headers=bearer(CRM_KEY),
    )
    assert [r["status"] for r in batch.json()["results"]] == [202, 403]
    assert len(harness.sender.sent) == 2
    assert harness.metric("complaints_intake_auth_refused_total", reason="other_channel") == 2


async def test_lifecycle_steps_are_authorised_per_channel(client: httpx.AsyncClient) -> None:
    path = "/v1/complaints/CMP-1/events"
    ack = await client.post(path, json={"action": "acknowledged"}, headers=bearer(APP_KEY))
    assert ack.status_code == 202
    close = await client.post(path, json={"action": "closed"}, headers=bearer(APP_KEY))
    assert close.status_code == 403
    assert "may not report 'closed'" in close.json()["detail"]
    by_crm = await client.post(path, json={"action": "closed"}, headers=bearer(CRM_KEY))
    assert by_crm.status_code == 202


async def test_a_channel_over_its_rate_gets_429_with_retry_after_until_it_refills(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    path = "/v1/complaints/CMP-1/events"
    answers = [
        (await client.post(path, json={"action": "acknowledged"}, headers=bearer(APP_KEY)))
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].headers["retry-after"] == "1"
    # Another channel has its own bucket.
    assert (
        await client.post(path, json={"action": "closed"}, headers=bearer(CRM_KEY))
    ).status_code == 202
    harness.clock.advance(timedelta(seconds=1))
    again = await client.post(path, json={"action": "acknowledged"}, headers=bearer(APP_KEY))
    assert again.status_code == 202
    assert harness.metric("complaints_intake_auth_refused_total", reason="rate_limited") == 1


@pytest.mark.parametrize(
    ("now", "count", "wait"),
    [(0.0, 3, 0.0), (0.0, 4, 0.5), (1.0, 2, 0.0)],
)
def test_token_bucket(now: float, count: int, wait: float) -> None:
    bucket = TokenBucket(per_second=2, burst=3)
    bucket.take(0.0, 0)
    assert bucket.take(now, count) == pytest.approx(wait)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channels: {}\n", "channels"),
        (
            "channels:\n  app:\n    keys: [{id: a, sha256: not-hex}]\n",
            ":3: channels.app.keys.0.sha256",
        ),
        (
            "channels:\n  pigeon:\n    keys: [{id: a, sha256: " + "ab" * 32 + "}]\n",
            ":2: channels.pigeon",
        ),
        (
            "channels:\n  app:\n    keys: [{id: a, sha256: "
            + "ab" * 32
            + "}]\n    actions: [policy_reapplied]\n",
            "operator",
        ),
        ("channels: [\n", "channels.yaml"),
    ],
)
def test_an_invalid_channels_file_names_the_file_the_line_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ChannelsFileError, match=str(path)) as raised:
        load_channels(path)
    assert expected in str(raised.value)


def test_the_shipped_example_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "config" / "intake" / "channels.example.yaml"
    assert sorted(load_channels(example).channels) == ["app", "hotline", "other"]
