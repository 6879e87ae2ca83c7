"""Writes a preset deflate dictionary for escalation states (outbound/state_codec.py).

    uv run python scripts/state_zdict.py config/escalation/policy.yaml z2

Run it only to create a NEW version (z2, z3, ...): a released dictionary must never change,
since stored states are compressed against it. The dictionary holds a state of every
severity, scope, category and tier combination under the given policy; the most common
strings go last, where deflate reaches them most cheaply.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from complaints_escalation.domain.transitions import on_classified
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_schemas.events import ComplaintClassified

CATEGORIES = [
    ("payment", "payments"),
    ("refund", "payments"),
    ("delivery", "logistics"),
    ("quality", "product"),
    ("service_attitude", "customer_service"),
    ("account", "customer_service"),
]
LIMIT = 32 * 1024  # deflate's window: older bytes of a dictionary are never used


def main(policy_path: str, version: str) -> None:
    policy = load_policy(Path(policy_path), holiday_data=load_chinese_holidays())
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC).isoformat()
    pieces: Counter[str] = Counter()
    combos = itertools.product(
        ["red", "yellow", "green"],
        ["individual", "common", "risk"],
        CATEGORIES,
        ["standard", "vip"],
    )
    for n, (severity, scope, (category, department), tier) in enumerate(combos):
        event = ComplaintClassified.model_validate(
            {
                "complaint_id": f"C-{n:06d}",
                "classified_at": at,
                "severity": severity,
                "scope": scope,
                "category": category,
                "department": department,
                "fingerprint": f"{category}.0",
                "cluster_id": f"cluster.{category}" if scope == "common" else None,
                "reasons": [],
                "complaint": {
                    "channel": "app",
                    "channel_event_id": f"ch-{n}",
                    "customer": {"id": f"cust-{n}", "tier": tier},
                    "title": f"{category} problem",
                    "description": "-",
                    "occurred_at": at,
                    "complaint_id": f"C-{n:06d}",
                    "accepted_at": at,
                    "language": "zh",
                },
            }
        )
        state = json.loads(state_codec.body_json(on_classified(None, event, policy=policy).state))
        for clock in state["clocks"]:
            # As it appears in the body: a JSON string holding the spec's JSON text.
            pieces[json.dumps(clock.pop("spec"), ensure_ascii=False)] += 1
        pieces[json.dumps(state, separators=(",", ":"), ensure_ascii=False)] += 1
    ordered = [p for p, _ in sorted(pieces.items(), key=lambda kv: (kv[1], kv[0]))]
    data = "".join(ordered).encode()[-LIMIT:]
    out = Path("services/escalation/src/complaints_escalation/outbound") / (
        f"state_zdict_{version}.txt"
    )
    out.write_bytes(data)
    print(f"{out}: {len(data)} bytes from {len(ordered)} distinct pieces")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
