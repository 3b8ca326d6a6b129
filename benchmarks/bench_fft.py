"""The FFT method: kernelfactor's own circular correlation vs scipy.signal, side by side.

Usage::

    python benchmarks/bench_fft.py           # 512 and 2048 square float64 images, ~1 min
    python benchmarks/bench_fft.py --quick   # 256 x 256 only

The engine's ``_fft`` extends the image as ndimage does and correlates it
circularly at a fast size no smaller than the padded image (``H + m - 1``);
``scipy.signal.fftconvolve`` / ``oaconvolve`` on the same padded image compute
the linear convolution, of size ``H + 2 (m - 1)``, and keep its valid part.
Issue 15 keeps the hand-built one only while it is faster: this prints the
ratios (> 1: scipy.signal is slower), one thread, best of a few runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from _timing import best_of, load
from scipy import fft as sfft
from scipy import signal

from kernelfactor._apply import _prepare_kernel
from kernelfactor._engine import _fft, _Task


def compare(x: np.ndarray, w: np.ndarray, repeat: int) -> tuple[float, float, float]:
    """Best seconds of (kernelfactor, fftconvolve, oaconvolve), one thread, same answer."""
    kern, axes = _prepare_kernel(w, 0, False)
    task = _Task(kern, axes, "reflect", 0.0)
    out = np.empty_like(x)
    pad = [kern.halo(0), kern.halo(1)]
    flipped = np.ascontiguousarray(w[::-1, ::-1])

    def ours() -> None:
        _fft(x, out, task, None)

    def by(fn: Callable[..., np.ndarray]) -> np.ndarray:
        with sfft.set_workers(1):
            return fn(np.pad(x, pad, mode="symmetric"), flipped, mode="valid")

    ours()
    for fn in (signal.fftconvolve, signal.oaconvolve):
        assert np.allclose(by(fn), out, rtol=1e-9, atol=1e-9)
    return (
        best_of(ours, repeat),
        best_of(lambda: by(signal.fftconvolve), repeat),
        best_of(lambda: by(signal.oaconvolve), repeat),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (256,) if args.quick else (512, 2048)
    rng = np.random.default_rng(0)
    print(f"one thread; {load()}")
    for size in sizes:
        x = rng.standard_normal((size, size))
        for m in (9, 31, 63):
            t0, t1, t2 = compare(x, rng.standard_normal((m, m)), 3 if size >= 2048 else 7)
            print(
                f"{size}x{size} kernel {m}x{m}: kernelfactor {t0 * 1e3:7.1f} ms   "
                f"fftconvolve {t1 * 1e3:7.1f} ms ({t1 / t0:.2f}x)   "
                f"oaconvolve {t2 * 1e3:7.1f} ms ({t2 / t0:.2f}x)",
                flush=True,
            )


if __name__ == "__main__":
    main()
