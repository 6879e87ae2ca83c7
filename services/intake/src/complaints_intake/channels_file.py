"""The channels file (INTAKE_CHANNELS_FILE), validated at start: an error names file and line.

channels:
  app:
    keys: [{id: app-2026-11, sha256: 9f86d081...}]   # `complaints channel-key app`
    actions: [acknowledged, responded, resolved]      # default: every channel step
    rate: {per_second: 50, burst: 200}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from complaints_intake.domain.channels import DEFAULT_ACTIONS, Channel, Channels
from complaints_schemas.events import OPERATOR_ACTIONS, SERVICE_ACTIONS, LifecycleAction
from complaints_schemas.events import Channel as ChannelName


class ChannelsFileError(ValueError):
    pass


class _Key(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _Rate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_second: float = Field(default=50.0, gt=0)
    burst: int = Field(default=200, ge=1)


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[_Key] = Field(min_length=1)
    actions: list[LifecycleAction] | None = None
    rate: _Rate = _Rate()


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: dict[ChannelName, _Channel] = Field(min_length=1)


def load_channels(path: Path) -> Channels:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ChannelsFileError(f"{path}: {exc}") from exc
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{path}:{_line(text, err['loc'])}: {'.'.join(map(str, err['loc']))}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ChannelsFileError("\n".join(problems)) from exc
    for name, entry in parsed.channels.items():
        operator = sorted(
            a.value for a in set(entry.actions or ()) & (OPERATOR_ACTIONS | SERVICE_ACTIONS)
        )
        if operator:
            raise ChannelsFileError(
                f"{path}: channels.{name}: {', '.join(operator)} is an operator's action"
            )
    return Channels(
        {
            name.value: Channel(
                name=name.value,
                key_hashes=tuple(k.sha256 for k in entry.keys),
                actions=frozenset(entry.actions) if entry.actions is not None else DEFAULT_ACTIONS,
                per_second=entry.rate.per_second,
                burst=entry.rate.burst,
            )
            for name, entry in parsed.channels.items()
        }
    )


def _line(text: str, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node on `loc` found in the document (of the key, for "[key]")."""
    node: Any = yaml.compose(text)
    line = 1 if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
