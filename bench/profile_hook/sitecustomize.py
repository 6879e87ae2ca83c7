"""Profile a service process for a benchmark (bench.timers --profile).

On PYTHONPATH with BENCH_PROFILE_OUT set, the interpreter's main thread (the event loop)
runs under cProfile from start-up; SIGRTMIN+3 writes the statistics so far to that path
(mode's worker takes SIGUSR1 and SIGUSR2).
"""

from __future__ import annotations

import cProfile
import os
import signal
from types import FrameType

_OUT = os.environ.get("BENCH_PROFILE_OUT")

if _OUT:
    _profile = cProfile.Profile()

    def _dump(signum: int, frame: FrameType | None) -> None:
        _profile.disable()
        _profile.dump_stats(f"{_OUT}.tmp")
        os.replace(f"{_OUT}.tmp", _OUT)
        _profile.enable()

    signal.signal(signal.SIGRTMIN + 3, _dump)
    _profile.enable()
