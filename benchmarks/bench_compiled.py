"""The compiled engine against OpenCV, side by side in one process (issue 14's numbers).

Usage::

    python benchmarks/bench_compiled.py              # 2048 x 2048, float64 and float32 (~1 min)
    python benchmarks/bench_compiled.py --size 512   # a quick look
    python benchmarks/bench_compiled.py --ring-sweep # the scratch ring's placement (~1 min)

For each case and dtype the runs of kernelfactor and OpenCV on one and two
threads (``workers=``; ``cv2.setNumThreads``) are interleaved, best of
``--repeats``.  Printed, each with the issue's target in brackets:
milliseconds, each as a multiple of the memory floor (one ``np.copyto`` of the
image; beside it, the same copy in two halves on two threads at once, which
tells how much a second core adds to memory traffic here), the ratio
kernelfactor / OpenCV, the speed-up over the scipy.ndimage path
(``KERNELFACTOR_ENGINE=scipy``, the engine before issue 14) and of two
workers over one; then, per case, the largest difference from scipy.ndimage
over all eight modes (float64, on a 512 x 512 corner), and the time of the
first call in a new process once numba's cache exists.  Borders:
``mode="mirror"`` = ``cv2.BORDER_REFLECT_101``.

Cases:

* 15 x 15 Gaussian (sigma 2.5), ``method="separable"``, vs ``cv2.sepFilter2D``
  [<= 1.0x];
* 15 x 15 Laplacian of Gaussian (rank 2), ``method="separable"``, vs
  ``cv2.filter2D`` [<= 0.8x];
* 3 x 3 Laplacian, ``method="direct"``, vs ``cv2.filter2D`` [<= 1.5x];
* for information, a 3 x 3 box on a uint8 image into uint8 (``direct``, which
  reads and writes uint8 directly), vs ``cv2.filter2D`` and ndimage.

The speed-up over the scipy.ndimage path [>= 5x] is the separable method's
target; for ``direct`` it is printed for information.

Beside the two-worker speed-up, two references, interleaved with it:

* ``halves``: a comparable workload run the plainest way, two one-worker
  filters of the image's top and bottom halves at once on two threads,
  against one worker on the whole image (each half paying the call's fixed
  cost).  With new outputs it overstates the ceiling for float64: glibc
  hands out two 16 MiB blocks again from its heap after the first call (its
  mmap threshold rises to the freed size), while a 32 MiB output (the
  threshold's cap) is a fresh mapping, faulted in page by page, on every
  call.
* ``plain`` (given outputs): not kernelfactor's code, a vectorised numba
  row filter of the kernel's width over the image, then over its halves on
  two threads (:func:`plain_row_filter`): what two cores give a plain
  parallel loop in the same run.  In quiet runs the separable engine
  trailed ``plain`` by 0.01-0.14, about its serial part (a call's checks
  and set-up, 0.25-0.4 ms after a large filter has flushed the caches); in
  noisy ones ``plain`` itself fell to 1.36.  ``direct`` scaled like the
  plain 3-tap loop, both bound by memory (the copy itself gains 1.0-1.4x
  from a second core here).  The README has the figures.

Each case runs twice: writing a new output array each call (``out new``),
and into one allocated beforehand (``out given``: kernelfactor's ``output=``,
OpenCV's ``dst=``).  A new 32 MiB output is faulted in page by page by the
kernel, which two threads do not share well on this VM; the ``given`` rows
show how the filters themselves scale.

On a shared machine single ratios move by +-20%: the load average is printed,
and so is an idle-core check (two threads of a compute loop against one: 1.0
when both cores are free, 2.0 when only one is), before and after; rerun when
they are high.  Agreement with scipy.ndimage is also a test
(``tests/test_compiled.py``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from _timing import idle_cores, load
from scipy import ndimage

import kernelfactor as kf
from kernelfactor import _compiled


def gaussian_taps(sigma: float, radius: int, order: int = 0) -> np.ndarray:
    """scipy.ndimage.gaussian_filter's taps (order 0 or 2)."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / sigma**2 * x**2)
    phi /= phi.sum()
    if order == 2:
        return phi * (x**2 / sigma**4 - 1.0 / sigma**2)
    return phi


def interleaved(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best wall time of each run, the runs interleaved (load bursts hit all alike)."""
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def scipy_engine(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` run on the scipy.ndimage path (the engine before the compiled one)."""

    def run() -> Any:
        _compiled.ENABLED = False
        try:
            return fn()
        finally:
            _compiled.ENABLED = True

    return run


MODE_CHECK_SIZE = 512  # the corner compared with scipy.ndimage in every mode

#: The second thread of the "halves" reference (two independent one-worker filters at once).
HALF_POOL = ThreadPoolExecutor(1)


def plain_row_filter() -> Callable[..., None]:
    """A plain numba loop, not kernelfactor's: out[y, k] = sum_j taps[j] * x[y, k + j].

    Rows ``y0 .. y1``, inner columns only, no borders, no ring: a streaming
    kernel that reads the image once and writes the output once, as the fused
    separable filter does.  Timed on the whole image on one thread and on two
    halves on two threads at once, it tells what two cores give a plain
    parallel loop of similar work in the same run (``plain`` column).
    """
    from numba import njit  # lazy: numba is kernelfactor's dependency, imported here on use

    @njit(nogil=True, cache=False, fastmath={"contract"})
    def rows(x: np.ndarray, out: np.ndarray, taps: np.ndarray, y0: int, y1: int) -> None:
        n, w = taps.size, x.shape[1]
        inner = w - n + 1
        for y in range(y0, y1):
            src, dst = x[y], out[y]
            c = taps[0]
            for k in range(inner):  # taps outer, pixels inner: the pixel loop vectorises
                dst[k] = c * src[k]
            for j in range(1, n):
                c = taps[j]
                for k in range(inner):
                    dst[k] += c * src[k + j]

    return rows

FIRST_CALL = """
import time
t = time.perf_counter()
import numpy as np
import kernelfactor as kf
x = np.ones((64, 64))
kf.correlate(x, np.ones((15, 15)), method="separable")
kf.correlate(x, np.ones((3, 3)), method="direct")
print(time.perf_counter() - t)
"""


def first_call_seconds() -> float:
    """Seconds from ``import kernelfactor`` to two filtered images, in a new process.

    Run twice: the first process fills numba's cache if it is empty, the
    second one is the figure.
    """
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", FIRST_CALL], check=True,
                              capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def worst_mode_difference(x: np.ndarray, w: np.ndarray, method: str) -> float:
    """max |kf - ndimage| / max |ndimage| over the eight modes (a float64 corner of `x`)."""
    crop = x[:MODE_CHECK_SIZE, :MODE_CHECK_SIZE].astype(np.float64)
    worst = 0.0
    for mode in kf.MODES:
        ref = ndimage.correlate(crop, w, mode=mode, cval=0.5)
        got = kf.correlate(crop, w, mode=mode, cval=0.5, method=method)
        worst = max(worst, float(np.max(np.abs(got - ref))) / float(np.max(np.abs(ref))))
    return worst


def ring_sweep(size: int, repeats: int) -> None:
    """The 15x15 Gaussian (one thread, output given) with the scratch ring placed at each
    256-byte offset after the image modulo 4 KiB (``_compiled.RING_OFFSET``; 4K aliasing)."""
    g = gaussian_taps(2.5, 7)
    offsets = range(0, 4096, 256)
    default = _compiled.RING_OFFSET
    print(f"ring offset sweep: {size}x{size} 15x15 Gaussian, one thread, best of {repeats} "
          f"interleaved; {load()}")
    try:
        for dtype in (np.float64, np.float32):
            x = np.random.default_rng(1).standard_normal((size, size)).astype(dtype)
            out = np.empty_like(x)

            def at(offset: int, x: np.ndarray = x, out: np.ndarray = out) -> Callable[[], Any]:
                def run() -> Any:
                    _compiled.RING_OFFSET = offset
                    return kf.correlate(x, np.outer(g, g), out, mode="mirror",
                                        method="separable", workers=1)
                return run

            t = interleaved({str(o): at(o) for o in offsets}, repeats)
            best = min(t.values())
            print(f"  {np.dtype(dtype).name}: " + " ".join(
                f"{o}:{t[str(o)] * 1e3:.1f}" + ("*" if o == default else "") for o in offsets)
                + f"  ms (* = RING_OFFSET; slowest / fastest {max(t.values()) / best:.2f})")
    finally:
        _compiled.RING_OFFSET = default


def uint8_section(size: int, repeats: int, border: int) -> None:
    """For information (no target): a 3x3 box on a uint8 image into uint8, ``direct``.

    kernelfactor gives ndimage's numbers (double sums, truncated); OpenCV's
    filter2D rounds to nearest instead, so the two differ by one in about
    half the pixels: the same work, not the same result.  ndimage's own time
    is printed beside them.
    """
    import cv2

    x = np.random.default_rng(1).integers(0, 256, (size, size)).astype(np.uint8)
    box = np.full((3, 3), 1 / 9)
    ours, theirs = np.empty_like(x), np.empty_like(x)

    def kf_run(workers: int) -> Callable[[], Any]:
        return lambda: kf.correlate(x, box, ours, mode="mirror", method="direct",
                                    workers=workers)

    def cv_run(threads: int) -> Callable[[], Any]:
        def run() -> Any:
            cv2.setNumThreads(threads)
            return cv2.filter2D(x, -1, box, dst=theirs, borderType=border)
        return run

    runs = {"kf1": kf_run(1), "cv1": cv_run(1), "kf2": kf_run(2), "cv2": cv_run(2)}
    for run in runs.values():
        run()
    t = interleaved(runs, repeats)
    nd = interleaved({"nd": lambda: ndimage.correlate(x, box, ours, mode="mirror")},
                     max(2, repeats // 5))["nd"]
    same = np.array_equal(kf.correlate(x, box, mode="mirror", method="direct"),
                          ndimage.correlate(x, box, mode="mirror"))
    print(f"\nuint8 -> uint8, 3x3 box, direct (for information; OpenCV rounds where ndimage "
          f"truncates): ndimage {nd * 1e3:.1f} ms; kf equal to ndimage: {same}")
    for threads in (1, 2):
        t_kf, t_cv = t[f"kf{threads}"], t[f"cv{threads}"]
        print(f"  {threads} thr: kf {t_kf * 1e3:6.2f} ms, cv2 {t_cv * 1e3:6.2f} ms, "
              f"kf/cv2 {t_kf / t_cv:5.2f}" + (f", 2 thr {t['kf1'] / t_kf:4.2f}x"
                                               if threads == 2 else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--ring-sweep", action="store_true",
                        help="only time the ring's placement (4K aliasing), 16 offsets")
    args = parser.parse_args(argv)
    if args.ring_sweep:
        ring_sweep(args.size, args.repeats)
        return
    import cv2

    if not _compiled.available():
        raise SystemExit("the compiled engine is not available (numba missing or switched off)")
    size, repeats = args.size, args.repeats
    row_filter = plain_row_filter()
    g = gaussian_taps(2.5, 7)
    d2 = gaussian_taps(2.5, 7, order=2)
    log = np.outer(d2, g) + np.outer(g, d2)
    lap = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    cases = [
        ("15x15 Gaussian", "separable", np.outer(g, g), "sepFilter2D", 1.0),
        ("15x15 LoG (rank 2)", "separable", log, "filter2D", 0.8),
        ("3x3 Laplacian", "direct", lap, "filter2D", 1.5),
    ]
    border = cv2.BORDER_REFLECT_101
    print(f"kernelfactor {kf.__version__}, OpenCV {cv2.__version__}: {size}x{size}, "
          f"mode='mirror' = BORDER_REFLECT_101, best of {repeats} interleaved")
    print(f"before: {load()}; idle-core check {idle_cores():.2f} (1.0: two free cores, "
          "2.0: one)")
    start = time.perf_counter()
    agreement: dict[str, float] = {}
    for dtype in (np.float64, np.float32):
        x = np.random.default_rng(1).standard_normal((size, size)).astype(dtype)
        dst = np.empty_like(x)
        half = size // 2

        def copy_halves(x: np.ndarray = x, dst: np.ndarray = dst, half: int = half) -> None:
            other = HALF_POOL.submit(np.copyto, dst[half:], x[half:])
            np.copyto(dst[:half], x[:half])
            other.result()

        copies = interleaved({"copy": lambda x=x, dst=dst: np.copyto(dst, x),
                              "halves": copy_halves}, repeats)
        floor = copies["copy"]
        print(f"\n{np.dtype(dtype).name}: memory floor (np.copyto) {floor * 1e3:.2f} ms; its "
              f"halves on two threads at once {copies['halves'] * 1e3:.2f} ms "
              f"({floor / copies['halves']:.2f}x: what two cores add to memory traffic)")
        print(f"  {'case':20s} {'out':>5} {'thr':>3} {'kf ms':>7} {'(floor)':>7} {'cv2 ms':>7} "
              f"{'(floor)':>7} {'kf/cv2':>6} {'[target]':>8} {'vs scipy':>8} {'[>= 5]':>6} "
              f"{'2 thr':>6} {'[>= 1.8]':>8} {'halves':>7} {'plain':>7}")
        for name, method, w, cv_name, target in cases:
            def ours(workers: int, w: np.ndarray = w, method: str = method,
                     x: np.ndarray = x, out: np.ndarray | None = None) -> np.ndarray:
                return kf.correlate(x, w, out, mode="mirror", method=method, workers=workers)

            if cv_name == "sepFilter2D":
                gk = g.astype(dtype)

                def theirs(gk: np.ndarray = gk, x: np.ndarray = x,
                           out: np.ndarray | None = None) -> np.ndarray:
                    return cv2.sepFilter2D(x, -1, gk, gk, dst=out, borderType=border)
            else:
                wk = w.astype(dtype)

                def theirs(wk: np.ndarray = wk, x: np.ndarray = x,
                           out: np.ndarray | None = None) -> np.ndarray:
                    return cv2.filter2D(x, -1, wk, dst=out, borderType=border)

            ours(1)  # compile / load from the cache
            ref = ndimage.correlate(x.astype(np.float64), w, mode="mirror")
            scale = float(np.max(np.abs(ref)))
            diff_nd = float(np.max(np.abs(ours(1) - ref))) / scale
            diff_cv = float(np.max(np.abs(ours(1).astype(np.float64) - theirs()))) / scale
            if dtype == np.float64:
                agreement[name] = worst_mode_difference(x, w, method)
            cv2.setNumThreads(1)
            before = interleaved({"scipy": scipy_engine(lambda: ours(1))},
                                 max(2, repeats // 3))["scipy"]
            def threaded(fn: Callable[[], Any], threads: int) -> Callable[[], Any]:
                def run() -> Any:
                    cv2.setNumThreads(threads)
                    return fn()
                return run

            ours_out, theirs_out = np.empty_like(x), np.empty_like(x)
            half = size // 2

            def halves(given: bool, x: np.ndarray = x, w: np.ndarray = w, method: str = method,
                       out: np.ndarray = ours_out, half: int = half) -> None:
                """Two one-worker filters of the image's halves at once, on two threads."""
                def one(rows: slice) -> np.ndarray:
                    o = out[rows] if given else None
                    return kf.correlate(x[rows], w, o, mode="mirror", method=method, workers=1)

                other = HALF_POOL.submit(one, slice(half, None))
                one(slice(0, half))
                other.result()

            taps = np.ascontiguousarray(w[w.shape[0] // 2], dtype=dtype)
            plain_out = np.empty_like(x)

            def plain(threads: int, x: np.ndarray = x, taps: np.ndarray = taps,
                      out: np.ndarray = plain_out, half: int = half) -> None:
                if threads == 1:
                    row_filter(x, out, taps, 0, size)
                    return
                other = HALF_POOL.submit(row_filter, x, out, taps, half, size)
                row_filter(x, out, taps, 0, half)
                other.result()

            plain(1)
            for given in (False, True):
                o1, o2 = (ours_out, theirs_out) if given else (None, None)
                # All interleaved: a burst of load elsewhere hits them alike.
                runs = {"kf1": threaded(lambda o=o1: ours(1, out=o), 1),
                        "cv1": threaded(lambda o=o2: theirs(out=o), 1),
                        "kf2": threaded(lambda o=o1: ours(2, out=o), 2),
                        "cv2": threaded(lambda o=o2: theirs(out=o), 2),
                        "halves": lambda given=given: halves(given)}
                if given:
                    runs |= {"plain1": lambda: plain(1), "plain2": lambda: plain(2)}
                t = interleaved(runs, repeats)
                times = {k: (t[f"kf{k}"], t[f"cv{k}"]) for k in (1, 2)}
                for threads in (1, 2):
                    t_kf, t_cv = times[threads]
                    missed = [] if t_kf / t_cv <= target else ["kf/cv2"]
                    speedup = scaling = ceiling = ""
                    if threads == 1:
                        speedup = f"{before / t_kf:7.1f}x"
                        if method == "separable":  # the ">= 5x the old separable path"
                            missed += [] if before / t_kf >= 5 else ["vs scipy"]
                    else:
                        two = times[1][0] / times[2][0]
                        scaling = f"{two:5.2f}x"
                        ceiling = f"{times[1][0] / t['halves']:5.2f}x"
                        if given:
                            ceiling += f" {t['plain1'] / t['plain2']:6.2f}x"
                        missed += [] if two >= 1.8 else ["2 thr"]
                    flag = f"  <- {', '.join(missed)}" if missed else ""
                    print(f"  {name:20s} {'given' if given else 'new':>5} {threads:3d} "
                          f"{t_kf * 1e3:7.1f} {t_kf / floor:6.1f}x "
                          f"{t_cv * 1e3:7.1f} {t_cv / floor:6.1f}x {t_kf / t_cv:6.2f} "
                          f"{'<= ' + str(target):>8} {speedup:>8} {'':6} {scaling:>6} {'':8}"
                          f"{ceiling:>8}{flag}")
            print(f"  {'':26s}     scipy path {before * 1e3:.1f} ms; max |kf - ndimage| / max|ref| "
                  f"{diff_nd:.1e}, |kf - cv2| {diff_cv:.1e}")
    uint8_section(size, repeats, border)
    print(f"\nlargest |kf - ndimage| / max|ndimage| over the {len(kf.MODES)} modes (float64, "
          f"{MODE_CHECK_SIZE}x{MODE_CHECK_SIZE}, cval 0.5) [<= 1e-12]:")
    for name, worst in agreement.items():
        print(f"  {name:20s} {worst:.1e}{'' if worst <= 1e-12 else '  <-'}")
    first = first_call_seconds()
    print(f"first call in a new process, numba's cache present: {first:.2f} s [< 1.5 s]")
    print(f"\nafter: {load()}; idle-core check {idle_cores():.2f}; "
          f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
