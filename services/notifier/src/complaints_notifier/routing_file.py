"""Reads config/notifier/routing.yaml into the routing domain; errors name the file and line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml

from complaints_notifier.domain.display_names import KINDS, DisplayNames
from complaints_notifier.domain.routing import (
    CHANNEL_KINDS,
    Directory,
    Match,
    Owner,
    QuietHours,
    Receiver,
    RouteNode,
    Routing,
)
from complaints_schemas.events import Scope, Severity


class RoutingFileError(ValueError):
    """The routing file is invalid; the message starts with `file:line:`."""


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One channel instance: its kind and its settings (secrets already read from the env)."""

    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    routing: Routing
    channels: Mapping[str, ChannelSpec]


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its line and each key's line."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        if key in result:
            raise RoutingFileError(
                f"{{file}}:{key_node.start_mark.line + 1}: duplicate key {key!r}"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_SECRET_KEYS = ("secret", "url", "username", "password")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_SEVERITIES = frozenset(s.value for s in Severity)
_SCOPES = frozenset(s.value for s in Scope)


class _Reader:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env

    def fail(self, line: int, message: str) -> RoutingFileError:
        return RoutingFileError(f"{self.path}:{line}: {message}")

    def mapping(self, value: Any, line: int, what: str) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, f"{what} must be a mapping")
        return value

    def keys(self, value: _Map, allowed: set[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(
                    value.key_lines[key],
                    f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                )

    def strings(self, value: Any, line: int, what: str) -> frozenset[str]:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, str) and i for i in items):
            raise self.fail(line, f"{what} must be a name or a list of names")
        return frozenset(items)


def load_routing(path: Path, *, env: Mapping[str, str] | None = None) -> RoutingConfig:
    """Parse and validate; secrets named by `<key>_env` are read from `env` (os.environ)."""
    reader = _Reader(path, os.environ if env is None else env)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingFileError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except RoutingFileError as exc:
        raise RoutingFileError(str(exc).replace("{file}", str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise reader.fail(line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    root = reader.mapping(doc, 1, "the routing file")
    reader.keys(root, {"channels", "receivers", "directory", "route", "names"}, "the routing file")
    channels = _channels(reader, root)
    receivers = _receivers(reader, root, channels)
    directory = _directory(reader, root)
    if "route" not in root:
        raise reader.fail(root.line, "missing 'route' (the routing tree)")
    tree = _node(reader, root["route"], root.key_lines["route"], set(receivers), depth=0)
    kinds = {name: spec.kind for name, spec in channels.items()}
    return RoutingConfig(
        routing=Routing(
            tree=tree,
            receivers=receivers,
            channel_kinds=kinds,
            directory=directory,
            names=_names(reader, root),
        ),
        channels=channels,
    )


def _names(reader: _Reader, root: _Map) -> DisplayNames:
    """`names: {clocks|departments|categories|scopes|severities: {id: {zh: ..., en: ...}}}`."""
    if "names" not in root:
        return DisplayNames()
    section = reader.mapping(root["names"], root.key_lines["names"], "names")
    reader.keys(section, set(KINDS), "names")
    configured: dict[str, dict[str, dict[str, str]]] = {}
    for kind, raw in section.items():
        ids = reader.mapping(raw, section.key_lines[kind], f"names.{kind}")
        for value, per_language in ids.items():
            line = ids.key_lines[value]
            langs = reader.mapping(per_language, line, f"names.{kind}.{value}")
            reader.keys(langs, {"zh", "en"}, f"names.{kind}.{value}")
            if not all(isinstance(n, str) and n.strip() for n in langs.values()):
                raise reader.fail(line, f"names.{kind}.{value}: each name is a non-empty string")
            configured.setdefault(kind, {})[str(value)] = {str(k): v for k, v in langs.items()}
    return DisplayNames(configured=configured)


def _channels(reader: _Reader, root: _Map) -> dict[str, ChannelSpec]:
    raw = reader.mapping(
        root.get("channels"), root.key_lines.get("channels", root.line), "channels"
    )
    specs: dict[str, ChannelSpec] = {}
    for name, value in raw.items():
        line = raw.key_lines[name]
        body = reader.mapping(value, line, f"channel {name!r}")
        kind = body.get("kind")
        if kind not in CHANNEL_KINDS:
            raise reader.fail(
                line, f"channel {name!r}: kind must be one of {', '.join(sorted(CHANNEL_KINDS))}"
            )
        options: dict[str, Any] = {}
        for key, option in body.items():
            if key == "kind":
                continue
            if key.endswith("_env"):
                plain = key.removesuffix("_env")
                if plain not in _SECRET_KEYS:
                    raise reader.fail(body.key_lines[key], f"{key!r}: only {_SECRET_KEYS} use _env")
                if option not in reader.env:
                    raise reader.fail(
                        body.key_lines[key],
                        f"channel {name!r}: environment variable {option!r} is not set",
                    )
                options[plain] = reader.env[option]
            else:
                options[key] = option
        _check_channel(reader, name, kind, options, line)
        specs[name] = ChannelSpec(name=name, kind=kind, options=options)
    return specs


_REQUIRED = {
    "webhook": (),  # without a url, NOTIFIER_WEBHOOK_URL and _SECRET are used
    "wecom": ("url",),
    "dingtalk": ("url",),
    "feishu": ("url",),
    "slack": ("url",),
    "email": ("host", "sender"),
}


def _check_channel(
    reader: _Reader, name: str, kind: str, options: Mapping[str, Any], line: int
) -> None:
    for key in _REQUIRED[kind]:
        if key not in options:
            raise reader.fail(line, f"channel {name!r} ({kind}) needs {key!r} (or {key}_env)")
    url = options.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
        raise reader.fail(line, f"channel {name!r}: url must start with http:// or https://")
    window = options.get("group_window")
    if window is not None and not (isinstance(window, int | float) and 0 <= window <= 3600):
        raise reader.fail(line, f"channel {name!r}: group_window is seconds between 0 and 3600")
    rate = options.get("rate_per_minute")
    if rate is not None and not (isinstance(rate, int) and rate > 0):
        raise reader.fail(line, f"channel {name!r}: rate_per_minute must be a positive integer")


def _receivers(
    reader: _Reader, root: _Map, channels: Mapping[str, ChannelSpec]
) -> dict[str, Receiver]:
    raw = reader.mapping(
        root.get("receivers"), root.key_lines.get("receivers", root.line), "receivers"
    )
    result: dict[str, Receiver] = {}
    for name, value in raw.items():
        line = raw.key_lines[name]
        body = reader.mapping(value, line, f"receiver {name!r}")
        reader.keys(body, {"channel", "fallback", "quiet_hours", "language"}, f"receiver {name!r}")
        for key in ("channel", "fallback"):
            ref = body.get(key)
            if (key == "channel" or ref is not None) and ref not in channels:
                raise reader.fail(
                    body.key_lines.get(key, line),
                    f"receiver {name!r}: {key} {ref!r} is not defined under 'channels'",
                )
        language = body.get("language", "zh")
        if language not in ("zh", "en"):
            raise reader.fail(body.key_lines["language"], "language must be 'zh' or 'en'")
        quiet = None
        if "quiet_hours" in body:
            quiet = _quiet(reader, body["quiet_hours"], body.key_lines["quiet_hours"])
        result[name] = Receiver(
            name=name,
            channel=body["channel"],
            fallback=body.get("fallback"),
            quiet_hours=quiet,
            language=language,
        )
    return result


def _quiet(reader: _Reader, value: Any, line: int) -> QuietHours:
    body = reader.mapping(value, line, "quiet_hours")
    reader.keys(body, {"start", "end", "utc_offset"}, "quiet_hours")
    times: list[time] = []
    for key in ("start", "end"):
        text = body.get(key)
        if isinstance(text, int):  # YAML 1.1 reads 22:00 as a sexagesimal number
            text = f"{text // 60:02d}:{text % 60:02d}"
        found = _TIME.match(text) if isinstance(text, str) else None
        if found is None:
            raise reader.fail(body.key_lines.get(key, line), f"quiet_hours.{key} must be HH:MM")
        times.append(time(int(found[1]), int(found[2])))
    offset = timedelta(hours=8)
    if "utc_offset" in body:
        found = _OFFSET.match(str(body["utc_offset"]))
        if found is None:
            raise reader.fail(body.key_lines["utc_offset"], "utc_offset must be like +08:00")
        sign = -1 if found[1] == "-" else 1
        offset = sign * timedelta(hours=int(found[2]), minutes=int(found[3]))
    return QuietHours(start=times[0], end=times[1], utc_offset=offset)


def _directory(reader: _Reader, root: _Map) -> Directory:
    if "directory" not in root:
        return Directory()
    body = reader.mapping(root["directory"], root.key_lines["directory"], "directory")
    reader.keys(body, {"owners", "departments"}, "directory")
    owners: dict[str, Owner] = {}
    raw_owners = reader.mapping(body.get("owners", _Map()), body.line, "directory.owners")
    for name, value in raw_owners.items():
        line = raw_owners.key_lines[name]
        owner = reader.mapping(value, line, f"owner {name!r}")
        reader.keys(owner, {"kind", "contacts"}, f"owner {name!r}")
        kind = owner.get("kind", "person")
        if kind not in ("person", "group"):
            raise reader.fail(line, f"owner {name!r}: kind must be 'person' or 'group'")
        contacts = reader.mapping(owner.get("contacts", _Map()), line, f"owner {name!r} contacts")
        for channel_kind, contact in contacts.items():
            if channel_kind not in CHANNEL_KINDS or not isinstance(contact, str | int):
                raise reader.fail(
                    contacts.key_lines[channel_kind],
                    f"owner {name!r}: contacts are <channel kind>: <address> "
                    f"(kinds: {', '.join(sorted(CHANNEL_KINDS))})",
                )
        owners[name] = Owner(
            name=name, kind=kind, contacts={k: str(v) for k, v in contacts.items()}
        )
    departments: dict[str, dict[int, tuple[str, ...]]] = {}
    raw_departments = reader.mapping(
        body.get("departments", _Map()), body.line, "directory.departments"
    )
    for department, value in raw_departments.items():
        line = raw_departments.key_lines[department]
        levels = reader.mapping(value, line, f"department {department!r}")
        departments[department] = {}
        for level, names in levels.items():
            level_line = levels.key_lines[level]
            if not str(level).isdigit():
                raise reader.fail(level_line, f"department {department!r}: levels are integers")
            members = sorted(reader.strings(names, level_line, "owners"))
            for member in members:
                if member not in owners:
                    raise reader.fail(level_line, f"owner {member!r} is not in directory.owners")
            departments[department][int(level)] = tuple(members)
    return Directory(owners=owners, by_department=departments)


def _node(reader: _Reader, value: Any, line: int, receivers: set[str], *, depth: int) -> RouteNode:
    if depth > 16:
        raise reader.fail(line, "route tree nested too deep (max 16)")
    body = reader.mapping(value, line, "a route")
    reader.keys(body, {"match", "receivers", "routes", "continue"}, "a route")
    names: tuple[str, ...] = ()
    if "receivers" in body:
        rline = body.key_lines["receivers"]
        names = tuple(sorted(reader.strings(body["receivers"], rline, "receivers")))
        for name in names:
            if name not in receivers:
                raise reader.fail(rline, f"receiver {name!r} is not defined under 'receivers'")
    children: list[RouteNode] = []
    if "routes" in body:
        raw = body["routes"]
        if not isinstance(raw, list):
            raise reader.fail(body.key_lines["routes"], "routes must be a list")
        for child in raw:
            child_line = child.line if isinstance(child, _Map) else body.key_lines["routes"]
            children.append(_node(reader, child, child_line, receivers, depth=depth + 1))
    if depth == 0 and not names:
        raise reader.fail(line, "the root route needs 'receivers' (the default)")
    match = _match(reader, body.get("match"), body.key_lines.get("match", line))
    cont = body.get("continue", False)
    if not isinstance(cont, bool):
        raise reader.fail(body.key_lines["continue"], "continue must be true or false")
    return RouteNode(match=match, receivers=names, routes=tuple(children), continue_=cont)


def _match(reader: _Reader, value: Any, line: int) -> Match:
    if value is None:
        return Match()
    body = reader.mapping(value, line, "match")
    allowed = {"department", "severity", "scope", "category", "level_min", "level_max"}
    reader.keys(body, allowed, "match")

    def names(key: str, valid: frozenset[str] | None = None) -> frozenset[str]:
        if key not in body:
            return frozenset()
        found = reader.strings(body[key], body.key_lines[key], key)
        if valid is not None and not found <= valid:
            bad = ", ".join(sorted(found - valid))
            raise reader.fail(
                body.key_lines[key], f"{key} {bad} unknown (one of {', '.join(sorted(valid))})"
            )
        return found

    levels: list[int | None] = []
    for key in ("level_min", "level_max"):
        level = body.get(key)
        if level is not None and not (isinstance(level, int) and level >= 0):
            raise reader.fail(body.key_lines[key], f"{key} must be a non-negative integer")
        levels.append(level)
    return Match(
        departments=names("department"),
        severities=names("severity", _SEVERITIES),
        scopes=names("scope", _SCOPES),
        categories=names("category"),
        level_min=levels[0],
        level_max=levels[1],
    )
