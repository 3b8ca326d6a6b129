"""n-D kernels (issue 16): unfolding verdicts, CP approximations, exact ranks, n-D filtering."""

import json

import numpy as np
import pytest
import scipy.ndimage as ndi

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
