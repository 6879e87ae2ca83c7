"""Where each customer's recent complaints live: keyed by customer id, per input partition."""

from __future__ import annotations

from typing import Any, Protocol

from complaints_classifier.domain.customer import CustomerState


class CustomerStore(Protocol):
    def get(self, customer_id: str, *, partition: int) -> CustomerState | None: ...

    def put(self, customer_id: str, state: CustomerState, *, partition: int) -> None: ...


class MemoryCustomerStore:
    """A dict, for tests and tools; the same JSON round trip as the changelog."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def get(self, customer_id: str, *, partition: int = 0) -> CustomerState | None:
        raw = self.data.get(customer_id)
        return None if raw is None else CustomerState.model_validate(raw)

    def put(self, customer_id: str, state: CustomerState, *, partition: int = 0) -> None:
        self.writes += 1
        self.data[customer_id] = state.model_dump(mode="json")
