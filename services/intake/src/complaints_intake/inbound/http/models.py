"""Request and response bodies of the HTTP API that are not wire events themselves."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from complaints_schemas.events import (
    OPERATOR_ACTIONS,
    Identifier,
    LifecycleAction,
    LongText,
    Scope,
    Severity,
    ShortText,
)


class AcceptedResponse(BaseModel):
    complaint_id: str
    duplicate: bool


class BatchItemResult(BaseModel):
    """One item of a batch: its complaint id, or the problem details that kept it out."""

    index: int
    status: int
    complaint_id: str | None = None
    duplicate: bool | None = None
    problem: dict[str, Any] | None = None


class BatchResponse(BaseModel):
    accepted: int
    duplicates: int
    failed: int
    results: list[BatchItemResult]


class LifecycleRequest(BaseModel):
    """A lifecycle step as an agent or CRM reports it; the complaint id is in the path."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    action: LifecycleAction
    event_id: Identifier | None = None
    occurred_at: AwareDatetime | None = None
    actor: ShortText | None = None
    note: LongText | None = None
    to_department: Identifier | None = None
    # A reclassification's new values (action `reclassified` only).
    severity: Severity | None = None
    scope: Scope | None = None
    category: Identifier | None = None

    @field_validator("action")
    @classmethod
    def _channel_action(cls, action: LifecycleAction) -> LifecycleAction:
        if action in OPERATOR_ACTIONS:
            raise ValueError(
                f"{action.value} is an operator action "
                "(complaints reapply-policy, complaints recompute-calendars)"
            )
        return action


class LifecycleResponse(BaseModel):
    event_id: str
