"""The internal record between the stages: keyed by customer id, then by fingerprint."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict

from complaints_classifier.domain.content import ContentDecision


class ToWindow(BaseModel):
    """A content decision on its way to the worker that owns its fingerprint's window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: ContentDecision
    received_at: AwareDatetime  # wall clock at the first stage, for the latency histogram
    # The customer's history key (domain/identity.py): a keyed hash of phone or email, or the
    # customer id; None in records from before it (then the customer id).
    identity: str | None = None

    @property
    def customer_key(self) -> str:
        return self.identity or self.content.complaint.customer.id
