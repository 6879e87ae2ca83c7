"""Where each customer's recent complaints live: a faust table backed by its changelog topic."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from complaints_classifier.domain.customer import CustomerState


class CustomerStore(Protocol):
    def get(self, customer_id: str) -> CustomerState | None: ...

    def put(self, customer_id: str, state: CustomerState) -> None: ...


class TableCustomerStore:
    """JSON values in a faust Table; used only by the agent that owns the customer's partition."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    def get(self, customer_id: str) -> CustomerState | None:
        raw = self._table.get(customer_id)
        return None if raw is None else CustomerState.model_validate(raw)

    def put(self, customer_id: str, state: CustomerState) -> None:
        self._table[customer_id] = state.model_dump(mode="json")


class MemoryCustomerStore:
    """A dict, for tests and tools; the same JSON round trip as the table."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def get(self, customer_id: str) -> CustomerState | None:
        raw = self.data.get(customer_id)
        return None if raw is None else CustomerState.model_validate(raw)

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.writes += 1
        self.data[customer_id] = state.model_dump(mode="json")
