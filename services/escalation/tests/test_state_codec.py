"""The state table's encoding: header summaries, compression, legacy records, corruption."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import next_due, on_classified, on_lifecycle
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_escalation.outbound.state_codec import UnreadableState
from complaints_escalation.outbound.state_store import TableStateStore
from complaints_schemas.events import LifecycleAction, Scope, Severity

from .factories import T0, classified, lifecycle

POLICY_FILE = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"
SEEDS = load_policy(POLICY_FILE, holiday_data=load_chinese_holidays())
# Stored states are compressed against this dictionary: it must never change once released.
Z1_SHA256 = "f1320b43900561372698bf210cd7b44897fac7b27c9c44be65a70d3ba546ef84"


def _state(
    cid: str = "C-1",
    *,
    severity: Severity = Severity.RED,
    scope: Scope = Scope.INDIVIDUAL,
    cluster_id: str | None = None,
) -> ComplaintState:
    event = classified(cid, severity=severity, scope=scope, cluster_id=cluster_id)
    return on_classified(None, event, policy=SEEDS).state


@pytest.mark.parametrize(
    ("severity", "scope"),
    [
        (Severity.RED, Scope.INDIVIDUAL),
        (Severity.GREEN, Scope.COMMON),
        (Severity.YELLOW, Scope.RISK),
    ],
)
def test_round_trip_keeps_the_whole_state_and_the_header_summarises_it(
    severity: Severity, scope: Scope
) -> None:
    state = _state(
        severity=severity, scope=scope, cluster_id="k" if scope is Scope.COMMON else None
    )
    raw = state_codec.encode(state, partition=7)
    assert state_codec.decode(raw) == (7, state)
    s = state_codec.summary("C-1", raw)
    assert (s.partition, s.token, s.severity, s.department) == (
        7,
        state.version,
        severity.value,
        "payments",
    )
    due = next_due(state)
    assert due is not None
    assert s.due_at is not None
    assert abs(s.due_at - due) < timedelta(milliseconds=1)


def test_a_closed_complaint_has_no_due_instant_and_is_not_open() -> None:
    state = _state()
    for action in (LifecycleAction.RESOLVED, LifecycleAction.CLOSED):
        state = on_lifecycle(state, lifecycle("C-1", action, at=T0), policy=SEEDS).state
    s = state_codec.summary("C-1", state_codec.encode(state, partition=0))
    assert (s.due_at, s.severity) == (None, None)


def test_a_state_is_stored_in_a_tenth_of_its_json() -> None:
    state = _state()
    as_json = json.dumps(state.to_json(), separators=(",", ":")).encode()
    encoded = state_codec.encode(state, partition=0)
    assert len(encoded) * 5 < len(as_json), (len(encoded), len(as_json))


def test_records_written_before_the_codec_are_still_read() -> None:
    state = _state()
    legacy = json.dumps({"partition": 4, "state": state.to_json()}).encode()
    assert state_codec.decode(legacy) == (4, state)
    assert state_codec.summary("C-1", legacy).partition == 4
    store = TableStateStore({"C-1": legacy})
    assert store.get("C-1") == state


@pytest.mark.parametrize(
    ("raw", "header_readable"),
    [
        (b"", False),
        (b"not a header", False),
        (b'["s9","z1",0,null,1,null,null]\n', False),
        (b'["s1","z1",0,null,1,null,null]\nxx', True),  # the body is what is broken
    ],
)
def test_an_unreadable_record_is_a_clear_error_and_skipped_by_the_store(
    raw: bytes, header_readable: bool
) -> None:
    with pytest.raises(UnreadableState):
        state_codec.decode(raw)
    store = TableStateStore({"C-1": raw, "C-2": state_codec.encode(_state("C-2"), partition=1)})
    assert store.get("C-1") is None
    summarised = [s.complaint_id for s in store.summaries()]
    assert summarised == (["C-1", "C-2"] if header_readable else ["C-2"])
    assert [state.complaint_id for _, state in store.entries()] == ["C-2"]


def test_the_released_dictionary_is_unchanged() -> None:
    data = resources.files(state_codec.__package__).joinpath("state_zdict_z1.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == Z1_SHA256


def test_the_store_decodes_a_state_once_while_the_table_holds_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes: list[bytes] = []
    real = state_codec.decode

    def counting(raw: bytes) -> tuple[int, ComplaintState]:
        decodes.append(raw)
        return real(raw)

    monkeypatch.setattr(state_codec, "decode", counting)
    table: dict[str, bytes] = {}
    store = TableStateStore(table, cache_size=2)
    first = _state("C-1")
    store.put(first, partition=0)
    assert store.get("C-1") == first
    assert decodes == []  # written here: known without decoding
    restored = dataclasses.replace(first, version=first.version + 1)
    table["C-1"] = state_codec.encode(restored, partition=0)  # e.g. from the changelog
    assert store.get("C-1") == restored
    assert store.get("C-1") == restored
    assert len(decodes) == 1
    store.put(_state("C-2"), partition=0)
    store.put(_state("C-3"), partition=0)  # evicts C-1 (a cache of two)
    assert store.get("C-1") == restored
    assert len(decodes) == 2


def test_the_table_store_reads_a_version_without_decoding_the_state() -> None:
    table: dict[str, bytes] = {}
    writer = TableStateStore(table)
    state = on_classified(None, classified("VER-1"), policy=EscalationPolicy.response_only()).state
    writer.put(state, partition=3)
    reader = TableStateStore(table)  # nothing cached: read from the header
    assert reader.version("VER-1") == state.version
    assert reader.version("NONE") is None
    assert writer.version("VER-1") == state.version  # cached
