"""Each service, started with an invalid configuration file, stops at once naming the file,
the line and the problem; nothing connects before the file is read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Each file is valid YAML with one mistake.
CASES = {
    "intake": (
        "INTAKE_CHANNELS_FILE",
        "channels:\n  app:\n    keys: [{id: app-1, sha256: not-a-hash}]\n",
        "channels.app.keys.0.sha256: String should match pattern",
    ),
    "classifier": (
        "CLASSIFIER_RULES_FILE",
        "version: 1\ncategories:\n  - nme: payment\n",
        "nme: Extra inputs are not permitted",
    ),
    "escalation": (
        "ESCALATION_POLICY_FILE",
        "version: x\npolicies:\n  - name: p\n    match: {}\n    clocks:\n"
        "      - name: c\n        target: 3 fortnights\n",
        "fortnights",
    ),
    "notifier": (
        "NOTIFIER_ROUTING_FILE",
        "channels:\n  ops:\n    kind: webhok\n",
        "kind must be one of",
    ),
}


@pytest.mark.parametrize("service", sorted(CASES))
def test_invalid_config_file_stops_the_service_naming_file_and_line(
    service: str, tmp_path: Path
) -> None:
    variable, text, problem = CASES[service]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    env = {
        **os.environ,
        variable: str(path),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        f"{service.upper()}_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", f"complaints_{service}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert f"{path}:" in output, output
    lines = re.findall(re.escape(str(path)) + r":(?: line )?(\d+):", output)
    assert lines, output
    assert all(int(n) >= 1 for n in lines), output
    assert problem in output, output
    assert "Traceback" not in output, output
