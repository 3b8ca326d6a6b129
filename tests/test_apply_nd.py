"""kernelfactor.correlate / convolve with d-D weights: scipy.ndimage's numbers by every method."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import kernelfactor as kf
from kernelfactor._apply import ApplyInfo, convolve, correlate
from kernelfactor._costmodel import filter_cost
from kernelfactor._validation import MODES

METHODS = ["direct", "fft", "separable"]
OPS = {"correlate": (correlate, ndi.correlate), "convolve": (convolve, ndi.convolve)}
SHAPES = [(3, 3, 3), (2, 4, 3)]  # odd; even lengths (convolve's extra shift)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """method='auto' reads the calibration cache: never the real home's."""
    monkeypatch.setenv("KERNELFACTOR_CACHE_DIR", str(tmp_path / "cache"))


def _close(actual, expected, rtol=1e-12):
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def _separable(shape, complex_, seed=0):
    rng = np.random.default_rng(seed)
    factors = [rng.normal(size=n) + (1j * rng.normal(size=n) if complex_ else 0) for n in shape]
    return np.einsum("i,j,k", *factors)


def _extreme_origin(shape):
    """The smallest origin on the first axis, the largest on the last (ndimage's limits)."""
    return (-(shape[0] // 2), 0, (shape[2] - 1) // 2)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("mode", MODES)
def test_equals_ndimage_every_mode_method_shape(mode, op, method, shape, complex_):
    ours, theirs = OPS[op]
    rng = np.random.default_rng(1)
    vol = rng.normal(size=(7, 8, 9))
    k = _separable(shape, complex_)
    cval = 1.5
    if complex_:
        vol = vol * (1 - 2j)  # complex weights on a complex image, with a complex cval
        cval = 1.5 - 0.5j
    kw = {"mode": mode, "cval": cval, "origin": _extreme_origin(shape)}
    _close(ours(vol, k, method=method, **kw), theirs(vol, k, **kw))
    _close(ours(vol, k, method=method, mode=mode), theirs(vol, k, mode=mode))


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "nearest"])
def test_real_image_complex_weights_and_low_rank_kernels(mode, op, method, complex_):
    # a rank-2 approximation is filtered as itself (ndimage on its dense array)
    ours, theirs = OPS[op]
    rng = np.random.default_rng(2)
    vol = rng.normal(size=(6, 7, 8))
    raw = rng.normal(size=(3, 2, 3))
    lr = kf.lowrank(raw + (1j * rng.normal(size=raw.shape) if complex_ else 0), 2, ndim=3)
    kw = {"mode": mode, "cval": -0.75, "origin": (1, 0, -1)}
    _close(ours(vol, lr, method=method, **kw), theirs(vol, lr.to_array(), **kw))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_full_rank_dense_kernels_by_direct_and_fft(method):
    rng = np.random.default_rng(3)
    vol = rng.normal(size=(9, 6, 7))
    k = rng.normal(size=(4, 3, 2))
    for mode in MODES:
        for ours, theirs in OPS.values():
            _close(ours(vol, k, mode=mode, method=method, origin=(-2, 1, 0)),
                   theirs(vol, k, mode=mode, origin=(-2, 1, 0)))


def test_kernel_longer_than_the_image():
    rng = np.random.default_rng(4)
    vol = rng.normal(size=(3, 2, 4))
    k = _separable((5, 5, 3), False)
    for mode in MODES:
        for method in METHODS:
            _close(correlate(vol, k, mode=mode, method=method), ndi.correlate(vol, k, mode=mode))


@pytest.mark.parametrize("method", [*METHODS, "auto"])
def test_integer_data_are_ndimages_integers(method):
    vol = np.random.default_rng(5).integers(0, 50, size=(6, 7, 5)).astype(np.uint8)
    k = np.einsum("i,j,k", [1, 2, 1], [1, 0, -1], [1, 1])
    for mode in ("reflect", "constant"):
        np.testing.assert_array_equal(correlate(vol, k, mode=mode, cval=3, method=method),
                                      ndi.correlate(vol, k, mode=mode, cval=3))


# ---------------------------------------------------------------------------
# axes=: scipy.ndimage's rule (weights.ndim == len(axes))
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", [*METHODS, "auto"])
@pytest.mark.parametrize("axes", [(3, 0, 1), (0, 1, 2), (-1, -2, -3)])
def test_axes_follow_ndimage(axes, method):
    rng = np.random.default_rng(6)
    vol = rng.normal(size=(5, 6, 3, 7))
    k = _separable((3, 2, 3), False)
    origin = (1, -1, 0)
    for ours, theirs in OPS.values():
        _close(ours(vol, k, mode="mirror", origin=origin, axes=axes, method=method),
               theirs(vol, k, mode="mirror", origin=origin, axes=axes))


def test_axes_must_match_the_weights():
    vol = np.zeros((4, 4, 4, 4))
    with pytest.raises(RuntimeError, match=r"weights\.ndim \(3\) must match len\(axes\) \(4\)"):
        correlate(vol, np.ones((3, 3, 3)))
    with pytest.raises(RuntimeError, match=r"weights\.ndim \(3\) must match len\(axes\) \(2\)"):
        correlate(vol, np.ones((3, 3, 3)), axes=(0, 1))
    with pytest.raises(ValueError, match="out of range"):
        correlate(vol, np.ones((3, 3, 3)), axes=(0, 1, 4))
    with pytest.raises(RuntimeError, match=r"`origin` must be an integer or 3 integers"):
        correlate(vol, np.ones((3, 3, 3)), axes=(0, 1, 2), origin=(0, 0))


# ---------------------------------------------------------------------------
# method='auto' and return_info
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cheap", METHODS)
def test_auto_runs_the_cheapest_predicted_method(cheap, monkeypatch):
    from kernelfactor import _engine

    def fake(problem):
        priced = ["direct", "fft"] + (["separable"] if problem.terms is not None else [])
        return {m: (1.0 if m == cheap else 2.0) for m in priced}

    monkeypatch.setattr(_engine, "predict", fake)
    vol = np.random.default_rng(7).normal(size=(6, 7, 8))
    k = _separable((3, 3, 3), False)
    y, info = correlate(vol, k, method="auto", return_info=True)
    assert info.method == cheap and info.requested == "auto"
    _close(y, ndi.correlate(vol, k))


def test_return_info_counts_the_nd_operations():
    vol = np.random.default_rng(8).normal(size=(2, 10, 11, 12))  # a batch axis
    lr = kf.lowrank(np.random.default_rng(9).normal(size=(3, 5, 3)), 2, ndim=3)
    y, info = convolve(vol, lr, method="separable", axes=(1, 2, 3), return_info=True)
    assert isinstance(info, ApplyInfo)
    assert (info.method, info.requested, info.convolve, info.rank) == ("separable", "separable",
                                                                        True, 2)
    for method in METHODS:
        cost = filter_cost((10, 11, 12), (3, 5, 3), method=method, rank=2, ndim=3)
        assert info.multiplications[method] == 2 * cost.multiplications
    assert set(info.predicted_seconds) == set(METHODS)
    assert "rank=2" in repr(info)
    _close(y, ndi.convolve(vol, lr.to_array(), axes=(1, 2, 3)))
    # a kernel with no separable form: no rank, no separable count
    _, info = correlate(vol[0], np.random.default_rng(9).normal(size=(3, 3, 3)),
                        method="fft", return_info=True)
    assert info.method == "fft" and info.rank is None and "separable" not in info.multiplications


def test_auto_runs_direct_on_non_finite_images_and_fft_refuses_them(monkeypatch):
    from kernelfactor import _engine

    monkeypatch.setattr(_engine, "predict", lambda p: {"direct": 2.0, "fft": 1.0})
    vol = np.random.default_rng(10).normal(size=(5, 6, 7))
    vol[2, 3, 4] = np.nan
    k = _separable((3, 3, 3), False)
    y, info = correlate(vol, k, return_info=True)
    assert info.method == "direct" and "NaN" in info.note
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ndi.correlate(vol, k)))
    with pytest.raises(ValueError, match=r"method='fft'.*NaN"):
        correlate(vol, k, method="fft")


def test_separable_refuses_a_kernel_without_terms():
    with pytest.raises(ValueError, match="separable n-D kernel"):
        correlate(np.zeros((4, 4, 4)), np.random.default_rng(0).normal(size=(3, 3, 3)),
                  method="separable")


# ---------------------------------------------------------------------------
# dask arrays
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap", "nearest"])
@pytest.mark.parametrize("method", [*METHODS, "auto"])
def test_dask_equals_numpy(method, mode):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(11)
    vol = rng.normal(size=(13, 11, 10))
    k = _separable((3, 4, 2), False)
    kw = {"mode": mode, "cval": 0.5, "origin": (1, -1, 0), "method": method}
    for op in (correlate, convolve):
        lazy = op(da.from_array(vol, chunks=(5, 4, 6)), k, **kw)
        assert lazy.shape == vol.shape
        _close(lazy.compute(), op(vol, k, **kw))


def test_dask_with_axes_and_a_low_rank_kernel():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(12)
    vol = rng.normal(size=(9, 3, 10, 8))
    lr = kf.lowrank(rng.normal(size=(3, 3, 3)), 2, ndim=3)
    lazy = correlate(da.from_array(vol, chunks=(4, 3, 4, 3)), lr, axes=(0, 2, 3), mode="wrap")
    _close(lazy.compute(), ndi.correlate(vol, lr.to_array(), axes=(0, 2, 3), mode="wrap"))


@pytest.mark.parametrize("method", ["direct", "auto", "separable", "fft"])
def test_real_volume_into_a_complex_output(method) -> None:
    """Every method fills a complex `output` from real data, as in 2-D (ndimage's own
    direct path refuses real input with a complex output)."""
    rng = np.random.default_rng(9)
    img = rng.standard_normal((6, 5, 7))
    w = np.einsum("i,j,k", rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(4))
    out = np.zeros(img.shape, complex)
    kf.correlate(img, w, output=out, method=method)
    np.testing.assert_allclose(out.real, ndi.correlate(img, w), rtol=1e-12, atol=1e-12)
    assert not out.imag.any()


@pytest.mark.parametrize(("image", "weights"), [((6, 5, 7), (2, 2, 2, 2)), ((6, 5), (2, 2, 2))])
def test_weights_with_more_axes_than_the_image_are_refused_plainly(image, weights) -> None:
    with pytest.raises(RuntimeError, match=r"`weights` has \d axes but `input` only \d"):
        kf.correlate(np.ones(image), np.ones(weights))


def test_object_weights_are_converted_or_refused_as_in_2d() -> None:
    # 3-D object arrays used to get the 2-D shape message ("must have shape (m, n)")
    from fractions import Fraction

    x = np.random.default_rng(5).random((6, 7, 5))
    w = np.full((3, 3, 2), Fraction(1, 3), dtype=object)
    np.testing.assert_allclose(correlate(x, w), ndi.correlate(x, w.astype(float)), rtol=1e-12)
    w[1, 2, 0] = None
    with pytest.raises(ValueError, match=r"`weights` holds None \(first at index \(1, 2, 0\)\)"):
        correlate(x, w)
