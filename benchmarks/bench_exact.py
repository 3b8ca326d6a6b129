"""Exact rank: kernelfactor against sympy's Matrix.rank and DomainMatrix (issue 3, section 5).

Run ``python benchmarks/bench_exact.py`` (about 1-2 minutes) or with ``--quick``;
``--hard-only`` times only the hard cases of issue 11, each of which must return
within its ``time_limit`` (10 s, 3 s with ``--quick``), right or undecided.

Columns, all on the same integer matrices (entries in [-5, 5]), best of N,
conversion from a numpy array included:

* ``kf flint``   -- ``exact_rank(K, backend="flint")`` (python-flint fmpz_mat)
* ``kf sympy``   -- ``exact_rank(K, backend="sympy")`` (rank mod p + exact certificate)
* ``DomainMatrix`` -- ``DomainMatrix.from_list(K, ZZ).rank()``
* ``Matrix.rank`` -- ``sympy.Matrix(K).rank()``, in a subprocess killed after
  ``--timeout`` seconds; once a size times out, larger sizes are skipped.

"Without flint" is measured honestly in a subprocess with
``SYMPY_GROUND_TYPES=python`` (sympy then uses no FLINT either) and
``backend="sympy"``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import sympy as sp
from _timing import best_of, load
from sympy import ZZ
from sympy.polys.matrices import DomainMatrix

from kernelfactor import exact_rank

SIZES = (16, 32, 64, 128, 256)




def matrices(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(n)
    full = rng.integers(-5, 6, (n, n))
    low = rng.integers(-5, 6, (n, 3)) @ rng.integers(-5, 6, (3, n))
    return {"full rank": full, "rank 3": low}


def run_subprocess(code: str, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=True,
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:g} s"
    return out.stdout.rstrip()


def matrix_rank_seconds(k: np.ndarray, timeout: float) -> str:
    code = textwrap.dedent(
        f"""
        import time, sympy as sp
        m = sp.Matrix({k.tolist()!r})
        t = time.perf_counter(); r = m.rank(); print(f"{{time.perf_counter() - t:.3g}} s")
        """
    )
    return run_subprocess(code, timeout)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms" if seconds < 1 else f"{seconds:9.2f} s "


def table(args: argparse.Namespace) -> None:
    sizes = SIZES[:3] if args.quick else SIZES
    skip_matrix_rank = False
    print(f"{'size':>5} {'case':>10} {'kf flint':>12} {'kf sympy':>12} {'DomainMatrix':>12} "
          f"{'DM/flint':>9} {'Matrix.rank':>22}")
    for n in sizes:
        for case, k in matrices(n).items():
            rank = exact_rank(k)
            t_flint = best_of(lambda k=k: exact_rank(k, backend="flint"), args.repeat)
            t_sym = best_of(lambda k=k: exact_rank(k, backend="sympy"), args.repeat)
            t_dm = best_of(lambda k=k: DomainMatrix.from_list(k.tolist(), ZZ).rank(), 1)
            if skip_matrix_rank:
                mr = f"> {args.timeout:g} s (skipped)"
            else:
                mr = matrix_rank_seconds(k, args.timeout)
                if mr.startswith(">"):
                    skip_matrix_rank = case == "full rank"
                    mr += " (killed)"
            print(f"{n:>5} {case:>10} {fmt(t_flint):>12} {fmt(t_sym):>12} {fmt(t_dm):>12} "
                  f"{t_dm / t_flint:8.0f}x {mr:>22}   rank {rank}")


def without_flint(args: argparse.Namespace) -> None:
    n = 128 if args.quick else 256
    code = textwrap.dedent(
        f"""
        import timeit, numpy as np, sympy
        from kernelfactor import exact_rank
        assert sympy.external.gmpy.GROUND_TYPES != "flint"
        rng = np.random.default_rng({n})
        full = rng.integers(-5, 6, ({n}, {n}))
        low = rng.integers(-5, 6, ({n}, 3)) @ rng.integers(-5, 6, (3, {n}))
        exact_rank(low, backend="sympy")  # warm-up: imports
        for name, k in (("full rank", full), ("rank 3", low)):
            t = min(timeit.repeat(lambda: exact_rank(k, backend="sympy"), number=1, repeat=3))
            print(f"  {{name}} {n}x{n}: {{t * 1e3:.1f}} ms, rank {{exact_rank(k)}}")
        """
    )
    print("\nwithout flint (SYMPY_GROUND_TYPES=python, backend='sympy'), targets < 15 s "
          "(full) and < 0.1 s (rank 3):")
    print(run_subprocess(code, 120, {"SYMPY_GROUND_TYPES": "python"}))


def polynomial(args: argparse.Namespace) -> None:
    a, b, c = sp.symbols("a b c")
    rng = np.random.default_rng(5)
    monos = [1, a, b, c, a * b, b * c, a * c, a**2, c**2]

    def entry() -> sp.Expr:
        return sum(int(rng.integers(-3, 4)) * m for m in monos)

    full = sp.Matrix(5, 5, lambda i, j: entry())
    t_kf = best_of(lambda: exact_rank(full), args.repeat)
    code = textwrap.dedent(
        f"""
        import time, sympy as sp
        a, b, c = sp.symbols("a b c")
        m = sp.Matrix(5, 5, {list(full)!r})
        t = time.perf_counter(); r = m.rank(); print(f"{{time.perf_counter() - t:.3g}} s")
        """
    )
    mr = run_subprocess(code, args.timeout)
    print(f"\n5x5 polynomial matrix in a, b, c (full rank {exact_rank(full)}): "
          f"kernelfactor {fmt(t_kf).strip()} (target < 0.1 s), Matrix.rank {mr}")


def hard_cases(args: argparse.Namespace) -> None:
    """Issue 11: each hard case returns within its limit, right or honestly undecided."""
    import time

    from kernelfactor import (
        DEFAULT_TIME_LIMIT,
        exact_factor,
        function_rank,
        parse_expression,
        separability_conditions,
    )

    x, y = sp.symbols("x y", real=True)
    limit = 3.0 if args.quick else DEFAULT_TIME_LIMIT

    def refused(text: str) -> Any:
        try:
            return parse_expression(text)
        except ValueError as exc:
            return f"refused: {str(exc)[:70]}"

    def capped() -> Any:
        try:
            return function_rank(sp.exp(x * y), x, y, max_rank=10**6)
        except ValueError as exc:
            return f"refused: {str(exc)[:70]}"

    generic7 = sp.Matrix(7, 7, lambda i, j: sp.Symbol(f"a{i}{j}"))
    cases: list[tuple[str, Any]] = [
        ("exact_factor [[sqrt(pi), pi], [1, sqrt(pi)]]",
         lambda: exact_factor(sp.Matrix([[sp.sqrt(sp.pi), sp.pi], [1, sp.sqrt(sp.pi)]]),
                              time_limit=limit)),
        ("function_rank exp(x*y), max_rank=10**6", capped),
        ("function_rank Abs(x - y)", lambda: function_rank(sp.Abs(x - y), x, y,
                                                             time_limit=limit)),
        ("function_rank sign(x - y)", lambda: function_rank(sp.sign(x - y), x, y,
                                                              time_limit=limit)),
        ("function_rank exp(exp(exp(x*y)))",
         lambda: function_rank(sp.exp(sp.exp(sp.exp(x * y))), x, y, time_limit=limit)),
        ("function_rank atan((x + y)/(1 - x*y))",
         lambda: function_rank(sp.atan((x + y) / (1 - x * y)), x, y, time_limit=limit)),
        ("separability_conditions generic 7x7",
         lambda: separability_conditions(generic7, time_limit=limit)),
        ("parse (((9**999)**999)**999)**999", lambda: refused("(((9**999)**999)**999)**999")),
        ("parse 500 chained + terms", lambda: refused(" + ".join(["x*y"] * 500))),
    ]
    print(f"\nhard cases of issue 11 (time_limit={limit:g} s each; {load()}):")
    worst = 0.0
    for name, fn in cases:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        verdict = " ".join(str(out if not hasattr(out, "decided") else repr(out)).split())
        ok = "within" if dt <= limit + 1.0 else "OVER"
        print(f"  {name:<45} {dt:6.2f} s  {ok} limit  {verdict[:90]}")
    print(f"  slowest: {worst:.2f} s (limit {limit:g} s + 1 s of clean-up allowance)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 64, short timeouts")
    parser.add_argument("--timeout", type=float, default=None, help="Matrix.rank cap (s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hard-only", action="store_true",
                        help="only the hard cases of issue 11 (each within its time limit)")
    args = parser.parse_args()
    if args.hard_only:
        hard_cases(args)
        return
    if args.timeout is None:
        args.timeout = 5.0 if args.quick else 20.0
    exact_rank([[1, 2], [2, 4]], backend="sympy")  # import sympy before timing
    table(args)
    without_flint(args)
    polynomial(args)
    hard_cases(args)


if __name__ == "__main__":
    main()
