"""CloudEvents 1.0 in Kafka binary mode: the value is the JSON data, attributes are headers.

Follows the CloudEvents Kafka protocol binding: `ce_`-prefixed headers for the
context attributes and `content-type` for the data's media type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import ValidationError

from complaints_schemas.events import Event, FieldError

SPEC_VERSION = "1.0"
JSON = "application/json"

E = TypeVar("E", bound=Event)

Headers = Sequence[tuple[str, bytes | str | None]]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, str | bytes | None]]


@dataclass(frozen=True, slots=True)
class Envelope(Generic[E]):
    id: str
    source: str
    type: str
    time: datetime | None
    subject: str | None
    data: E


class DecodeError(Exception):
    """Input that is not a valid event; `reason` is one of ComplaintRejected's reasons."""

    def __init__(self, reason: str, detail: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.errors = errors


def encode(event: Event, *, source: str, id: str, time: datetime) -> KafkaRecord:
    """Encode an event as a Kafka record keyed by its key field."""
    key = event.kafka_key()
    headers: list[tuple[str, str | bytes | None]] = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", event.ce_type.encode()),
        ("ce_time", time.isoformat().encode()),
        ("ce_subject", key.encode()),
        ("content-type", JSON.encode()),
    ]
    return KafkaRecord(key=key.encode(), value=event.model_dump_json().encode(), headers=headers)


def header_map(headers: Headers | None) -> dict[str, str]:
    """Headers as text; a header that is not UTF-8 is kept with replacement characters."""
    out: dict[str, str] = {}
    for name, raw in headers or ():
        if raw is None:
            continue
        out[name] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return out


def has_envelope(headers: Headers | None) -> bool:
    return any(name == "ce_type" for name, _ in headers or ())


def decode(model: type[E], value: bytes | None, headers: Headers | None) -> Envelope[E]:
    """Decode a binary-mode record into an envelope, or raise DecodeError saying why."""
    attrs = header_map(headers)
    missing = [a for a in ("ce_specversion", "ce_id", "ce_source", "ce_type") if not attrs.get(a)]
    if missing:
        raise DecodeError("invalid_envelope", f"missing CloudEvents headers: {', '.join(missing)}")
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise DecodeError("invalid_envelope", f"unsupported specversion {attrs['ce_specversion']}")
    if attrs["ce_type"] != model.ce_type:
        raise DecodeError(
            "invalid_envelope", f"type {attrs['ce_type']!r} where {model.ce_type!r} was expected"
        )
    content_type = attrs.get("content-type", JSON).split(";")[0].strip()
    if content_type != JSON:
        raise DecodeError("invalid_envelope", f"content-type {content_type!r} is not {JSON}")
    time = None
    if attrs.get("ce_time"):
        try:
            time = datetime.fromisoformat(attrs["ce_time"])
        except ValueError as exc:
            raise DecodeError("invalid_envelope", f"ce_time is not RFC 3339: {exc}") from exc
    return Envelope(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=attrs["ce_type"],
        time=time,
        subject=attrs.get("ce_subject"),
        data=decode_data(model, value),
    )


def decode_data(model: type[E], value: bytes | None) -> E:
    """Validate a JSON value against a model, or raise DecodeError with each bad field."""
    if value is None:
        raise DecodeError("undecodable", "empty record value")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError("undecodable", f"value is not UTF-8: {exc}") from exc
    try:
        event: E = model.model_validate_json(text)
        return event
    except ValidationError as exc:
        errors = field_errors(exc)
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise DecodeError("undecodable", "value is not JSON", errors) from exc
        raise DecodeError("invalid_event", f"{len(errors)} invalid field(s)", errors) from exc


def field_errors(exc: ValidationError) -> tuple[FieldError, ...]:
    return tuple(
        FieldError(location=".".join(str(p) for p in err["loc"]) or "(root)", message=err["msg"])
        for err in exc.errors()
    )
