"""Where a benchmark figure came from, written next to it: command, broker, machine, load, date."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from complaints_cli.broker import kafka_version


def provenance(command: str, *, load_before: float, broker: bool = True) -> dict[str, Any]:
    """The fields every result carries; `load_before` is os.getloadavg()[0] at the start."""
    return {
        "command": command,
        **({"kafka": kafka_version()} if broker else {}),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
