"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def machine_line() -> str:
    """One line describing the machine and interpreter the figures come from."""
    return f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}"


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time in seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
