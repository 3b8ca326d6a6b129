"""Timing helpers shared by the benchmark scripts (imported as a sibling module)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

__all__ = ["best_of", "load"]


def best_of(fn: Callable[[], Any], repeat: int, budget: float = 0.0) -> float:
    """Best wall time of `repeat` runs (fewer when they exceed `budget` seconds in all)."""
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget and sum(times) > budget:
            break
    return min(times)


def load() -> str:
    """The machine's load average, printed beside timings (they are noisy when it is high)."""
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:  # pragma: no cover
        return "load average unavailable"
