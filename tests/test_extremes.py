"""Issue 12: every input gets a right answer or a clear refusal (named cases, API and CLI).

The table of many small cases is in ``tests/test_bad_input.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import kernelfactor as kf
from kernelfactor._coerce import _as_kernel

# ---- extreme scales: the verdict is the same at every representable scale ----------


@pytest.mark.parametrize("exponent", [-1060, -1000, -600, -501, 0, 300, 501, 900, 1000])
@pytest.mark.parametrize("name", ["binomial:size=7", "sobel_x", "laplacian4", "disk:radius=3"])
def test_verdict_is_the_same_at_every_representable_scale(name: str, exponent: int) -> None:
    base = _as_kernel(name)
    base = np.round(base * 64) / 64  # dyadic entries: exactly representable at every scale
    scaled = np.ldexp(base, exponent)
    if not np.array_equal(np.ldexp(scaled, -exponent), base):
        pytest.skip("not exactly representable at this scale")
    a, b = kf.analyze(base), kf.analyze(scaled)
    assert a.rank == b.rank and a.robust == b.robust
    assert b.tol > 0 and np.isfinite(b.tol)
    np.testing.assert_allclose(b.margin.gap_at_least / a.margin.gap_at_least, 1, rtol=1e-6)
    e = b.scale_exponent
    rebuilt = sum(
        np.outer(np.ldexp(c, -(e // 2)), np.ldexp(r, -(e - e // 2))) for c, r in b.factors
    )
    np.testing.assert_allclose(np.ldexp(rebuilt, e - exponent), base, atol=1e-12)


def test_1e308_kernel_is_rank_1_not_0() -> None:
    a = kf.analyze(np.full((3, 3), 1e308))
    assert (a.rank, a.is_separable, a.robust) == (1, True, True)
    assert a.scale_exponent == 1024 and np.isfinite(a.tol)
    assert np.all(np.isfinite(a.to_array())) and np.allclose(a.to_array() / 1e308, 1)
    assert "scaled by 2**-1024" in repr(a)
    stack = kf.analyze(np.stack([np.full((3, 3), 1e308), np.eye(3)]))
    assert stack.rank.tolist() == [1, 3]
    assert np.allclose(stack[0].factors[0][0], 1e154)


def test_subnormal_kernel_has_a_positive_tolerance_and_an_honest_margin() -> None:
    k = np.ldexp(kf.get_kernel("binomial", size=7), -1060)  # exact (dyadic entries)
    a = kf.analyze(k)
    assert a.rank == 1 and a.tol > 0 and a.margin.gap_at_least > 1e10
    assert a.robust


# ---- robustness: one field that cannot mislead -------------------------------------


def test_robust_is_false_when_sigma_next_sits_at_a_user_tolerance() -> None:
    k = np.diag([1.0, 0.5, 0.25, 0.996e-3])
    a = kf.analyze(k, atol=1e-3)
    assert a.rank == 3 and a.margin.gap > 200  # gap looks comfortable ...
    assert not a.robust  # ... but the verdict hangs on sigma_4
    assert kf.analyze(k, atol=3e-3).robust
    assert kf.analyze(kf.get_kernel("sobel_x")).robust
    assert kf.analyze(np.zeros((3, 3))).robust  # rank 0, by the documented convention


def test_robust_is_false_when_a_counted_value_is_near_the_floor() -> None:
    k = np.diag([1.0, 5e-15, 0.0])
    a = kf.analyze(k)
    assert a.rank == 2 and not a.robust
    assert a.to_dict()["robust"] is False and a.to_dict()["margin"]["robust"] is False


# ---- named tolerance policies -------------------------------------------------------


def test_named_policies_reproduce_matlab_numpy_and_imagefiltering() -> None:
    k = np.diag([1.9, 1e-15, 0.0])
    assert kf.analyze(k).rank == 1
    assert kf.analyze(k, policy="numpy").rank == 1
    assert kf.analyze(k, policy="matlab").rank == 2
    assert kf.tolerance(1.9, (3, 3), policy="matlab") == 3 * np.spacing(1.9)
    assert kf.analyze(np.diag([1.0, 1e-9, 0.0]), policy="imagefiltering").rank == 1
    assert kf.analyze(np.diag([1.0, 1e-7, 0.0]), policy="imagefiltering").rank == 2
    assert kf.analyze(np.diag([1e-12, 0, 0]), policy="imagefiltering").rank == 1
    assert set(kf.TOLERANCE_POLICIES) == {"numpy", "matlab", "imagefiltering"}
    with pytest.raises(ValueError, match=r"`policy`.*rtol"):
        kf.analyze(k, policy="matlab", rtol=1e-3)
    with pytest.raises(ValueError, match="`policy` must be one of"):
        kf.analyze(k, policy="octave")


# ---- helpers without validation -------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, -1.0, np.inf])
def test_tolerance_refuses_bad_sigma_max(bad: float) -> None:
    with pytest.raises(ValueError, match="`sigma_max` must be finite and >= 0"):
        kf.tolerance(bad, (3, 3))


def test_size_guard_refuses_before_the_svd() -> None:
    with pytest.raises(ValueError, match=r"`kernel` is 5000 x 5000: its SVD would take"):
        kf.analyze(np.broadcast_to(np.float64(1.0), (5000, 5000)))
    with pytest.raises(ValueError, match=r"`verify`='exact' works on kernels of at most"):
        kf.analyze(np.ones((600, 600)), verify="exact")


def test_readme_tour_passes_under_plain_doctest() -> None:
    out = subprocess.run([sys.executable, "-m", "doctest", "README.md"], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stdout[-2000:]


# ---- bounds helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: kf.eckart_young([1, 2, 3], 1), ValueError, "`singular_values` must be descending"),
        (lambda: kf.eckart_young([3, 2, -1], 1), ValueError, "`singular_values` must be >= 0"),
        (lambda: kf.eckart_young([3, 2, 1], -1), ValueError, "`rank` must be >= 0"),
        (lambda: kf.frequency_bound(np.ones((3, 3)), oversample=0), ValueError,
         "`oversample` must be >= 1"),
        (lambda: kf.frequency_bound(np.ones((3, 3)), oversample=10**6), ValueError,
         "`oversample`=1000000 asks for an FFT grid"),
        (lambda: kf.l1_norm([[np.nan]]), ValueError, "`residual` contains NaN"),
        (lambda: kf.worst_case_image(np.zeros((0, 3))), ValueError, "`residual` is empty"),
    ],
)
def test_bounds_helpers_refuse_bad_input(call, error, pattern) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=pattern):
        call()


def test_linf_bound_takes_cval_into_account() -> None:
    lap = kf.get_kernel("laplacian4")
    k1 = kf.lowrank(lap, 1)
    x = np.zeros((16, 16))
    err = kf.correlate(x, lap, mode="constant", cval=1.0) - kf.correlate(
        x, k1.to_array(), mode="constant", cval=1.0)
    assert np.abs(err).max() > 0.79  # the error is not 0 although x = 0
    bound = k1.error.output_bound(x, mode="constant", cval=1.0)
    assert np.abs(err).max() <= bound and bound == k1.error.l1
    assert k1.error.output_bound(x, mode="reflect", cval=1.0) == 0.0
