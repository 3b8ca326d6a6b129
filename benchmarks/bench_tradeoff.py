"""Measured time of each way of filtering the trade-off kernels (issue 6).

Times ``kernelfactor.correlate`` on one 512 x 512 float64 image for every
kernel of the trade-off figure: ``method="direct"``, ``method="fft"`` and
``method="separable"`` with the best rank-k approximation for k = 1 .. the
numerical rank, side by side in one process (best of N, one thread), and prints
each time with its ratio to direct.  With ``--write PATH`` it stores them as
the JSON file the figures read (the figures are never timed live):

    python benchmarks/bench_tradeoff.py                       # print only
    python benchmarks/bench_tradeoff.py --quick               # fewer repeats
    python benchmarks/bench_tradeoff.py --write kernelfactor/data/timings.json
"""

from __future__ import annotations

import argparse
import json
import platform

import numpy as np
from _timing import best_of

import kernelfactor as kf
from kernelfactor.paper import DEFAULT_TRADEOFF_KERNELS, kernel_label, timing_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--size", type=int, default=512, help="image side (default 512)")
    parser.add_argument("--write", metavar="PATH", help="store the timings as JSON")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    shape = (args.size, args.size)
    image = np.random.default_rng(0).random(shape)
    timings: dict[str, float] = {}
    for name, params in DEFAULT_TRADEOFF_KERNELS:
        label = kernel_label(name, params)
        kernel = kf.get_kernel(name, **params)
        rank = max(kf.analyze(kernel).rank, 1)
        ways = [("direct", None, kernel), ("fft", None, kernel)]
        ways += [("separable", k, kf.lowrank(kernel, k)) for k in range(1, rank + 1)]
        direct = None
        for method, k, kern in ways:
            kf.correlate(image, kern, method=method, workers=1)  # warm-up
            t = best_of(lambda kern=kern, method=method: kf.correlate(
                image, kern, method=method, workers=1), repeat)
            timings[timing_key(label, method, k)] = t
            direct = t if method == "direct" else direct
            what = method if k is None else f"{method} rank {k}"
            print(f"{label:<28} {what:<18} {t * 1e3:9.3f} ms   x{direct / t:6.2f} vs direct")
    if args.write:
        data = {
            "description": "Best-of-N seconds of kernelfactor.correlate(image, kernel, "
            "method=..., workers=1) on a random float64 image; keys 'label|method|rank'. "
            "Written by benchmarks/bench_tradeoff.py --write.",
            "image_shape": list(shape),
            "repeat": repeat,
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "timings": {k: float(f"{v:.4g}") for k, v in sorted(timings.items())},
        }
        with open(args.write, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
