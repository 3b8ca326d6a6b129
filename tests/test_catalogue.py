"""Tests of the kernel catalogue: every stated fact is checked here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, ndimage

import kernelfactor
from kernelfactor import catalogue_params, get_kernel, kernel_info, list_kernels
from kernelfactor._catalogue import EXACT_MAX_ENTRIES, MAX_TAPS
from kernelfactor._coerce import _as_kernel

REQUIRED = {
    "sobel_x", "sobel_y", "scharr_x", "scharr_y", "prewitt_x", "prewitt_y", "roberts_x",
    "roberts_y", "laplacian4", "laplacian8", "gaussian", "gaussian_derivative", "log", "dog",
    "box", "binomial", "disk", "gabor", "motion_blur", "unsharp", "sharpen", "emboss",
    "kirsch", "freichen", "identity",
}  # fmt: skip

# Several parameter settings per kernel (defaults first).
EXTRA: dict[str, list[dict]] = {
    "sobel_x": [{"size": 5}],
    "sobel_y": [{"size": 5}],
    "gaussian": [{"sigma": 0.5}, {"sigma": 2.0, "truncate": 3.0}, {"sigma": 1.5, "size": 7}],
    "gaussian_derivative": [
        {"order": 1, "axis": "y"},
        {"order": 2, "axis": "x", "sigma": 1.7},
        {"order": 2, "axis": "y", "sigma": 0.8, "truncate": 3.0},
        {"order": 3, "axis": "x", "sigma": 2.0},
    ],
    "log": [{"sigma": 0.7}, {"sigma": 2.5, "truncate": 3.0}],
    "dog": [{"sigma1": 0.5, "sigma2": 2.0}, {"sigma1": 2.0, "sigma2": 1.0}],
    "box": [{"size": 5}, {"shape": (2, 7)}, {"size": (4, 1)}],
    "binomial": [{"size": 1}, {"size": 2}, {"size": 7}, {"size": 60}],
    "disk": [{"radius": 1.0}, {"radius": 2.3, "antialias": False}, {"radius": 0.4}],
    "gabor": [
        {"theta": math.pi / 6},
        {"theta": 1.0, "frequency": 0.1, "phase": 0.3, "sigma": 3.0},
        {"theta": math.pi / 2, "phase": 0.5},
        {"theta": math.pi, "frequency": 0.35},
        {"theta": 0.3, "size": 9, "sigma": 1.5},
    ],
    "motion_blur": [{"length": 4}, {"angle": 90, "length": 6.5}, {"angle": 30}, {"angle": 45}],
    "unsharp": [{"amount": 0.5, "sigma": 2.0}, {"amount": 0.0}],
    "kirsch": [{"direction": d} for d in range(8)],
    "freichen": [{"index": i} for i in range(1, 10)],
    "identity": [{"size": 1}, {"size": 5}],
}
CASES = [(name, {}) for name in sorted(REQUIRED)] + [
    (name, p) for name, ps in sorted(EXTRA.items()) for p in ps
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items())}" for n, p in CASES]
cases = pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)


def _reconstruct(info):
    total = np.zeros_like(info.array)
    for c, r in info.factors:
        total = total + np.outer(c, r)
    return total


def _sympy_matrix(exact):
    return sympy.Matrix([[sympy.Rational(Fraction(v).numerator, Fraction(v).denominator)
                          for v in row] for row in exact])  # fmt: skip


def _impulse(shape):
    d = np.zeros(shape)
    d[tuple(s // 2 for s in shape)] = 1.0
    return d


RNG_IMAGE = np.random.default_rng(0).standard_normal((23, 29))


# --------------------------------------------------------------------------- generic


def test_list_kernels_sorted_and_complete():
    names = list_kernels()
    assert names == sorted(names)
    assert REQUIRED <= set(names)
    assert len(set(names)) == len(names)


@cases
def test_array_is_float64_2d_finite(name, params):
    k = get_kernel(name, **params)
    assert isinstance(k, np.ndarray) and k.dtype == np.float64 and k.ndim == 2
    assert k.size >= 1 and np.all(np.isfinite(k))


@cases
def test_fresh_per_call_and_info_read_only(name, params):
    a = get_kernel(name, **params)
    expected = a.copy()
    a[...] = 12345.0
    np.testing.assert_array_equal(get_kernel(name, **params), expected)
    info = kernel_info(name, **params)
    np.testing.assert_array_equal(info.array, expected)
    assert not info.array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        info.array[0, 0] = 1.0
    for c, r in info.factors or ():
        assert not c.flags.writeable and not r.flags.writeable
        assert c.dtype == r.dtype == np.float64 and c.ndim == r.ndim == 1


@cases
def test_factors_reconstruct_array(name, params):
    info = kernel_info(name, **params)
    if info.factors is None:
        return
    assert all(c.shape == (info.shape[0],) and r.shape == (info.shape[1],) for c, r in info.factors)
    scale = max(np.abs(info.array).max(), 1e-300)
    np.testing.assert_allclose(_reconstruct(info), info.array, rtol=1e-12, atol=1e-14 * scale)
    if info.rank is not None:
        assert len(info.factors) == info.rank


@cases
def test_numerical_rank_equals_known_rank(name, params):
    info = kernel_info(name, **params)
    if info.rank is not None:
        assert np.linalg.matrix_rank(info.array) == info.rank


@cases
def test_exact_form_equals_array_and_has_the_stated_rank(name, params):
    info = kernel_info(name, **params)
    if info.exact is None:
        return
    assert len(info.exact) == info.shape[0]
    assert all(len(row) == info.shape[1] for row in info.exact)
    assert all(type(v) in (int, Fraction) for row in info.exact for v in row)
    as_float = np.array([[float(v) for v in row] for row in info.exact])
    np.testing.assert_array_equal(as_float, info.array)  # bit-exact, correctly rounded
    if info.rank is not None:
        assert _sympy_matrix(info.exact).rank() == info.rank


@cases
def test_params_filled_and_round_trip(name, params):
    info = kernel_info(name, **params)
    assert set(info.params) == set(catalogue_params(name))
    np.testing.assert_array_equal(get_kernel(name, **dict(info.params)), info.array)
    with pytest.raises(TypeError):
        info.params["x"] = 1  # read-only mapping


@cases
def test_to_dict_is_json_and_repr_is_short(name, params):
    info = kernel_info(name, **params)
    d = info.to_dict()
    back = json.loads(json.dumps(d))
    np.testing.assert_array_equal(np.array(back["array"]), info.array)
    assert back["name"] == name and back["rank"] == info.rank and back["shape"] == list(info.shape)
    if info.exact is not None:
        got = np.array([[float(Fraction(s)) for s in row] for row in back["exact"]])
        np.testing.assert_array_equal(got, info.array)
    text = repr(info)
    assert text.startswith("KernelInfo(") and name in text and len(text) < 400
    assert info.definition and "\n" not in info.definition
    assert info.citation and "\n" not in info.citation
    assert info.tags and all(isinstance(t, str) for t in info.tags)


def test_exact_is_none_only_for_big_or_irrational():
    assert kernel_info("binomial", size=300).exact is None  # 90 000 > EXACT_MAX_ENTRIES
    assert 300 * 300 > EXACT_MAX_ENTRIES
    assert kernel_info("binomial", size=256).exact is not None
    for i in (1, 2, 3, 4):  # sqrt(2) entries
        assert kernel_info("freichen", index=i).exact is None
    for i in (5, 6, 7, 8, 9):
        assert kernel_info("freichen", index=i).exact is not None


def test_names_resolve_through_as_kernel():
    np.testing.assert_array_equal(_as_kernel("laplacian4"), get_kernel("laplacian4"))


def test_import_does_not_pull_sympy():
    code = (
        "import sys, kernelfactor; "
        "print('sympy' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- integer kernels


def test_sobel_orientation_and_sign():
    sx = get_kernel("sobel_x")
    # [1,2,1]^T [1,0,-1] up to sign: our sign makes correlation a positive derivative
    np.testing.assert_array_equal(sx, -np.outer([1, 2, 1], [1, 0, -1]))
    np.testing.assert_array_equal(get_kernel("sobel_y"), sx.T)
    # correlation with sobel_x is scipy's sobel along columns (positive gradient)
    for axis, name in ((1, "sobel_x"), (0, "sobel_y")):
        np.testing.assert_allclose(
            ndimage.correlate(RNG_IMAGE, get_kernel(name), mode="reflect"),
            ndimage.sobel(RNG_IMAGE, axis=axis, mode="reflect"),
            atol=1e-12,
        )
    ramp = np.tile(np.arange(7.0), (7, 1))  # increases along x
    assert ndimage.correlate(ramp, sx)[3, 3] == 8.0
    np.testing.assert_array_equal(
        get_kernel("sobel_x", size=5), np.outer([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1])
    )


def test_prewitt_scharr_laplacian_match_references():
    for axis, name in ((1, "prewitt_x"), (0, "prewitt_y")):
        np.testing.assert_allclose(
            ndimage.correlate(RNG_IMAGE, get_kernel(name)),
            ndimage.prewitt(RNG_IMAGE, axis=axis),
            atol=1e-12,
        )
    np.testing.assert_allclose(
        ndimage.correlate(RNG_IMAGE, get_kernel("laplacian4")), ndimage.laplace(RNG_IMAGE),
        atol=1e-12,
    )  # fmt: skip
    np.testing.assert_array_equal(get_kernel("scharr_x"), np.outer([3, 10, 3], [-1, 0, 1]))
    np.testing.assert_array_equal(get_kernel("scharr_y"), get_kernel("scharr_x").T)
    np.testing.assert_array_equal(get_kernel("laplacian8"), np.ones((3, 3)) - 9 * _impulse((3, 3)))
    np.testing.assert_array_equal(get_kernel("roberts_x"), [[1, 0], [0, -1]])
    np.testing.assert_array_equal(get_kernel("roberts_y"), [[0, 1], [-1, 0]])
    delta = _impulse((3, 3))
    np.testing.assert_array_equal(get_kernel("sharpen"), delta - get_kernel("laplacian4"))
    np.testing.assert_array_equal(get_kernel("emboss"), [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    stated = {"laplacian4": 2, "laplacian8": 2, "roberts_x": 2, "roberts_y": 2, "sharpen": 2,
              "emboss": 3, "sobel_x": 1, "prewitt_y": 1, "scharr_x": 1}  # fmt: skip
    for name, rank in stated.items():
        assert kernel_info(name).rank == rank == np.linalg.matrix_rank(get_kernel(name))


def test_kirsch_compass():
    north = get_kernel("kirsch", direction="n")
    np.testing.assert_array_equal(north, [[5, 5, 5], [-3, 0, -3], [-3, -3, -3]])
    names = ["e", "ne", "n", "nw", "w", "sw", "s", "se"]
    ring = [(1, 2), (0, 2), (0, 1), (0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]
    for d, nm in enumerate(names):
        k = get_kernel("kirsch", direction=d)
        np.testing.assert_array_equal(k, get_kernel("kirsch", direction=nm.upper()))
        assert kernel_info("kirsch", direction=d).params["direction"] == nm
        assert k[1, 1] == 0 and k.sum() == 0
        # the mask of direction d is the ring rotated by d steps of 45 degrees
        vals = [k[p] for p in ring]
        first = [get_kernel("kirsch", direction=0)[p] for p in ring]
        assert vals == first[-d:] + first[:-d] if d else vals == first
        assert k[ring[d]] == 5
        assert kernel_info("kirsch", direction=d).rank == (2 if d % 2 == 0 else 3)


def test_frei_chen_is_an_orthonormal_basis():
    basis = np.array([get_kernel("freichen", index=i).ravel() for i in range(1, 10)])
    np.testing.assert_allclose(basis @ basis.T, np.eye(9), atol=1e-15)
    s = math.sqrt(2)
    np.testing.assert_allclose(
        get_kernel("freichen", index=1), np.array([[1, s, 1], [0, 0, 0], [-1, -s, -1]]) / (2 * s)
    )
    np.testing.assert_allclose(get_kernel("freichen", index=9), np.full((3, 3), 1 / 3))
    # exact ranks with sqrt(2) kept symbolic
    r2 = sympy.sqrt(2)
    sym = {
        1: [[1, r2, 1], [0, 0, 0], [-1, -r2, -1]],
        2: [[1, 0, -1], [r2, 0, -r2], [1, 0, -1]],
        3: [[0, -1, r2], [1, 0, -1], [-r2, 1, 0]],
        4: [[r2, -1, 0], [-1, 0, 1], [0, 1, -r2]],
    }
    for i, m in sym.items():
        info = kernel_info("freichen", index=i)
        assert sympy.Matrix(m).rank(simplify=True) == info.rank
        np.testing.assert_allclose(info.array, np.array(m, dtype=float) / (2 * s), atol=1e-16)


# --------------------------------------------------------------------------- rational smoothing


def test_box_and_binomial_exact_values():
    info = kernel_info("box", shape=(2, 3))
    assert info.exact == ((Fraction(1, 6),) * 3,) * 2 and info.rank == 1
    assert kernel_info("box").shape == (3, 3)
    b = kernel_info("binomial", size=5)
    row = [Fraction(math.comb(4, k), 16) for k in range(5)]
    assert b.exact == tuple(tuple(x * y for y in row) for x in row)
    assert b.exact[2][2] == Fraction(36, 256)
    assert sum(sum(r) for r in kernel_info("binomial", size=9).exact) == 1


# --------------------------------------------------------------------------- Gaussian family


@pytest.mark.parametrize(("sigma", "truncate"), [(1.0, 4.0), (0.5, 4.0), (2.3, 3.0), (0.9, 2.5)])
def test_gaussian_equals_ndimage_impulse_response(sigma, truncate):
    k = get_kernel("gaussian", sigma=sigma, truncate=truncate)
    radius = int(truncate * sigma + 0.5)
    assert k.shape == (2 * radius + 1, 2 * radius + 1)
    ref = ndimage.gaussian_filter(_impulse(k.shape), sigma, truncate=truncate, mode="constant")
    np.testing.assert_allclose(k, ref, rtol=0, atol=1e-15)
    assert abs(k.sum() - 1) < 1e-14


def test_gaussian_size_sets_radius():
    k = get_kernel("gaussian", sigma=2.0, size=5)
    assert k.shape == (5, 5)
    ref = ndimage.gaussian_filter(_impulse((5, 5)), 2.0, radius=2, mode="constant")
    np.testing.assert_allclose(k, ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("order", "axis", "sigma", "truncate"),
    [
        (1, "x", 1.0, 4.0),
        (1, "y", 1.3, 4.0),
        (2, "x", 0.8, 3.0),
        (2, "y", 2.0, 4.0),
        (3, "x", 1.5, 4.0),
    ],
)
def test_gaussian_derivative_equals_ndimage(order, axis, sigma, truncate):
    k = get_kernel("gaussian_derivative", order=order, axis=axis, sigma=sigma, truncate=truncate)
    orders = (0, order) if axis == "x" else (order, 0)
    ref = ndimage.gaussian_filter(
        _impulse(k.shape), sigma, order=orders, truncate=truncate, mode="constant"
    )
    # the impulse response of a correlation is the weights flipped
    np.testing.assert_allclose(k[::-1, ::-1], ref, rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        ndimage.correlate(RNG_IMAGE, k, mode="reflect"),
        ndimage.gaussian_filter(RNG_IMAGE, sigma, order=orders, truncate=truncate, mode="reflect"),
        atol=1e-12,
    )
    if order == 1:  # positive response to a ramp along the axis
        ramp = np.arange(k.shape[1])[None, :] if axis == "x" else np.arange(k.shape[0])[:, None]
        assert np.sum(k * ramp) > 0


def test_gaussian_derivative_degenerate_rank_zero():
    info = kernel_info("gaussian_derivative", order=1, sigma=0.1)  # radius 0: the zero kernel
    assert info.rank == 0 and info.factors == () and np.all(info.array == 0)


@pytest.mark.parametrize(("sigma", "truncate"), [(1.0, 4.0), (2.0, 3.0), (0.6, 4.0)])
def test_log_equals_gaussian_laplace_and_has_rank_two(sigma, truncate):
    info = kernel_info("log", sigma=sigma, truncate=truncate)
    np.testing.assert_allclose(
        ndimage.correlate(RNG_IMAGE, info.array, mode="reflect"),
        ndimage.gaussian_laplace(RNG_IMAGE, sigma, truncate=truncate, mode="reflect"),
        atol=1e-12,
    )
    assert info.rank == 2 and np.linalg.matrix_rank(info.array) == 2
    assert np.allclose(info.array, info.array.T)


@pytest.mark.parametrize(("s1", "s2"), [(1.0, 1.6), (0.5, 2.0), (2.0, 1.0)])
def test_dog_equals_difference_of_ndimage_gaussians(s1, s2):
    k = get_kernel("dog", sigma1=s1, sigma2=s2)
    np.testing.assert_allclose(
        ndimage.correlate(RNG_IMAGE, k, mode="constant"),
        ndimage.gaussian_filter(RNG_IMAGE, s1, mode="constant")
        - ndimage.gaussian_filter(RNG_IMAGE, s2, mode="constant"),
        atol=1e-12,
    )
    assert abs(k.sum()) < 1e-14


def test_unsharp_definition():
    amount, sigma = 0.7, 1.2
    k = get_kernel("unsharp", amount=amount, sigma=sigma)
    g = get_kernel("gaussian", sigma=sigma)
    np.testing.assert_allclose(k, (1 + amount) * _impulse(g.shape) - amount * g, atol=1e-16)
    assert kernel_info("unsharp", amount=amount, sigma=sigma).rank == 2


@settings(max_examples=25, deadline=None)  # each example builds ~4 small kernels: keeps it < 1 s
@given(
    sigma=st.floats(0.3, 6.0),
    truncate=st.floats(1.0, 5.0),
)
def test_gaussian_family_properties(sigma, truncate):
    g = kernel_info("gaussian", sigma=sigma, truncate=truncate)
    assert g.rank == 1 and np.linalg.matrix_rank(g.array) == 1
    np.testing.assert_allclose(_reconstruct(g), g.array, rtol=1e-12, atol=1e-17)
    ref = ndimage.gaussian_filter(_impulse(g.shape), sigma, truncate=truncate, mode="constant")
    np.testing.assert_allclose(g.array, ref, rtol=0, atol=1e-15)
    log = kernel_info("log", sigma=sigma, truncate=truncate)
    np.testing.assert_allclose(_reconstruct(log), log.array, rtol=1e-12, atol=1e-15)
    assert np.linalg.matrix_rank(log.array) == log.rank == (2 if log.shape[0] > 1 else 1)


# --------------------------------------------------------------------------- disk


def _pixel_disk_area(x: int, y: int, r: float) -> float:
    """Area of the disk of radius r inside the unit pixel centred at (x, y), by quadrature."""
    y0, y1 = y - 0.5, y + 0.5

    def height(u):
        if abs(u) >= r:
            return 0.0
        s = math.sqrt(r * r - u * u)
        return max(0.0, min(y1, s) - max(y0, -s))

    lo, hi = x - 0.5, x + 0.5
    crossings = [math.sqrt(max(r * r - v * v, 0.0)) * sg for v in (y0, y1) for sg in (-1, 1)]
    pts = [p for p in (-r, r, *crossings) if lo < p < hi]
    val, _ = integrate.quad(height, lo, hi, points=pts or None, epsabs=1e-13, epsrel=1e-13)
    return val


@pytest.mark.parametrize("r", [2.5, 1.3, 0.4])
def test_disk_antialiased_is_exact_pixel_area(r):
    k = get_kernel("disk", radius=r)
    rad = math.ceil(r)
    assert k.shape == (2 * rad + 1, 2 * rad + 1)
    np.testing.assert_allclose(k.sum(), 1.0, rtol=1e-14)
    areas = np.array(
        [[_pixel_disk_area(x, y, r) for x in range(-rad, rad + 1)] for y in range(-rad, rad + 1)]
    )
    # the window covers the disk, so the normalising total is pi r^2
    np.testing.assert_allclose(k * math.pi * r * r, areas, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_array_equal(k, k[::-1, :])


def test_disk_without_antialias_is_indicator_of_centres():
    r = 2.3
    info = kernel_info("disk", radius=r, antialias=False)
    t = np.arange(-3, 4)
    mask = t[:, None] ** 2 + t[None, :] ** 2 <= r * r
    np.testing.assert_array_equal(info.array, np.where(mask, 1 / mask.sum(), 0.0))
    assert info.exact[3][3] == Fraction(1, int(mask.sum()))


# --------------------------------------------------------------------------- Gabor


def test_gabor_formula():
    sigma, theta, f, phase = 2.0, 0.4, 0.15, 0.3
    k = get_kernel("gabor", sigma=sigma, theta=theta, frequency=f, phase=phase)
    assert k.shape == (13, 13)
    for row, col in [(6, 6), (2, 9), (11, 0), (0, 12)]:
        x, y = col - 6, row - 6
        want = math.exp(-(x * x + y * y) / (2 * sigma**2)) * math.cos(
            2 * math.pi * f * (x * math.cos(theta) + y * math.sin(theta)) + phase
        )
        assert k[row, col] == pytest.approx(want, rel=1e-14, abs=1e-16)


@pytest.mark.parametrize("theta", [math.pi / 6, 1.0, 2.5, -0.7])
def test_gabor_oblique_rank_two(theta):
    info = kernel_info("gabor", theta=theta)
    assert info.rank == 2 and np.linalg.matrix_rank(info.array) == 2
    assert len(info.factors) == 2


@pytest.mark.parametrize("k", [0, 1, 2, 3, -1, 4])
def test_gabor_axis_aligned_rank_one_single_factor(k):
    info = kernel_info("gabor", theta=k * math.pi / 2, phase=0.2)
    assert info.rank == 1 and len(info.factors) == 1
    assert np.linalg.matrix_rank(info.array) == 1


def test_gabor_aliasing_degeneracy_gives_no_rank_claim():
    # f cos(theta) = 0.5 cycles/pixel: sin(alpha x) vanishes on the grid -> not rank 2
    info = kernel_info("gabor", theta=math.pi / 3, frequency=1.0)
    assert info.rank is None
    assert np.linalg.matrix_rank(info.array) == 1


# --------------------------------------------------------------------------- motion blur


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, [1.0]), (3, [1, 1, 1]), (4, [0.5, 1, 1, 1, 0.5]), (9, [1] * 9), (2.5, [0.75, 1, 0.75])],
)
def test_motion_blur_horizontal_matches_fspecial(length, expected):
    info = kernel_info("motion_blur", length=length, angle=0)
    want = np.array(expected, dtype=float)[None, :] / length
    np.testing.assert_allclose(info.array, want, rtol=1e-15)
    assert info.rank == 1 and info.exact is not None
    np.testing.assert_allclose(get_kernel("motion_blur", length=length, angle=90), want.T)
    np.testing.assert_allclose(get_kernel("motion_blur", length=length, angle=180), want)


def test_motion_blur_oblique():
    k = get_kernel("motion_blur", length=5, angle=45)
    # y up: 45 degrees runs from bottom-left to top-right (the anti-diagonal)
    assert k.shape == (5, 5)
    seg_end = 2.5 - 1.5 * math.sqrt(2)  # length inside the last pixel
    np.testing.assert_allclose(
        np.diag(k[::-1]), np.array([seg_end, *[math.sqrt(2)] * 3, seg_end]) / 5, rtol=1e-13
    )
    np.testing.assert_array_equal(k - np.diag(np.diag(k[::-1]))[::-1], 0)
    for angle in (30.0, 60.0, 123.0, 200.0):
        info = kernel_info("motion_blur", length=7, angle=angle)
        a = info.array
        assert info.rank is None and info.factors is None
        assert abs(a.sum() - 1) < 1e-14 and np.all(a >= 0)
        np.testing.assert_allclose(a, a[::-1, ::-1], atol=1e-15)  # centrally symmetric
        assert a.shape[0] % 2 == 1 and a.shape[1] % 2 == 1
    np.testing.assert_allclose(
        get_kernel("motion_blur", length=7, angle=30),
        get_kernel("motion_blur", length=7, angle=-30)[::-1, :],
        atol=1e-15,
    )


# --------------------------------------------------------------------------- errors


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"sobel_x") as exc:
        get_kernel("sobelx")
    assert "list_kernels()" in str(exc.value)
    with pytest.raises(ValueError, match="list_kernels"):
        kernel_info("no_such_kernel_at_all")
    with pytest.raises(TypeError, match="`name`"):
        get_kernel(3)


def test_unknown_parameter_names_it_and_lists_valid_sorted():
    with pytest.raises(TypeError, match=r"`sigam`.*`sigma`, `size`, `truncate`"):
        get_kernel("gaussian", sigam=2.0)
    with pytest.raises(TypeError, match=r"`size`.*none"):
        get_kernel("scharr_x", size=3)


@pytest.mark.parametrize(
    ("name", "params", "exc", "param"),
    [
        ("sobel_x", {"size": 7}, ValueError, "size"),
        ("gaussian", {"sigma": -1.0}, ValueError, "sigma"),
        ("gaussian", {"sigma": "1"}, TypeError, "sigma"),
        ("gaussian", {"sigma": float("nan")}, ValueError, "sigma"),
        ("gaussian", {"size": 4}, ValueError, "size"),
        ("gaussian", {"sigma": 1000.0}, ValueError, "sigma"),
        ("gaussian_derivative", {"axis": "z"}, ValueError, "axis"),
        ("gaussian_derivative", {"order": 0}, ValueError, "order"),
        ("dog", {"sigma1": 1.5, "sigma2": 1.5}, ValueError, "sigma1"),
        ("box", {"size": 3, "shape": (3, 4)}, ValueError, "size"),
        ("box", {"shape": 3}, TypeError, "shape"),
        ("box", {"size": 5000}, ValueError, "shape"),
        ("binomial", {"size": 0}, ValueError, "size"),
        ("disk", {"radius": 0}, ValueError, "radius"),
        ("disk", {"antialias": "yes"}, TypeError, "antialias"),
        ("disk", {"radius": 1e6}, ValueError, "radius"),
        ("gabor", {"frequency": -0.1}, ValueError, "frequency"),
        ("motion_blur", {"length": 1e5}, ValueError, "length"),
        ("unsharp", {"amount": -1.0}, ValueError, "amount"),
        ("kirsch", {"direction": 8}, ValueError, "direction"),
        ("kirsch", {"direction": "north"}, ValueError, "direction"),
        ("freichen", {"index": 0}, ValueError, "index"),
        ("freichen", {"index": 1.0}, TypeError, "index"),
        ("identity", {"size": True}, TypeError, "size"),
    ],
)
def test_bad_parameter_values_name_the_parameter(name, params, exc, param):
    with pytest.raises(exc, match=f"`{param}`"):
        get_kernel(name, **params)


def test_size_cap_is_max_taps():
    assert get_kernel("box", shape=(1, MAX_TAPS)).shape == (1, MAX_TAPS)
    with pytest.raises(ValueError, match=str(MAX_TAPS)):
        get_kernel("box", shape=(1, MAX_TAPS + 1))
    with pytest.raises(ValueError, match=str(MAX_TAPS)):
        get_kernel("binomial", size=MAX_TAPS + 1)


def test_public_exports():
    for name in ("KernelInfo", "get_kernel", "kernel_info", "list_kernels", "catalogue_params"):
        assert name in kernelfactor.__all__ and hasattr(kernelfactor, name)
    assert catalogue_params("gaussian") == {"sigma": 1.0, "truncate": 4.0, "size": None}
    with pytest.raises(ValueError, match="sobel_x"):
        catalogue_params("sobelx")
