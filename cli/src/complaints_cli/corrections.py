"""People's reclassifications as labelled examples: the corpus grows from real use.

A `reclassified` lifecycle step (an agent or owner in the console) names what a person
decided; with the complaint's text (complaints.accepted.v1) and what the classifier had
said (complaints.classified.v1) for the fields the person left alone, it becomes one line
in the corpus format (`config/classifier/corpus/*/singles.jsonl`), writer `corrections`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from complaints_kit.kafka import read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import (
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    Event,
    LifecycleAction,
)
from complaints_schemas.topics import ACCEPTED, CLASSIFIED, LIFECYCLE


def _events(kafka: KafkaSettings, topic: str, model: type[Event]) -> list[Any]:
    found = []
    for _, _, _, value, headers in read_topic(kafka, topic, timeout=120):
        try:
            found.append(cloudevents.decode(model, value, headers).data)
        except cloudevents.DecodeError:
            continue  # dead letters are counted where they were rejected
    return found


def corrections(
    accepted: list[ComplaintAccepted],
    classified: list[ComplaintClassified],
    steps: list[ComplaintLifecycleEvent],
) -> list[dict[str, Any]]:
    """One labelled example per reclassified complaint (its latest reclassification)."""
    texts = {c.complaint_id: c for c in accepted}
    decided = {c.complaint_id: c for c in classified}
    latest: dict[str, ComplaintLifecycleEvent] = {}
    for step in sorted(steps, key=lambda s: s.occurred_at):
        if step.action is LifecycleAction.RECLASSIFIED:
            latest[step.complaint_id] = step
    rows = []
    for cid, step in sorted(latest.items()):
        complaint, before = texts.get(cid), decided.get(cid)
        if complaint is None or before is None:
            continue  # its records have left the topics: nothing to learn from
        rows.append(
            {
                "id": f"corr-{cid}",
                "writer": "corrections",
                "family": "reclassified",
                "channel": complaint.channel.value,
                "language": complaint.language,
                "customer": {
                    "id": f"corr-{complaint.customer.id}",
                    "tier": complaint.customer.tier.value,
                },
                "title": complaint.title,
                "description": complaint.description,
                "expected": {
                    "category": step.category or before.category,
                    "severity": (step.severity or before.severity).value,
                    "scope": "risk"
                    if (step.scope or before.scope).value == "risk"
                    else "individual",
                },
                "corrected_by": step.actor,
                "was": {"category": before.category, "severity": before.severity.value},
            }
        )
    return rows


def export_corrections(kafka: KafkaSettings, out: Path) -> int:
    rows = corrections(
        _events(kafka, ACCEPTED.name, ComplaintAccepted),
        _events(kafka, CLASSIFIED.name, ComplaintClassified),
        _events(kafka, LIFECYCLE.name, ComplaintLifecycleEvent),
    )
    out.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return len(rows)
