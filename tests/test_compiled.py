"""The compiled engine (kernelfactor._compiled) and its scipy.ndimage fallback.

Every equivalence test runs on both engines (the ``engine`` fixture): the
compiled one (numba) and the fallback that runs where numba cannot be
imported.  Images are small: the point is semantics, not speed (no test here
is timed; ``benchmarks/bench_compiled.py`` measures).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import weakref

import numpy as np
import pytest
from scipy import ndimage

import kernelfactor as kf
from kernelfactor import _compiled, _engine
from kernelfactor._costmodel import FilterProblem, features

from .conftest import ALL_MODES

pytest.importorskip("numba")


@pytest.fixture(params=["compiled", "scipy"])
def engine(request, monkeypatch):
    """Run the test on the compiled engine, then on the scipy.ndimage fallback."""
    monkeypatch.setattr(_compiled, "ENABLED", request.param == "compiled")
    calls: list[str] = []
    original = _compiled.correlate_into

    def spy(method, *args, **kwargs):
        calls.append(method)
        return original(method, *args, **kwargs)

    monkeypatch.setattr(_compiled, "correlate_into", spy)
    yield request.param, calls
    if request.param == "scipy":
        assert calls == [], "the fallback ran the compiled engine"


def _gauss(n: int) -> np.ndarray:
    g = np.exp(-np.linspace(-2.0, 2.0, n) ** 2)
    return g / g.sum()


KERNELS = {
    "gauss 7x5 (symmetric)": np.outer(_gauss(7), _gauss(5)),
    "sobel (antisymmetric)": np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0]),
    "random 4x6 (even, full rank)": np.random.default_rng(3).standard_normal((4, 6)),
    "LoG 5x5 (rank 2)": np.array(
        [[0, 0, 1, 0, 0], [0, 1, 2, 1, 0], [1, 2, -16, 2, 1], [0, 1, 2, 1, 0], [0, 0, 1, 0, 0]],
        float,
    ),
    "1x3 row": np.array([[0.25, 0.5, 0.25]]),
    "2x1 column": np.array([[1.0], [-3.0]]),
}


def _rel(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    """Largest difference relative to the largest reference value (or `floor`, if larger).

    `floor` is the scale of the sums (``max|x| * sum|w|``): an output where
    the terms cancel exactly is compared with the size of its terms.
    """
    scale = max(float(np.max(np.abs(b))), floor, 1e-300)
    dt = np.result_type(a, b, np.float64)  # complex differences are moduli
    return float(np.max(np.abs(a.astype(dt) - b.astype(dt)))) / scale


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("shape", [(23, 31), (3, 2), (1, 1)])  # the last two: smaller than kernels
def test_equals_ndimage_in_every_mode(engine, mode, name, shape):
    weights = KERNELS[name]
    x = np.random.default_rng(1).standard_normal(shape)
    origins = [(0, 0), ((weights.shape[0] - 1) // 2, -(weights.shape[1] // 2))]
    for origin in origins:
        for fn, ref_fn in ((kf.correlate, ndimage.correlate), (kf.convolve, ndimage.convolve)):
            ref = ref_fn(x, weights, mode=mode, cval=1.25, origin=origin)
            floor = max(float(np.max(np.abs(x))), 1.25) * float(np.sum(np.abs(weights)))
            for method in ("separable", "direct"):
                got = fn(x, weights, mode=mode, cval=1.25, origin=origin, method=method)
                assert _rel(got, ref, floor) <= 1e-12, (method, origin, fn.__name__)
                if method == "direct":  # ndimage's sums, in ndimage's order
                    np.testing.assert_array_equal(got, ref)
    kind, calls = engine
    if kind == "compiled":
        assert set(calls) == {"separable", "direct"}


@pytest.mark.parametrize(
    ("dtype", "output"),
    [
        (np.float32, None),
        (np.float32, np.float64),
        (np.float64, np.float32),
        (np.uint8, None),
        (np.int16, np.float64),
        (np.float16, None),
        (np.dtype(">f8"), None),
        (np.bool_, np.int32),
    ],
)
@pytest.mark.parametrize("method", ["separable", "direct"])
def test_dtypes_and_outputs(engine, dtype, output, method):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((19, 17)) * 20).astype(dtype)
    weights = KERNELS["gauss 7x5 (symmetric)"]
    got = kf.correlate(x, weights, mode="reflect", method=method, output=output)
    src = x.astype(np.float32) if dtype == np.float16 else x
    ref = ndimage.correlate(src, weights, mode="reflect", output=output)
    assert got.dtype == ref.dtype
    if got.dtype.kind in "iub":
        # integer outputs: truncation of sums that differ in the last bits may differ by one
        assert np.max(np.abs(got.astype(int) - ref.astype(int))) <= (0 if method == "direct"
                                                                      else 1)
    else:
        tol = 1e-12 if got.dtype == np.float64 and dtype != np.float32 else 2e-6
        assert _rel(got, ref) <= tol


def test_integer_taps_are_exact(engine):
    x = np.random.default_rng(4).integers(0, 256, (40, 33)).astype(np.uint8)
    sobel = KERNELS["sobel (antisymmetric)"]
    for mode in ALL_MODES:
        got = kf.correlate(x, sobel, mode=mode, method="separable", output=np.int32, cval=3)
        ref = ndimage.correlate(x.astype(np.int32), sobel.astype(np.int32), mode=mode, cval=3)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("axes", [(0, 2), (2, 0), (1, 2), (-1, -3)])
def test_axes_and_layouts(engine, axes):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 4, 11))
    weights = KERNELS["random 4x6 (even, full rank)"]
    for img in (x, np.asfortranarray(x), x[:, ::-1, :]):
        for method in ("separable", "direct"):
            got = kf.correlate(img, weights, axes=axes, mode="mirror", method=method)
            ref = ndimage.correlate(img, weights, axes=axes, mode="mirror")
            assert _rel(got, ref) <= 1e-12, (method, img.flags.c_contiguous)


def test_output_array_not_contiguous(engine):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((12, 10))
    weights = KERNELS["gauss 7x5 (symmetric)"]
    base = np.zeros((12, 20))
    out = base[:, ::2]
    for method in ("separable", "direct"):
        res = kf.correlate(x, weights, output=out, method=method, mode="wrap")
        assert res is out or res is None or np.shares_memory(res, base)
        assert _rel(out, ndimage.correlate(x, weights, mode="wrap")) <= 1e-12
        assert not np.any(base[:, 1::2])


def test_nan_follows_ndimage_in_direct(engine):
    x = np.random.default_rng(7).standard_normal((15, 15))
    x[7, 3] = np.nan
    x[2, 12] = np.inf
    weights = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(
        kf.correlate(x, weights, method="direct"), ndimage.correlate(x, weights)
    )


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("method", ["separable", "direct"])
def test_workers_bit_identical(engine, monkeypatch, mode, method):
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 4)
    rng = np.random.default_rng(8)
    for shape in ((41, 29), (3, 13, 9)):
        x = rng.standard_normal(shape)
        for weights in (KERNELS["LoG 5x5 (rank 2)"], KERNELS["random 4x6 (even, full rank)"]):
            one = kf.correlate(x, weights, mode=mode, method=method, workers=1, axes=(-2, -1))
            for workers in (2, 3, 5):
                many, info = kf.correlate(x, weights, mode=mode, method=method, axes=(-2, -1),
                                          workers=workers, return_info=True)
                np.testing.assert_array_equal(one, many)
                assert info.strips > 1 or workers > 3  # the fallback may not cut 13 rows in 5


def test_direct_scales_a_small_kernel_and_keeps_a_large_ones_weights_as_ndimage(engine):
    """The README's documented difference, at its boundary: a kernel whose largest weight is
    below 2**-8 runs scaled by an exact power of two, so its weights <= 2**-52 are used; a
    kernel with a larger weight runs as given and drops them, as ndimage does."""
    x = np.array([[1.0, 2.0, 3.0]])
    small = np.array([[1e-3, 1e-17, 0.0]])
    got = kf.correlate(x, small, mode="constant", method="direct")
    assert got[0, 0] == 1e-17 and ndimage.correlate(x, small, mode="constant")[0, 0] == 0
    large = np.array([[1.0, 1e-17, 0.0]])
    np.testing.assert_array_equal(kf.correlate(x, large, mode="constant", method="direct"),
                                  ndimage.correlate(x, large, mode="constant"))


def test_float32_sums_in_float32_and_matches(engine):
    x = np.random.default_rng(9).standard_normal((30, 30)).astype(np.float32)
    weights = KERNELS["LoG 5x5 (rank 2)"]
    got = kf.correlate(x, weights, method="separable", mode="mirror")
    assert got.dtype == np.float32
    assert _rel(got, ndimage.correlate(x.astype(np.float64), weights, mode="mirror")) < 1e-5


def test_index_map_is_numpy_pad():
    for mode, pad in [("mirror", "reflect"), ("reflect", "symmetric"), ("wrap", "wrap"),
                      ("nearest", "edge")]:
        for length in (1, 2, 5):
            got = _compiled.index_map(length, (7, 3), mode)
            np.testing.assert_array_equal(got, np.pad(np.arange(length), (7, 3), mode=pad))


def test_engine_switch(monkeypatch):
    monkeypatch.setenv(_compiled.ENGINE_ENV, "scipy")
    assert not _compiled.available()
    monkeypatch.setenv(_compiled.ENGINE_ENV, "numba please")
    with pytest.raises(ValueError, match="KERNELFACTOR_ENGINE"):
        _compiled.available()
    monkeypatch.setenv(_compiled.ENGINE_ENV, "auto")
    assert _compiled.available()


def test_cost_model_knows_the_compiled_engine():
    weights = KERNELS["gauss 7x5 (symmetric)"]
    terms = _engine._terms(_engine._make_kernel(weights, (0, 0), None, False))
    base = FilterProblem((64, 64), (0, 1), weights, terms)
    fast = FilterProblem((64, 64), (0, 1), weights, terms, compiled=True)
    assert set(features(fast)["separable"]) >= {"jit_sep_px", "jit_sep_pair"}
    assert set(features(fast)["direct"]) == {"jit_direct_px", "jit_direct_tap"}
    assert "sep_pair" in features(base)["separable"]


def test_missing_numba_falls_back(monkeypatch):
    monkeypatch.setitem(_compiled._STATE, "kernels", None)  # as if numba failed to import
    assert not _compiled.available()
    x = np.random.default_rng(10).standard_normal((16, 16))
    weights = KERNELS["gauss 7x5 (symmetric)"]
    got = kf.correlate(x, weights, method="auto")
    assert _rel(got, ndimage.correlate(x, weights)) <= 1e-12


def test_numba_cache_lives_in_the_cache_dir(tmp_path):
    """A new process compiles into $KERNELFACTOR_CACHE_DIR/numba; the next one loads from it."""
    code = textwrap.dedent(
        """
        import sys, time
        import numpy as np
        t = time.perf_counter()
        import kernelfactor as kf
        assert "numba" not in sys.modules
        x = np.ones((8, 8))
        kf.correlate(x, np.ones((3, 3)), method="separable")
        kf.correlate(x, np.ones((3, 3)), method="direct")
        print(time.perf_counter() - t)
        """
    )
    env = dict(os.environ, KERNELFACTOR_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop(_compiled.ENGINE_ENV, None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    cached = list((tmp_path / "numba").rglob("*.nbi"))
    assert cached, "numba wrote no cache index under the cache directory"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def test_direct_sums_start_at_zero_as_ndimage(engine):
    """ndimage's sums start at 0.0: a product of -0.0 gives +0.0 (the sign bit is ndimage's)."""
    x = np.full((6, 7), -0.0)
    for weights in (np.array([[2.0]]), np.ones((2, 3)), np.ones((3, 3))):
        got = kf.correlate(x, weights, method="direct")
        ref = ndimage.correlate(x, weights)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))


def _factor(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.uniform(0.5, 1.5, size)
    if kind == "symmetric":
        return v + v[::-1]
    if kind == "antisymmetric":
        return v - v[::-1]
    return v


@pytest.mark.parametrize("kind", ["symmetric", "antisymmetric", "general"])
def test_every_factor_length_takes_its_loops(engine, kind):
    """Factors of 1 to 17 taps: every split into sweeps of four taps (or pairs) and the rest."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((29, 26))
    for size in range(1, 18):
        c, r = _factor(kind, size, rng), _factor(kind, 18 - size, rng)
        if not (np.any(c) and np.any(r)):
            continue
        weights = np.outer(c, r)
        floor = float(np.max(np.abs(x))) * float(np.sum(np.abs(weights)))
        for mode in ("reflect", "constant"):
            got = kf.correlate(x, weights, mode=mode, cval=0.5, method="separable")
            ref = ndimage.correlate(x, weights, mode=mode, cval=0.5)
            assert _rel(got, ref, floor) <= 1e-12, (size, mode)


@pytest.mark.parametrize("taps", [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 25, 30])
def test_direct_every_tap_count_is_ndimage_bit_for_bit(engine, taps):
    """The direct loop's sweeps of up to eight taps, its two accumulators (25 taps: three
    sweeps into them, row after row) and its last (written) sweep."""
    rng = np.random.default_rng(12)
    weights = np.zeros((5, 6))
    weights.flat[rng.permutation(30)[:taps]] = rng.standard_normal(taps)
    for dtype, output in ((np.float64, None), (np.float32, None), (np.float32, np.float64)):
        x = rng.standard_normal((17, 23)).astype(dtype)
        for mode in ALL_MODES:
            for cval in (-0.75, 0.1):  # 0.1 is no float32: float32 rows extend in double
                got = kf.correlate(x, weights, mode=mode, cval=cval, method="direct",
                                   output=output)
                ref = ndimage.correlate(x, weights, mode=mode, cval=cval, output=output)
                np.testing.assert_array_equal(got, ref)


def _spy_direct(monkeypatch) -> list[tuple[np.dtype, np.dtype]]:
    """The (image, output) dtypes of each compiled direct run."""
    runs: list[tuple[np.dtype, np.dtype]] = []
    original = _compiled.correlate_into  # the engine fixture's spy, when there is one

    def spy(method, x, out, *args, **kwargs):
        runs.append((x.dtype, out.dtype))
        return original(method, x, out, *args, **kwargs)

    monkeypatch.setattr(_compiled, "correlate_into", spy)
    return runs


@pytest.mark.parametrize("dtype", sorted(_compiled.PIXEL_INTEGERS, key=str))
@pytest.mark.parametrize("output", ["same", np.float32, np.float64])
def test_direct_reads_pixel_integers_and_writes_their_type_bit_for_bit(engine, monkeypatch,
                                                                       dtype, output):
    # uint8 -> uint8 used to convert the image to float64 and cast the float64 result
    # back through ndimage (21 ms on 2048 x 2048 for a 3x3 box, now 5 ms).
    runs = _spy_direct(monkeypatch)
    rng = np.random.default_rng(5)
    x = rng.integers(0, 120, (19, 23)).astype(dtype)
    out = dtype if output == "same" else output
    for weights in (np.ones((3, 3)) / 9, rng.uniform(0.0, 0.2, (4, 5))):  # sums in range
        for mode in ALL_MODES:
            for cval in (0.0, 7.5):
                got = kf.correlate(x, weights, out, mode=mode, cval=cval, method="direct")
                ref = ndimage.correlate(x, weights, out, mode=mode, cval=cval)
                assert got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref)
    if engine[0] == "compiled":  # read and written as they are, no float64 copy
        assert set(runs) == {(np.dtype(dtype), np.dtype(out))}


@pytest.mark.parametrize("dtype", sorted(_compiled.PIXEL_INTEGERS, key=str))
@pytest.mark.parametrize("workers", [1, 3])
def test_separable_reads_pixel_integers_with_the_float64_images_bits(engine, monkeypatch,
                                                                     dtype, workers):
    # The compiled separable widens each row of a uint8/uint16/int16 image itself (no
    # float64 copy of the image): the same sums, so the float64 image's bits, and with
    # integer weights ndimage's exact result.
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 4)
    runs = _spy_direct(monkeypatch)
    x = np.random.default_rng(9).integers(0, 200, (37, 29)).astype(dtype)
    wide = x.astype(np.float64)
    gauss = np.outer(_gauss(7), _gauss(5))
    sobel = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    for mode in ALL_MODES:
        for cval in (0.0, 2.5):
            got = kf.correlate(x, gauss, np.float64, mode=mode, cval=cval, method="separable",
                               workers=workers)
            same = kf.correlate(wide, gauss, mode=mode, cval=cval, method="separable",
                                workers=workers)
            np.testing.assert_array_equal(got.view(np.uint64), same.view(np.uint64))
        for output in (None, np.float32):
            got = kf.correlate(x, sobel, output, mode=mode, method="separable", workers=workers)
            np.testing.assert_array_equal(got, ndimage.correlate(x, sobel, output, mode=mode))
    if engine[0] == "compiled":  # read as they are
        assert {i for i, _ in runs} == {np.dtype(dtype), np.dtype(np.float64)}


@pytest.mark.parametrize("dtype", sorted(_compiled.PIXEL_INTEGERS, key=str))
@pytest.mark.parametrize("method", ["direct", "auto"])
def test_scaled_kernels_into_pixel_integers_scale_back_before_the_cast(engine, dtype, method):
    # Kernels whose weights are all below 2**-8 run scaled by a power of two: their sums
    # must be scaled back before the integer output's truncation (a review found this path
    # writing scaled sums into the output, then failing to scale an integer array).
    g = np.exp(-0.5 * (np.arange(-16, 17) / 8.0) ** 2)
    x = np.random.default_rng(8).integers(0, 200, (40, 45)).astype(dtype)
    for weights in (np.full((3, 3), 2.0**-9), np.outer(g, g) / g.sum() ** 2):
        for mode in ("reflect", "constant"):
            got = kf.correlate(x, weights, mode=mode, method=method)
            np.testing.assert_array_equal(got, ndimage.correlate(x, weights, mode=mode))


@pytest.mark.parametrize("dtype", sorted(_compiled.PIXEL_INTEGERS, key=str))
@pytest.mark.parametrize("case", ["negative sums", "inf sums", "one strip wraps"])
def test_direct_integer_outputs_out_of_range_take_ndimages_cast(engine, monkeypatch, dtype,
                                                               case):
    # A C cast of a value out of the type's range (or of NaN) is undefined and differs
    # between platforms: such a run writes the output again through float64 and
    # ndimage's own cast, whichever thread met the value.
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 4)
    runs = _spy_direct(monkeypatch)
    x = np.random.default_rng(6).integers(0, 100, (40, 23)).astype(dtype)
    weights = {"negative sums": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
               "inf sums": np.full((2, 2), 1e308),
               "one strip wraps": np.ones((3, 3)) * 90}[case]
    if case == "one strip wraps":
        x[:20] = 0  # only the bottom strip's sums leave the type's range (uint8, int16)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = ndimage.correlate(x, weights, dtype, mode="mirror")
        for workers in (1, 2):
            got = kf.correlate(x, weights, dtype, mode="mirror", method="direct",
                               workers=workers)
            np.testing.assert_array_equal(got, ref)
    if engine[0] == "compiled":  # written again exactly where a sum left the range
        sums = ndimage.correlate(x, weights, np.float64, mode="mirror")
        info = np.iinfo(dtype)
        inside = bool(np.all((info.min - 1 < sums) & (sums < info.max + 1)))
        assert (np.dtype(np.float64) in {o for _, o in runs}) != inside


@pytest.mark.parametrize("mode", ALL_MODES)
def test_float32_within_its_rounding_bound(engine, mode):
    """float32 images and outputs: sums in float32, within their rounding of ndimage's.

    ndimage sums in double precision and rounds once to float32.  The float32
    path sums in float32: each output is at most ``m + n + 2 r + 4`` float32
    roundings (``u = 2**-24``) of the largest partial sum away from the exact
    result, ``(m + n + 2 r + 4) u max|x| sum_t ||c_t||_1 ||r_t||_1``, plus
    the factors' float64 residual (far smaller); ndimage's own rounding adds
    half a unit in the last place.  Not bit for bit: that would need double
    sums, twice the memory traffic.
    """
    rng = np.random.default_rng(13)
    x = rng.standard_normal((40, 37)).astype(np.float32)
    for name in ("gauss 7x5 (symmetric)", "LoG 5x5 (rank 2)", "random 4x6 (even, full rank)"):
        weights = KERNELS[name]
        got = kf.correlate(x, weights, mode=mode, cval=0.5, method="separable")
        assert got.dtype == np.float32
        ref = ndimage.correlate(x.astype(np.float64), weights, mode=mode, cval=0.5)
        terms = _engine._terms(_engine._make_kernel(weights, (0, 0), None, False))
        mass = sum(float(np.sum(np.abs(c)) * np.sum(np.abs(r))) for c, r in terms)
        m, n = weights.shape
        top = max(float(np.max(np.abs(x))), 0.5)
        bound = (m + n + 2 * len(terms) + 4) * 2.0**-24 * top * mass
        assert np.max(np.abs(got - ref)) <= bound + np.max(np.abs(ref)) * 2.0**-24, name


def test_float32_sums_are_float32_not_double(engine):
    """The float32 path really sums in float32: not ndimage's double sums rounded once."""
    x = np.random.default_rng(14).standard_normal((64, 64)).astype(np.float32)
    weights = KERNELS["gauss 7x5 (symmetric)"]
    got = kf.correlate(x, weights, method="separable")
    assert not np.array_equal(got, ndimage.correlate(x, weights))


def test_auto_screens_only_when_the_compiled_result_is_not_finite(engine, monkeypatch):
    """auto's separable run checks its own output; the image is scanned for NaN only then."""
    monkeypatch.setattr(_engine, "predict",
                        lambda p: {"direct": 3.0, "fft": 2.0, "separable": 1.0})
    scans: list[int] = []
    original = _engine._all_finite

    def spy(x):
        scans.append(x.size)
        return original(x)

    monkeypatch.setattr(_engine, "_all_finite", spy)
    kind, calls = engine
    x = np.random.default_rng(15).standard_normal((30, 40))
    weights = KERNELS["LoG 5x5 (rank 2)"]
    y, info = kf.correlate(x, weights, return_info=True)
    assert info.method == "separable" and info.note is None
    assert _rel(y, ndimage.correlate(x, weights)) <= 1e-12
    assert scans == ([] if kind == "compiled" else [x.size])
    x[4, 7], x[20, 30] = np.nan, -np.inf
    scans.clear()
    y, info = kf.correlate(x, weights, return_info=True)
    assert info.method == "direct" and "NaN or Inf" in info.note
    np.testing.assert_array_equal(y, ndimage.correlate(x, weights))  # the footprint's NaNs
    assert scans == [x.size]
    if kind == "compiled":
        assert calls == ["separable", "separable", "direct"]  # the second run met the NaN


def test_auto_on_values_near_overflow(engine, monkeypatch):
    """A finite image whose separable sums overflow where direct's do not: direct, with a note.

    ``[[0.45, 0.45]]`` factors as about ``0.80 * [0.56, 0.56]``: a pass of the
    row factor over an image of 1.7e308 reaches 1.9e308 (Inf), while
    ndimage's sums stay at 1.53e308.
    """
    monkeypatch.setattr(_engine, "predict",
                        lambda p: {"direct": 3.0, "fft": 2.0, "separable": 1.0})
    kind, calls = engine
    weights = np.array([[0.45, 0.45]])
    x = np.full((20, 30), 1.7e308)
    if kind == "compiled":
        assert np.all(np.isinf(kf.correlate(x, weights, mode="nearest", method="separable")))
        calls.clear()
    y, info = kf.correlate(x, weights, mode="nearest", return_info=True)
    assert info.method == "direct" and "near float64's limit" in info.note
    np.testing.assert_array_equal(y, ndimage.correlate(x, weights, mode="nearest"))
    assert np.all(np.isfinite(y))
    if kind == "compiled":
        assert calls == ["separable", "direct"]  # the guarded run met the overflow


INTEGER_IMAGES = {
    # the largest magnitude away from the first value (where the scan's maximum starts)
    "integers": lambda x: x,
    "a fraction in the last block": lambda x: _last(x, 0.5),
    "NaN in the last block": lambda x: _last(x, np.nan),
    "-Inf (an integer, the largest)": lambda x: _last(x, -np.inf),
    "-0.0 and -2**60": lambda x: _last(_last(x, -0.0, 0), -(2.0**60)),
    "strided (a copy)": lambda x: x[:, ::3],
    "empty": lambda x: x[:0],
}


def _last(x: np.ndarray, value: float, at: int = -1) -> np.ndarray:
    y = x.copy()
    y.reshape(-1)[at] = value
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(INTEGER_IMAGES))
def test_integer_top_is_the_largest_magnitude_of_an_image_of_integers(engine, monkeypatch,
                                                                      case, dtype):
    # The scan that lets rounding methods return ndimage's exact integers: the compiled
    # pass and NumPy's blocks agree with a plain reference over several blocks.
    monkeypatch.setattr(_engine, "_SCAN_BLOCK", 64)
    scans: list[int] = []
    original = _compiled.integer_top
    monkeypatch.setattr(_compiled, "integer_top",
                        lambda img, block: scans.append(block) or original(img, block))
    x = INTEGER_IMAGES[case](((np.arange(1000) * 7) % 201 - 100).astype(dtype).reshape(20, 50))
    with np.errstate(invalid="ignore"):
        whole = np.array_equal(x, np.rint(x))
    want = (float(np.max(np.abs(x))) if x.size else 0.0) if whole else None
    assert _engine._integer_top(x) == want
    assert scans == ([64] if engine[0] == "compiled" else [])


@pytest.mark.parametrize("mode", ALL_MODES)
def test_complex_kernels_on_the_compiled_engine(engine, mode):
    """Complex weights run as their real and imaginary parts, each a real separable filter."""
    rng = np.random.default_rng(17)
    a, b = rng.standard_normal((2, 7)) + 1j * rng.standard_normal((2, 7))
    weights = np.outer(a[:5], b[:6])  # complex rank 1: real and imaginary parts rank 2
    x = rng.standard_normal((23, 19))
    z = x + 1j * rng.standard_normal(x.shape)
    kind, calls = engine
    for img, cval in ((x, 0.5), (z, 0.5 - 1.5j)):
        for fn, ref_fn in ((kf.correlate, ndimage.correlate), (kf.convolve, ndimage.convolve)):
            got, info = fn(img, weights, mode=mode, cval=cval, origin=(1, -2),
                           method="separable", return_info=True)
            ref = ref_fn(img, weights, mode=mode, cval=cval, origin=(1, -2))
            floor = max(float(np.max(np.abs(img))), abs(cval)) * float(
                np.sum(np.abs(weights)))
            assert _rel(got, ref, floor) <= 1e-12
            assert info.rank == 1  # the complex SVD's rank
    if kind == "compiled":
        assert set(calls) == {"separable"}


def test_complex_workers_bit_identical(monkeypatch):
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    rng = np.random.default_rng(18)
    weights = rng.standard_normal((5, 4)) + 1j * rng.standard_normal((5, 4))
    z = rng.standard_normal((70, 33)) + 1j * rng.standard_normal((70, 33))
    one = kf.correlate(z, weights, method="separable", workers=1)
    for workers in (2, 3):
        np.testing.assert_array_equal(one, kf.correlate(z, weights, method="separable",
                                                        workers=workers))


def test_auto_prices_complex_weights_by_their_parts():
    """On the compiled engine auto prices what runs: the real and imaginary parts' filters."""
    rng = np.random.default_rng(19)
    a, b = rng.standard_normal((2, 9)) + 1j * rng.standard_normal((2, 9))
    x = rng.standard_normal((300, 300))
    _, info = kf.correlate(x, np.outer(a, b), return_info=True)
    kern = _engine._make_kernel(np.outer(a, b), (0, 0), None, False)
    parts = [kern.part("real"), kern.part("imag")]
    expected = {}
    for part in parts:
        problem = FilterProblem(x.shape, (0, 1), part.weights, _engine._terms(part),
                                compiled=True)
        for name, seconds in kf._costmodel.predict(problem).items():
            expected[name] = expected.get(name, 0.0) + seconds
    assert info.predicted_seconds == pytest.approx(expected)


def _claims(strips, order):
    """Claim rows for the threads in `order` (cycled) until none is left: [(thread, y0, y1)]."""
    got, active = [], list(order)
    while active:
        for i in list(active):
            rows = strips.claim(i)
            if rows is None:
                active.remove(i)
            else:
                got.append((i, *rows))
    return got


def test_strips_are_claimed_in_shrinking_chunks_each_row_once(monkeypatch):
    monkeypatch.setattr(_compiled, "CHUNK_ELEMENTS", (1 << 15, 1 << 18))
    strips = _compiled._Strips(((0, 1, 0, 2000), (0, 1, 2000, 4000)), width=1024, steal=10)
    strips.started = [True, True]
    got = _claims(strips, [0, 1])
    assert sorted(r for _, a, b in got for r in range(a, b)) == list(range(4000))  # each once
    own = [(a, b) for i, a, b in got if i == 0]
    # half of what is left, between 2**15 and 2**18 elements (32 and 256 rows)
    assert own[:3] == [(0, 256), (256, 512), (512, 768)] and own[-1][1] == 2000
    sizes = [b - a for a, b in own]
    # 464 rows left: halves, and the last 58 whole (32 of them would leave under 32)
    assert sizes == [256] * 6 + [232, 116, 58, 58]
    assert sizes == sorted(sizes, reverse=True) and strips.pieces == len(got)


def test_a_thread_done_first_takes_half_of_the_rows_left_or_a_strip_not_started(monkeypatch):
    monkeypatch.setattr(_compiled, "CHUNK_ELEMENTS", (1 << 15, 1 << 18))
    strips = _compiled._Strips(((0, 1, 0, 1000), (0, 1, 1000, 2000)), width=1024, steal=10)
    strips.started = [True, True]
    assert strips.claim(0) == (0, 256)
    got = _claims(strips, [1])  # thread 0 stalls in its first chunk: thread 1 takes halves
    starts = [a for _, a, _ in got if a < 1000]
    assert starts[0] == 628 and got[-1][2] < 1000
    left = strips.back[0] - strips.front[0]
    assert strips.front[0] == 256 and left == 47  # 744 372 186 93 47: a half < 32 rows is kept
    assert strips.claim(0) == (256, 256 + left) and strips.claim(0) is None
    assert sorted(r for _, a, b in got for r in range(a, b)) == list(range(256 + left, 2000))
    idle = _compiled._Strips(((0, 1, 0, 50), (0, 1, 50, 100)), width=1024, steal=10)
    idle.started = [True, False]
    assert [(a, b) for _, a, b in _claims(idle, [0])] == [(0, 50), (50, 100)]  # all of it
    assert idle.claim(1) is None


@pytest.mark.parametrize("chunk", [(1, 1), (1, 40), (1 << 30, 1 << 30)])
@pytest.mark.parametrize("stall", [0, 1])
def test_chunks_and_taken_rows_do_not_change_bits(monkeypatch, chunk, stall):
    """Any chunking, and rows taken from a stalled thread, give one worker's bits."""
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 2)
    rng = np.random.default_rng(20)
    x = rng.standard_normal((90, 41)).astype(np.float32)
    weights = KERNELS["LoG 5x5 (rank 2)"]
    one = kf.correlate(x, weights, mode="wrap", method="separable", workers=1)
    monkeypatch.setattr(_compiled, "CHUNK_ELEMENTS", (chunk[0] * 41, chunk[1] * 41))
    original = _compiled._Share.run
    taken = []

    def share_run(self, runner):
        caller = threading.current_thread()

        def slow():  # the stalled thread's chunks are slow: the other one takes its rows
            run = runner()
            if (threading.current_thread() is caller) != (stall == 0):
                return run

            def late(job, primed):
                time.sleep(0.002)
                return run(job, primed)
            return late
        return original(self, slow)

    def take(self, i):
        done = _compiled._Strips._take.__wrapped__(self, i)
        taken.append(done)
        return done

    take.__wrapped__ = _compiled._Strips._take
    monkeypatch.setattr(_compiled._Share, "run", share_run)
    monkeypatch.setattr(_compiled._Strips, "_take", take)
    many, info = kf.correlate(x, weights, mode="wrap", method="separable", workers=2,
                              return_info=True)
    np.testing.assert_array_equal(one, many)
    assert info.workers == 2 and info.strips >= 2
    if chunk[1] < 90:
        assert any(taken)  # rows were taken from the slow thread


@pytest.mark.parametrize("shape", [(90, 41), (4, 30, 41)])  # strips of rows; whole planes
@pytest.mark.parametrize("failing", [0, 1])  # the caller's thread; a kept one
def test_an_error_in_any_thread_reaches_the_caller(monkeypatch, shape, failing):
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    monkeypatch.setattr(_engine, "MIN_STRIP_LENGTH", 2)
    x = np.random.default_rng(22).standard_normal(shape)
    original = _compiled._Share.run
    failed = threading.Event()  # the other thread holds its first piece until then

    def share_run(self, runner):
        caller = threading.current_thread()

        def either():
            i = 0 if threading.current_thread() is caller else 1
            if i == failing:
                failed.set()
                raise RuntimeError(f"thread {i} failed")
            run = runner()

            def first(job, primed):
                failed.wait(timeout=10)
                return run(job, primed)
            return first
        return original(self, either)

    monkeypatch.setattr(_compiled._Share, "run", share_run)
    with pytest.raises(RuntimeError, match=f"thread {failing} failed"):
        kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable", workers=2,
                     axes=(-2, -1))
    monkeypatch.setattr(_compiled._Share, "run", original)
    good = kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable", workers=2,
                        axes=(-2, -1))
    np.testing.assert_array_equal(good, kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"],
                                                     method="separable", axes=(-2, -1)))


def test_a_task_queued_behind_another_call_keeps_no_arrays(monkeypatch):
    """A call whose kept-thread task waits behind another call's returns alone, and its
    queued task must not hold the call's arrays (the output here) until it runs."""
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    x = np.random.default_rng(23).standard_normal((200, 60))
    want = kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable", workers=1)
    kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable", workers=2)
    release = threading.Event()
    for _ in _compiled._THREADS:  # every kept thread busy with another call's work
        _compiled._TASKS.put(lambda: release.wait(timeout=30))
    try:
        out = np.empty_like(x)
        kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], out, method="separable", workers=2)
        np.testing.assert_array_equal(out, want)  # the caller did every row
        ref = weakref.ref(out)
        del out
        assert ref() is None
    finally:
        release.set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_child_forked_while_the_lock_is_held_can_filter():
    x = np.random.default_rng(24).standard_normal((300, 80))
    want = kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable", workers=2)
    with _compiled._LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork with threads
        pid = os.fork()
        if pid == 0:  # the child: its copy of the lock is held by a thread it does not have
            signal.alarm(30)
            try:
                got = kf.correlate(x, KERNELS["LoG 5x5 (rank 2)"], method="separable",
                                   workers=2)
                os._exit(0 if np.array_equal(got, want) else 1)
            except BaseException:
                os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_thread_pool_is_kept_between_calls(monkeypatch):
    """Threads start once, not on every call."""
    monkeypatch.setattr(_engine, "MIN_SPLIT_ELEMENTS", 1)
    x = np.random.default_rng(21).standard_normal((300, 40))
    kf.correlate(x, np.ones((3, 3)), method="separable", workers=2)
    kept = list(_compiled._THREADS)
    for method in ("separable", "direct"):
        kf.correlate(x, np.ones((3, 3)), method=method, workers=2)
    assert _compiled._THREADS == kept and len(kept) >= 1
    assert all(t.is_alive() and t.daemon for t in kept)


def test_concurrent_calls_share_the_kept_pool_safely(monkeypatch) -> None:
    """Calls from several Python threads at once, each growing the kept threads: none may
    fail (a pool that grew used to shut the smaller one down under another caller's feet)."""
    import threading

    from kernelfactor import _compiled

    if not _compiled.available():
        pytest.skip("numba is not available")
    x = np.random.default_rng(0).random((400, 400))
    k = np.outer([1.0, 2.0, 1.0, 2.0, 1.0], [1.0, 4.0, 6.0, 4.0, 1.0])
    want = kf.correlate(x, k, method="separable", workers=1)
    def call(workers: int, barrier: threading.Barrier, results: list[np.ndarray],
             errors: list[BaseException]) -> None:
        try:
            barrier.wait()
            results.append(kf.correlate(x, k, method="separable", workers=workers))
        except BaseException as exc:
            errors.append(exc)

    for _ in range(20):  # the old pool's race hit about 1 trial in 13
        # As in a fresh process, every caller grows the kept threads: a new list, serving
        # a new queue, ended after the trial (None ends a kept thread).
        kept: list[threading.Thread] = []
        tasks: queue.SimpleQueue = queue.SimpleQueue()
        monkeypatch.setattr(_compiled, "_THREADS", kept)
        monkeypatch.setattr(_compiled, "_TASKS", tasks)
        barrier = threading.Barrier(6)
        errors: list[BaseException] = []
        results: list[np.ndarray] = []
        threads = [threading.Thread(target=call, args=(w, barrier, results, errors))
                   for w in range(2, 8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(results) == 6 and all(np.array_equal(r, want) for r in results)
        assert 1 <= len(kept) <= 6
        for _ in kept:
            tasks.put(None)
        for t in kept:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in kept)


def test_separable_scratch_over_the_limit_runs_the_scipy_path(monkeypatch) -> None:
    """A high-rank forced `separable` on a wide image would need rank x m rows of scratch
    per thread: over the limit the scipy path runs, with the same numbers."""
    from kernelfactor import _compiled

    rng = np.random.default_rng(2)
    img, k = rng.standard_normal((40, 300)), rng.standard_normal((7, 7))
    want = ndimage.correlate(img, k, mode="mirror")
    monkeypatch.setattr(_compiled, "SCRATCH_LIMIT", 1024)
    assert not _compiled.scratch_fits("separable", 300, 8, [(np.ones(7), np.ones(7))] * 7, 1)
    got = kf.correlate(img, k, mode="mirror", method="separable")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    nan = img.copy()
    nan[5, 5] = np.nan
    np.testing.assert_array_equal(np.isnan(kf.correlate(nan, k)),
                                  np.isnan(ndimage.correlate(nan, k)))
