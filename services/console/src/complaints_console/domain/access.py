"""Roles and scope: who sees which complaints and may take which step (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from complaints_schemas.events import LifecycleAction


class Role(StrEnum):
    AGENT = "agent"
    OWNER = "owner"  # a department owner
    ADMIN = "admin"


# Agents handle complaints; closing, reopening and reports are for owners and admins.
AGENT_ACTIONS = frozenset(
    {
        LifecycleAction.ACKNOWLEDGED,
        LifecycleAction.RESPONDED,
        LifecycleAction.PAUSED,
        LifecycleAction.RESUMED,
        LifecycleAction.RESOLVED,
        LifecycleAction.TRANSFERRED,
        LifecycleAction.RECLASSIFIED,
    }
)
OWNER_ACTIONS = AGENT_ACTIONS | {LifecycleAction.CLOSED, LifecycleAction.REOPENED}


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: Role
    departments: tuple[str, ...] = ()
    password_hash: str = ""

    @property
    def scope(self) -> Sequence[str] | None:
        """The departments whose complaints this user sees; None: all (admin)."""
        return None if self.role is Role.ADMIN else self.departments

    def sees(self, department: str | None) -> bool:
        return self.role is Role.ADMIN or (
            department is not None and department in self.departments
        )

    def may(self, action: LifecycleAction) -> bool:
        if self.role is Role.AGENT:
            return action in AGENT_ACTIONS
        return action in OWNER_ACTIONS

    @property
    def sees_reports(self) -> bool:
        return self.role is not Role.AGENT

    @property
    def actor(self) -> str:
        """How the user is named on the lifecycle event (the timeline's "who")."""
        return f"console:{self.username}"
