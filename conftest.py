"""Fixtures shared by every test folder: the real Kafka broker for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.broker import kafka_broker
from complaints_cli.postgres import postgres_server
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker: KAFKA_BOOTSTRAP_SERVERS if set, else a local KRaft broker for the session."""
    state_dir: Path = tmp_path_factory.mktemp("kafka")
    with kafka_broker(state_dir) as bootstrap:
        provision_topics(KafkaSettings(bootstrap_servers=bootstrap), ALL_TOPICS)
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: CONSOLE_TEST_DATABASE_URL if set, else a local server for the session."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)


# With REQUIRE_E2E=1 (the README's test command sets it) a run in which no end-to-end test
# passed fails, so a missing broker or a skipped suite cannot pass for green.
_e2e_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _e2e_passed
    if report.when == "call" and report.passed and "e2e" in report.keywords:
        _e2e_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("REQUIRE_E2E") == "1" and _e2e_passed == 0 and exitstatus == 0:
        print("\nREQUIRE_E2E=1 but no end-to-end test passed: failing the run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The year-end pipeline runs first, on topics no other test has written to yet: its clock
    starts weeks ahead, so every complaint other tests leave open would be weeks overdue for it
    (one catch-up reminder each, but thousands of them, before its own complaint)."""
    dated = Path(__file__).parent / "tests" / "e2e_dates"
    items.sort(key=lambda item: not item.path.is_relative_to(dated))
