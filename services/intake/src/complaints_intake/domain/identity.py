"""Deterministic ids: a resent complaint or a redelivered record always gets the same id."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:complaints:intake")


def complaint_id(channel: str, channel_event_id: str) -> str:
    """The complaint id for a channel's own event id: "CMP-" + uuid5 hex."""
    return "CMP-" + uuid.uuid5(_NAMESPACE, f"{channel}\x1f{channel_event_id}").hex
