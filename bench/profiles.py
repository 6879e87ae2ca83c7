"""Sampling profiles of running service processes with py-spy, and their top costs.

py-spy attaches to a pid from outside (no change to the service, nothing imported into
it), samples every thread's Python stack (--nonblocking: the target is never paused), and
writes collapsed stacks ("frame;frame;frame count" lines). `top_costs` reads them back:
the share of on-CPU samples under each function (inclusive) and at the top of the stack
(self).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH (None: not installed)."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    path: Path
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 30.0) -> Path | None:
        """Stop sampling (SIGINT makes py-spy write what it has) and return the profile."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.path if self.path.exists() and self.path.stat().st_size else None


def record(*, name: str, pid: int, out: Path, seconds: float, rate: int = 100) -> Recording | None:
    """Start sampling `pid` into `out` (collapsed stacks) for at most `seconds`."""
    exe = py_spy()
    if exe is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [exe, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    command += ["--rate", str(rate), "--duration", str(int(seconds)), "--nonblocking"]
    log = out.with_suffix(".log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    return Recording(name=name, path=out, process=process)


def _label(frame: str) -> tuple[str, bool, str]:
    """'func (path/pkg/file.py:12)' -> ('func (pkg/file.py)', own code?, package)."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), False, "?"
    file = Path(match["file"])
    ours = [part for part in file.parts if part.startswith("complaints_")]
    return f"{match['func']} ({file.parent.name}/{file.name})", bool(ours), _package(file, ours)


def _package(file: Path, ours: list[str]) -> str:
    """The package a frame's file belongs to; py-spy gives paths relative to sys.path."""
    parts = file.parts
    if ours:
        parts = parts[parts.index(ours[-1]) :]
        return "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    return parts[0] if len(parts) > 1 else file.stem


def top_costs(path: Path, *, limit: int = 10) -> dict[str, Any]:
    """Total samples, and the functions with the largest inclusive and self shares."""
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_label(f) for f in stack.split(";") if f]
        # py-spy may put a process or thread label first.
        frames = [f for f in frames if not f[0].startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        self_time[frames[-1][0]] += count
        by_package[frames[-1][2]] += count
        for label, own, _ in set(frames):
            inclusive[label] += count
            if own:
                ours[label] += count

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "share": round(n / total, 3)}
            for name, n in counter.most_common(limit)
        ]

    return {
        "samples": total,
        "self_by_package": shares(by_package),
        "self": shares(self_time),
        "inclusive": shares(inclusive),
        "own_code_inclusive": shares(ours),
    }


def main() -> None:
    """Print the top costs of collapsed-stack files: python -m bench.profiles FILE..."""
    import json

    for name in sys.argv[1:]:
        print(json.dumps({"profile": name, **top_costs(Path(name), limit=8)}, indent=1))


if __name__ == "__main__":
    main()
