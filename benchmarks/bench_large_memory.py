"""Peak memory of filtering an image larger than you would like to hold in RAM.

A ``size x size`` float32 image (default 16384 x 16384 = 1 GiB) lives in a
``.npy`` file; it is filtered with a 15 x 15 Gaussian (rank 1, separable)
chunk by chunk through dask (``kernelfactor.correlate`` on a dask array), and
the result is stored with ``da.store`` into another ``.npy`` file.

The filtering runs in a fresh subprocess, so the peak resident set size it
reports (``getrusage(RUSAGE_SELF).ru_maxrss``) counts nothing the parent
allocated.  Both files are reached through ``np.load(..., mmap_mode=...)``
maps opened per chunk and closed right after: pages of a memory map count in
the resident set while it is mapped, so one map held over the whole run
would report the page cache (up to 2 GiB), not the memory the filtering needs.

Afterwards a few output tiles (a corner, an edge, the middle) are checked
against in-memory filtering of the corresponding tile with its halo (and with
the boundary mode where the tile touches the border).

Usage::

    python benchmarks/bench_large_memory.py              # 16384 x 16384 (1 GiB)
    python benchmarks/bench_large_memory.py --size 2048  # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

KERNEL_SIZE = 15
SIGMA = 2.5
MODE = "reflect"


def gaussian_kernel(size: int = KERNEL_SIZE, sigma: float = SIGMA) -> np.ndarray:
    t = np.arange(size) - size // 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    return np.outer(g, g)


class MemmapReader:
    """Array-like over a ``.npy`` file: each read maps the file, copies, unmaps."""

    def __init__(self, path: str) -> None:
        self.path = path
        m = np.load(path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = m.shape, m.dtype, m.ndim
        del m

    def __getitem__(self, index: Any) -> np.ndarray:
        m = np.load(self.path, mmap_mode="r")
        try:
            return np.array(m[index])
        finally:
            del m


class MemmapWriter:
    """``da.store`` target: each write maps the file, writes, flushes, unmaps."""

    def __init__(self, path: str) -> None:
        self.path = path
        m = np.load(path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = m.shape, m.dtype, m.ndim
        del m

    def __setitem__(self, index: Any, value: np.ndarray) -> None:
        m = np.load(self.path, mmap_mode="r+")
        try:
            m[index] = value
            m.flush()
        finally:
            del m


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def create_input(path: str, size: int, rows: int = 512) -> None:
    """Write a random float32 image block of rows by block of rows."""
    m = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(size, size))
    del m
    rng = np.random.default_rng(0)
    for r0 in range(0, size, rows):
        r1 = min(size, r0 + rows)
        m = np.load(path, mmap_mode="r+")
        m[r0:r1] = rng.standard_normal((r1 - r0, size), dtype=np.float32)
        m.flush()
        del m


def child(src: str, dst: str, chunk: int, workers: int) -> None:
    """Filter src into dst chunk by chunk and print what it cost as JSON."""
    import dask
    import dask.array as da

    import kernelfactor

    reader = MemmapReader(src)
    x = da.from_array(reader, chunks=(chunk, chunk), meta=np.empty((0, 0), np.float32))
    y = kernelfactor.correlate(x, gaussian_kernel(), mode=MODE, method="separable")
    base = max_rss_bytes()  # interpreter, numpy, scipy, dask, kernelfactor, the graph
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=workers):
        da.store(y, MemmapWriter(dst), lock=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"peak": max_rss_bytes(), "base": base, "seconds": seconds}))


def check_tiles(src: str, dst: str, size: int, tile: int) -> list[tuple[str, float]]:
    """Max relative difference of a few output tiles against in-memory filtering."""
    import kernelfactor

    k = gaussian_kernel()
    h = KERNEL_SIZE // 2
    tile = min(tile, size)
    mid = (size - tile) // 2
    starts = {"top-left corner": (0, 0), "right edge": (mid, size - tile), "middle": (mid, mid)}
    results = []
    inp = np.load(src, mmap_mode="r")
    out = np.load(dst, mmap_mode="r")
    for name, (r0, c0) in starts.items():
        # the tile with its halo, clipped at the border: where clipped, the
        # in-memory filter's own boundary mode is the image's boundary
        a0, a1 = max(0, r0 - h), min(size, r0 + tile + h)
        b0, b1 = max(0, c0 - h), min(size, c0 + tile + h)
        region = np.array(inp[a0:a1, b0:b1])
        want = kernelfactor.correlate(region, k, mode=MODE, method="separable")
        want = want[r0 - a0 : r0 - a0 + tile, c0 - b0 : c0 - b0 + tile]
        got = np.array(out[r0 : r0 + tile, c0 : c0 + tile])
        scale = float(np.max(np.abs(want)))
        results.append((name, float(np.max(np.abs(got - want))) / scale))
    del inp, out
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=16384, help="image side (default 16384)")
    parser.add_argument("--chunk", type=int, default=1024, help="chunk side (default 1024)")
    parser.add_argument("--workers", type=int, default=2, help="dask threads (default 2)")
    parser.add_argument("--child", nargs=2, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.chunk, args.workers)
        return 0

    size = args.size
    image_bytes = size * size * 4
    tmp = tempfile.mkdtemp(prefix="kf-bench-large-", dir="/tmp")
    try:
        src, dst = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        t0 = time.perf_counter()
        create_input(src, size)
        m = np.lib.format.open_memmap(dst, mode="w+", dtype=np.float32, shape=(size, size))
        del m
        print(
            f"image {size} x {size} float32 = {image_bytes / 2**20:.0f} MiB, "
            f"{KERNEL_SIZE} x {KERNEL_SIZE} Gaussian (sigma {SIGMA}), mode {MODE!r}, "
            f"method 'separable', chunks {args.chunk} x {args.chunk}, "
            f"{args.workers} dask threads (input written in {time.perf_counter() - t0:.1f} s)"
        )
        cmd = [sys.executable, os.path.abspath(__file__), "--child", src, dst]
        cmd += ["--chunk", str(args.chunk), "--workers", str(args.workers)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return proc.returncode
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        peak, base = res["peak"], res["base"]
        print(f"filter + store: {res['seconds']:.1f} s")
        print(
            f"peak RSS of the filtering process: {peak / 2**20:.0f} MiB = "
            f"{peak / image_bytes:.2f}x the image"
        )
        print(
            f"  of which before filtering (interpreter, libraries, graph): "
            f"{base / 2**20:.0f} MiB; added by filtering: {(peak - base) / 2**20:.0f} MiB = "
            f"{(peak - base) / image_bytes:.2f}x the image"
        )
        ok = peak < 3 * image_bytes
        print(f"target peak < 3x the image: {'met' if ok else 'MISSED'}")
        worst = 0.0
        for name, rel in check_tiles(src, dst, size, tile=512):
            print(f"tile check ({name}, 512 x 512): max |diff| / max |tile| = {rel:.2e}")
            worst = max(worst, rel)
        tiles_ok = worst <= 1e-6  # float32 output: a few ulps at most
        print(f"tiles equal to in-memory filtering: {'yes' if tiles_ok else 'NO'}")
        return 0 if (tiles_ok and (ok or size < 4096)) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
