"""Test data: complaint bodies with unique channel event ids (the broker is shared)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def complaint(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "app",
        "channel_event_id": f"test-{uuid.uuid4().hex}",
        "customer": {"id": f"cust-{uuid.uuid4().hex[:8]}", "phone": "+86 138-1234-1234"},
        "title": "  Payment   failed\tbut I was charged ",
        "description": "The app said payment failed.\n\n\n\nBut 399 was   charged.",
        "occurred_at": datetime(2025, 3, 1, 8, 30, tzinfo=UTC).isoformat(),
    }
    data.update(overrides)
    return data
