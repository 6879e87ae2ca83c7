"""Writes kubeconform's JSON schemas from Kubernetes' own OpenAPI document, offline.

kubeconform fetches its schemas from GitHub by default, which this project's machines cannot
reach. The same schemas come from `api/openapi-spec/swagger.json` in the k8s.io/kubernetes
Go module (fetched from the Go module proxy): one file per kind, named the way
kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}` template expects, strict (unknown
fields refused, as kubectl's validation does).

    python deploy/k8s/tools/k8s_schemas.py SWAGGER_JSON OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def int_or_string(node: Any) -> Any:
    """IntOrString is declared `type: string, format: int-or-string`; manifests use both."""
    if isinstance(node, dict):
        if node.get("format") == "int-or-string":
            node.pop("type", None)
            node.pop("format")
            node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
        for value in node.values():
            int_or_string(value)
    elif isinstance(node, list):
        for value in node:
            int_or_string(value)
    return node


def strict(node: Any) -> Any:
    """Refuse unknown fields on every object that declares its properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


def point_refs(node: Any) -> Any:
    """Local `#/definitions/x` refs become refs into the shared _definitions.json."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            node["$ref"] = "_definitions.json" + ref
        for value in node.values():
            point_refs(value)
    elif isinstance(node, list):
        for value in node:
            point_refs(value)
    return node


def file_name(group: str, version: str, kind: str) -> str:
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix.lower()}.json"


def main(swagger_path: str, out: str) -> int:
    swagger = json.loads(Path(swagger_path).read_text())
    definitions: dict[str, Any] = int_or_string(swagger["definitions"])
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    shared = point_refs(strict({"definitions": json.loads(json.dumps(definitions))}))
    (out_dir / "_definitions.json").write_text(json.dumps(shared))
    written = 0
    for schema in definitions.values():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            document = point_refs(strict(json.loads(json.dumps(schema))))
            name = file_name(gvk["group"], gvk["version"], gvk["kind"])
            (out_dir / name).write_text(json.dumps(document))
            written += 1
    print(f"{written} schemas in {out_dir}")
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
