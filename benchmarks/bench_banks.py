"""A filter bank through a shared separable basis, side by side with N separate filters.

32 real Gabor kernels (8 orientations x 4 scales, 19 x 19) on a 1024 x 1024
float64 image, one thread everywhere (BLAS included):

* N filters, each a direct 2-D correlation (``method="direct"``);
* N filters, each the way ``kf.correlate`` picks (``"auto"``: every Gabor
  kernel has separable rank 1 or 2, so two fused separable passes or one);
* ``kf.separable_basis_for_error(bank, 0.01)``: the smallest shared basis
  within 1% relative Frobenius error (its certified lower bound proves that
  one filter fewer cannot reach 1%), M separable passes and one combination;
* the exact shared basis (``max_error=0``, within rounding).

Prints the counted multiplications per pixel, the best-of-3 times and the
ratios.

    python benchmarks/bench_banks.py
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy: the combination's BLAS on one thread

import time  # noqa: E402

import numpy as np  # noqa: E402
from _timing import best_of, load  # noqa: E402

import kernelfactor as kf  # noqa: E402


def main() -> None:
    bank = kf.gabor_bank(8, (1.5, 2.0, 2.5, 3.0))
    n, h, w = bank.shape
    image = np.random.default_rng(0).random((1024, 1024))
    norm = float(np.sqrt(np.sum(bank**2)))
    t0 = time.perf_counter()
    basis = kf.separable_basis_for_error(bank, 0.01)
    fit_s = time.perf_counter() - t0
    below = kf.unfolding_lower_bound(bank, basis.size - 1) / norm
    exact = kf.separable_basis_for_error(bank, 0.0)
    print(f"bank: {n} Gabor kernels of {h}x{w}, separable ranks {sorted(set(basis.filter_ranks))}"
          f" ({sum(basis.filter_ranks)} terms in all); image {image.shape}; {load()}")
    print(f"1% basis: M = {basis.size} (relative error {basis.fro_rel:.3g}, certified lower "
          f"bound {basis.lower_bound / norm:.3g}; M = {basis.size - 1} cannot do better than "
          f"{below:.3g}), fitted in {fit_s:.2f} s")
    print(f"exact basis: M = {exact.size} ({exact!r})")

    def direct() -> None:
        for k in bank:
            kf.correlate(image, k, method="direct", workers=1)

    def auto() -> None:
        for k in bank:
            kf.correlate(image, k, workers=1)

    rows = [("N filters, direct 2-D", basis.cost()["direct"], direct),
            ("N filters, auto (separable)", basis.cost()["separable"], auto)]
    for label, b in ((f"shared basis M={basis.size} (1%)", basis),
                     (f"shared basis M={exact.size} (exact)", exact)):
        rows.append((label, b.cost()["basis"], lambda b=b: b.apply(image, workers=1)))
    times = [best_of(fn, 3) for _, _, fn in rows]
    print(f"{'':34s} {'mults/pixel':>12s} {'time (s)':>9s} {'count ratio':>12s} "
          f"{'time ratio':>11s}   (ratios: N filters direct / this)")
    for (label, count, _), t in zip(rows, times, strict=True):
        print(f"{label:34s} {count:12.0f} {t:9.3f} {rows[0][1] / count:12.2f} "
              f"{times[0] / t:11.2f}")
    print(f"shared basis (1%) vs N auto filters: counts x{rows[1][1] / rows[2][1]:.2f}, "
          f"time x{times[1] / times[2]:.2f}")


if __name__ == "__main__":
    main()
