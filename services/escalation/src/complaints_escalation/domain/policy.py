"""The escalation policy: response SLA per severity and the breach chain's pace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from complaints_escalation.domain.state import SlaClock
from complaints_schemas.events import Severity

RESPONSE_CLOCK = "response"

DEFAULT_RESPONSE_SLA: Mapping[Severity, timedelta] = MappingProxyType(
    {
        Severity.RED: timedelta(minutes=10),
        Severity.YELLOW: timedelta(minutes=30),
        Severity.GREEN: timedelta(hours=2),
    }
)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Response deadline per severity; after a breach one level more every `level_interval`."""

    response_sla: Mapping[Severity, timedelta] = field(default_factory=lambda: DEFAULT_RESPONSE_SLA)
    level_interval: timedelta = timedelta(minutes=10)
    max_level: int = 3

    def __post_init__(self) -> None:
        missing = [s.value for s in Severity if s not in self.response_sla]
        if missing:
            raise ValueError(f"response SLA missing for severity: {', '.join(missing)}")
        if any(sla <= timedelta(0) for sla in self.response_sla.values()):
            raise ValueError("response SLAs must be positive")
        if self.level_interval <= timedelta(0):
            raise ValueError("level_interval must be positive")
        if self.max_level < 1:
            raise ValueError("max_level must be at least 1")

    def start_response_clock(self, *, severity: Severity, accepted_at: datetime) -> SlaClock:
        """The response clock, frozen with this policy's chain when the complaint is classified."""
        return SlaClock(
            name=RESPONSE_CLOCK,
            started_at=accepted_at,
            deadline=accepted_at + self.response_sla[severity],
            level_interval=self.level_interval,
            max_level=self.max_level,
        )
