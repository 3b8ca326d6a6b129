"""A seeded differential sweep against scipy.ndimage.correlate / convolve (issue 13).

Every boundary mode x every dtype ndimage accepts (both byte orders for float64)
x both operations, with random origins (some invalid: both must raise), cval,
even and odd kernels, images smaller than the kernel, 2-D and 3-D images with
`axes` in every order and sign, and `output` given as None, a dtype or an array
(sometimes a non-contiguous view).  Each case runs all four methods.

Exact integer cases (integer image, integer weights, integer cval) must equal
ndimage bit for bit; floats agree to rounding relative to the data's scale,
``100 * eps * sum|w| * max|x|`` (eps of the narrowest float involved).  Integer
outputs of non-integer sums: ``direct`` and ``auto`` are ndimage's bit for bit;
``separable`` and ``fft`` may truncate a value within rounding of an integer to
its neighbour (README: differences).  No values overflow the output type
(ndimage's out-of-range float-to-integer casts are undefined behaviour in C).

A seeded sweep rather than Hypothesis: 672 cases cover each (mode, dtype) pair
six times in a few seconds (tiny arrays), and a failing case is reproduced by
its number alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import kernelfactor as kf
from kernelfactor._validation import MODES

DTYPES = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", ">f8", "c8", "c16"]
METHODS = ["auto", "direct", "fft", "separable"]
AXES_2D = [None, (0, 1), (1, 0), (-1, 0), (0, -1), (-2, -1), (-1, -2)]
CASES = 6 * len(MODES) * len(DTYPES)


def _image(rng, dtype, shape, limit):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dt.kind in "iu":
        lo = 0 if dt.kind == "u" else -limit
        return rng.integers(lo, limit + 1, shape).astype(dt)
    x = rng.standard_normal(shape) * 10
    if dt.kind == "c":
        x = x + 1j * rng.standard_normal(shape) * 10
    return x.astype(dt)


def _case(case):
    rng = np.random.default_rng(1300 + case)
    mode = MODES[case % len(MODES)]
    dtype = np.dtype(DTYPES[(case // len(MODES)) % len(DTYPES)])
    m, n = (int(v) for v in rng.integers(1, 7, 2))
    ndim = 2 if rng.random() < 0.5 else 3
    shape = tuple(int(v) for v in rng.integers(1, 9, ndim))  # often smaller than the kernel
    if ndim == 2:
        axes = AXES_2D[int(rng.integers(len(AXES_2D)))]
    else:
        pair = rng.choice(3, 2, replace=False)
        axes = tuple(int(a) - (3 if rng.random() < 0.5 else 0) for a in pair)
    unsigned = dtype.kind in "bu"
    int_weights = dtype.kind in "biu" and rng.random() < 0.7
    if int_weights:
        k = rng.integers(0 if unsigned else -3, 4, (m, n)).astype(float)
    else:
        k = rng.random((m, n)) if unsigned else rng.standard_normal((m, n))
        if dtype.kind == "c" or (dtype.kind == "f" and rng.random() < 0.3):
            k = k + 1j * rng.standard_normal((m, n))
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    limit = 1 if info is None else max(1, min(1000, int(info.max) // int(4 * m * n)))
    x = _image(rng, dtype, shape, limit)
    cval = float(rng.integers(0, 3)) if int_weights or unsigned else float(rng.normal())
    if dtype.kind == "c" and rng.random() < 0.5:
        cval = complex(cval, rng.normal())
    lo, hi = -(min(m, n) // 2), (min(m, n) - 1) // 2
    if rng.random() < 0.1:
        origin = (int(rng.integers(-3, 4)), int(rng.integers(-3, 4)))  # maybe invalid
    else:
        origin = (int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1)))
    convolve = bool(rng.random() < 0.5)
    way = case % 3  # output: None, a dtype, an array
    return mode, dtype, x, k, axes, origin, cval, convolve, way, rng


@pytest.mark.parametrize("case", range(CASES))
def test_differential_against_ndimage(case):
    mode, dtype, x, k, axes, origin, cval, convolve, way, rng = _case(case)
    theirs = ndi.convolve if convolve else ndi.correlate
    ours = kf.convolve if convolve else kf.correlate
    kw = dict(mode=mode, cval=cval, origin=origin, axes=axes)
    try:
        ref = theirs(x, k, **kw)
    except (ValueError, RuntimeError, TypeError) as exc:
        for method in METHODS:
            with pytest.raises(type(exc)):
                ours(x, k, **kw, method=method)
        return
    out_dtype = ref.dtype
    if way and ref.dtype.kind != "c" and rng.random() < 0.5:
        out_dtype = np.dtype(rng.choice(["f8", "f4", "i4"] if dtype.kind in "biu" else ["f4"]))
        if out_dtype.kind == "f" or np.issubdtype(dtype, np.integer):
            ref = theirs(x, k, output=out_dtype, **kw)
        else:
            out_dtype = ref.dtype
    exact = (
        dtype.kind in "biu" and np.array_equal(k, np.round(k)) and float(np.real(cval)).is_integer()
    )
    scale = float(np.sum(np.abs(k))) * max(float(np.max(np.abs(x), initial=0)), abs(cval), 1.0)
    narrow = "f4" in (dtype.str[1:], out_dtype.str[1:]) or "c8" in (dtype.str[1:],
                                                                     out_dtype.str[1:])
    eps = float(np.finfo(np.float32 if narrow else np.float64).eps)
    for method in METHODS:
        if way == 0:
            got = ours(x, k, **kw, method=method)
        elif way == 1:
            got = ours(x, k, out_dtype, **kw, method=method)
        else:
            big = np.empty(tuple(2 * s for s in x.shape), out_dtype)
            target = big[tuple(slice(None, None, 2) for _ in x.shape)]
            got = ours(x, k, target, **kw, method=method)
            assert got is target
        assert got.dtype == ref.dtype and got.shape == ref.shape, method
        where = f"case {case}: {method}, {mode}, {dtype}, k {k.shape}, axes {axes}, {origin}"
        if exact or (ref.dtype.kind in "biu" and method in ("auto", "direct")):
            np.testing.assert_array_equal(got, ref, err_msg=where)
        elif ref.dtype.kind in "biu":
            diff = np.abs(got.astype(np.int64) - ref.astype(np.int64))
            assert diff.max(initial=0) <= 1, where
        elif ref.dtype.kind == "b":
            pass  # float sums truncated to bool: see the README's differences
        else:
            np.testing.assert_allclose(got, ref, rtol=0, atol=100 * eps * scale, err_msg=where)
