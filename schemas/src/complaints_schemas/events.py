"""Event models: what travels on each topic, as pydantic v2 models.

Each event class names its CloudEvents `type`; the Kafka codec in
`complaints_schemas.cloudevents` carries the other attributes in headers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

CE_TYPE_PREFIX = "com.complaints"

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class Event(BaseModel):
    """Base of every event: frozen, unknown fields refused, a CloudEvents type."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    ce_type: ClassVar[str]
    # The attribute whose value is the Kafka record key and the CloudEvents subject.
    key_field: ClassVar[str] = "complaint_id"

    def kafka_key(self) -> str:
        return str(getattr(self, self.key_field))


class Channel(StrEnum):
    HOTLINE = "hotline"
    CHAT = "chat"
    EMAIL = "email"
    APP = "app"
    SOCIAL = "social"
    WEB = "web"
    OTHER = "other"


class CustomerTier(StrEnum):
    STANDARD = "standard"
    VIP = "vip"


class Severity(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class Scope(StrEnum):
    INDIVIDUAL = "individual"
    COMMON = "common"
    RISK = "risk"


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Identifier
    tier: CustomerTier = CustomerTier.STANDARD
    name: ShortText | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 \-]{5,20}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    # JSON has no infinity: 1e400 parses as one, and would be written back as null.
    annual_spend: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    region: ShortText | None = None


class ClassificationHint(BaseModel):
    """What a channel or an agent already knows of a complaint; the classifier uses it (a
    hint can raise the severity, never lower it) and says so in its reasons."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    severity: Severity | None = None
    category: Identifier | None = None
    source: ShortText | None = Field(default=None, description="Who hints: 'ivr', 'agent:li'.")


class ComplaintSubmitted(Event):
    """What an upstream channel sends: one customer's complaint as it arrived."""

    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.submitted.v1"
    key_field: ClassVar[str] = "channel_event_id"

    channel: Channel
    channel_event_id: Identifier = Field(
        description="The channel's own id for this complaint; a resend with the same id "
        "is the same complaint."
    )
    customer: Customer
    title: ShortText
    description: LongText
    product_id: Identifier | None = None
    order_id: Identifier | None = None
    occurred_at: AwareDatetime
    language: Literal["zh", "en"] | None = None
    hint: ClassificationHint | None = None


class ComplaintAccepted(ComplaintSubmitted):
    """A submitted complaint that passed validation, with its id and language settled."""

    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.accepted.v1"
    key_field: ClassVar[str] = "complaint_id"

    complaint_id: Identifier
    accepted_at: AwareDatetime
    language: Literal["zh", "en"]


class Reason(BaseModel):
    """Why a decision was taken: the rule, and what in the complaint matched it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Literal["severity", "scope", "category", "department"]
    rule: str
    detail: str


class ComplaintClassified(Event):
    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.classified.v1"

    complaint_id: Identifier
    classified_at: AwareDatetime
    severity: Severity
    scope: Scope
    category: Identifier
    department: Identifier
    fingerprint: Identifier = Field(description="Complaints with equal fingerprints are alike.")
    cluster_id: Identifier | None = None
    cluster_size: Annotated[int, Field(ge=1)] | None = None
    cluster_opened: bool = Field(
        default=False, description="This complaint's arrival opened the cluster (its first)."
    )
    cluster_channels: tuple[Channel, ...] = Field(
        default=(),
        description="The channels the cluster's complaints came through so far (with this one).",
    )
    duplicate_of: Identifier | None = Field(
        default=None,
        description="The same customer's earlier complaint of the same kind through another "
        "channel; not counted again towards common.",
    )
    reasons: tuple[Reason, ...]
    complaint: ComplaintAccepted
    model_version: Identifier | None = Field(
        default=None, description="The learned model that decided category, severity, risk."
    )
    confidence: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="Calibrated confidence of the category and severity (lower)."
    )
    needs_triage: bool = Field(
        default=False, description="Below the confidence floor: a person should decide."
    )


class LifecycleAction(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"
    PAUSED = "paused"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    TRANSFERRED = "transferred"
    # An operator's decision: the complaint's open clocks move to the policy now in force
    # (otherwise a policy change never moves an open deadline). Not for upstream channels.
    POLICY_REAPPLIED = "policy_reapplied"
    # An operator's decision after better holiday data arrived (a holiday file, a library
    # upgrade): open clocks are recomputed on their own frozen calendar and policy with the
    # holiday data now loaded. Not for upstream channels.
    CALENDAR_RECOMPUTED = "calendar_recomputed"
    # A person's classification (triage, or a correction): severity, scope and/or category.
    RECLASSIFIED = "reclassified"
    # Another complaint (`linked_complaint_id`, through `linked_channel`) is the same problem
    # reported again (the classifier's duplicate_of): it joined this one and runs no chain of
    # its own. Published by the escalation service, keyed by this (the original) complaint.
    LINKED = "linked"
    # A cluster opened (scope common) after this complaint was classified individual: it
    # became a member (`cluster_id`, `cluster_size` when it opened), so its own alerts yield to
    # the cluster's thread. Published by the classifier, keyed by this (the member) complaint.
    CLUSTERED = "clustered"


# Steps only an operator's tool publishes; intake refuses them from channels.
OPERATOR_ACTIONS = frozenset(
    {LifecycleAction.POLICY_REAPPLIED, LifecycleAction.CALENDAR_RECOMPUTED}
)
# Steps only the services publish; intake refuses them from channels and operators alike.
SERVICE_ACTIONS = frozenset({LifecycleAction.LINKED, LifecycleAction.CLUSTERED})


class ComplaintLifecycleEvent(Event):
    """A step in a complaint's handling, reported by an agent, a CRM or an alert link."""

    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.lifecycle.v1"

    event_id: Identifier = Field(description="Stable id of this step; a resend is ignored.")
    complaint_id: Identifier
    action: LifecycleAction
    occurred_at: AwareDatetime
    actor: ShortText | None = None
    note: LongText | None = None
    to_department: Identifier | None = None
    severity: Severity | None = Field(default=None, description="For a reclassification.")
    scope: Scope | None = Field(default=None, description="For a reclassification.")
    category: Identifier | None = Field(default=None, description="For a reclassification.")
    clock: Identifier | None = Field(
        default=None,
        description="The clock the step is about (an acknowledge link names its alert's clock): "
        "an acknowledgement naming a clock also stops that clock's escalation chain.",
    )
    linked_complaint_id: Identifier | None = Field(
        default=None, description="For `linked`: the complaint that joined this one."
    )
    linked_channel: Channel | None = Field(
        default=None, description="For `linked`: the channel the joined complaint came through."
    )
    cluster_id: Identifier | None = Field(
        default=None, description="For `clustered`: the cluster this complaint is a member of."
    )
    cluster_size: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="For `clustered`: the cluster's size when it opened."
    )

    @model_validator(mode="after")
    def _transfer_names_department(self) -> ComplaintLifecycleEvent:
        if (self.action is LifecycleAction.TRANSFERRED) != (self.to_department is not None):
            raise ValueError("to_department is required for, and only for, a transfer")
        if (self.action is LifecycleAction.LINKED) != (self.linked_complaint_id is not None):
            raise ValueError("linked_complaint_id is required for, and only for, a link")
        if (self.action is LifecycleAction.CLUSTERED) != (self.cluster_id is not None):
            raise ValueError("cluster_id is required for, and only for, joining a cluster")
        named = (self.severity, self.scope, self.category) != (None, None, None)
        if (self.action is LifecycleAction.RECLASSIFIED) != named:
            raise ValueError(
                "severity, scope or category is required for, and only for, a reclassification"
            )
        return self


class EscalationKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


class ComplaintEscalated(Event):
    """One step of an escalation: a warning before a deadline or a breach after it."""

    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.escalated.v1"

    escalation_id: Identifier = Field(
        description="Deterministic from complaint or cluster, clock, level and repeat."
    )
    complaint_id: Identifier
    cluster_id: Identifier | None = None
    kind: EscalationKind
    clock: Identifier
    level: Annotated[int, Field(ge=0)]
    deadline: AwareDatetime
    escalated_at: AwareDatetime
    severity: Severity
    scope: Scope
    category: Identifier
    department: Identifier
    title: ShortText
    targets: tuple[Identifier, ...] = ()
    customer_contact: ShortText | None = Field(
        default=None, description="The customer's phone or email, masked (138****1234)."
    )
    cluster_size: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Complaints in the cluster when a per-cluster step was sent."
    )
    provisional_years: tuple[Annotated[int, Field(ge=1, le=9999)], ...] = Field(
        default=(),
        description="Years whose holidays the deadline was computed on provisionally: no "
        "official schedule was loaded for them (statutory days and weekends only).",
    )
    channels: tuple[Channel, ...] = Field(
        default=(),
        description="The channels the problem was reported through: the complaint's own, then "
        "those of the complaints linked to it as duplicates (omni-channel).",
    )
    linked_complaints: tuple[Identifier, ...] = Field(
        default=(),
        description="Complaints that joined this one as duplicates (no chains of their own).",
    )


class NotificationDelivered(Event):
    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.notification.delivered.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: Identifier = Field(
        description="Deterministic per escalation, receiver, channel."
    )
    escalation_id: Identifier
    complaint_id: Identifier
    channel: Identifier
    receiver: Identifier
    delivered_at: AwareDatetime
    attempts: Annotated[int, Field(ge=1)]


class NotificationFailed(Event):
    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.notification.failed.v1"
    key_field: ClassVar[str] = "notification_id"

    notification_id: Identifier
    escalation_id: Identifier
    complaint_id: Identifier
    channel: Identifier
    receiver: Identifier
    failed_at: AwareDatetime
    attempts: Annotated[int, Field(ge=1)]
    retryable: bool = Field(description="False when the channel refused it for good.")
    reason: str


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    location: str
    message: str


class ComplaintRejected(Event):
    """A dead letter: input that could not be decoded or validated, kept whole."""

    # Raw bytes in Python, base64 in JSON.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")
    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.rejected.v1"
    key_field: ClassVar[str] = "source"

    reason: Literal[
        "undecodable",
        "invalid_envelope",
        "invalid_event",
        "unknown_complaint",
        "too_large",
        "processing_failed",  # valid, but handling it raised: a bug to fix, then replay
    ]
    detail: str
    errors: tuple[FieldError, ...] = ()
    original: bytes = Field(description="The bytes as received, base64url in JSON.")
    source: str = Field(description="Where it came from: 'kafka' or 'http'.")
    source_topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    rejected_at: AwareDatetime


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class ClockPeriod(BaseModel):
    """A stretch of a clock's life: counting, paused, or running outside working hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["running", "paused", "off_hours"]
    start: AwareDatetime
    end: AwareDatetime | None = Field(default=None, description="None: still going on.")
    planned: bool = Field(
        default=False, description="Ahead of `updated_at`: how the clock will run if untouched."
    )


class ClockView(BaseModel):
    """One SLA clock as escalation computed it: deadline, allowance, periods, next step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Identifier
    cycle: Annotated[int, Field(ge=0)] = 0
    state: ClockState
    calendar: Identifier
    target_amount: float
    target_unit: Identifier
    started_at: AwareDatetime
    deadline: AwareDatetime
    stopped_at: AwareDatetime | None = None
    budget_s: float = Field(description="The allowance, in the clock's measure (elapsed/working).")
    used_s: float = Field(description="Allowance used by `updated_at`.")
    outside_working_hours_s: float = 0.0
    periods: tuple[ClockPeriod, ...] = ()
    next_step_at: AwareDatetime | None = Field(
        default=None, description="When this clock's next warning or breach step is due."
    )
    next_step: str | None = Field(default=None, description="e.g. 'warning' or 'breach:2'.")


class ComplaintClocksUpdated(Event):
    """A complaint's clocks after escalation changed them; the newest `version` wins."""

    ce_type: ClassVar[str] = f"{CE_TYPE_PREFIX}.complaint.clocks_updated.v1"

    complaint_id: Identifier
    version: Annotated[int, Field(ge=0)] = Field(
        description="Escalation's state version: grows with every change of this complaint."
    )
    updated_at: AwareDatetime
    status: Identifier
    policy_version: str | None = None
    department: Identifier | None = None
    next_step_at: AwareDatetime | None = Field(
        default=None, description="The earliest step due on any running clock."
    )
    clocks: tuple[ClockView, ...] = ()
    duplicate_of: Identifier | None = Field(
        default=None,
        description="The original this complaint joined as a duplicate (its alerts are the "
        "original's; it has no clocks of its own).",
    )
    linked_complaints: tuple[Identifier, ...] = Field(
        default=(), description="Complaints that joined this one as duplicates."
    )


EVENT_TYPES: tuple[type[Event], ...] = (
    ComplaintSubmitted,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    ComplaintEscalated,
    NotificationDelivered,
    NotificationFailed,
    ComplaintRejected,
    ComplaintClocksUpdated,
)
