"""Reading the rules YAML: validated with pydantic, errors naming the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from complaints_classifier.domain.rules import RuleSet


class RulesFileError(Exception):
    """The rules file is missing, not YAML, or not a valid rule set; the message says where."""


def load_rules(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError(f"{path}: cannot read rules file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RulesFileError(f"{path}: rules file is not UTF-8: {exc}") from exc
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str) -> RuleSet:
    """Parse and validate; a problem raises RulesFileError naming `source` and the line."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RulesFileError(f"{source}: {where}invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesFileError(f"{source}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesFileError(f"{source}: the rules file must be a mapping (categories, ...)")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{source}: line {_line_of(node, err['loc'])}: "
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise RulesFileError(
            f"{len(problems)} problem(s) in rules file:\n" + "\n".join(problems)
        ) from exc


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest YAML node on the error's path (1-based)."""
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
