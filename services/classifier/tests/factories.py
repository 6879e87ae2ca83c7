"""Builders of complaints and the rule set for the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.rules_file import load_rules
from complaints_schemas.events import Channel, ComplaintAccepted, Customer, CustomerTier

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RULES_FILE = Path(__file__).resolve().parents[3] / "config" / "classifier" / "rules.yaml"


@cache
def rules() -> RuleSet:
    """The shipped phrase rules without the model: these tests pin the rules' behaviour
    (the model's is measured in test_model.py)."""
    return load_rules(RULES_FILE).model_copy(update={"model": None})


def complaint(
    complaint_id: str = "C-1",
    *,
    title: str = "Question",
    description: str = "Please help.",
    language: str = "en",
    tier: CustomerTier = CustomerTier.STANDARD,
    annual_spend: float | None = None,
    customer_id: str = "cust-1",
    region: str | None = "Shanghai",
    product_id: str | None = "P-100",
    accepted_at: datetime = T0,
) -> ComplaintAccepted:
    return ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=f"ch-{complaint_id}",
        customer=Customer(id=customer_id, tier=tier, annual_spend=annual_spend, region=region),
        title=title,
        description=description,
        product_id=product_id,
        occurred_at=accepted_at,
        complaint_id=complaint_id,
        accepted_at=accepted_at,
        language=language,  # type: ignore[arg-type]
    )
