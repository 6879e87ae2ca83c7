"""Decoding that tolerates a newer producer: fields this build's models do not know are dropped."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from complaints_schemas.cloudevents import DecodeError, Envelope, Headers, decode
from complaints_schemas.events import Event

E = TypeVar("E", bound=Event)


def decode_lenient(
    model: type[E], value: bytes | None, headers: Headers | None
) -> tuple[Envelope[E], dict[str, Any]]:
    """The envelope and the raw JSON object (for optional fields newer than this build)."""
    if value is None:
        raise DecodeError("undecodable", "empty record value")
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError("undecodable", f"value is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DecodeError("invalid_event", "value is not a JSON object")
    known = json.dumps(strip_unknown(model, raw)).encode()
    return decode(model, known, headers), raw


def strip_unknown(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is not None:
            out[name] = _strip(field.annotation, value)
    return out


def _strip(annotation: Any, value: Any) -> Any:
    models = _models_in(annotation)
    if not models:
        return value
    if isinstance(value, dict):
        return strip_unknown(models[0], value)
    if isinstance(value, list):
        return [strip_unknown(models[0], v) if isinstance(v, dict) else v for v in value]
    return value


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in get_args(annotation):
            found.extend(_models_in(arg))
    return found
