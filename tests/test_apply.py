"""kernelfactor.correlate / convolve: scipy.ndimage's numbers by every method."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelfactor import _apply, _costmodel, _engine
from kernelfactor._apply import ApplyInfo, convolve, correlate
from kernelfactor._costmodel import _symmetry
from kernelfactor._engine import _terms
from kernelfactor._lowrank import lowrank
from kernelfactor._svd import analyze
from kernelfactor._validation import MODES

from .conftest import IMAGE_DTYPES

METHODS = sorted(_engine.METHODS)
SHAPES = [(3, 3), (4, 5), (1, 6), (2, 1), (5, 2), (7, 4)]
RTOL = 1e-10


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """method='auto' reads the calibration cache: never the real home's."""
    monkeypatch.setenv("KERNELFACTOR_CACHE_DIR", str(tmp_path / "cache"))


def _close(actual, expected, rtol=RTOL):
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def _origins(shape):
    return [
        (o0, o1)
        for o0 in range(-(shape[0] // 2), (shape[0] - 1) // 2 + 1)
        for o1 in range(-(shape[1] // 2), (shape[1] - 1) // 2 + 1)
    ]


# ---------------------------------------------------------------------------
# Equality with scipy.ndimage
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["correlate", "convolve"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
def test_equals_ndimage_every_mode_method_shape_origin(op, shape, method, mode, rng):
    x = rng.standard_normal((17, 23))
    k = rng.standard_normal(shape)  # full rank: separable runs min(m, n) terms
    ours, theirs = (correlate, ndi.correlate) if op == "correlate" else (convolve, ndi.convolve)
    for origin in _origins(shape):
        expected = theirs(x, k, mode=mode, cval=1.7, origin=origin)
        _close(ours(x, k, mode=mode, cval=1.7, origin=origin, method=method), expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
def test_kernel_larger_than_image(method, mode, rng):
    # Extensions longer than the image itself (ndimage repeats the rule).
    x = rng.standard_normal((3, 4))
    k = rng.standard_normal((7, 9))
    _close(correlate(x, k, mode=mode, cval=-2.0, method=method),
           ndi.correlate(x, k, mode=mode, cval=-2.0))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", ["constant", "grid-constant"])
def test_constant_mode_nonzero_cval_rank_one(method, mode, rng):
    # The case plain 1-D passes get wrong: the second pass must see cval * sum(column).
    x = rng.standard_normal((12, 15))
    k = np.outer([1.0, 4.0, 2.0, 0.5], [3.0, -1.0, 2.0])
    naive = ndi.correlate1d(ndi.correlate1d(x, k[:, 0] / 1.0, axis=0, mode=mode, cval=5.0),
                            k[0] / k[0, 0], axis=1, mode=mode, cval=5.0)
    expected = ndi.correlate(x, k, mode=mode, cval=5.0)
    assert not np.allclose(naive, expected)
    _close(correlate(x, k, mode=mode, cval=5.0, method=method), expected)


def _catalogue():
    try:
        from kernelfactor._catalogue import get_kernel, list_kernels
    except ImportError:  # pragma: no cover - the catalogue ships with the package
        return []
    return [(name, get_kernel(name)) for name in list_kernels()]


@pytest.mark.parametrize(("name", "kernel"), _catalogue(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_catalogue_kernels_equal_ndimage(name, kernel, rng):
    x = rng.standard_normal((19, 21))
    for method in METHODS:
        for mode in ("reflect", "constant", "wrap"):
            _close(convolve(x, name, method=method, mode=mode, cval=0.5),
                   ndi.convolve(x, kernel, mode=mode, cval=0.5))


@settings(max_examples=60, deadline=None)  # each example is a full sweep of 3 methods
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    m=st.integers(1, 6),
    n=st.integers(1, 6),
    mode=st.sampled_from(MODES),
    cval=st.floats(-3, 3),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_property_every_method_equals_ndimage(h, w, m, n, mode, cval, seed, data):
    r = np.random.default_rng(seed)
    x = r.standard_normal((h, w))
    k = r.standard_normal((m, n))
    origin = (
        data.draw(st.integers(-(m // 2), (m - 1) // 2)),
        data.draw(st.integers(-(n // 2), (n - 1) // 2)),
    )
    conv = data.draw(st.booleans())
    ours, theirs = (convolve, ndi.convolve) if conv else (correlate, ndi.correlate)
    expected = theirs(x, k, mode=mode, cval=cval, origin=origin)
    for method in METHODS:
        _close(ours(x, k, mode=mode, cval=cval, origin=origin, method=method), expected)


# ---------------------------------------------------------------------------
# The two ndimage traps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", [*METHODS, "auto"])
@pytest.mark.parametrize("scale", [1e-17, 1e-300, 3e-200])
def test_tiny_kernels_give_the_right_answer(method, scale, rng):
    x = rng.standard_normal((9, 10))
    base = rng.standard_normal((3, 4))
    expected = ndi.correlate(x, base, mode="mirror") * scale
    for k in (np.full((3, 3), scale), base * scale):
        ref = ndi.correlate(x, k / scale, mode="mirror") * scale
        _close(correlate(x, k, method=method, mode="mirror"), ref, rtol=1e-12)
    _close(correlate(x, base * scale, method=method, mode="mirror"), expected)


def test_ndimage_trap_is_real():
    # The reason for the rescaling: ndimage drops weights <= 2**-52.
    assert not np.any(ndi.correlate(np.ones((4, 4)), np.full((3, 3), 1e-17)))
    assert np.allclose(correlate(np.ones((4, 4)), np.full((3, 3), 1e-17), method="direct"), 9e-17)


@pytest.mark.parametrize("method", METHODS)
def test_tiny_asymmetric_weights_not_taken_as_symmetric(method):
    # ndimage's 1-D pass sees [1e-17, 0, 3e-17] as symmetric (absolute threshold).
    x = np.arange(5.0)[np.newaxis, :]
    k = np.array([[1e-17, 0.0, 3e-17]])
    expected = np.correlate(np.pad(x[0], 1), k[0], "valid")
    _close(correlate(x, k, mode="constant", method=method)[0], expected, rtol=1e-12)


def test_symmetry_classification_matches_ndimage():
    # _symmetry predicts which ndimage path runs; check on vectors where it shows.
    x = np.arange(7.0) ** 2
    for w in ([1e-17, 0.0, 3e-17], [1.0, 2.0, 1.0], [1.0, 0.0, -1.0], [1.0, 2.0, 3.0],
              [1e-17, 5.0, -3e-17]):
        w = np.array(w)
        sym = _symmetry(w)
        got = ndi.correlate1d(x, w, mode="constant")
        half = w.size // 2
        if sym == 1:
            w_used = np.concatenate([w[:half + 1], w[:half][::-1]])
        elif sym == -1:
            w_used = np.concatenate([w[:half + 1], -w[:half][::-1]])
        else:
            w_used = w
        assert np.array_equal(got, ndi.correlate1d(x, w_used, mode="constant"))
    assert _symmetry(np.array([1.0, 1.0])) == 0  # even lengths never take the fast path


@pytest.mark.parametrize("sigma", [0.8, 2.5, 6.0])
def test_symmetric_fast_path_triggers_for_symmetric_kernels(sigma):
    t = np.arange(-15, 16)
    g = np.exp(-(t**2) / (2 * sigma**2))
    for kernel, flip in ((np.outer(g, g) / g.sum() ** 2, False), (kf_sobel(), True)):
        kern, _ = _apply._prepare_kernel(kernel, 0, flip)
        for c, r in _terms(kern):
            assert _symmetry(c) != 0 and _symmetry(r) != 0
        kern, _ = _apply._prepare_kernel(analyze(kernel), 0, flip)
        for c, r in _terms(kern):
            assert _symmetry(c) != 0 and _symmetry(r) != 0


def test_factors_symmetric_up_to_rounding_are_snapped(rng):
    g = np.exp(-np.linspace(-3, 3, 31) ** 2)  # linspace: symmetric only up to rounding
    k = np.outer(g, g)
    assert not np.array_equal(k, k[::-1])
    (c, r), = _terms(_apply._prepare_kernel(k, 0, False)[0])
    assert np.array_equal(c, c[::-1]) and np.array_equal(r, r[::-1])
    x = rng.standard_normal((40, 50))
    _close(correlate(x, k, method="separable"), ndi.correlate(x, k), rtol=1e-12)
    odd = np.array([1.0, 2.0, 0.0, -2.0, -1.0 + 2.0**-50])  # 4 ulps off
    snapped = _engine._snap_symmetry(odd)
    assert np.array_equal(snapped, -snapped[::-1]) and not np.array_equal(odd, -odd[::-1])
    np.testing.assert_allclose(snapped, odd, rtol=0, atol=1e-15)
    for v in ([1.0, 2.0, 3.0], [1.0, 2.0, 1.0 + 1e-9], [1.0, 1.0 + 1e-17]):
        assert np.array_equal(_engine._snap_symmetry(np.array(v)), v)


def kf_sobel():
    return np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])


# ---------------------------------------------------------------------------
# Results objects as kernels
# ---------------------------------------------------------------------------


def _test_image(shape=(96, 128)):
    """A structured test image: smooth shading, hard edges, texture and noise."""
    r = np.random.default_rng(7)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    img = 0.5 + 0.3 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    img += 0.4 * ((xx // 16 + yy // 16) % 2)  # checkerboard edges
    img += 0.3 * ((xx - 64) ** 2 + (yy - 48) ** 2 < 30**2)  # a disk
    img += 0.05 * r.standard_normal(shape)
    return img


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_lowrank_kernel_applies_its_approximation_within_bounds(rank):
    x = _test_image()
    t = np.arange(-5, 6)
    k = np.exp(-(t[:, None] ** 2) / 8.0 - (t[None, :] ** 2) / 3.0) * (1 + 0.3 * np.cos(t)[None, :])
    k += 0.05 * np.exp(-((t[:, None] - t[None, :]) ** 2) / 4.0)  # full rank, decaying spectrum
    approx = lowrank(k, rank)
    assert approx.error.fro_rel > 1e-6  # a real approximation, not exact up to rounding
    slack = 1e-12 * np.abs(k).sum()  # rounding of the two filters being compared
    for mode in ("reflect", "constant", "wrap"):
        y = correlate(x, approx, method="separable", mode=mode)
        _close(y, ndi.correlate(x, approx.to_array(), mode=mode))
        err = y - ndi.correlate(x, k, mode=mode)
        assert np.max(np.abs(err)) <= (approx.error.l1 + slack) * np.max(np.abs(x))
        if mode in ("constant", "wrap"):
            norm = np.linalg.norm(err)
            assert norm <= (approx.error.freq_bound + slack) * np.linalg.norm(x)
            assert norm <= (approx.error.l1 + slack) * np.linalg.norm(x)
    assert correlate(x, approx, method="separable", return_info=True)[1].rank == rank


def test_analysis_applies_at_numerical_rank(rng):
    x = rng.standard_normal((20, 30))
    a, b = rng.standard_normal((2, 2, 5))
    k = a.T @ b
    an = analyze(k)
    y, info = correlate(x, an, method="separable", return_info=True)
    assert info.rank == an.rank == 2
    _close(y, ndi.correlate(x, k))


def test_zero_kernel(rng):
    x = rng.standard_normal((8, 9))
    for method in [*METHODS, "auto"]:
        y = correlate(x, np.zeros((3, 3)), method=method, mode="constant", cval=4.0)
        assert np.array_equal(y, np.zeros_like(x))


# ---------------------------------------------------------------------------
# dtypes, shapes, axes, output
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "expected"), IMAGE_DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_dtype_policy(dtype, expected, method, rng):
    # Issue 13: the output has ndimage's dtype, the input's (it used to be float64 for
    # integers); float16, which ndimage refuses, still gives float32.
    x = (rng.standard_normal((11, 13)) * 50).astype(dtype)
    k = rng.standard_normal((3, 5))
    y = correlate(x, k, method=method)
    assert y.dtype == expected
    ref = ndi.correlate(x.astype(np.float32) if x.dtype == np.float16 else x, k)
    assert ref.dtype == expected
    if y.dtype.kind in "biu":
        # truncation of a float result: direct is ndimage's bit for bit, the others
        # may land on the other side of an integer by rounding
        def ints(a):
            return (a.view(np.uint8) if a.dtype == bool else a).astype(np.int64)

        diff = np.abs(ints(y) - ints(ref))
        assert diff.max() <= (0 if method == "direct" else 1)
    else:
        rtol = 1e-5 if expected in (np.float32, np.complex64) else RTOL
        _close(y, ref, rtol=rtol)


def test_integer_images_keep_their_dtype_as_ndimage():
    # Issue 13: ndimage's dtype (wrapping included); output=np.float64 keeps the values.
    x = np.full((5, 5), 200, dtype=np.uint8)
    for method in [*METHODS, "auto"]:
        y = correlate(x, np.ones((3, 3)), method=method)
        assert y.dtype == np.uint8 and np.array_equal(y, ndi.correlate(x, np.ones((3, 3))))
        y = correlate(x, np.ones((3, 3)), np.float64, method=method)
        assert y.dtype == np.float64 and y[2, 2] == 1800.0


def test_long_double_refused_with_ndimage_class(rng):
    if np.dtype(np.longdouble).itemsize > 8:
        with pytest.raises(TypeError, match=r"astype|asarray"):
            correlate(np.ones((4, 4), np.longdouble), np.ones((3, 3)))
        with pytest.raises(RuntimeError, match="not support"):
            correlate(np.ones((4, 4), np.longdouble), np.ones((3, 3)))


@pytest.mark.parametrize("method", METHODS)
def test_channels_batches_and_axes(method, rng):
    k = rng.standard_normal((3, 4))
    hwc = rng.standard_normal((10, 12, 5))
    y = correlate(hwc, k, axes=(0, 1), method=method, mode="wrap")
    for c in range(5):
        _close(y[..., c], ndi.correlate(hwc[..., c], k, mode="wrap"))
    batch = rng.standard_normal((4, 2, 9, 11))
    y = convolve(batch, k, method=method, origin=(1, -1), axes=(-2, -1))
    _close(y, ndi.convolve(batch, k, origin=(1, -1), axes=(-2, -1)))
    # Issue 13: axes=None means every axis, as ndimage (it used to mean the last two).
    with pytest.raises(RuntimeError, match=r"weights.ndim \(2\) must match len\(axes\) \(4\)"):
        convolve(batch, k, method=method)
    x = rng.standard_normal((9, 11))
    # Issue 13: reversed axes as ndimage (it used to transpose the kernel): on a 2-D
    # image the order of `axes` changes nothing, for the weights or the origin.
    y = correlate(x, k, axes=(1, 0), method=method, origin=(0, 1))
    _close(y, ndi.correlate(x, k, origin=(0, 1), axes=(1, 0)))
    _close(y, correlate(x, k, method=method, origin=(0, 1)))
    # With more dimensions the weights still follow the increasing axes, and
    # origin[j] belongs to axes[j].
    y = correlate(hwc, k, axes=(-1, 0), method=method, mode="nearest", origin=(-2, 1))
    _close(y, ndi.correlate(hwc, k, mode="nearest", origin=(-2, 1), axes=(-1, 0)))
    _close(y, ndi.correlate(hwc, k[:, None, :], mode="nearest", origin=(1, 0, -2)))


def test_output_argument(rng):
    x = rng.standard_normal((8, 9))
    k = rng.standard_normal((3, 3))
    out = np.empty((8, 9))
    y = correlate(x, k, output=out, method="separable")
    assert y is out
    _close(out, ndi.correlate(x, k))
    inplace = x.copy()
    assert correlate(inplace, k, output=inplace, method="direct") is inplace
    _close(inplace, ndi.correlate(x, k))
    with pytest.raises(ValueError, match=r"`output` must have the image's shape \(8, 9\)"):
        correlate(x, k, output=np.empty((9, 8)))
    with pytest.raises(RuntimeError, match="output shape not correct"):
        correlate(x, k, output=np.empty((9, 8)))
    # Issue 13: any dtype, cast as ndimage (it used to be refused).
    for method in [*METHODS, "auto"]:
        for out in (np.empty((8, 9), np.float32), np.empty((8, 9), ">f8"),
                    np.empty((8, 9), np.int16), np.zeros((9, 8)).T):
            assert correlate(x * 100, k, out, method=method) is out
            ref = ndi.correlate(x * 100, k, output=out.dtype)
            if out.dtype.kind == "i":
                assert np.abs(out.astype(int) - ref).max() <= (1 if method in METHODS[1:] else 0)
            else:
                _close(out, ref, rtol=1e-6 if out.dtype == np.float32 else RTOL)
    with pytest.raises(TypeError, match="`output` must be None, a dtype or a NumPy array"):
        correlate(x, k, output=[[0.0] * 9] * 8)
    ro = np.empty((8, 9))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        correlate(x, k, output=ro)


@pytest.mark.parametrize("method", METHODS)
def test_read_only_and_non_contiguous_inputs(method, rng):
    base = rng.standard_normal((30, 40))
    k = rng.standard_normal((4, 3))
    views = [base[::2, ::3], np.asfortranarray(base), base.T]
    ro = base.copy()
    ro.flags.writeable = False
    views.append(ro)
    kernel_view = np.asfortranarray(np.tile(k, (1, 2))[:, ::2])
    kernel_view.flags.writeable = False
    for v in views:
        _close(correlate(v, kernel_view, method=method), ndi.correlate(v, kernel_view))


def test_nan_in_image_propagates_as_documented(rng):
    x = rng.standard_normal((15, 16))
    x[7, 8] = np.nan
    k = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    ref = ndi.correlate(x, k)
    y = correlate(x, k, method="direct")
    assert np.array_equal(np.isnan(y), np.isnan(ref))  # ndimage's footprint pattern
    _close(y[~np.isnan(y)], ref[~np.isnan(ref)])
    y = correlate(x, k, method="separable")
    assert np.all(np.isnan(y)[np.isnan(ref)])  # the factors' rectangle: a superset
    assert np.isnan(y).sum() == 9
    with pytest.raises(ValueError, match=r"method='fft'.*NaN"):
        correlate(x, k, method="fft")


def test_auto_avoids_fft_on_non_finite_images(rng, monkeypatch):
    x = rng.standard_normal((15, 16))
    x[3, 3] = np.inf
    monkeypatch.setattr(
        _engine, "predict", lambda p: {"direct": 3.0, "fft": 1.0, "separable": 2.0}
    )
    y, info = correlate(x, np.ones((3, 3)), return_info=True)
    # Issue 13: ndimage's footprint, so direct (separable used to be picked)
    assert info.method == "direct" and "NaN or Inf" in info.note
    assert np.isinf(y[3, 3])
    sobel = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    x[3, 3] = np.nan
    y = correlate(x, sobel)
    ref = ndi.correlate(x, sobel)
    assert np.isnan(ref).sum() == 6 and np.array_equal(np.isnan(y), np.isnan(ref))


def test_stacks_of_kernels_refused():
    with pytest.raises(TypeError, match=r"stack of 2 kernels.*batch\[i\]"):
        correlate(np.ones((5, 5)), analyze(np.ones((2, 3, 3))))
    with pytest.raises(ValueError, match="one kernel at a time"):
        correlate(np.ones((5, 5)), lowrank(np.ones((2, 3, 3)), 1))


def test_nan_in_kernel_refused():
    with pytest.raises(ValueError, match="`weights` contains NaN"):
        correlate(np.ones((4, 4)), np.array([[1.0, np.nan], [0.0, 1.0]]))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "reflekt"}, ValueError, "'constant', 'grid-constant'.*Did you mean 'reflect'"),
        ({"method": "fast"}, ValueError, "`method` must be one of 'auto', 'direct', 'fft'"),
        ({"axes": (0, 0)}, ValueError, "two different axes"),
        ({"axes": (0, 2)}, ValueError, r"out of range.*\[-2, 1\]"),
        ({"axes": 1}, ValueError, "`axes` must be a pair"),
        ({"axes": (0, 1.0)}, ValueError, "`axes` must be a pair"),
        ({"origin": 2}, ValueError, r"`origin` must lie in \[-1, 1\].*-\(size // 2\)"),
        ({"origin": (0, -3)}, ValueError, r"`origin\[1\]` must lie in \[-2, 1\]"),
        ({"origin": (0, 0, 0)}, ValueError, "pair of integers"),
        ({"origin": 0.5}, TypeError, "pair of integers"),
        ({"origin": (0, 1.5)}, TypeError, r"`origin\[1\]` must be an integer"),
        ({"cval": np.nan}, ValueError, "`cval` must be finite"),
        ({"cval": "1"}, TypeError, "`cval` must be a real number"),
        ({"workers": 0}, ValueError, "`workers` must be >= 1"),
        ({"workers": 1.5}, TypeError, "`workers` must be an integer"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        correlate(np.ones((6, 6)), np.ones((3, 4)), **kwargs)


def test_bad_images():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        correlate(np.ones(5), np.ones((1, 3)))
    # Issue 13: an empty image gives an empty result, as ndimage (it used to be refused).
    assert correlate(np.ones((0, 4)), np.ones((1, 3))).shape == (0, 4)
    with pytest.raises(TypeError, match="real numbers"):
        correlate(np.array([["a", "b"], ["c", "d"]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="ambiguous"):
        correlate(np.ones((4, 4)), np.ones(3))


# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["correlate", "convolve"])
@pytest.mark.parametrize("method", ["direct", "separable"])
@pytest.mark.parametrize("mode", MODES)
def test_strips_bit_identical_to_one_call(op, method, mode, rng):
    fn = correlate if op == "correlate" else convolve
    x = rng.standard_normal((420, 330))
    a, b = rng.standard_normal((2, 2, 6))
    for k, origin in ((a.T @ b, (2, -3)), (np.outer(a[0], b[0])[:5], (-2, 0))):
        one = fn(x, k, method=method, mode=mode, cval=0.7, origin=origin, workers=1)
        for workers in (2, 3):
            many, info = fn(x, k, method=method, mode=mode, cval=0.7, origin=origin,
                            workers=workers, return_info=True)
            assert info.workers == workers and info.strips >= workers
            assert np.array_equal(one, many)


@pytest.mark.parametrize("method", ["direct", "separable"])
@pytest.mark.parametrize("mode", MODES)
def test_small_strips_every_origin(method, mode, rng, monkeypatch):
    # Many thin strips, so that every strip touches a border or a halo edge case.
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 0)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 1)
    x = rng.standard_normal((61, 17))
    k = rng.standard_normal((4, 3))
    for origin in _origins(k.shape):
        one = correlate(x, k, method=method, mode=mode, cval=-1.0, origin=origin, workers=1)
        many, info = correlate(x, k, method=method, mode=mode, cval=-1.0, origin=origin,
                               workers=5, return_info=True)
        assert info.workers == 5 and info.strips >= 5
        assert np.array_equal(one, many)
        _close(many, ndi.correlate(x, k, mode=mode, cval=-1.0, origin=origin))


def test_batch_axis_split_and_fft_workers(rng):
    x = rng.standard_normal((4, 200, 200))
    k = rng.standard_normal((5, 5))
    one = correlate(x, k, method="direct", workers=1, axes=(-2, -1))
    many, info = correlate(x, k, method="direct", workers=2, return_info=True,
                              axes=(-2, -1))
    assert info.workers == 2 and info.strips >= 2 and np.array_equal(one, many)
    one = correlate(x, k, method="fft", workers=1, axes=(-2, -1))
    many, info = correlate(x, k, method="fft", workers=2, return_info=True,
                              axes=(-2, -1))
    assert info.workers == 2 and info.strips == 1 and np.array_equal(one, many)


def test_small_images_are_not_split(rng):
    x = rng.standard_normal((100, 100))  # below MIN_SPLIT_ELEMENTS
    _, info = correlate(x, np.ones((3, 3)), method="direct", workers=4, return_info=True)
    assert info.strips == 1 and info.workers == 1


# ---------------------------------------------------------------------------
# auto and ApplyInfo
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cheap", METHODS)
def test_auto_runs_the_cheapest_predicted_method(cheap, rng, monkeypatch):
    constants = {name: 1.0 for name in _costmodel.DEFAULT_CONSTANTS}
    for name in _costmodel.METHOD_COSTS[cheap].constants:
        constants[name] = 1e-12
    monkeypatch.setattr(_costmodel, "load_constants", lambda: constants)
    x = rng.standard_normal((20, 20))
    k = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    y, info = correlate(x, k, return_info=True)
    assert info.method == cheap and info.requested == "auto"
    assert min(info.predicted_seconds, key=info.predicted_seconds.get) == cheap
    _close(y, ndi.correlate(x, k))


def test_auto_with_default_constants_is_sensible(rng):
    x = rng.standard_normal((256, 256))
    _, info = correlate(x, rng.standard_normal((3, 3)), return_info=True)
    assert info.method == "direct"  # tiny dense kernel: one pass beats two
    g = np.exp(-np.linspace(-3, 3, 31) ** 2)
    _, info = correlate(x, np.outer(g, g), return_info=True)
    assert info.method == "separable"
    _, info = correlate(x, rng.standard_normal((41, 41)), return_info=True)
    assert info.method == "fft"


def test_apply_info_is_frozen_and_serialisable(rng):
    _, info = correlate(rng.standard_normal((10, 10)), np.full((3, 3), 1e-20),
                        method="separable", return_info=True)
    assert isinstance(info, ApplyInfo)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.method = "fft"  # type: ignore[misc]
    d = json.loads(json.dumps(info.to_dict()))
    assert d["method"] == "separable" and d["rank"] == 1 and d["scale_exponent"] > 60
    assert set(d["multiplications"]) == {"direct", "fft", "separable"}
    assert d["multiplications"]["direct"] == 900.0
    text = repr(info)
    assert "method='separable' (requested)" in text and "2**" in text


def test_dask_arrays_are_delegated(rng):
    da = pytest.importorskip("dask.array")
    x = rng.standard_normal((40, 50))
    k = rng.standard_normal((3, 4))
    lazy = correlate(da.from_array(x, chunks=(20, 25)), k, mode="wrap", method="separable")
    assert type(lazy).__module__.startswith("dask")
    _close(lazy.compute(), ndi.correlate(x, k, mode="wrap"))
    with pytest.raises(ValueError, match="not supported for dask arrays"):
        correlate(da.from_array(x), k, return_info=True)


@pytest.mark.parametrize("name", ["disk", "log", "gabor"])
@pytest.mark.parametrize("mode", ["reflect", "constant", "wrap"])
def test_output_bounds_hold_on_a_real_photograph(name, mode):
    """Issue 4: a rank-k LowRankKernel applied to a photograph obeys lowrank's bounds."""
    import matplotlib.cbook as cbook
    import matplotlib.image as mpimg

    import kernelfactor as kf

    photo = mpimg.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    x = photo[::4, ::4].astype(np.float64).mean(axis=2) / 255.0  # grey, 128 x 150
    params = {"gabor": {"theta": 0.5, "frequency": 0.15}}.get(name, {})
    kernel = kf.get_kernel(name, **params)
    exact = kf.correlate(x, kernel, mode=mode, method="direct")
    for rank in range(1, kf.analyze(kernel).rank):
        approx = kf.lowrank(kernel, rank)
        observed = kf.correlate(x, approx, mode=mode, method="separable") - exact
        slack = 1e-12 * np.abs(exact).max()
        assert np.abs(observed).max() <= approx.error.l1 * np.abs(x).max() + slack
        if mode == "wrap":  # circular convolution: the 2-norm bounds hold too
            l2 = np.linalg.norm(observed)
            assert l2 <= approx.error.freq_bound * np.linalg.norm(x) + slack
            assert approx.error.freq_bound <= approx.error.l1 + 1e-15


# ---------------------------------------------------------------------------
# scipy.ndimage's API (issue 13)
# ---------------------------------------------------------------------------


def test_positional_arguments_and_workers_as_scipy_fft(rng):
    x = rng.standard_normal((12, 14))
    k = rng.standard_normal((3, 4))
    ref = ndi.correlate(x, k, None, "mirror", 0.5, (1, -1))
    for method in [*METHODS, "auto"]:
        _close(correlate(x, k, None, "mirror", 0.5, (1, -1), method=method, workers=-1), ref)
    _, info = correlate(x, k, method="fft", workers=-1, return_info=True)
    assert info.workers == _apply._check_workers(None)
    with pytest.raises(ValueError, match="`workers` must be >= 1, or negative"):
        correlate(x, k, workers=0)


def test_old_keyword_names_still_work_with_a_warning(rng):
    x = rng.standard_normal((6, 7))
    k = rng.standard_normal((3, 3))
    with pytest.warns(DeprecationWarning, match="`image=` is deprecated; use `input=`"):
        y = correlate(image=x, weights=k)
    with pytest.warns(DeprecationWarning, match="`kernel=`"):
        z = convolve(x, kernel=k)
    _close(y, ndi.correlate(x, k))
    _close(z, ndi.convolve(x, k))
    with pytest.raises(TypeError, match="pass `input=` only"):
        correlate(image=x, input=x, weights=k)


@pytest.mark.parametrize(
    ("kwargs", "ndimage_class"),
    [
        ({"origin": (0, 0, 0)}, RuntimeError),
        ({"mode": "reflekt"}, RuntimeError),
        ({"mode": ["reflect", "wrap"]}, RuntimeError),
        ({"output": np.empty((5, 5))}, RuntimeError),
        ({"output": "bool"}, RuntimeError),
        ({"axes": 1}, RuntimeError),
        ({"axes": (0, 1.5)}, TypeError),
        ({"origin": 3}, ValueError),
    ],
)
def test_exceptions_are_also_ndimage_classes(kwargs, ndimage_class):
    x, k = np.ones((6, 6)), np.ones((3, 4))
    with pytest.raises(ndimage_class):
        ndi.correlate(x, k, **kwargs)
    with pytest.raises(ndimage_class) as ours:
        correlate(x, k, **kwargs)
    assert isinstance(ours.value, (ValueError, TypeError))
    assert "`" in str(ours.value)  # names the parameter


@pytest.mark.parametrize("method", [*METHODS, "auto"])
def test_bool_weights_big_endian_and_complex(method, rng):
    x = rng.standard_normal((9, 10))
    w = rng.random((3, 4)) > 0.4
    _close(correlate(x, w, method=method), ndi.correlate(x, w))
    xb = x.astype(">f8")
    _close(correlate(xb, w, method=method), ndi.correlate(xb, w))
    z = x + 1j * rng.standard_normal(x.shape)
    kz = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    for fn, ref in ((correlate, ndi.correlate), (convolve, ndi.convolve)):
        _close(fn(z, kz, mode="constant", cval=1 - 2j, method=method),
               ref(z, kz, mode="constant", cval=1 - 2j))
        _close(fn(x, kz, method=method), ref(x, kz))


@pytest.mark.parametrize("method", METHODS)
def test_integer_images_with_integer_weights_are_bit_exact(method, rng):
    # the case: separable and fft used to give 3.9999999999999 -> 3
    sobel = np.outer([1, 2, 1], [1, 0, -1])
    for dtype in (np.int16, np.int32, np.uint8):
        x = rng.integers(0, 100, (33, 41)).astype(dtype)
        for mode in MODES:
            assert np.array_equal(correlate(x, sobel, mode=mode, method=method),
                                  ndi.correlate(x, sobel, mode=mode))
            assert np.array_equal(correlate(x, sobel, np.float64, mode, method=method),
                                  ndi.correlate(x, sobel, np.float64, mode))


@pytest.mark.parametrize("shape", [(40, 30), (6, 7, 5)])
def test_an_explicit_direct_does_not_scan_the_image_for_integers(monkeypatch, shape):
    # Only the methods that round a float result must prove that the image holds
    # integers; direct sums as ndimage does, and the scan of a large image holding
    # integers cost several times the filter itself.
    def scan(*args: object) -> None:
        raise AssertionError("direct scanned the image")

    monkeypatch.setattr(_engine, "_exact_scale", scan)
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) % 7
    w = np.ones((3,) * len(shape))
    assert np.array_equal(correlate(x, w, method="direct"), ndi.correlate(x, w))


@pytest.mark.parametrize("method", ["separable", "fft", "auto"])
def test_exact_integer_results_have_ndimages_zeros_bit_for_bit(method):
    # ndimage's sums start at +0.0: a rounded float sum that lands on -0.0 must not keep
    # the sign (the values compared equal, the bits did not).
    x = np.array([[1, 3, 0, 2], [2, 3, 2, 1], [1, 1, 1, 2], [3, 0, 3, 2]], np.uint8)
    w = np.array([[0.0, 1.0, 1.0], [0.0, -1.0, -1.0]])
    for output in (np.float64, np.float32):
        got = correlate(x, w, output, method=method)
        want = ndi.correlate(x, w, output)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        np.testing.assert_array_equal(got, want)


def test_integer_outputs_out_of_range_are_cast_as_ndimage_correlate_casts():
    # A C cast out of range is the platform's: kernelfactor's fallback cast must be the one
    # compiled into ndimage.correlate (correlate1d's gave 2**63 where correlate gives 0 for
    # -1e20 into uint64 on x86-64).
    x = np.array([[-7, 1], [3, -2]], np.int64)
    w = np.array([[1e19 / 7 * 100]])
    for output in (np.uint64, np.int64, np.uint32, np.int8):
        with np.errstate(invalid="ignore", over="ignore"):
            want = ndi.correlate(x, w, output)
            for method in ("direct", "auto"):
                np.testing.assert_array_equal(correlate(x, w, output, method=method), want)


def test_auto_keeps_float32_sums_finite_where_ndimage_does() -> None:
    """float32 sums overflow near float32's limit where ndimage's double sums do not:
    auto must see the risk for float32 images too."""
    img = np.full((64, 64), 3e38, np.float32)
    k = np.ones((3, 3)) / 9.0
    got = correlate(img, k)
    want = ndi.correlate(img, k)
    assert np.isfinite(got).all() and np.array_equal(got, want)


def test_complex_weights_spread_nan_and_inf_as_ndimage() -> None:
    """Real and imaginary parts are assigned as parts: 1j * inf would make NaN."""
    rng = np.random.default_rng(0)
    img = rng.standard_normal((60, 70))
    img[20, 30], img[40, 40] = np.nan, np.inf
    k = np.outer(rng.random(5), rng.random(5)) * (1 + 0.5j)
    got, want = correlate(img, k), ndi.correlate(img, k)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got.real), np.isinf(want.real))
    np.testing.assert_array_equal(np.isinf(got.imag), np.isinf(want.imag))


def test_prepared_kernels_are_reused_without_touching_the_callers_weights():
    # A filter prepares a small kernel once and reuses it: the caller's array must stay
    # writeable, and a change made to it in place must be seen by the next call.
    rng = np.random.default_rng(3)
    x = rng.random((16, 16))
    w = rng.random((3, 3))
    for _ in range(2):  # the second call takes the prepared kernel
        np.testing.assert_array_equal(correlate(x, w, method="direct"), ndi.correlate(x, w))
    assert w.flags.writeable
    w[1, 1] = 5.0
    np.testing.assert_array_equal(correlate(x, w, method="direct"), ndi.correlate(x, w))
    w[0, 0] = 1.0
    _close(correlate(x, w, method="separable"), ndi.correlate(x, w))


@pytest.mark.parametrize("method", METHODS)
def test_small_complex_weights_are_scaled_as_real_ones(method):
    # weights below 2**-8 are scaled by a power of two; np.ldexp refused complex ones
    x = np.random.default_rng(4).random((9, 8))
    w = np.array([[1e-9, 2e-9j], [1e-9, 0.0]])
    want = ndi.correlate(x.astype(complex), w)
    _close(correlate(x, w, method=method), want, rtol=1e-12)
