import fractions

import numpy as np
import pytest

from kernelfactor._coerce import _as_kernel, _image_dtype
from kernelfactor._validation import (
    DTYPE_POLICY,
    MODES,
    _check_mode,
    _check_origin,
    _check_rank,
)

from .conftest import IMAGE_DTYPES


def test_modes_are_exactly_ndimage_modes_sorted():
    import scipy.ndimage as ndi

    assert list(MODES) == sorted(MODES)
    img = np.arange(20.0).reshape(4, 5)
    for mode in MODES:  # every name is accepted by ndimage
        ndi.correlate(img, np.ones((3, 3)), mode=mode)
    with pytest.raises(ValueError, match="reflect"):
        _check_mode("reflekt")


@pytest.mark.parametrize(("dtype", "expected"), IMAGE_DTYPES)
def test_image_dtype_policy(dtype, expected):
    assert _image_dtype(np.dtype(dtype)) == np.dtype(expected)


@pytest.mark.parametrize("kind", sorted(DTYPE_POLICY))
def test_policy_table_is_enforced_for_kernels(kind):
    examples = {
        "b": np.array([[True, False]]),
        "i": np.array([[1, 2]], dtype=np.int32),
        "u": np.array([[1, 2]], dtype=np.uint8),
        "f": np.array([[1, 2]], dtype=np.float32),
        "c": np.array([[1 + 1j, 2]]),
        "O": np.array([[object(), 1]], dtype=object),
        "U": np.array([["a", "b"]]),
        "S": np.array([[b"a", b"b"]]),
        "V": np.zeros((1, 2), dtype="V8"),
        "M": np.array([["2020-01-01", "2020-01-02"]], dtype="datetime64[D]"),
        "m": np.array([[1, 2]], dtype="timedelta64[s]"),
    }
    arr = examples[kind]
    if DTYPE_POLICY[kind]["kernel"] is None:
        with pytest.raises(TypeError, match="`kernel`"):
            _as_kernel(arr)
    else:
        out = _as_kernel(arr)
        expected = np.dtype(DTYPE_POLICY[kind]["kernel"])
        assert out.dtype == expected
        np.testing.assert_array_equal(out, arr.astype(expected))


def test_complex_kernels_are_refused_where_asked():
    with pytest.raises(TypeError, match="complex"):
        _as_kernel([[1j, 2]], complex_ok=False)


def test_fractions_become_floats():
    k = _as_kernel([[fractions.Fraction(1, 2), 1], [2, 3]])
    assert k.dtype == np.float64 and k[0, 0] == 0.5


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.float64(3.0), ValueError, r"shape \(m, n\)"),
        (np.ones(3), ValueError, "np.newaxis"),
        (np.ones((2, 3, 3)), ValueError, "one kernel at a time"),
        ([[1.0, np.nan]], ValueError, "NaN or Inf"),
        ([[1.0, np.inf]], ValueError, "NaN or Inf"),
        ([[1, 2], [3]], ValueError, "rectangular"),
        ([["a", "b"]], TypeError, "real numbers"),
    ],
)
def test_bad_kernels(bad, exc, match):
    with pytest.raises(exc, match=match):
        _as_kernel(bad)


def test_sympy_input_points_to_exact_functions():
    import sympy  # a core dependency
    with pytest.raises(TypeError, match="exact_rank"):
        _as_kernel(np.array([[sympy.Symbol("a"), 1], [1, 1]], dtype=object))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 8])
def test_origin_rule_matches_ndimage(size):
    import scipy.ndimage as ndi

    img = np.arange(30.0).reshape(5, 6)
    for origin in range(-size - 1, size + 2):
        try:
            ndi.correlate1d(img, np.ones(size), origin=origin)
            ok = True
        except ValueError:
            ok = False
        if ok:
            assert _check_origin(origin, size) == origin
        else:
            with pytest.raises(ValueError, match="`origin`"):
                _check_origin(origin, size)


def test_origin_and_rank_types():
    with pytest.raises(TypeError, match="`origin`"):
        _check_origin(0.5, 3)
    with pytest.raises(TypeError, match="`rank`"):
        _check_rank(True, 3)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        _check_rank(4, 3)
