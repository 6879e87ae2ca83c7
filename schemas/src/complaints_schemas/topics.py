"""Every Kafka topic of the pipeline, declared once.

Per-complaint topics are keyed by complaint id and share one partition count, so
a complaint's classified and lifecycle events land in the same partition number and
one escalation worker owns its whole state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Cleanup(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    partitions: int
    key: str
    description: str
    cleanup: Cleanup = Cleanup.DELETE
    retention_ms: int = 7 * 24 * 3600 * 1000
    config: dict[str, str] = field(default_factory=dict)

    def topic_config(self) -> dict[str, str]:
        return {
            "cleanup.policy": str(self.cleanup),
            "retention.ms": str(self.retention_ms),
            **self.config,
        }


COMPLAINT_PARTITIONS = 6

SUBMITTED = Topic(
    "complaints.submitted.v1",
    COMPLAINT_PARTITIONS,
    key="channel:channel_event_id",
    description="Raw complaints published by upstream channels, validated by intake.",
)
ACCEPTED = Topic(
    "complaints.accepted.v1",
    COMPLAINT_PARTITIONS,
    key="complaint_id",
    description="Complaints that passed validation, normalised and deduplicated.",
)
CLASSIFIED = Topic(
    "complaints.classified.v1",
    COMPLAINT_PARTITIONS,
    key="complaint_id",
    description="Severity, scope, category and owning department, with reasons.",
)
LIFECYCLE = Topic(
    "complaints.lifecycle.v1",
    COMPLAINT_PARTITIONS,
    key="complaint_id",
    description="Acknowledge, respond, pause, resume, resolve, close, reopen, transfer.",
)
ESCALATED = Topic(
    "complaints.escalated.v1",
    COMPLAINT_PARTITIONS,
    key="complaint_id",
    description="Warnings and breaches of SLA clocks, one record per escalation step.",
)
DELIVERED = Topic(
    "notifications.delivered.v1",
    COMPLAINT_PARTITIONS,
    key="notification_id",
    description="Notifications accepted by their channel; the notifier's dedup log.",
    cleanup=Cleanup.COMPACT,
    retention_ms=-1,
)
FAILED = Topic(
    "notifications.failed.v1",
    COMPLAINT_PARTITIONS,
    key="notification_id",
    description="Notifications that failed permanently or ran out of retries.",
)
CLOCKS = Topic(
    "complaints.clocks-updated.v1",
    COMPLAINT_PARTITIONS,
    key="complaint_id",
    description="Each complaint's SLA clocks after every change escalation made (deadlines, "
    "periods, next step); compacted: the newest per complaint is kept, for read models.",
    cleanup=Cleanup.COMPACT,
    retention_ms=-1,
)
REJECTED = Topic(
    "complaints.rejected.v1",
    3,
    key="source",
    description="Dead letters: input that failed to decode or validate, with the reason.",
    retention_ms=30 * 24 * 3600 * 1000,
)

ALL_TOPICS: tuple[Topic, ...] = (
    SUBMITTED,
    ACCEPTED,
    CLASSIFIED,
    LIFECYCLE,
    ESCALATED,
    DELIVERED,
    FAILED,
    REJECTED,
    CLOCKS,
)
