"""Write the committed contract files: one JSON Schema per event and an AsyncAPI 3 document.

`complaints-schemas` rewrites them; `complaints-schemas --check` fails when they are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from complaints_schemas import topics
from complaints_schemas.events import (
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintClocksUpdated,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    ComplaintSubmitted,
    Event,
    NotificationDelivered,
    NotificationFailed,
)

OUT_DIR = Path(__file__).resolve().parents[2] / "generated"

TOPIC_EVENTS: dict[str, type[Event]] = {
    topics.SUBMITTED.name: ComplaintSubmitted,
    topics.ACCEPTED.name: ComplaintAccepted,
    topics.CLASSIFIED.name: ComplaintClassified,
    topics.LIFECYCLE.name: ComplaintLifecycleEvent,
    topics.ESCALATED.name: ComplaintEscalated,
    topics.DELIVERED.name: NotificationDelivered,
    topics.FAILED.name: NotificationFailed,
    topics.REJECTED.name: ComplaintRejected,
    topics.CLOCKS.name: ComplaintClocksUpdated,
}


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def json_schema(model: type[Event]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(mode="serialization")
    schema["$id"] = f"urn:{model.ce_type}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in topics.ALL_TOPICS:
        model = TOPIC_EVENTS[topic.name]
        name = model.__name__
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "summary": (model.__doc__ or name).strip().splitlines()[0],
            "payload": {"$ref": f"./jsonschema/{name}.json"},
            "bindings": {"kafka": {"key": {"type": "string", "description": topic.key}}},
            "headers": {
                "type": "object",
                "description": "CloudEvents 1.0 binary mode (ce_* headers)",
                "properties": {"ce_type": {"const": model.ce_type}},
            },
        }
        channel_id = topic.name.replace(".", "_")
        channels[channel_id] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "kafka": {
                    "partitions": topic.partitions,
                    "topicConfiguration": {
                        "cleanup.policy": [str(topic.cleanup)],
                        "retention.ms": topic.retention_ms,
                    },
                }
            },
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Complaint escalation events",
            "version": "1.0.0",
            "description": "Topics and events of the complaint escalation pipeline.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def expected_files() -> dict[Path, str]:
    files = {
        OUT_DIR / "jsonschema" / f"{model.__name__}.json": _dump(json_schema(model))
        for model in TOPIC_EVENTS.values()
    }
    files[OUT_DIR / "asyncapi.json"] = _dump(asyncapi())
    return files


def stale_files() -> list[Path]:
    return [
        path
        for path, text in expected_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
