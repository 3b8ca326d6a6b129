"""Tests of kernelfactor._depthwise: conv-layer factorisation and application."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys
import types
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from kernelfactor._depthwise import (
    conv2d,
    depthwise_factor,
    depthwise_multiplier_for_error,
    spatial_factor,
    spatial_rank_for_error,
)

# ---------------------------------------------------------------------------
# an independent reference layer: scipy.signal.correlate, TF padding by hand
# ---------------------------------------------------------------------------


def _ref_conv2d(x, w, stride=1, padding="valid", dilation=1):
    """Cross-correlation layer via scipy.signal.correlate2d (groups = 1)."""
    c_out, c_in, kh, kw = w.shape
    dil = np.zeros((c_out, c_in, dilation * (kh - 1) + 1, dilation * (kw - 1) + 1))
    dil[:, :, ::dilation, ::dilation] = w
    eh, ew = dil.shape[2:]
    h, wd = x.shape[1:]
    if padding == "same":
        oh, ow = math.ceil(h / stride), math.ceil(wd / stride)
        th = max((oh - 1) * stride + eh - h, 0)
        tw = max((ow - 1) * stride + ew - wd, 0)
        x = np.pad(x, ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    out = np.stack(
        [
            sum(signal.correlate2d(x[c], dil[o, c], mode="valid") for c in range(c_in))
            for o in range(c_out)
        ]
    )
    return out[:, ::stride, ::stride]


def _hwc(x):
    """(..., C, H, W) -> (..., H, W, C): the package's channels-last layout."""
    return np.moveaxis(x, -3, -1)


def _separable_weights(rng, c_out, c_in, k, m):
    """Weights whose every input-channel slice has rank <= m (exactly representable)."""
    d = rng.normal(size=(c_in * m, k, k))
    p = rng.normal(size=(c_out, c_in * m))
    return np.einsum("ocj,cjhw->ochw", p.reshape(c_out, c_in, m), d.reshape(c_in, m, k, k))


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4)])
def test_conv2d_matches_reference(rng, padding, stride, dilation, kernel) -> None:
    x = rng.normal(size=(3, 11, 10))
    w = rng.normal(size=(4, 3, *kernel))
    ref = _ref_conv2d(x, w, stride, padding, dilation)
    got = conv2d(_hwc(x), w, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(got, _hwc(ref), atol=1e-12)
    first = conv2d(x, w, stride=stride, padding=padding, dilation=dilation, channel_axis=-3)
    np.testing.assert_array_equal(first, np.moveaxis(got, -1, -3))


@pytest.mark.parametrize("axis", [-1, 2, -3, 0])
def test_conv2d_channel_axis_spellings(rng, axis) -> None:
    w = rng.normal(size=(2, 3, 3, 3))
    x = rng.normal(size=(7, 8, 3)) if axis in (-1, 2) else rng.normal(size=(3, 7, 8))
    got = conv2d(x, w, channel_axis=axis)
    assert got.shape == ((5, 6, 2) if axis in (-1, 2) else (2, 5, 6))


def test_conv2d_reads_the_old_layout_with_a_deprecation_warning(rng) -> None:
    w = rng.normal(size=(2, 3, 3, 3))
    x = rng.normal(size=(3, 7, 8))  # (C, H, W): only the 0.1 layout fits C_in = 3
    with pytest.warns(DeprecationWarning, match=r"read as channels-first.*channel_axis=-3"):
        old = conv2d(x, w)
    np.testing.assert_array_equal(old, conv2d(x, w, channel_axis=-3))
    f = depthwise_factor(w)
    with pytest.warns(DeprecationWarning, match="read as channels-first"):
        got = f.apply(x)
    assert got.shape == (2, 5, 6)


def test_conv2d_ambiguous_layout_is_read_channels_last_with_a_warning(rng) -> None:
    w = rng.normal(size=(2, 3, 3, 3))
    x = rng.normal(size=(3, 7, 3))  # fits both (C, H, W) and (H, W, C)
    with pytest.warns(DeprecationWarning, match=r"read as channels-last"):
        got = conv2d(x, w)
    np.testing.assert_array_equal(got, conv2d(x, w, channel_axis=-1))


def test_conv2d_is_cross_correlation() -> None:
    x = np.zeros((5, 5, 1))
    x[2, 2, 0] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    # an impulse response of a cross-correlation is the flipped kernel
    np.testing.assert_array_equal(conv2d(x, w, padding="same")[1:4, 1:4, 0], w[0, 0, ::-1, ::-1])


def test_conv2d_batch_and_groups(rng) -> None:
    x = rng.normal(size=(2, 4, 9, 9))
    w = rng.normal(size=(6, 2, 3, 3))
    got = conv2d(x, w, groups=2, padding="same", channel_axis=1)
    assert got.shape == (2, 6, 9, 9)
    np.testing.assert_array_equal(conv2d(_hwc(x), w, groups=2, padding="same"), _hwc(got))
    for n in range(2):
        for g in range(2):
            ref = _ref_conv2d(x[n, 2 * g : 2 * g + 2], w[3 * g : 3 * g + 3], padding="same")
            np.testing.assert_allclose(got[n, 3 * g : 3 * g + 3], ref, atol=1e-12)


# ---------------------------------------------------------------------------
# depthwise factorisation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 2, 3])
def test_depthwise_exact_for_constructed(rng, m) -> None:
    w = _separable_weights(rng, 16, 3, 5, m)
    f = depthwise_factor(w, multiplier=m)
    assert f.exact
    assert f.ranks == (m, m, m)
    assert f.depthwise.shape == (3 * m, 5, 5) and f.pointwise.shape == (16, 3 * m)
    np.testing.assert_allclose(f.reconstruct(), w, atol=1e-12 * np.abs(w).max())
    assert f.error.fro_rel < 1e-13
    if m > 1:
        lower = depthwise_factor(w, multiplier=m - 1)
        assert not lower.exact and lower.error.fro_rel > 1e-3


@pytest.mark.parametrize("m", [1, 2, 4])
def test_depthwise_random_is_not_exact(rng, m) -> None:
    assert not depthwise_factor(rng.normal(size=(16, 3, 5, 5)), multiplier=m).exact


def test_depthwise_exact_when_multiplier_covers_the_slice(rng) -> None:
    w = rng.normal(size=(4, 2, 3, 3))  # slices are 4 x 9: rank <= 4
    f = depthwise_factor(w, multiplier=4)
    assert f.exact and f.depthwise.shape == (8, 3, 3)
    np.testing.assert_allclose(f.reconstruct(), w, atol=1e-12)
    with pytest.raises(ValueError, match=r"`multiplier` must lie in \[1, 4\]"):
        depthwise_factor(w, multiplier=6)  # only zero filters beyond the slice rank (issue 12)


def test_depthwise_layout_grouped(rng) -> None:
    """Depthwise channel c*m + j is input channel c's j-th filter."""
    m, c_in, c_out = 2, 3, 5
    w = rng.normal(size=(c_out, c_in, 3, 3))
    f = depthwise_factor(w, multiplier=m)
    by_hand = np.zeros_like(w)
    for o in range(c_out):
        for c in range(c_in):
            for j in range(m):
                by_hand[o, c] += f.pointwise[o, c * m + j] * f.depthwise[c * m + j]
    np.testing.assert_allclose(f.reconstruct(), by_hand, atol=1e-12)
    # channel c's filters depend only on input channel c
    w2 = w.copy()
    w2[:, 1] *= 3.0
    g = depthwise_factor(w2, multiplier=m)
    np.testing.assert_allclose(g.depthwise[0:2], f.depthwise[0:2], atol=1e-12)
    np.testing.assert_allclose(g.depthwise[4:6], f.depthwise[4:6], atol=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 5, 9])
def test_depthwise_error_is_the_residual(rng, m) -> None:
    w = rng.normal(size=(9, 4, 3, 3))
    f = depthwise_factor(w, multiplier=m)
    residual = np.linalg.norm(w - f.reconstruct())
    assert f.error.fro == pytest.approx(residual, rel=1e-10, abs=1e-12 * np.linalg.norm(w))
    assert f.error.fro_rel == pytest.approx(f.error.fro / np.linalg.norm(w), rel=1e-12)


def test_depthwise_error_monotone_and_optimal(rng) -> None:
    w = rng.normal(size=(12, 3, 3, 3))
    errors = [depthwise_factor(w, multiplier=m).error.fro for m in range(1, 10)]
    assert all(a >= b for a, b in itertools.pairwise(errors))
    assert errors[0] > errors[-1]
    assert errors[-1] == pytest.approx(0.0, abs=1e-12)
    # Eckart-Young: perturbed factors are never better
    f = depthwise_factor(w, multiplier=2)
    for _ in range(5):
        dp = f.pointwise + 1e-2 * rng.normal(size=f.pointwise.shape)
        dd = f.depthwise + 1e-2 * rng.normal(size=f.depthwise.shape)
        other = np.einsum("ocj,cjhw->ochw", dp.reshape(12, 3, 2), dd.reshape(3, 2, 3, 3))
        assert np.linalg.norm(w - other) >= f.error.fro


@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6, 0.9])
def test_multiplier_for_error_minimal(rng, relative, fraction) -> None:
    w = rng.normal(size=(10, 3, 3, 3))
    norm = np.linalg.norm(w)
    target = fraction if relative else fraction * norm
    m = depthwise_multiplier_for_error(w, target, relative=relative)
    err = depthwise_factor(w, multiplier=m).error
    assert (err.fro_rel if relative else err.fro) <= target
    if m > 1:
        prev = depthwise_factor(w, multiplier=m - 1).error
        assert (prev.fro_rel if relative else prev.fro) > target


def test_multiplier_for_error_exact_weights(rng) -> None:
    w = _separable_weights(rng, 8, 2, 3, 2)
    assert depthwise_multiplier_for_error(w, 1e-10 * np.linalg.norm(w)) == 2


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("m", [1, 2])
def test_depthwise_apply_matches_standard(rng, padding, stride, m) -> None:
    w = rng.normal(size=(6, 3, 3, 3))
    f = depthwise_factor(w, multiplier=m)
    x = rng.normal(size=(2, 3, 13, 12))
    got = f.apply(_hwc(x), stride=stride, padding=padding)
    want = conv2d(_hwc(x), f.reconstruct(), stride=stride, padding=padding)
    np.testing.assert_allclose(got, want, atol=1e-10)
    ref = _ref_conv2d(x[1], f.reconstruct(), stride, padding)
    np.testing.assert_allclose(got[1], _hwc(ref), atol=1e-10)
    first = f.apply(x, stride=stride, padding=padding, channel_axis=-3)
    np.testing.assert_allclose(first, np.moveaxis(got, -1, -3), atol=1e-12)


def test_depthwise_cost_seed(rng) -> None:
    f = depthwise_factor(rng.normal(size=(256, 3, 5, 5)))
    cost = f.cost((12, 12, 3))
    assert cost.multiplications == 53_952
    assert f.standard_cost((12, 12)).multiplications == 1_228_800
    assert cost.parameters == f.depthwise.size + f.pointwise.size
    assert f.standard_cost((12, 12)).parameters == 256 * 3 * 25


def test_depthwise_repr_and_dict(rng) -> None:
    f = depthwise_factor(rng.normal(size=(4, 2, 3, 3)), multiplier=2)
    d = f.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["weights_shape"] == [4, 2, 3, 3]
    assert d["error"]["fro"] == pytest.approx(f.error.fro, rel=1e-5)  # 6 significant digits
    assert d["error"]["raw"]["fro"] == f.error.fro and "depthwise" in d["raw"]
    assert "multiplier=2" in repr(f) and "exact=False" in repr(f)
    assert len(f.tolerances) == 2 and all(t > 0 for t in f.tolerances)


def test_an_exact_factorisation_shows_its_error_as_noise(rng) -> None:
    w = _separable_weights(rng, 8, 2, 3, 1)
    f = depthwise_factor(w, 1)
    assert f.exact and f.error.within_rounding
    assert "0 (below tol)" in repr(f) and f.to_dict()["error"]["fro"] is None
    # a target of 0 is met only where the error is exactly zero by construction
    assert depthwise_multiplier_for_error(w, 0.0) == 8  # min(C_out, K_h K_w)


def test_tolerance_decides_exact(rng) -> None:
    w = _separable_weights(rng, 8, 2, 3, 1)
    tiny = w.copy()
    tiny[0, 0, 0, 0] += 1e-18 * np.abs(w).max()  # below the tolerance: still exact
    assert depthwise_factor(tiny).exact
    big = w.copy()
    big[0, 0, 0, 0] += 1e-6 * np.abs(w).max()  # well above it
    assert not depthwise_factor(big).exact


@pytest.mark.skipif(
    importlib.util.find_spec("kernelfactor._exact") is None, reason="kernelfactor._exact missing"
)
def test_depthwise_rational_verdict() -> None:
    d = np.ones((2, 3, 3))
    d[:, 0, 0] = 0.0
    w = np.einsum("oc,chw->ochw", np.array([[1.0, 2.0], [3.0, -1.0]]), d)
    assert depthwise_factor(w, method="rational").exact
    w[0, 0, 0, 0] = 2.0**-60  # channel 0 is now exactly rank 2, numerically rank 1
    assert depthwise_factor(w).exact
    f = depthwise_factor(w, method="rational")
    assert not f.exact and f.method == "rational" and f.ranks[0] == 2


def test_rational_path_wiring(monkeypatch) -> None:
    """The rational verdict uses `_exact.exact_rank` (a stand-in built on sympy here)."""
    import sympy

    fake = types.ModuleType("kernelfactor._exact")

    def exact_rank(block):
        return sympy.Matrix([[Fraction(float(v)) for v in row] for row in block]).rank()

    fake.exact_rank = exact_rank  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kernelfactor._exact", fake)
    d = np.ones((2, 3, 3))
    d[:, 0, 0] = 0.0
    w = np.einsum("oc,chw->ochw", np.array([[1.0, 2.0], [3.0, -1.0]]), d)
    w[0, 0, 0, 0] = 2.0**-60
    assert depthwise_factor(w).exact  # numerically rank 1 within the tolerance
    f = depthwise_factor(w, method="rational")
    assert not f.exact and f.ranks == (2, 1)
    g = spatial_factor(w, method="rational")  # each 3x3 kernel (ones, zero corner) has rank 2
    assert not g.exact and g.ranks.tolist() == [[2, 2], [2, 2]]
    assert spatial_factor(w, rank=2, method="rational").exact


# ---------------------------------------------------------------------------
# spatially separable factorisation
# ---------------------------------------------------------------------------


def test_spatial_exact_for_sobel_like() -> None:
    col, row = np.array([1.0, 2.0, 1.0]), np.array([1.0, 0.0, -1.0])
    w = np.stack([np.outer(col, row), np.outer(row, col), 2 * np.outer(col, col)])
    w = np.stack([w, -w], axis=1)  # (3, 2, 3, 3)
    f = spatial_factor(w)
    assert f.exact and f.ranks.shape == (3, 2) and int(f.ranks.max()) == 1
    np.testing.assert_allclose(f.reconstruct(), w, atol=1e-13)
    assert not spatial_factor(np.random.default_rng(0).normal(size=(3, 2, 3, 3))).exact


@pytest.mark.parametrize("r", [1, 2, 3])
def test_spatial_error_and_monotone(rng, r) -> None:
    w = rng.normal(size=(4, 3, 4, 5))
    f = spatial_factor(w, rank=r)
    assert f.error.fro == pytest.approx(np.linalg.norm(w - f.reconstruct()), rel=1e-10)
    if r > 1:
        assert spatial_factor(w, rank=r - 1).error.fro > f.error.fro
    assert spatial_factor(w, rank=4).error.fro == pytest.approx(0.0, abs=1e-12)
    assert spatial_factor(w, rank=4).exact


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("r", [1, 2])
def test_spatial_apply_matches_standard(rng, padding, stride, r) -> None:
    w = rng.normal(size=(4, 3, 3, 5))
    f = spatial_factor(w, rank=r)
    x = rng.normal(size=(3, 12, 13))
    got = f.apply(_hwc(x), stride=stride, padding=padding)
    np.testing.assert_allclose(
        got, _hwc(_ref_conv2d(x, f.reconstruct(), stride, padding)), atol=1e-10
    )
    assert f.apply(_hwc(x)[np.newaxis], stride=stride, padding=padding).shape == (1, *got.shape)
    first = f.apply(x, stride=stride, padding=padding, channel_axis=-3)
    np.testing.assert_allclose(first, np.moveaxis(got, -1, -3), atol=1e-12)


def test_spatial_cost_and_rank_for_error(rng) -> None:
    w = rng.normal(size=(256, 3, 5, 5))
    f = spatial_factor(w)
    c = f.cost((12, 12))
    assert c.multiplications == 614_400 and c.parameters == f.columns.size + f.rows.size
    r = spatial_rank_for_error(w, 0.5, relative=True)
    assert spatial_factor(w, rank=r).error.fro_rel <= 0.5
    assert r == 1 or spatial_factor(w, rank=r - 1).error.fro_rel > 0.5
    assert json.loads(json.dumps(f.to_dict()))["rank"] == 1
    assert "SpatialFactorization" in repr(f)


# 25 examples: each builds random weights and runs two small layers (~10 ms).
@settings(max_examples=25, deadline=None)
@given(
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 4),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    hw=st.tuples(st.integers(5, 9), st.integers(5, 9)),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["same", "valid"]),
    m=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_factorised_layers_agree_property(c_in, c_out, k, hw, stride, padding, m, seed) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(c_out, c_in, *k))
    x = rng.normal(size=(*hw, c_in))  # channels-last, as `cost` takes its shape
    d = depthwise_factor(w, multiplier=min(m, c_out, k[0] * k[1]))
    s = spatial_factor(w, rank=min(m, *k))
    for f in (d, s):
        want = conv2d(x, f.reconstruct(), stride=stride, padding=padding)
        np.testing.assert_allclose(f.apply(x, stride=stride, padding=padding), want, atol=1e-10)
        assert f.cost(hw, stride=stride, padding=padding).output_shape == want.shape


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

_W = np.ones((2, 3, 3, 3))


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda: depthwise_factor(np.ones((3, 3, 3))), ValueError, "`weights` must be 4-D"),
        (lambda: depthwise_factor(np.ones((3, 3))), ValueError, "`weights` must be 4-D"),
        (lambda: depthwise_factor(np.zeros((0, 3, 3, 3))), ValueError, "`weights` is empty"),
        (lambda: depthwise_factor(np.full((1, 1, 2, 2), np.nan)), ValueError, "`weights`.*NaN"),
        (lambda: depthwise_factor("sobel"), TypeError, "`weights`"),
        (lambda: depthwise_factor(_W + 1j), TypeError, "`weights` is complex"),
        (lambda: depthwise_factor(_W, multiplier=0), ValueError, "`multiplier` must be >= 1"),
        (lambda: depthwise_factor(_W, multiplier=1.5), TypeError, "`multiplier`"),
        (lambda: depthwise_factor(_W, method="exact"), ValueError, "`method`.*'numeric'"),
        (lambda: spatial_factor(_W, rank=0), ValueError, "`rank`"),
        (lambda: spatial_factor(np.ones((2, 3, 3))), ValueError, "`weights` must be 4-D"),
        (lambda: depthwise_multiplier_for_error(_W, -1.0), ValueError, "`max_error`"),
        (lambda: spatial_rank_for_error(_W, float("nan")), ValueError, "`max_error`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, stride=0), ValueError, "`stride`"),
        (lambda: conv2d(np.ones((8, 8, 2)), _W), ValueError, r"`weights`.*\(H, W, C\) has 2 ch"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, groups=2), ValueError, "`groups`"),
        (lambda: conv2d(np.ones((8, 8)), _W), ValueError, "`x`"),
        (lambda: conv2d(np.full((8, 8, 3), np.nan), _W), ValueError, "`x` contains NaN"),
        (lambda: conv2d(np.ones((2, 8, 3)), _W), ValueError, "`kernel`.*larger.*of `x`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, padding="full"), ValueError, "`padding`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, channel_axis=1), ValueError, "`channel_axis`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, channel_axis=-2), ValueError, "`channel_axis`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, channel_axis=1.0), TypeError, "`channel_axis`"),
        (lambda: conv2d(np.ones((8, 8, 3)), _W, channel_axis=True), TypeError, "`channel_axis`"),
        (lambda: depthwise_factor(_W).apply(np.ones((3, 8, 8)), channel_axis=-1), ValueError,
         r"`x`.*\(H, W, C\) has 8 channels"),
        (lambda: depthwise_factor(_W).cost((8, 8, 4)), ValueError, "`input_shape` has 4"),
        (lambda: depthwise_factor(_W).cost((8,)), ValueError, "`input_shape`"),
        (lambda: spatial_factor(_W).cost((2, 8)), ValueError, "`kernel`.*larger"),
    ],
)
def test_bad_input(call, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        call()
