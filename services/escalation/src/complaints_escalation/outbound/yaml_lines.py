"""YAML that remembers where each mapping starts, so a configuration error names file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

T = TypeVar("T")


class ConfigError(ValueError):
    """An invalid configuration file; the message starts with `file:line:`."""


class Node(dict[str, Any]):
    line = 0


class _Loader(yaml.SafeLoader):
    """Keeps the line of every mapping so errors can point at it."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    mapping = Node({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Dates stay text, parsed by the reader, so an impossible one (2027-02-31) names its line.
def _date_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


class Reader:
    """Reads one file; every failure is a `error` naming the file and the line."""

    error: type[ConfigError] = ConfigError
    what = "configuration file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Any:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise self.error(f"{self.path}: cannot read the {self.what}: {exc}") from exc
        try:
            return yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise self.error(f"{self.path}: not valid YAML: {exc}") from exc

    def fail(self, node: Any, message: str) -> ConfigError:
        line = getattr(node, "line", 0)
        return self.error(f"{self.path}:{line}: {message}")

    def mapping(self, node: Any, where: str, parent: Any = None) -> Node:
        if not isinstance(node, dict):
            raise self.fail(parent if node is None else node, f"{where} must be a mapping")
        return node if isinstance(node, Node) else Node(node)

    def check_keys(self, node: Node, where: str, allowed: set[str]) -> None:
        unknown = sorted(set(node) - allowed)
        if unknown:
            raise self.fail(
                node, f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {sorted(allowed)}"
            )

    def guard(self, node: Any, where: str, build: Callable[[], T]) -> T:
        try:
            return build()
        except ConfigError:
            raise
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            raise self.fail(node, f"{where}: {exc}") from exc
