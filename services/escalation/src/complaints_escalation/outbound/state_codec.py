"""The state table's value: a header line with what a rebuild needs, then the compressed state.

A worker that takes over partitions rebuilds its due index and open-complaint counts from
the headers alone (one small JSON array each), without decoding a million states. The state
itself is compact JSON deflated against a preset dictionary of the state's own vocabulary
(field names and the frozen clock specs of the shipped policy), which brings a ~2.6 KB
document to a few hundred bytes. A dictionary is never edited once released: a new one
gets a new version and the old stays readable.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Generic, TypeVar

from complaints_escalation.domain.state import (
    ComplaintState,
    Status,
    calendar_from,
    calendar_json,
    spec_from,
    spec_json,
)
from complaints_escalation.domain.transitions import next_due

FORMAT = "s1"  # header version; the dictionary version travels with it
_ZDICT = {"z1": resources.files(__package__).joinpath("state_zdict_z1.txt").read_bytes()}
_CURRENT_ZDICT = "z1"
# Loading a 32 KB dictionary costs more than compressing a state: prime once, copy per use.
_DEFLATE = zlib.compressobj(6, zdict=_ZDICT[_CURRENT_ZDICT])
_INFLATE = {version: zlib.decompressobj(zdict=data) for version, data in _ZDICT.items()}
_CACHE_SIZE = 4096
F = TypeVar("F")
K = TypeVar("K")
V = TypeVar("V")


class UnreadableState(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Summary:
    """What the rebuild needs of a stored state: its partition, next due instant and openness."""

    complaint_id: str
    partition: int
    due_at: datetime | None
    token: int
    severity: str | None  # set while open
    department: str | None


def encode(state: ComplaintState, *, partition: int) -> bytes:
    header = [FORMAT, _CURRENT_ZDICT, *_summary_fields(state, partition)]
    body = body_json(state).encode()
    deflate = _DEFLATE.copy()
    return (
        json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        + b"\n"
        + deflate.compress(body)
        + deflate.flush()
    )


def body_json(state: ComplaintState) -> str:
    """The state as compact JSON, each clock's frozen specs embedded as (cached) JSON text."""
    return json.dumps(
        state.to_json(spec_encoder=_SPECS.text, calendar_encoder=_CALENDARS.text),
        separators=(",", ":"),
        ensure_ascii=False,
    )


def summary(complaint_id: str, raw: bytes) -> Summary:
    """Read the header only."""
    if raw[:1] == b"{":
        return _legacy_summary(complaint_id, raw)
    try:
        fmt, _zdict, *fields = json.loads(raw[: raw.index(b"\n")])
    except ValueError as exc:
        raise UnreadableState(f"unreadable state header: {exc}") from exc
    if fmt != FORMAT:
        raise UnreadableState(f"unknown state format {fmt!r}")
    return _summary(complaint_id, fields)


def _summary_fields(state: ComplaintState, partition: int) -> list[Any]:
    """partition, next due (epoch ms), token, severity and department while open."""
    due = next_due(state)
    c = state.classification
    is_open = c is not None and state.status in (Status.OPEN, Status.RESOLVED)
    return [
        partition,
        None if due is None else round(due.timestamp() * 1000),
        state.version,
        c.severity.value if c is not None and is_open else None,
        c.department if c is not None else None,
    ]


def _summary(complaint_id: str, fields: list[Any]) -> Summary:
    try:
        partition, due_ms, token, severity, department = fields
    except ValueError as exc:
        raise UnreadableState(f"unreadable state header: {exc}") from exc
    return Summary(
        complaint_id=complaint_id,
        partition=int(partition),
        due_at=None if due_ms is None else datetime.fromtimestamp(due_ms / 1000, UTC),
        token=int(token),
        # Interned: a million open complaints share a handful of these strings.
        severity=None if severity is None else sys.intern(severity),
        department=None if department is None else sys.intern(department),
    )


def decode(raw: bytes) -> tuple[int, ComplaintState]:
    """The partition and the whole state."""
    if raw[:1] == b"{":  # written before this format: {"partition": p, "state": {...}}
        data = json.loads(raw)
        return int(data["partition"]), ComplaintState.from_json(data["state"])
    try:
        end = raw.index(b"\n")
        fmt, zdict, partition, *_ = json.loads(raw[:end])
        if fmt != FORMAT:
            raise UnreadableState(f"unknown state format {fmt!r}")
        inflate = _INFLATE[zdict].copy()
        body = inflate.decompress(raw[end + 1 :]) + inflate.flush()
        return int(partition), ComplaintState.from_json(
            json.loads(body), spec_decoder=_SPECS.parse, calendar_decoder=_CALENDARS.parse
        )
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise UnreadableState(f"unreadable state: {exc}") from exc


class _EmbeddedText(Generic[F]):
    """A frozen value (clock spec, calendar spec) embedded as JSON text, parsed once per
    distinct text. Looked up by identity: decoded states share the cached objects, and
    hashing a nested frozen dataclass costs more than the lookup saves. An entry keeps its
    object alive, so its id cannot be reused while cached."""

    def __init__(
        self, to_json: Callable[[F], dict[str, Any]], from_json: Callable[[dict[str, Any]], F]
    ) -> None:
        self._to_json, self._from_json = to_json, from_json
        self._text: dict[int, tuple[F, str]] = {}
        self._parsed: dict[str, F] = {}

    def text(self, value: F) -> str:
        cached = self._text.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        text = json.dumps(self._to_json(value), separators=(",", ":"), ensure_ascii=False)
        _remember(self._text, id(value), (value, text))
        return text

    def parse(self, value: str | dict[str, Any]) -> F:
        if isinstance(value, dict):  # written before values were embedded as text
            return self._from_json(value)
        found = self._parsed.get(value)
        if found is None:
            found = self._from_json(json.loads(value))
            _remember(self._parsed, value, found)
        return found


_SPECS = _EmbeddedText(spec_json, spec_from)
_CALENDARS = _EmbeddedText(calendar_json, calendar_from)


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= _CACHE_SIZE:  # policies have a few hundred distinct specs at most
        cache.clear()
    cache[key] = value


def _legacy_summary(complaint_id: str, raw: bytes) -> Summary:
    partition, state = decode(raw)
    return _summary(complaint_id, _summary_fields(state, partition))
