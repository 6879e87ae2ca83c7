"""Reading a topic to its end, for assertions on what the pipeline really published."""

from __future__ import annotations

import time
from typing import TypeVar

from complaints_kit.kafka import read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import Event

E = TypeVar("E", bound=Event)


def read_raw(
    bootstrap: str, topic: str, *, timeout: float = 10.0
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """Every record of a topic from the beginning to the current end: (key, value, headers)."""
    return [(key, value, headers) for _, _, key, value, headers in _read(bootstrap, topic, timeout)]


def read_positions(
    bootstrap: str, topic: str, *, timeout: float = 10.0
) -> list[tuple[int, int, bytes | None]]:
    """(partition, offset, value) of every record of a topic to its current end."""
    return [(p, o, value) for p, o, _, value, _ in _read(bootstrap, topic, timeout)]


def _read(
    bootstrap: str, topic: str, timeout: float
) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    return read_topic(
        KafkaSettings(bootstrap_servers=bootstrap), topic, timeout=timeout, partial=True
    )


def read_events(bootstrap: str, topic: str, model: type[E], *, timeout: float = 10.0) -> list[E]:
    """The valid events of a topic; other suites put deliberately broken records beside them."""
    events = []
    for _, value, headers in read_raw(bootstrap, topic, timeout=timeout):
        try:
            events.append(cloudevents.decode(model, value, headers).data)
        except cloudevents.DecodeError:
            continue
    return events


def wait_for(predicate, *, timeout: float, interval: float = 0.25, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll until predicate() is truthy; return its value or fail with `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
