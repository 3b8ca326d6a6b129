"""Timing helpers shared by the benchmark scripts (imported as a sibling module)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["best_of", "idle_cores", "load"]


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


def idle_cores(repeats: int = 5) -> float:
    """Two threads of a compute loop against one: 1.0 when two cores are free, 2.0 with one.

    The loop (numba, without the GIL, on registers only) is timed alone and
    on two threads at once, best of `repeats`.
    """
    from numba import njit  # lazy: only the benchmarks that print this need it

    @njit(nogil=True, cache=False)
    def spin(n: int) -> float:
        s = 0.0
        for i in range(n):
            s += np.sqrt(float(i))
        return s

    n = 4_000_000
    spin(10)
    with ThreadPoolExecutor(1) as pool:
        one = best_of(lambda: spin(n), repeats)

        def both() -> None:
            f = pool.submit(spin, n)
            spin(n)
            f.result()

        two = best_of(both, repeats)
    return two / one
