"""Publishing complaints: over the intake HTTP API, or straight to complaints.submitted.v1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer

from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintSubmitted
from complaints_schemas.topics import SUBMITTED


def load_file(path: Path) -> list[dict[str, Any]]:
    """A JSON array of complaints, or one complaint per line (JSON Lines)."""
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError(f"{path}: expected a JSON array")
        return items
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def send_http(items: list[dict[str, Any]], *, base_url: str) -> list[dict[str, Any]]:
    """POST each complaint; return the intake's answers (id, or the problem details)."""
    answers = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for item in items:
            response = client.post("/v1/complaints", json=item)
            answers.append({"status": response.status_code, **response.json()})
    return answers


def acknowledge(complaint_id: str, *, base_url: str, actor: str = "demo-agent") -> int:
    response = httpx.post(
        f"{base_url}/v1/complaints/{complaint_id}/events",
        json={"action": "acknowledged", "actor": actor},
        timeout=10,
    )
    return response.status_code


def send_kafka(items: list[dict[str, Any]], *, bootstrap: str) -> int:
    """Publish as a channel would: CloudEvents binary mode on complaints.submitted.v1."""
    producer = Producer(producer_config(KafkaSettings(bootstrap_servers=bootstrap)))
    now = datetime.now(UTC)
    for item in items:
        event = ComplaintSubmitted.model_validate(item)
        record = cloudevents.encode(
            event, source=f"/channels/{event.channel}", id=event.channel_event_id, time=now
        )
        producer.produce(SUBMITTED.name, key=record.key, value=record.value, headers=record.headers)
    producer.flush(30)
    return len(items)
