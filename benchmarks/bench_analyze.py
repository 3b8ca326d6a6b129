"""Batched analysis of many small kernels (issue 2, section 5).

Prints the time to analyse a stack of N 7x7 kernels with one batched call and
the ratio against a per-kernel Python loop, measured side by side in one process.

    python benchmarks/bench_analyze.py            # N = 100,000
    python benchmarks/bench_analyze.py --quick    # N = 10,000
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of

import kernelfactor as kf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=None)
    args = parser.parse_args()
    n = args.n or (10_000 if args.quick else 100_000)
    rng = np.random.default_rng(0)
    stack = rng.standard_normal((n, 7, 7))
    stack[::3] = np.einsum("ki,kj->kij", rng.standard_normal((len(stack[::3]), 7)),
                           rng.standard_normal((len(stack[::3]), 7)))

    t_batch = best_of(lambda: kf.analyze(stack), 3)
    batch = kf.analyze(stack)
    t_factors = best_of(lambda: kf.analyze(stack).columns, 3)
    t_lowrank = best_of(lambda: kf.lowrank(stack, 1), 1)

    loop_n = min(n, 5_000)  # the loop is timed on a slice and scaled (linear in n)
    t_loop = best_of(lambda: [kf.analyze(k) for k in stack[:loop_n]], 1) * n / loop_n
    t_numpy = best_of(lambda: np.linalg.matrix_rank(stack), 3)

    ranks = np.bincount(batch.rank.ravel())
    print(f"{n:,} kernels of 7x7 (a third rank 1): ranks {dict(enumerate(ranks.tolist()))}")
    print(f"  analyze(stack), verdicts only      {t_batch:8.3f} s")
    print(f"  analyze(stack) + all factors       {t_factors:8.3f} s")
    print(f"  lowrank(stack, 1) with all bounds  {t_lowrank:8.3f} s")
    ratio = t_batch / t_numpy
    print(f"  numpy.linalg.matrix_rank(stack)    {t_numpy:8.3f} s   (ratio {ratio:.2f})")
    print(f"  per-kernel loop of analyze (scaled){t_loop:8.3f} s   "
          f"(batched is {t_loop / t_batch:.0f}x faster)")
    target = 1.0 * n / 100_000
    verdict = "meets" if t_batch < target else "MISSES"
    print(f"  target: under {target:.2f} s -> {verdict}")


if __name__ == "__main__":
    main()
