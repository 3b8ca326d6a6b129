"""n-D kernels (issue 16): unfolding verdicts, CP approximations, exact ranks, n-D filtering."""

import json

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernelfactor as kf

pytest.importorskip("tensorly")


def _outer(*f):
    out = np.asarray(f[0], dtype=float)
    for v in f[1:]:
        out = np.multiply.outer(out, v)
    return out


@pytest.mark.parametrize(("name", "params"), [("sobel3d", {"axis": 0}), ("sobel3d", {"axis": 2}),
                                              ("binomial3d", {"size": 5})])
def test_3d_sobel_and_binomial_gaussian_are_exactly_rank_one_with_integer_factors(name, params):
    v = kf.volume_kernel(name, **params)
    assert v.rank == 1
    assert kf.exact_rank(v.array, ndim=3) == 1
    np.testing.assert_array_equal(float(v.scale) * _outer(*v.factors), v.array)
    assert all(f.dtype.kind == "i" for f in v.factors)
    a = kf.analyze(v.array, ndim=3)
    assert a.is_separable and a.multilinear_rank == (1, 1, 1)
    np.testing.assert_allclose(a.to_array(), v.array, atol=1e-15 * np.abs(v.array).max() * 64)
    json.dumps(a.to_dict())


def test_sampled_3d_gaussian_is_numerically_rank_one():
    a = kf.analyze(kf.volume_kernel("gaussian3d", sigma=1.5).array, ndim=3)
    assert a.is_separable


def test_laplacian7_rank_two_has_no_best_approximation():
    lap = kf.volume_kernel("laplacian7")
    assert (lap.rank, lap.border_rank) == (3, 2)
    assert kf.analyze(lap.array, ndim=3).multilinear_rank == (2, 2, 2)
    with pytest.raises(ValueError, match=r"\[2, 4\]"):
        kf.exact_rank(lap.array, ndim=3)
    lr = kf.lowrank(lap.array, 2, ndim=3)
    assert lr.degenerate and "de Silva" in lr.note and "DEGENERATE" in repr(lr)
    assert lr.lower_bound == 0.0  # no certified gap: the infimum is 0
    assert lr.fro == pytest.approx(np.linalg.norm(lap.array - lr.to_array()), rel=1e-9)
    one = kf.lowrank(lap.array, 1, ndim=3)
    assert not one.degenerate and one.fro >= one.lower_bound > 0
    json.dumps(lr.to_dict())


@pytest.mark.parametrize("seed", range(3))
def test_achieved_error_never_below_certified_lower_bound(seed):
    t = np.random.default_rng(seed).normal(size=(4, 5, 3))
    for r in (1, 2):
        lr = kf.lowrank(t, r, ndim=3)
        assert lr.fro >= lr.lower_bound * (1 - 1e-12)
        assert lr.l1 == pytest.approx(np.abs(lr.residual).sum())
        assert lr.freq_bound <= lr.l1 * (1 + 1e-12)


def test_bounds_take_ndim():
    r = np.random.default_rng(1).normal(size=(3, 4, 5))
    assert kf.l1_norm(r, ndim=3) == pytest.approx(np.abs(r).sum())
    spectrum = np.abs(np.fft.fftn(r, s=(64, 64, 64), axes=(0, 1, 2))).max()
    assert spectrum <= kf.frequency_bound(r, ndim=3) <= np.abs(r).sum() + 1e-12


@pytest.mark.parametrize("mode", kf.MODES)
@pytest.mark.parametrize("convolve", [False, True])
def test_nd_filtering_equals_ndimage_in_every_mode(mode, convolve):
    rng = np.random.default_rng(0)
    vol = rng.normal(size=(7, 8, 9))
    ours, theirs = (kf.convolve, ndi.convolve) if convolve else (kf.correlate, ndi.correlate)
    sob = kf.volume_kernel("sobel3d", axis=1).array
    lap = kf.volume_kernel("laplacian7").array
    lr = kf.lowrank(lap, 2, ndim=3)
    kw = {"mode": mode, "cval": 1.5}
    np.testing.assert_allclose(ours(vol, sob, origin=(0, 1, -1), **kw),
                               theirs(vol, sob, origin=(0, 1, -1), **kw), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours(vol, lr, **kw), theirs(vol, lr.to_array(), **kw),
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours(vol, lap, **kw), theirs(vol, lap, **kw))  # direct


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_nd_even_lengths_and_origins_follow_ndimage(mode):
    vol = np.random.default_rng(2).normal(size=(6, 7, 8))
    k = _outer([1.0, 3.0], [1.0, -1.0, 2.0, 0.5], [2.0, 1.0])  # even lengths: convolve's shift
    for ours, theirs in ((kf.correlate, ndi.correlate), (kf.convolve, ndi.convolve)):
        np.testing.assert_allclose(ours(vol, k, mode=mode, origin=(-1, 1, 0)),
                                   theirs(vol, k, mode=mode, origin=(-1, 1, 0)), atol=1e-12)


def test_nd_weights_must_match_the_input():
    with pytest.raises(RuntimeError, match=r"weights\.ndim"):
        kf.correlate(np.zeros((4, 4, 4, 4)), np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="separable"):
        kf.correlate(np.zeros((4, 4, 4)), kf.volume_kernel("laplacian7").array,
                     method="separable")


@pytest.mark.parametrize("rank", range(2, 10))
def test_ranks_above_the_kernels_own_fit_without_failing(rank):
    # a separable volume fitted with more terms than it has: the normal equations of ALS
    # are singular (terms go to zero); a ridge, then unnormalised factors, keep them solvable
    sob = kf.volume_kernel("sobel3d").array
    lr = kf.lowrank(sob, rank, ndim=3)
    assert lr.rank == rank and lr.fro_rel <= 1e-10 and not lr.degenerate
    assert "0 (below tol)" in repr(lr)  # the lower bound is rounding noise, not digits


def test_cp_rank_is_an_int_that_says_how_it_was_found():
    import pickle

    from kernelfactor._tensor import _fibres, max_rank

    r = kf.CPRank(2, 0.005, True, True, "rank 1 excluded")
    assert r == 2 and r + 1 == 3 and pickle.loads(pickle.dumps(r)).degenerate
    assert repr(r).startswith("CPRank(2, proven smallest, DEGENERATE")
    t = np.random.default_rng(5).normal(size=(2, 4, 3))
    assert max_rank(t.shape) == 6
    exact = _fibres(t)
    assert exact.rank == 6 and exact.within_rounding
    np.testing.assert_array_equal(exact.to_array(), t)  # unit vectors times fibres: exact


# ------------------------------------------------------------------ complex n-D kernels


def _gabor3d(u, v, w, sigma=1.5, radius=4):
    """exp(i (u x + v y + w z)) times an isotropic Gaussian: written as a 3-D function."""
    x, y, z = np.meshgrid(*(np.arange(-radius, radius + 1.0),) * 3, indexing="ij")
    return np.exp(1j * (u * x + v * y + w * z)) * np.exp(-(x**2 + y**2 + z**2) / (2 * sigma**2))


def _w_state(a, e):
    """a (x) e (x) e + e (x) a (x) e + e (x) e (x) a, per axis: tensor rank 3, border rank 2."""
    a, e = ([np.asarray(v, dtype=complex) for v in vs] for vs in (a, e))
    return (np.einsum("i,j,k", a[0], e[1], e[2]) + np.einsum("i,j,k", e[0], a[1], e[2])
            + np.einsum("i,j,k", e[0], e[1], a[2]))


def test_complex_gabor_volume_is_rank_one_its_real_part_is_not():
    k = _gabor3d(0.7, -0.4, 0.3)
    a = kf.analyze(k, ndim=3)
    assert a.is_separable and a.multilinear_rank == (1, 1, 1)
    lr = kf.lowrank(k, 1, ndim=3)
    assert lr.within_rounding and not lr.degenerate and "exact up to rounding" in repr(lr)
    assert all(f.dtype == np.complex128 for f in lr.factors)
    np.testing.assert_allclose(lr.to_array(), k, rtol=0, atol=lr.rounding)
    d = lr.to_dict()
    assert d["fro"] is None and d["lower_bound"] is None  # rounding noise is not data
    assert np.asarray(d["raw"]["factors"][0]).shape == (1, 9, 2)  # [re, im] pairs
    json.dumps(d)
    r = kf.rank_for_error(k, 1e-9, relative=True, ndim=3)
    assert int(r) == 1 and r.proven and not r.degenerate
    # cos(u x + v y + w z) g g g: no real rank-1 term comes within the certified bound
    real = kf.lowrank(k.real, 1, ndim=3)
    assert kf.analyze(k.real, ndim=3).multilinear_rank == (2, 2, 2)
    assert real.fro >= real.lower_bound > 1e3 * real.rounding


def test_complex_rank_two_volume_is_recovered_and_rank_one_excluded():
    rng = np.random.default_rng(7)
    factors = [rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2)) for n in (4, 5, 3)]
    t = np.einsum("ir,jr,kr->ijk", *factors)
    lr = kf.lowrank(t, 2, ndim=3)
    assert lr.fro_rel <= 1e-10 and not lr.degenerate
    assert lr.fro == pytest.approx(np.linalg.norm(t - lr.to_array()), rel=1e-6, abs=lr.rounding)
    one = kf.lowrank(t, 1, ndim=3)
    assert one.fro >= one.lower_bound > 0.1 * np.linalg.norm(t)
    r = kf.rank_for_error(t, 1e-8, relative=True, ndim=3)
    assert int(r) == 2 and r.proven and "rank 1 excluded" in r.note
    assert kf.lowrank(t, max_error=1e-8, relative=True, ndim=3).rank == 2


def test_complex_border_rank_is_flagged_degenerate():
    # a W state with Gaussian-integer vectors: border rank 2 over C, no best rank-2 fit
    w = _w_state([[1, 1j, 0], [1j, -1, 1], [0, 1, 1j]], [[1, 0, 1j], [1, 1j, 0], [0, 1, 1]])
    lr = kf.lowrank(w, 2, ndim=3)
    assert lr.degenerate and "DEGENERATE" in repr(lr) and "de Silva" in lr.note
    assert lr.lower_bound <= lr.rounding  # multilinear rank (2, 2, 2): no certified gap
    r = kf.rank_for_error(w, 0.05, relative=True, ndim=3)
    assert int(r) == 2 and r.proven and r.degenerate


# Each example is one ALS fit (~0.1 s); 40 cover shapes 2..4 per axis, ranks 0..3, real
# and complex, with Hypothesis's favourite degenerate entries (zeros, repeats, tiny values).
@settings(max_examples=40, deadline=None)
@given(st.tuples(*(st.integers(2, 4),) * 3).flatmap(
    lambda shape: st.tuples(*(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5)),) * 2)),
    st.integers(0, 3), st.booleans())
def test_achieved_error_is_exact_and_never_below_the_certified_bound(parts, rank, cplx):
    k = parts[0] + 1j * parts[1] if cplx else parts[0]
    lr = kf.lowrank(k, rank, ndim=3)
    assert lr.fro >= lr.lower_bound * (1 - 1e-9) - lr.rounding
    safe = scipy.linalg.norm((k - lr.to_array()).ravel())  # BLAS nrm2: no underflow
    assert lr.fro == pytest.approx(safe, rel=1e-9, abs=lr.rounding)
    assert lr.l1 == pytest.approx(np.abs(lr.residual).sum(), rel=1e-12)
    assert lr.freq_bound <= lr.l1 * (1 + 1e-12)
    assert all(f.dtype == (np.complex128 if cplx else np.float64) for f in lr.factors)
    # the bound is certified: no rank-`rank` tensor from other factors is closer either
    rng = np.random.default_rng(0)
    other = [rng.normal(size=(n, rank)) + 1j * rng.normal(size=(n, rank)) for n in k.shape]
    other_t = np.einsum("ir,jr,kr->ijk", *other) * np.abs(k).max()  # at the kernel's scale
    assert scipy.linalg.norm((k - other_t).ravel()) >= lr.lower_bound * (1 - 1e-9)


@pytest.mark.parametrize("rank", [2, 3])
def test_terms_driven_to_zero_and_overflow_fall_back_to_a_lower_rank(rank):
    # Found by Hypothesis: entries of 3.6e-269 beside 1.5 (their squares underflow) made
    # every ALS run at rank 2 overflow (LinAlgError reached the user).  A rank-1 fit and a
    # zero term is a rank-2 tensor; its achieved error is exact.
    k = np.full((2, 3, 2), 3.62449298e-269) + 0j
    k[0, 0, 0] += 1.5j
    lr = kf.lowrank(k, rank, ndim=3)
    safe = scipy.linalg.norm((k - lr.to_array()).ravel())
    assert lr.fro == pytest.approx(safe, rel=1e-9, abs=lr.rounding)
    assert lr.fro <= lr.rounding and len(lr.factors[0]) == rank
    assert f"overflowed at rank {rank}" in lr.note and "the rank-1 fit and" in lr.note


@pytest.mark.parametrize("exponent", [-1060, -900, -500, -40, -9, 0, 40, 500, 1000])
@pytest.mark.parametrize("cplx", [False, True])
def test_cp_fits_and_bounds_hold_at_every_scale(exponent, cplx):
    # the ridge of ALS is absolute: a small kernel kept its equations singular (LinAlgError
    # at 2**-9), a large one was fitted by 0; such kernels are refitted at unit norm.  Norms
    # and lower bounds out of the range of safe squares are scaled sums (no under/overflow)
    base = kf.volume_kernel("sobel3d").array
    k = np.ldexp(base, exponent) * (1j if cplx else 1)
    assert np.array_equal(np.ldexp(np.abs(k), -exponent), np.abs(base))  # exact at this scale
    for rank in (1, 2, 3):
        lr = kf.lowrank(k, rank, ndim=3)
        assert lr.fro_rel <= 1e-10 and not lr.degenerate
        np.testing.assert_allclose(lr.to_array(), k, rtol=0, atol=1e-10 * np.abs(k).max())
    zero = kf.lowrank(k, 0, ndim=3)
    assert zero.fro_rel == 1 and zero.lower_bound_rel == pytest.approx(1, rel=1e-12)
    r = kf.rank_for_error(k, 1e-9, relative=True, ndim=3)
    assert int(r) == 1 and r.proven


def test_exact_ranks_and_verdicts_of_complex_volumes():
    import sympy as sp

    a, b, c = [1 + 1j, 2, 1 - 1j], [1, 2j, -1], [3, 1j]
    one = np.einsum("i,j,k", *(np.array(v) for v in (a, b, c)))
    assert kf.exact_rank(one, ndim=3) == 1 and kf.analyze(one, ndim=3).is_separable
    w = _w_state([[1, 1j, 0], [1j, -1, 1], [0, 1, 1j]], [[1, 0, 1j], [1, 1j, 0], [0, 1, 1]])
    assert kf.analyze(w, ndim=3).multilinear_rank == (2, 2, 2)
    with pytest.raises(ValueError, match=r"\[2, 4\]"):
        kf.exact_rank(w, ndim=3)
    f = kf.exact_factor(w, ndim=3)
    assert f.domain == "ZZ_I" and f.rank_bounds[0] == 2 and len(f.terms) == f.rank_bounds[1]
    exact = np.array([sp.expand(x) for x in sp.flatten(f.to_array())], dtype=complex)
    np.testing.assert_array_equal(exact.reshape(w.shape), w)


def test_fibres_of_a_complex_volume_are_exact():
    from kernelfactor._tensor import _fibres

    rng = np.random.default_rng(5)
    t = rng.normal(size=(2, 4, 3)) + 1j * rng.normal(size=(2, 4, 3))
    exact = _fibres(t)
    assert exact.rank == 6 and exact.within_rounding
    np.testing.assert_array_equal(exact.to_array(), t)
    r = kf.rank_for_error(t, 0.0, ndim=3)  # below the rounding level: the first exact rank
    assert int(r) <= 6 and "exact up to rounding" in r.note


def _complex_terms_and_kernels():
    rng = np.random.default_rng(3)
    lr = kf.lowrank(rng.normal(size=(3, 4, 3)) + 1j * rng.normal(size=(3, 4, 3)), 2, ndim=3)
    separable = np.einsum("i,j,k", *(rng.normal(size=n) + 1j * rng.normal(size=n)
                                     for n in (3, 2, 5)))
    # the approximation's terms, and dense separable kernels' (analyze's factors)
    return [(lr, lr.to_array()), (separable, separable),
            *((g, g) for g in [_gabor3d(0.7, -0.4, 0.3, radius=2)])]


@pytest.mark.parametrize("mode", kf.MODES)
def test_complex_nd_correlate_equals_ndimage(mode):
    vol = np.random.default_rng(3).normal(size=(7, 8, 9))
    for weights, dense in _complex_terms_and_kernels():
        for image in (vol, vol * (1 - 2j)):
            np.testing.assert_allclose(kf.correlate(image, weights, mode=mode),
                                       ndi.correlate(image, dense, mode=mode),
                                       rtol=0, atol=1e-12)


def test_complex_nd_correlate_with_a_constant_equals_ndimage():
    vol = np.random.default_rng(3).normal(size=(7, 8, 9))
    for weights, dense in _complex_terms_and_kernels():
        np.testing.assert_allclose(kf.correlate(vol, weights, mode="constant", cval=1.5),
                                   ndi.correlate(vol, dense, mode="constant", cval=1.5),
                                   rtol=0, atol=1e-12)


def test_complex_nd_convolve_equals_ndimage():
    vol = np.random.default_rng(3).normal(size=(7, 8, 9))
    for weights, dense in _complex_terms_and_kernels():
        np.testing.assert_allclose(kf.convolve(vol, weights), ndi.convolve(vol, dense),
                                   rtol=0, atol=1e-12)


def test_complex_worst_case_image_attains_the_l1_bound():
    rng = np.random.default_rng(4)
    lr = kf.lowrank(rng.normal(size=(3, 4, 3)) + 1j * rng.normal(size=(3, 4, 3)), 1, ndim=3)
    out = ndi.correlate(lr.worst_case_image(), lr.residual, mode="constant")
    assert abs(out[1, 2, 1]) == pytest.approx(lr.l1, rel=1e-12)


def test_rank_for_error_below_rounding_stops_at_the_first_exact_rank() -> None:
    """A random 3x3x3 kernel: the first rank exact up to rounding is the answer (generic
    rank 5), not the fibre count 9; the ranks it passes show no noise digits."""
    k = np.random.default_rng(0).random((3, 3, 3))
    r = kf.rank_for_error(k, 0.0, ndim=3)
    assert int(r) == 5 and "exact up to rounding" in r.note
    assert "e-1" not in r.note  # no rounding-level digits
