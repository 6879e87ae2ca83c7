"""KPI facts from real transitions (the seeds' policy, a fake clock): response met or missed,
T+3 closure met, steps and transfers by department; a redelivery counts nothing twice."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from complaints_escalation.domain.kpi import kpi_facts
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.outbound.kpi import KpiMetrics, KpiStore
from complaints_schemas.events import LifecycleAction, Severity
from complaints_schemas.topics import CLASSIFIED, LIFECYCLE

from .factories import classified, lifecycle
from .test_engine import SEEDS
from .test_handlers import World

MIN = timedelta(minutes=1)


class KpiWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.handlers.policy = SEEDS
        self.kpi_registry = CollectorRegistry()
        self.handlers.store = KpiStore(self.store, KpiMetrics(self.kpi_registry))

    def kpi(self, name: str, **labels: str) -> float:
        return self.kpi_registry.get_sample_value(name, labels) or 0.0

    async def step(self, cid: str, action: LifecycleAction, **extra: str) -> None:
        event = lifecycle(cid, action, at=self.clock.now(), **extra)
        await self.send(LIFECYCLE.name, event)


async def test_response_met_and_missed_and_closure_met_by_department() -> None:
    world = KpiWorld()
    await world.send(CLASSIFIED.name, classified("MET-1", severity=Severity.RED))
    await world.send(CLASSIFIED.name, classified("MISSED-1", severity=Severity.RED))
    world.clock.advance(5 * MIN)
    await world.step("MET-1", LifecycleAction.RESPONDED)
    world.clock.advance(10 * MIN)  # past the red 10 minutes: MISSED-1 breaches
    await world.fire_due()
    await world.step("MISSED-1", LifecycleAction.RESPONDED)  # late: counted once, as missed
    await world.step("MET-1", LifecycleAction.RESOLVED)
    await world.step("MET-1", LifecycleAction.CLOSED)
    results = "complaints_escalation_clock_results_total"
    assert world.kpi(results, clock="response", department="payments", result="met") == 1
    assert world.kpi(results, clock="response", department="payments", result="missed") == 1
    assert world.kpi(results, clock="closure", department="payments", result="met") == 1
    steps = world.kpi(
        "complaints_escalation_department_steps_total", department="payments", kind="breach"
    )
    assert steps >= 1
    # A redelivered lifecycle event writes the same state again: no new facts.
    before = world.kpi(results, clock="response", department="payments", result="met")
    await world.step("MET-1", LifecycleAction.RESPONDED)
    assert world.kpi(results, clock="response", department="payments", result="met") == before


async def test_a_transfer_counts_from_and_to() -> None:
    world = KpiWorld()
    await world.send(CLASSIFIED.name, classified("MOVE-1", department="payments"))
    await world.step("MOVE-1", LifecycleAction.TRANSFERRED, to_department="logistics")
    transfers = "complaints_escalation_transfers_total"
    assert world.kpi(transfers, department="payments", direction="out") == 1
    assert world.kpi(transfers, department="logistics", direction="in") == 1
    # Series start at 0 with the department's first complaint, so increase() counts the first.
    assert (
        world.kpi_registry.get_sample_value(
            "complaints_escalation_clock_results_total",
            {"clock": "response", "department": "logistics", "result": "met"},
        )
        == 0
    )


def test_an_unclassified_state_yields_no_fact() -> None:
    assert kpi_facts(None, ComplaintState(complaint_id="none")) == []
