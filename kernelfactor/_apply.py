r"""Filter images with a kernel the fast way, with exactly scipy.ndimage's semantics.

:func:`correlate` and :func:`convolve` give the numbers
``scipy.ndimage.correlate`` / ``convolve`` give (every boundary mode, every
origin, odd and even sizes, ``cval``), by one of three methods:

``"separable"``
    ``scipy.ndimage.correlate1d`` passes, one per axis per rank-1 term,
    summed over the terms.  An :class:`~kernelfactor.Analysis` is applied at
    its numerical rank, a :class:`~kernelfactor.LowRankKernel` as the
    approximation it is; an array is analysed first (its numerical rank
    terms, equal to it up to rounding).
``"direct"``
    ``scipy.ndimage.correlate`` with the 2-D weights.
``"fft"``
    The image is extended with :func:`numpy.pad` exactly as ndimage extends it,
    and correlated circularly with real FFTs (:mod:`scipy.fft`) at a fast size
    no smaller than the padded image, which makes the kept part exact.
``"auto"``
    The fastest by a cost model: operation counts times constants measured on
    this machine by :func:`kernelfactor.calibrate` (built-in defaults until it
    has run once).

How the two ndimage traps are handled
-------------------------------------
* ``ndimage.correlate`` drops every weight with :math:`|w| \le 2^{-52}` (an
  absolute threshold), and ``correlate1d`` takes its symmetric fast path when
  weights agree within :math:`2^{-52}` in absolute terms.  When the largest
  weight is below :math:`2^{-8}`, the kernel is multiplied by an exact power
  of two :math:`2^E` (so that its largest weight lies in :math:`[1/2, 1)`)
  and the output by :math:`2^{-E}`; in the separable method every column
  factor is scaled to :math:`[1/2, 1)` and its row factor carries the rest.
  Scaling by a power of two is exact, so the answer is right at any kernel
  scale, in every method.
* The symmetric fast path of the 1-D passes (1.4-2.4x per pass) needs exactly
  symmetric weights: :func:`kernelfactor.analyze` makes factors exactly even
  or odd where the kernel's symmetry is exact, scaling by powers of two keeps
  them so, and factors (anti)symmetric up to rounding (a kernel sampled with
  ``np.linspace``) are made exactly so (a change at the rounding level).

Constant modes
--------------
A second 1-D pass must see the first pass's value of the out-of-image region,
which for ``cval`` is :math:`c \sum_i w_i`, not :math:`c`: the second pass of
each term runs with ``cval * sum(first factor)``, which is exact.

NaN and Inf in the image
------------------------
``"direct"`` reproduces ndimage exactly: a NaN reaches the outputs whose
footprint (non-zero weights; ndimage skips zero weights) covers it, and
``"auto"`` runs ``"direct"`` on such images (one summation pass detects them).
An explicit ``"separable"`` spreads it like ndimage's own separable filters
(``gaussian_filter``): over the rectangle of the factors, zero taps included
(:math:`0 \cdot \infty` is NaN).  ``"fft"`` would spread it over the whole
image, so it refuses non-finite images.

Dtypes and integers
-------------------
As ndimage: the output has the input's dtype unless ``output`` names another,
sums are formed in double precision (float32 when input and output are both
float32) and written with ndimage's own casts.  When the image, the weights and
(constant modes) ``cval`` are integer-valued, ndimage's result is an exact
integer; ``"separable"`` and ``"fft"`` then round their float result, which
equals it whenever a floating-point error bound (see :func:`_rounding_bound`)
is below 1/2, and run ``"direct"`` otherwise.  For other integer outputs
``"auto"`` runs ``"direct"``, ndimage's truncation bit for bit.

Threads
-------
``workers`` threads filter overlapping strips of the image (ndimage releases
the GIL); each strip reads its halo from the image itself (or, for
``'wrap'``, from the far side), so the result is bit-identical to one call.
Images below :data:`MIN_SPLIT_ELEMENTS` elements, or too short to give every
strip :data:`MIN_STRIP_LENGTH` rows, are not split.  ``"fft"`` passes
``workers`` to :mod:`scipy.fft` instead.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import (
    NdimageRuntimeError,
    NdimageTypeError,
    NdimageValueError,
    _as_filter_input,
    _as_kernel,
    _check_choice,
    _check_filter_axes,
    _check_mode,
    _describe,
    _image_dtype,
)

__all__ = [
    "APPLY_METHODS",
    "MIN_SPLIT_ELEMENTS",
    "MIN_STRIP_LENGTH",
    "ApplyInfo",
    "convolve",
    "correlate",
]

#: Values of ``method``, sorted.
APPLY_METHODS: tuple[str, ...] = ("auto", "direct", "fft", "separable")

#: Images with fewer elements are filtered in one call (threads do not pay).
MIN_SPLIT_ELEMENTS: int = 1 << 17

#: Every strip gets at least this many rows along the split axis (and at
#: least four times the kernel's extent there, so that halos stay small).
MIN_STRIP_LENGTH: int = 64

_EPS = float(np.finfo(np.float64).eps)  # ndimage's DBL_EPSILON thresholds
_SCALE_FLOOR = 2.0**-8  # rescale kernels whose largest weight is below this
_WRAP_MODES = ("grid-wrap", "wrap")
_PAD_MODES = {
    "constant": "constant",
    "grid-constant": "constant",
    "grid-mirror": "symmetric",
    "grid-wrap": "wrap",
    "mirror": "reflect",
    "nearest": "edge",
    "reflect": "symmetric",
    "wrap": "wrap",
}


@dataclass(frozen=True, repr=False)
class ApplyInfo:
    """What :func:`correlate` / :func:`convolve` did (``return_info=True``).

    Attributes
    ----------
    method : str
        The method that ran: ``"direct"``, ``"fft"`` or ``"separable"``.
    requested : str
        The ``method`` argument (``"auto"`` or the method itself).
    convolve : bool
        True for :func:`convolve`.
    predicted_seconds : dict
        The cost model's time per method (single thread), for the methods it
        priced; empty when no prediction was needed.
    multiplications : dict
        Counted multiplications per method for the whole image (from
        :func:`kernelfactor.filter_cost`; the FFT figure is an estimate).
    workers : int
        Threads used.
    strips : int
        Pieces the image was cut into (1: one call).
    rank : int or None
        Rank-1 terms applied by ``"separable"``; else the kernel's numerical
        rank when it was computed, or None.
    scale_exponent : int
        :math:`E`: the kernel ran scaled by :math:`2^E` (0: unscaled).
    note : str or None
        Why ``"auto"`` passed over a method, when it did.
    """

    method: str
    requested: str
    convolve: bool
    predicted_seconds: dict[str, float] = field(default_factory=dict)
    multiplications: dict[str, float] = field(default_factory=dict)
    workers: int = 1
    strips: int = 1
    rank: int | None = None
    scale_exponent: int = 0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python."""
        return {
            "method": self.method,
            "requested": self.requested,
            "convolve": self.convolve,
            "predicted_seconds": {k: float(v) for k, v in self.predicted_seconds.items()},
            "multiplications": {k: float(v) for k, v in self.multiplications.items()},
            "workers": self.workers,
            "strips": self.strips,
            "rank": self.rank,
            "scale_exponent": self.scale_exponent,
            "note": self.note,
        }

    def __repr__(self) -> str:
        how = "auto" if self.requested == "auto" else "requested"
        parts = [f"method={self.method!r} ({how})"]
        if self.rank is not None:
            parts.append(f"rank={self.rank}")
        parts.append(f"workers={self.workers}, strips={self.strips}")
        if self.scale_exponent:
            parts.append(f"kernel scaled by 2**{self.scale_exponent}")
        if self.predicted_seconds:
            pred = ", ".join(f"{k} {v:.3g} s" for k, v in sorted(self.predicted_seconds.items()))
            parts.append(f"predicted: {pred}")
        if self.note:
            parts.append(f"note: {self.note}")
        name = "convolve" if self.convolve else "correlate"
        return f"ApplyInfo({name}: " + "; ".join(parts) + ")"


# ---------------------------------------------------------------------------
# Argument handling (scipy.ndimage's rules, kernelfactor's messages)
# ---------------------------------------------------------------------------


def _check_cval(cval: Any, complex_input: bool) -> float | complex:
    """ndimage's `cval`: a real number, or a complex one for a complex image."""
    value: float | complex
    if isinstance(cval, bool) or not isinstance(cval, numbers.Complex):
        if isinstance(cval, np.ndarray) and cval.ndim == 0:
            return _check_cval(cval.item(), complex_input)
        raise TypeError(f"`cval` must be a real number; got {_describe(cval)}.")
    if isinstance(cval, (complex, np.complexfloating)):  # as np.iscomplexobj
        if not complex_input:
            raise NdimageValueError(
                f"`cval` is complex ({cval!r}) but `input` is real (scipy.ndimage: Cannot "
                "provide a complex-valued cval when the input is real); pass a real `cval`."
            )
        value = complex(cval)
    else:
        value = float(cval.real)
        if complex_input:
            value = complex(value)
    if not np.isfinite(value):
        raise ValueError(
            f"`cval` must be finite; got {value!r}. To mark outside pixels, filter a "
            "finite-padded image and a mask separately."
        )
    return value


def _check_workers(workers: Any) -> int:
    """Threads: None or -1 all cores this process may use, -k all but k - 1 (scipy.fft's rule)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    if workers is None:
        return cores
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"`workers` must be an integer or None; got {_describe(workers)}.")
    if workers < 0:
        if cores + 1 + int(workers) < 1:
            raise ValueError(
                f"`workers` {int(workers)} asks for {cores + 1 + int(workers)} threads on a "
                f"machine with {cores} cores; use -1 (all cores) down to {-cores}, or a "
                "positive number."
            )
        return cores + 1 + int(workers)
    if workers == 0:
        raise ValueError(
            "`workers` must be >= 1, or negative to count back from all cores (-1: all); got 0."
        )
    return int(workers)


def _ndimage_dtype(dt: np.dtype) -> bool:
    """True if scipy.ndimage's C loops read and write this dtype."""
    return dt.kind in "biu" or (dt.kind == "f" and dt.itemsize in (4, 8))


def _default_output_dtype(input_dtype: np.dtype, complex_output: bool) -> np.dtype:
    if complex_output:
        return np.promote_types(_image_dtype(input_dtype), np.complex64)
    return _image_dtype(input_dtype)


def _output_array(
    output: Any, shape: tuple[int, ...], input_dtype: np.dtype, complex_output: bool
) -> np.ndarray:
    """ndimage's `output`: None (the input's dtype), a dtype (class, dtype, string) or an array."""
    if output is None:
        return np.empty(shape, dtype=_default_output_dtype(input_dtype, complex_output))
    if isinstance(output, (type, np.dtype, str)):
        try:
            dt = np.dtype(output)
        except TypeError:
            raise TypeError(
                f"`output` must be None, a dtype or an array; got {_describe(output)}."
            ) from None
        if complex_output and dt.kind != "c":
            if isinstance(output, str):
                raise NdimageRuntimeError(
                    f"`output` {output!r} is real but the result is complex (scipy.ndimage: "
                    "output must have complex dtype); pass a complex dtype, e.g. np.complex128."
                )
            warnings.warn("promoting specified output dtype to complex", UserWarning,
                          stacklevel=4)
            dt = np.promote_types(dt, np.complex64)
        elif isinstance(output, str) and not issubclass(dt.type, np.number):
            raise NdimageRuntimeError(
                f"`output` {output!r} is not a numeric dtype (scipy.ndimage: output must have "
                "numeric dtype); pass e.g. 'float64'."
            )
        _check_output_dtype(dt)
        return np.empty(shape, dtype=dt)
    if not isinstance(output, np.ndarray):
        raise TypeError(
            f"`output` must be None, a dtype or a NumPy array of shape {shape}; got "
            f"{_describe(output)} (a list could not be written in place)."
        )
    if output.shape != shape:
        raise NdimageRuntimeError(
            f"`output` must have the image's shape {shape}; got {_describe(output)} "
            "(scipy.ndimage: output shape not correct). Pass `output=None` to get a new array."
        )
    if complex_output and output.dtype.kind != "c":
        raise NdimageRuntimeError(
            f"`output` must be complex: the result is complex; got {_describe(output)} "
            "(scipy.ndimage: output must have complex dtype)."
        )
    _check_output_dtype(output.dtype)
    if not output.flags.writeable:
        raise ValueError("`output` is read-only; pass a writeable array or `output=None`.")
    return output


def _check_output_dtype(dt: np.dtype) -> None:
    if dt.kind not in "biufc" or dt.itemsize > (16 if dt.kind == "c" else 8):
        raise NdimageTypeError(
            f"`output` has dtype {dt}, which scipy.ndimage does not support (array type not "
            "supported); use a bool, integer, float32/64 or complex64/128 dtype."
        )


@dataclass(frozen=True)
class _Kernel:
    """A kernel ready for correlation: flipped for convolve, scaled by ``2**exponent``.

    Complex weights are stored as ndimage applies them: conjugated for
    correlate (as ``np.correlate``), not for convolve.
    """

    weights: np.ndarray
    origin: tuple[int, int]
    exponent: int
    source: Any  # what to take separable terms from (None: analyse `weights`)
    flip: bool

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.weights.shape[0]), int(self.weights.shape[1]))

    @property
    def is_complex(self) -> bool:
        return self.weights.dtype.kind == "c"

    def unscaled(self) -> np.ndarray:
        return np.ldexp(self.weights, -self.exponent) if self.exponent else self.weights

    def part(self, which: str) -> _Kernel:
        """The real or imaginary part as a real kernel (its own scale)."""
        w = self.unscaled()
        w = np.ascontiguousarray(w.real if which == "real" else w.imag)
        return _scaled_kernel(w, self.origin, None, False)


def _scale_exponent(weights: np.ndarray) -> int:
    """E such that the largest weight times 2**E lies in [1/2, 1), or 0 when not needed."""
    top = float(np.max(np.abs(weights)))
    if top == 0.0 or top >= _SCALE_FLOOR:
        return 0
    return -int(np.frexp(top)[1])


def _scaled_kernel(weights: np.ndarray, origins: tuple[int, int], source: Any,
                   flip: bool) -> _Kernel:
    exponent = _scale_exponent(weights)
    if exponent:
        weights = np.ldexp(weights, exponent)
    return _Kernel(np.ascontiguousarray(weights), origins, exponent, source, flip)


def _kernel_weights(kernel: Any) -> tuple[np.ndarray, Any]:
    """(2-D float64 or complex128 weights, the object separable terms come from, or None)."""
    from ._svd import BatchAnalysis

    if isinstance(kernel, BatchAnalysis):
        raise TypeError(
            f"`weights` is an analysis of a stack of {len(kernel)} kernels; filter with one "
            "kernel at a time, e.g. `batch[i]` or `batch.kernels[i]`."
        )
    if isinstance(kernel, str) or hasattr(kernel, "to_array"):
        dense = _as_kernel(kernel, name="weights")  # refuses stacks first
        source = kernel if (hasattr(kernel, "factors") or hasattr(kernel, "terms")) else None
        return dense, source
    try:
        arr = np.asarray(kernel)
    except (ValueError, TypeError):
        arr = None
    if arr is not None and arr.dtype.kind in "biufc" and arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = (
                " A 1-D filter is ambiguous: pass `w[np.newaxis, :]` for a row (1 x n) "
                "or `w[:, np.newaxis]` for a column (m x 1)."
            )
        raise NdimageRuntimeError(
            f"`weights` must have shape (m, n); got shape {arr.shape} (kernelfactor filters "
            f"with 2-D kernels; scipy.ndimage: weights.ndim ({arr.ndim}) must match len(axes) "
            f"(2)).{hint}"
        )
    if arr is not None and arr.dtype.kind == "b":
        arr = arr.astype(np.float64)  # as ndimage: True is 1
    if arr is not None and arr.dtype.kind == "c":
        if arr.dtype.itemsize > 16:
            raise NdimageTypeError(
                f"`weights` has dtype {arr.dtype}; use complex128 (scipy.ndimage: array type "
                "not supported)."
            )
        if 0 in arr.shape:
            raise ValueError(f"`weights` is empty (shape {arr.shape}); a kernel needs m, n >= 1.")
        w = arr.astype(np.complex128)
        if not np.all(np.isfinite(w)):
            bad = np.argwhere(~np.isfinite(w))[0]
            raise ValueError(
                f"`weights` contains NaN or Inf (first at index {tuple(int(i) for i in bad)}); "
                "the separable and FFT methods need finite weights."
            )
        return w, None
    return _as_kernel(kernel if arr is None else arr, name="weights"), None


def _make_kernel(weights: np.ndarray, origins: tuple[int, int], source: Any,
                 convolve: bool) -> _Kernel:
    if convolve:
        # ndimage: reverse the weights, negate the origin, one less for even sizes.
        weights = weights[::-1, ::-1]
        origins = (
            -origins[0] - (1 - weights.shape[0] % 2),
            -origins[1] - (1 - weights.shape[1] % 2),
        )
    elif weights.dtype.kind == "c":
        weights = weights.conj()  # ndimage (as np.correlate) conjugates for correlate
    return _scaled_kernel(weights, origins, source, convolve)


def _prepare_kernel(kernel: Any, origin: Any, convolve: bool) -> _Kernel:
    """The kernel of a 2-D image filtered along axes (0, 1)."""
    weights, source = _kernel_weights(kernel)
    _, origins = _check_filter_axes(None, origin, 2, weights.shape)
    return _make_kernel(weights, origins, source, convolve)


@functools.lru_cache(maxsize=64)
def _analysed_factors(
    shape: tuple[int, int], data: bytes
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """:func:`kernelfactor.analyze`'s factors of a float64 kernel, cached.

    Filtering many images (or dask chunks) with one kernel analyses it once.
    """
    from ._svd import analyze

    weights = np.frombuffer(data, dtype=np.float64).reshape(shape)
    out = []
    for c, r in analyze(weights).factors:
        c, r = np.array(c, dtype=np.float64), np.array(r, dtype=np.float64)
        c.flags.writeable = r.flags.writeable = False
        out.append((c, r))
    return tuple(out)


def _terms(kern: _Kernel) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rank-1 terms (column, row) of the scaled correlation kernel.

    Each column is scaled by a power of two into [1/2, 1) and its row carries
    the rest, so every 1-D weight vector is well above ndimage's absolute
    thresholds and exact symmetry is kept.
    """
    if kern.is_complex:
        return _complex_terms(kern.weights)
    flip = kern.flip
    if kern.source is not None and hasattr(kern.source, "factors"):
        raw = [(np.asarray(c, float), np.asarray(r, float)) for c, r in kern.source.factors]
        scale = kern.exponent
    elif kern.source is not None:
        raw = [(np.asarray(c, float), np.asarray(r, float)) for c, r in kern.source.terms]
        scale = kern.exponent
    else:
        # The weights are already reversed (convolve) and scaled.
        w = kern.weights
        raw = list(_analysed_factors(w.shape, w.tobytes()))
        scale, flip = 0, False
    out = []
    for c, r in raw:
        if flip:
            c, r = c[::-1], r[::-1]
        top = float(np.max(np.abs(c)))
        if top == 0.0 or not np.any(r):
            continue
        j = -int(np.frexp(top)[1])
        out.append((_snap_symmetry(np.ldexp(c, j)), _snap_symmetry(np.ldexp(r, scale - j))))
    return out


def _snap_symmetry(v: np.ndarray) -> np.ndarray:
    """Make an odd-length vector exactly even or odd when it is so up to rounding.

    ndimage's 1-D passes run with half the multiplications on exactly
    (anti)symmetric weights.  A kernel symmetric up to rounding (a Gaussian
    sampled with ``np.linspace``) has factors that are not exactly so; moving
    each weight by at most ``4 * len(v) * eps * max|v|`` (rounding level, the
    size of the SVD's own errors) gives the fast path.
    """
    n = v.size
    if n < 3 or n % 2 == 0:
        return v
    tol = 4 * n * _EPS * float(np.max(np.abs(v)))
    flipped = v[::-1]
    half = n // 2
    if np.max(np.abs(v - flipped)) <= tol:
        out = 0.5 * (v + flipped)
        out[n - half :] = out[:half][::-1]
        return out
    if np.max(np.abs(v + flipped)) <= tol:
        out = 0.5 * (v - flipped)
        out[n - half :] = -out[:half][::-1]
        out[half] = 0.0
        return out
    return v


def _symmetry(weights: np.ndarray) -> int:
    """ndimage's classification of 1-D weights: 1 symmetric, -1 antisymmetric, 0 neither."""
    size = weights.size
    if size % 2 == 0:
        return 0
    half = size // 2
    left, right = weights[:half][::-1], weights[half + 1 :]
    if np.all(np.abs(right - left) <= _EPS):
        return 1
    if np.all(np.abs(right + left) <= _EPS):
        return -1
    return 0


# ---------------------------------------------------------------------------
# The three methods (on numpy arrays, already in the result dtype)
# ---------------------------------------------------------------------------


def _pass_order(axes: tuple[int, int]) -> tuple[int, int]:
    """Which kernel axis (0 or 1) runs first: the outer image axis."""
    return (0, 1) if axes[0] < axes[1] else (1, 0)


def _direct(
    x: np.ndarray,
    out: np.ndarray,
    kern: _Kernel,
    axes: tuple[int, int],
    mode: str,
    cval: float,
    keep: tuple[int, slice] | None,
) -> None:
    from scipy import ndimage  # imported on first use: it is most of kernelfactor's import time

    weights, origin = kern.weights, kern.origin
    if axes[0] > axes[1]:
        # ndimage lays the weights' axes along the image axes in increasing order.
        weights, origin, axes = weights.T, origin[::-1], axes[::-1]
    if keep is None:
        ndimage.correlate(x, weights, output=out, mode=mode, cval=cval, origin=origin, axes=axes)
        return
    tmp = ndimage.correlate(
        x, weights, output=out.dtype, mode=mode, cval=cval, origin=origin, axes=axes
    )
    out[...] = _take(tmp, keep)


def _take(a: np.ndarray, keep: tuple[int, slice]) -> np.ndarray:
    index = [slice(None)] * a.ndim
    index[keep[0]] = keep[1]
    return a[tuple(index)]


def _separable(
    x: np.ndarray,
    out: np.ndarray,
    terms: list[tuple[np.ndarray, np.ndarray]],
    kern: _Kernel,
    axes: tuple[int, int],
    mode: str,
    cval: float,
    keep: tuple[int, slice] | None,
) -> None:
    from scipy import ndimage

    first, second = _pass_order(axes)
    if not terms:
        out[...] = 0
        return
    constant = mode in ("constant", "grid-constant")
    tmp: np.ndarray | None = None
    acc = np.empty(out.shape, dtype=out.dtype) if len(terms) > 1 else None
    for t, pair in enumerate(terms):
        w1, w2 = pair[first], pair[second]
        dst = out if t == 0 or acc is None else acc
        if w1.size == 1:
            # A one-tap pass is a product: fold it into the other pass.
            src = x if keep is None else _take(x, keep)
            ndimage.correlate1d(
                src, w2 * w1[0], axis=axes[second], output=dst, mode=mode, cval=cval,
                origin=kern.origin[second],
            )
        elif w2.size == 1 and keep is None:
            ndimage.correlate1d(
                x, w1 * w2[0], axis=axes[first], output=dst, mode=mode, cval=cval,
                origin=kern.origin[first],
            )
        else:
            if tmp is None:
                tmp = np.empty(x.shape, dtype=out.dtype)
            w1_only = w1 * w2[0] if w2.size == 1 else w1
            ndimage.correlate1d(
                x, w1_only, axis=axes[first], output=tmp, mode=mode, cval=cval,
                origin=kern.origin[first],
            )
            src = tmp if keep is None else _take(tmp, keep)
            if w2.size == 1:
                dst[...] = src
            else:
                # Outside the image the first pass left cval * sum(w1), not cval.
                cval2 = cval * float(np.sum(w1)) if constant else cval
                ndimage.correlate1d(
                    src, w2, axis=axes[second], output=dst, mode=mode, cval=cval2,
                    origin=kern.origin[second],
                )
        if t > 0:
            np.add(out, dst, out=out)


def _fft(
    x: np.ndarray,
    out: np.ndarray,
    kern: _Kernel,
    axes: tuple[int, int],
    mode: str,
    cval: float,
    workers: int,
) -> None:
    from scipy import fft as sfft

    m, n = kern.shape
    pad = [(0, 0)] * x.ndim
    for k, (size, o) in enumerate(zip((m, n), kern.origin, strict=True)):
        before = size // 2 + o
        pad[axes[k]] = (before, size - 1 - before)
    np_mode = _PAD_MODES[mode]
    if np_mode == "constant":
        xp = np.pad(x, pad, mode="constant", constant_values=cval)
    else:
        xp = np.pad(x, pad, mode=np_mode)  # type: ignore[call-overload]
    fshape = [sfft.next_fast_len(xp.shape[a], real=True) for a in axes]
    # Correlation = convolution with the reversed kernel; reversed weights
    # shifted by (m - 1, n - 1) put the valid part at [m - 1 :, n - 1 :].
    wshape = [1] * x.ndim
    wshape[axes[0]], wshape[axes[1]] = m, n
    w = kern.weights if axes[0] < axes[1] else kern.weights.T
    w = np.ascontiguousarray(w[::-1, ::-1])
    w = w.reshape(wshape).astype(out.dtype, copy=False)
    sorted_axes = tuple(sorted(axes))
    ax_shape = [fshape[axes.index(a)] for a in sorted_axes]
    spec_x = sfft.rfftn(xp, s=ax_shape, axes=sorted_axes, workers=workers)
    spec_w = sfft.rfftn(w, s=ax_shape, axes=sorted_axes, workers=workers)
    spec_x *= spec_w
    full = sfft.irfftn(spec_x, s=ax_shape, axes=sorted_axes, workers=workers)
    index = [slice(None)] * x.ndim
    for a, size in zip(axes, (m, n), strict=True):
        index[a] = slice(size - 1, size - 1 + x.shape[a])
    out[...] = full[tuple(index)]


# ---------------------------------------------------------------------------
# Strips over a thread pool
# ---------------------------------------------------------------------------


def _halo(kern: _Kernel, k: int) -> tuple[int, int]:
    """Input cells read before and after each output along kernel axis `k`."""
    size = kern.shape[k]
    before = size // 2 + kern.origin[k]
    return before, size - 1 - before


def _plan_strips(
    shape: tuple[int, ...], axes: tuple[int, int], kern: _Kernel, workers: int, method: str
) -> tuple[int, int, tuple[int, int]]:
    """(split axis, number of strips, halo) for a thread-parallel run; 1 strip: no split."""
    total = math.prod(shape)
    if workers < 2 or method == "fft" or total < MIN_SPLIT_ELEMENTS:
        return -1, 1, (0, 0)
    first = _pass_order(axes)[0]
    outer_kernel_axis = axes[first]
    # A batch / channel axis outside the kernel axes splits without halos.
    for a in range(outer_kernel_axis):
        if a not in axes and shape[a] >= workers:
            return a, workers, (0, 0)
    before, after = _halo(kern, first)
    length = shape[outer_kernel_axis]
    min_rows = max(MIN_STRIP_LENGTH, 4 * (before + after), before + after + 1)
    strips = min(workers, length // min_rows)
    if strips < 2:
        return -1, 1, (0, 0)
    return outer_kernel_axis, strips, (before, after)


def _run_split(
    x: np.ndarray,
    out: np.ndarray,
    split: tuple[int, int, tuple[int, int]],
    mode: str,
    cval: float,
    body: Callable[[np.ndarray, np.ndarray, tuple[int, slice] | None], None],
) -> None:
    axis, strips, (before, after) = split
    length = x.shape[axis]
    bounds = np.linspace(0, length, strips + 1).round().astype(int)

    def index(a: np.ndarray, sl: slice) -> np.ndarray:
        ix = [slice(None)] * a.ndim
        ix[axis] = sl
        return a[tuple(ix)]

    def job(i: int) -> None:
        a, b = int(bounds[i]), int(bounds[i + 1])
        dst = index(out, slice(a, b))
        if before == 0 and after == 0:
            body(index(x, slice(a, b)), dst, None)
            return
        lo, hi = a - before, b + after
        if mode in _WRAP_MODES and (lo < 0 or hi > length):
            # The halo wraps to the far side of the image: gather it.
            src = np.take(x, np.arange(lo, hi) % length, axis=axis)
            body(src, dst, (axis, slice(before, before + b - a)))
            return
        # Elsewhere the strip's own border is the image's border, and the
        # extension ndimage builds there reads only cells inside the strip.
        clo, chi = max(lo, 0), min(hi, length)
        body(index(x, slice(clo, chi)), dst, (axis, slice(a - clo, b - clo)))

    with ThreadPoolExecutor(max_workers=strips) as pool:
        for f in [pool.submit(job, i) for i in range(strips)]:
            f.result()


# ---------------------------------------------------------------------------
# The cost model
# ---------------------------------------------------------------------------


def _features(
    shape: tuple[int, ...],
    axes: tuple[int, int],
    kern: _Kernel,
    terms: list[tuple[np.ndarray, np.ndarray]] | None,
) -> dict[str, dict[str, float]]:
    """Counts per method that the calibrated constants multiply (see `_calibrate`)."""
    from scipy.fft import next_fast_len

    total = float(math.prod(shape))
    m, n = kern.shape
    last = len(shape) - 1
    feats: dict[str, dict[str, float]] = {}
    nnz = int(np.count_nonzero(np.abs(kern.weights) > _EPS))
    feats["direct"] = {"direct_tap": total * nnz, "direct_px": total}
    if terms is not None:
        taps = pairs = inner = outer = 0.0
        for pair in terms:
            for k in (0, 1):
                w = pair[k]
                if w.size == 1:
                    continue  # folded into the other pass
                if _symmetry(w):
                    pairs += (w.size + 1) // 2
                else:
                    taps += w.size
                if axes[k] == last:
                    inner += 1
                else:
                    outer += 1
        extra = max(len(terms) - 1, 0) + (1 if kern.exponent else 0)
        feats["separable"] = {
            "sep_tap": total * taps,
            "sep_pair": total * pairs,
            "sep_inner": total * inner,
            "sep_outer": total * outer,
            "acc_px": total * extra,
        }
    batch = total / (shape[axes[0]] * shape[axes[1]])
    p = float(
        next_fast_len(shape[axes[0]] + m - 1, real=True)
        * next_fast_len(shape[axes[1]] + n - 1, real=True)
    )
    feats["fft"] = {
        "fft_nlogn": (2 * batch + 1) * p * math.log2(max(p, 2.0)),
        "fft_px": batch * p,
    }
    return feats


def _features_for(
    image_shape: tuple[int, ...], kernel: Any, *, axes: Any = (-2, -1), convolve: bool = False
) -> dict[str, dict[str, float]]:
    """The cost-model counts of filtering an image of `image_shape` with `kernel`."""
    raw, source = _kernel_weights(kernel)
    ax, origins = _check_filter_axes(axes, 0, len(image_shape), raw.shape)
    kern = _make_kernel(raw, origins, source, convolve)
    return _features(tuple(image_shape), ax, kern, _terms(kern))


def _predict(feats: dict[str, dict[str, float]]) -> dict[str, float]:
    from ._calibrate import load_constants

    const = load_constants()
    return {
        method: float(sum(const.get(name, 0.0) * value for name, value in f.items()))
        for method, f in feats.items()
    }


def _multiplications(
    shape: tuple[int, ...], axes: tuple[int, int], kshape: tuple[int, int], rank: int | None
) -> dict[str, float]:
    from ._cost import filter_cost

    hw = (shape[axes[0]], shape[axes[1]])
    batch = math.prod(shape) // (hw[0] * hw[1])
    out = {
        "direct": filter_cost(hw, kshape, method="direct").multiplications * batch,
        "fft": filter_cost(hw, kshape, method="fft").multiplications * batch,
    }
    if rank:
        out["separable"] = (
            filter_cost(hw, kshape, method="separable", rank=rank).multiplications * batch
        )
    return {k: float(v) for k, v in out.items()}


# ---------------------------------------------------------------------------
# Dispatch: exact integers, non-finite images, complex numbers, casting
# ---------------------------------------------------------------------------

_CONSTANT_MODES = ("constant", "grid-constant")


def _exact_scale(img: np.ndarray, kern: _Kernel, mode: str, cval: float) -> float | None:
    """M = max |extended image| when ndimage's result is exact integers, else None.

    ndimage sums in double precision: with integer image values (of any real
    dtype), integer weights and (constant modes) an integer `cval`, every
    partial sum is an integer of magnitude at most :math:`M \\sum |w|`, exact
    below :math:`2^{53}`.
    """
    if img.dtype.kind not in "biuf" or kern.is_complex or img.size == 0:
        return None
    w = kern.unscaled()
    if not np.array_equal(w, np.round(w)):
        return None
    constant = mode in _CONSTANT_MODES
    if constant and not float(cval).is_integer():
        return None
    if img.dtype.kind == "f":
        # a float image holding integers (a sample first: real data leave here cheaply)
        flat = img.reshape(-1)[:64] if img.flags.c_contiguous else img[(0,) * (img.ndim - 1)]
        if not np.array_equal(flat, np.rint(flat)) or not np.array_equal(img, np.rint(img)):
            return None
        top = float(np.max(np.abs(img)))
    elif img.dtype.kind == "b":
        top = 1.0
    else:
        top = float(max(abs(int(img.max())), abs(int(img.min()))))
    if constant:
        top = max(top, abs(float(cval)))
    if not top * float(np.sum(np.abs(w))) < 2.0**53:
        return None
    return top


def _rounding_bound(
    method: str,
    kern: _Kernel,
    terms: list[tuple[np.ndarray, np.ndarray]] | None,
    shape: tuple[int, ...],
    axes: tuple[int, int],
    top: float,
) -> float:
    """An upper bound on the floating-point error of `method` in one output (float64).

    ``separable``: every output is :math:`\\sum_t \\sum_i c_{ti} \\sum_j r_{tj} x`,
    a sum of at most :math:`m + n + r` rounded operations per product path, so
    the error is at most :math:`\\gamma_{m+n+2r} M \\sum_t \\|c_t\\|_1 \\|r_t\\|_1`
    plus the factorisation's own residual :math:`M \\sum |W - \\sum_t c_t r_t^T|`.
    ``fft``: Higham (Accuracy and Stability, 2nd ed., 24.1): three transforms of
    :math:`P` points and one product err by at most
    :math:`(3\\log_2 P + 2)\\,\\eta\\,\\|\\tilde x\\|_2 \\|w\\|_1` in 2-norm
    (:math:`\\eta \\approx 5u`), with :math:`\\|\\tilde x\\|_2 \\le \\sqrt P M`.
    Both are taken with a safety factor of 4.
    """
    w = kern.unscaled()
    if method == "separable":
        assert terms is not None
        scale = 2.0**-kern.exponent
        recon = np.zeros(kern.shape)
        mass = 0.0
        for c, r in terms:
            recon += np.outer(c, r) * scale
            mass += float(np.sum(np.abs(c)) * np.sum(np.abs(r))) * scale
        m, n = kern.shape
        gamma = (m + n + 2 * len(terms) + 4) * _EPS
        return 4.0 * top * (gamma * mass + float(np.sum(np.abs(w - recon))))
    from scipy.fft import next_fast_len

    m, n = kern.shape
    p = float(
        next_fast_len(shape[axes[0]] + m - 1, real=True)
        * next_fast_len(shape[axes[1]] + n - 1, real=True)
    )
    eta = 5.0 * _EPS
    return 4.0 * (3.0 * math.log2(max(p, 2.0)) + 2.0) * eta * math.sqrt(p) * top * float(
        np.sum(np.abs(w))
    )


def _all_finite(x: np.ndarray) -> bool:
    if x.dtype.kind not in "fc":
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(x)):  # one cheap pass; NaN and Inf reach the sum
            return True
    return bool(np.isfinite(x).all())  # the sum may have overflowed


def _cast_into(out: np.ndarray, src: np.ndarray) -> None:
    """Write float results into `out` with ndimage's casting (C casts, as its loops do)."""
    if out.dtype.kind in "fc":
        with np.errstate(over="ignore", invalid="ignore"):
            np.copyto(out, src, casting="unsafe")
        return
    from scipy import ndimage

    # A one-tap identity pass: ndimage's own double -> integer conversion.
    ndimage.correlate1d(src, np.ones(1), axis=-1, output=out, mode="constant")


def _work_dtype(img: np.ndarray, out_dtype: np.dtype) -> np.dtype:
    """float32 where both ends are float32 (kernelfactor's float32 path), else float64."""
    if img.dtype.kind == "f" and img.dtype.itemsize <= 4 and out_dtype == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _run_real(
    img: np.ndarray,
    out: np.ndarray,
    kern: _Kernel,
    ax: tuple[int, int],
    mode: str,
    cval: float,
    method: str,
    n_workers: int,
    terms: list[tuple[np.ndarray, np.ndarray]] | None,
    exact_top: float | None,
) -> tuple[str, int, int, str | None]:
    """Filter a real image with a real kernel into `out`: (method run, workers, strips, note)."""
    note = None
    round_result = False
    if method != "direct" and exact_top is not None:
        if method == "separable" and terms is None:
            terms = _terms(kern)
        if _rounding_bound(method, kern, terms, img.shape, ax, exact_top) < 0.5:
            round_result = True
        else:
            method = "direct"
            note = "integer data too large to round the float result exactly"
    if method == "separable" and terms is None:
        terms = _terms(kern)
    if (
        method == "direct"
        and kern.exponent == 0
        and _ndimage_dtype(img.dtype)
        and _ndimage_dtype(out.dtype)
    ):
        # ndimage itself reads the input and writes the output: its numbers, bit for bit.
        x = img
        target = out
        if np.may_share_memory(out, img):
            target = np.empty(out.shape, out.dtype)
    else:
        work = np.dtype(np.float64) if round_result else _work_dtype(img, out.dtype)
        x = img if img.dtype == work else img.astype(work)
        target = out
        if out.dtype != work or np.may_share_memory(out, img):
            target = np.empty(out.shape, work)
    split = _plan_strips(img.shape, ax, kern, n_workers, method)
    if method == "fft":
        _fft(x, target, kern, ax, mode, cval, n_workers)
    else:
        if method == "separable":
            assert terms is not None
            sep_terms = terms

            def body(s: np.ndarray, d: np.ndarray, keep: tuple[int, slice] | None) -> None:
                _separable(s, d, sep_terms, kern, ax, mode, cval, keep)

        else:

            def body(s: np.ndarray, d: np.ndarray, keep: tuple[int, slice] | None) -> None:
                _direct(s, d, kern, ax, mode, cval, keep)

        if split[1] > 1:
            _run_split(x, target, split, mode, cval, body)
        else:
            body(x, target, None)
    if kern.exponent:
        np.multiply(target, np.float64(2.0**-kern.exponent), out=target, casting="same_kind")
    if round_result:
        np.rint(target, out=target)
    if target is not out:
        _cast_into(out, target)
    used_workers = n_workers if method == "fft" else split[1]
    return method, used_workers, split[1], note


def _complex_terms(weights: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rank-1 terms (column, row) of complex weights by the complex SVD.

    Terms with singular values at or below ``max(m, n) * eps * s_max`` are
    rounding noise and dropped; each column is scaled by a power of two into
    modulus [1/2, 1) and its row carries the rest.
    """
    u, s, vh = np.linalg.svd(weights)
    if s.size == 0 or s[0] == 0.0:
        return []
    tol = max(weights.shape) * _EPS * float(s[0])
    out = []
    for t in range(int(np.sum(s > tol))):
        c, r = u[:, t] * s[t], vh[t]
        j = -int(np.frexp(float(np.max(np.abs(c))))[1])
        out.append((np.ldexp(c.real, j) + 1j * np.ldexp(c.imag, j),
                    np.ldexp(r.real, -j) + 1j * np.ldexp(r.imag, -j)))
    return out


def _pass_complex(
    x: np.ndarray, w: np.ndarray, axis: int, mode: str, cval: complex, origin: int
) -> np.ndarray:
    """One complex 1-D correlation (no conjugation) from real ndimage passes."""
    from scipy import ndimage

    def corr(a: np.ndarray, v: np.ndarray, c: float) -> np.ndarray | None:
        if not np.any(v):
            return None
        return ndimage.correlate1d(a, v, axis=axis, mode=mode, cval=c, origin=origin,
                                   output=np.float64)

    xr = np.ascontiguousarray(x.real, dtype=np.float64)
    xi = np.ascontiguousarray(x.imag, dtype=np.float64) if x.dtype.kind == "c" else None
    wr, wi = np.ascontiguousarray(w.real), np.ascontiguousarray(w.imag)
    out = np.zeros(x.shape, np.complex128)
    parts: list[tuple[np.ndarray, float, complex, complex]] = [(xr, cval.real, 1.0, 1j)]
    if xi is not None:
        parts.append((xi, cval.imag, 1j, -1.0))
    for a, c, unit_r, unit_i in parts:
        y = corr(a, wr, c)
        if y is not None:
            out += unit_r * y
        y = corr(a, wi, c)
        if y is not None:
            out += unit_i * y
    return out


def _separable_complex(
    x: np.ndarray,
    out: np.ndarray,
    terms: list[tuple[np.ndarray, np.ndarray]],
    kern: _Kernel,
    ax: tuple[int, int],
    mode: str,
    cval: complex,
) -> None:
    acc = np.zeros(x.shape, np.complex128)
    constant = mode in _CONSTANT_MODES
    for c, r in terms:
        t1 = _pass_complex(x, c, ax[0], mode, cval, kern.origin[0])
        cval2 = cval * complex(np.sum(c)) if constant else cval
        acc += _pass_complex(t1, r, ax[1], mode, cval2, kern.origin[1])
    if kern.exponent:
        acc *= 2.0**-kern.exponent
    np.copyto(out, acc, casting="unsafe")


def _run_complex(
    img: np.ndarray,
    out: np.ndarray,
    kern: _Kernel,
    ax: tuple[int, int],
    mode: str,
    cval: complex,
    method: str,
    n_workers: int,
    terms: list[tuple[np.ndarray, np.ndarray]] | None,
) -> tuple[str, int, int, str | None]:
    """Complex image and/or weights: the complex SVD for separable, else real parts as ndimage.

    As ``ndimage``'s ``_complex_via_real_components``: for a complex image the
    real part is filtered with ``cval.real``, the imaginary part with ``cval.imag``.
    """
    if method == "separable" and kern.is_complex:
        exact = img.dtype.kind in "biu" and all(
            _exact_scale(img, kern.part(p), mode, cval.real) is not None
            for p in ("real", "imag")
        )
        if not exact:  # integer cases go through the real parts, rounded exactly
            if terms is None or not any(np.iscomplexobj(c) for c, _ in terms):
                terms = _complex_terms(kern.weights)
            _separable_complex(img, out, terms, kern, ax, mode, cval)
            return method, 1, 1, None
    if img.dtype.kind == "c":
        img_parts = [(img.real, cval.real, 1.0), (img.imag, cval.imag, 1j)]
    else:
        img_parts = [(img, cval.real, 1.0)]
    if kern.is_complex:
        kern_parts = [(kern.part("real"), 1.0), (kern.part("imag"), 1j)]
    else:
        kern_parts = [(kern, 1.0)]
    part_dtype = np.empty(0, out.dtype).real.dtype
    tmp = np.empty(out.shape, part_dtype)
    acc = np.zeros(out.shape, np.complex128)
    ran = method
    strips = used = 1
    note = None
    for xpart, c, unit_x in img_parts:
        for kpart, unit_k in kern_parts:
            if not np.any(kpart.weights):
                continue
            top = _exact_scale(xpart, kpart, mode, c)
            part_terms = _terms(kpart) if method == "separable" else None
            ran, used, strips, note = _run_real(
                xpart, tmp, kpart, ax, mode, c, method, n_workers, part_terms, top
            )
            acc += (unit_x * unit_k) * tmp
    np.copyto(out, acc, casting="unsafe")
    return ran, used, strips, note


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def _filter(
    input: Any,
    weights: Any,
    output: Any,
    mode: Any,
    cval: Any,
    origin: Any,
    *,
    convolve: bool,
    axes: Any,
    method: Any,
    workers: Any,
    return_info: bool,
) -> Any:
    if type(input).__module__.startswith("dask"):
        from ._large import dask_filter

        if output is not None or return_info:
            raise ValueError(
                "`output` and `return_info` are not supported for dask arrays (the result "
                "is lazy); call with a NumPy array for those."
            )
        return dask_filter(
            input, weights, convolve=convolve, mode=mode, cval=cval, origin=origin,
            method=method, axes=tuple(range(input.ndim)) if axes is None else axes,
        )
    method = _check_choice(method, APPLY_METHODS, "method")
    img = _as_filter_input(input)
    raw, source = _kernel_weights(weights)
    ax, origins = _check_filter_axes(axes, origin, img.ndim, raw.shape)
    kern = _make_kernel(raw, origins, source, convolve)
    complex_out = img.dtype.kind == "c" or kern.is_complex
    out = _output_array(output, img.shape, img.dtype, complex_out)
    if not isinstance(mode, str):
        raise NdimageRuntimeError(
            f"`mode` must be one boundary mode name (a sequence of modes is not supported "
            f"by correlate / convolve); got {_describe(mode)}."
        )
    try:
        mode = _check_mode(mode)
    except ValueError as exc:  # ndimage: RuntimeError('boundary mode not supported')
        raise NdimageRuntimeError(str(exc)) from None
    cv = _check_cval(cval, img.dtype.kind == "c")
    n_workers = _check_workers(workers)
    if img.size == 0:
        out[...] = 0
        if not return_info:
            return out
        return out, ApplyInfo(method="direct", requested=method, convolve=convolve,
                              note="empty image")

    exact_top = None if complex_out else _exact_scale(img, kern, mode, float(cv.real))
    terms: list[tuple[np.ndarray, np.ndarray]] | None = None
    if method == "separable" or method == "auto" or return_info:
        terms = _complex_terms(kern.weights) if kern.is_complex else _terms(kern)
    predicted: dict[str, float] = {}
    if method == "auto" or return_info:
        predicted = _predict(_features(img.shape, ax, kern, terms))
    note = None
    chosen = method
    if method == "auto":
        candidates = sorted(predicted)
        if exact_top is not None:
            # integers: only methods whose rounded result is provably ndimage's
            candidates = [
                m for m in candidates
                if m == "direct"
                or _rounding_bound(m, kern, terms, img.shape, ax, exact_top) < 0.5
            ]
        elif out.dtype.kind in "biu":
            candidates = ["direct"]  # truncation to integers: ndimage's sums, bit for bit
            note = "integer output: direct gives ndimage's truncation bit for bit"
        chosen = min(candidates, key=lambda k: predicted[k])
        if chosen != "direct" and not _all_finite(img):
            chosen = "direct"
            note = "the image holds NaN or Inf: direct gives ndimage's footprint"
    elif method == "fft" and not _all_finite(img):
        raise ValueError(
            "`method='fft'` would spread the image's NaN or Inf over the whole output; "
            "use method='direct' (ndimage's NaN propagation) or clean the image."
        )

    if complex_out:
        ran, used_workers, strips, why = _run_complex(
            img, out, kern, ax, mode, complex(cv), chosen, n_workers, terms
        )
    else:
        ran, used_workers, strips, why = _run_real(
            img, out, kern, ax, mode, float(cv.real), chosen, n_workers,
            None if kern.is_complex else terms, exact_top,
        )
    if not return_info:
        return out
    rank = len(terms) if terms is not None else None
    info = ApplyInfo(
        method=ran,
        requested=method,
        convolve=convolve,
        predicted_seconds=predicted,
        multiplications=_multiplications(img.shape, ax, kern.shape, rank),
        workers=used_workers,
        strips=strips,
        rank=rank,
        scale_exponent=kern.exponent,
        note=why or note,
    )
    return out, info


def _renamed_keywords(func: Callable[..., Any]) -> Callable[..., Any]:
    """Accept the names before scipy.ndimage's (``image=``, ``kernel=``) with a warning."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for old, new in (("image", "input"), ("kernel", "weights")):
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"pass `{new}=` only (`{old}=` is its deprecated name)")
                warnings.warn(
                    f"`{old}=` is deprecated; use `{new}=` (scipy.ndimage's name), or pass it "
                    "positionally.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
        return func(*args, **kwargs)

    return wrapper


_PARAMS_DOC = """
    Parameters
    ----------
    input : array_like or dask array
        At least 2-D.  Any dtype scipy.ndimage accepts: bool, integers,
        float32, float64, complex64, complex128, either byte order (and
        float16, read as float32).  A dask array gives a lazy dask array (see
        ``kernelfactor._large``).  The old name ``image=`` still works, with a
        DeprecationWarning.
    weights : str, array_like, Analysis or LowRankKernel
        A catalogue name, an ``(m, n)`` array of finite weights (real,
        complex or bool), an :func:`~kernelfactor.analyze` result (applied at
        its numerical rank by ``"separable"``) or a
        :func:`~kernelfactor.lowrank` result (its approximation is applied).
        Complex weights are conjugated by `correlate`, as ndimage (and
        ``np.correlate``) do.  The old name ``kernel=`` still works, with a
        DeprecationWarning.
    output : None, dtype or ndarray, optional
        As ndimage: None gives the input's dtype (complex when the input or
        the weights are; float16 gives float32); a dtype (``np.float64``,
        ``'f4'``) a new array of it; an array of the input's shape and any
        supported dtype is written in place and returned.  Results are
        computed in double precision (float32 for float32 in and out) and cast
        as ndimage casts (C casts: integers truncate and wrap).
    mode : str, optional
        Any scipy.ndimage boundary mode: 'constant', 'grid-constant',
        'grid-mirror', 'grid-wrap', 'mirror', 'nearest', 'reflect' (default),
        'wrap'.
    cval : float or complex, optional
        The value outside the image for the constant modes (finite); complex
        only for a complex `input` (real part for its real part, imaginary
        part for its imaginary part).
    origin : int or (int, int), optional
        ndimage's origin: ``-(size // 2) <= origin <= (size - 1) // 2`` per
        kernel axis.  As ndimage: for a 2-D image ``origin[i]`` belongs to
        image axis ``i``; with more dimensions ``origin[j]`` belongs to image
        axis ``axes[j]``.
    axes : int pair, optional
        The image axes the kernel runs along; negative values count from the
        end.  None means every axis (a 2-D image).  As ndimage, the kernel's
        rows run along the smaller of the two axes whatever their order.
    method : {'auto', 'direct', 'fft', 'separable'}, optional
        See the module notes; 'auto' picks the fastest by the calibrated cost
        model among the methods that give ndimage's numbers (only ``direct``
        for an image holding NaN or Inf, or an integer output whose exactness
        cannot be proven).
    workers : int, optional
        Threads; None or -1 means every core this process may use, ``-k``
        all but ``k - 1`` (scipy.fft's rule).  Results are bit-identical
        whatever the number.
    return_info : bool, optional
        Also return an :class:`ApplyInfo` saying which method ran.

    Returns
    -------
    ndarray, or (ndarray, ApplyInfo) with ``return_info=True``
        `output` itself when it was an array.

    Raises
    ------
    ValueError, TypeError
        For a bad argument; where scipy.ndimage raises ``RuntimeError`` (a
        sequence of the wrong length, an unknown mode, an unsupported dtype,
        an output of the wrong shape), the exception is also a
        ``RuntimeError`` (:class:`~kernelfactor.NdimageRuntimeError`,
        :class:`~kernelfactor.NdimageTypeError`).
"""


def correlate(
    input: Any,
    weights: Any,
    output: Any = None,
    mode: str = "reflect",
    cval: Any = 0.0,
    origin: Any = 0,
    *,
    axes: Any = None,
    method: str = "auto",
    workers: int | None = None,
    return_info: bool = False,
) -> Any:
    """Correlate an image with a kernel: ``scipy.ndimage.correlate``'s numbers, faster.
    {params}
    Notes
    -----
    .. math::

        y_i = \\sum_j w_j \\, x_{{i + j - \\lfloor m/2 \\rfloor - o}}

    per axis, with ``x`` extended by `mode`.  Results equal
    ``scipy.ndimage.correlate`` to rounding (bit for bit for ``direct``, and
    for every method when integer data make ndimage's result exact), except
    that weights below ndimage's absolute threshold :math:`2^{{-52}}` are not
    dropped.  The README lists every remaining difference.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> x = np.arange(30.0).reshape(5, 6)
    >>> k = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> y, info = correlate(x, k, None, "nearest", method="separable", return_info=True)
    >>> bool(np.allclose(y, ndimage.correlate(x, k, mode="nearest"), rtol=1e-12))
    True
    >>> info.method, info.rank
    ('separable', 1)
    >>> tiny = np.full((3, 3), 1e-17)  # ndimage drops these weights and returns zeros
    >>> float(correlate(np.ones((4, 4)), tiny, method="direct")[0, 0])
    9e-17

    Integer images give the input's dtype, as ndimage; integer weights give
    ndimage's integers by every method:

    >>> img = np.arange(20, dtype=np.uint8).reshape(4, 5)
    >>> y = correlate(img, np.ones((3, 3), int), method="fft")
    >>> y.dtype, bool(np.array_equal(y, ndimage.correlate(img, np.ones((3, 3), int))))
    (dtype('uint8'), True)
    >>> correlate(img, np.ones((3, 3)), output=np.float64)[0, :3]
    array([18., 24., 33.])
    """
    return _filter(
        input, weights, output, mode, cval, origin, convolve=False, axes=axes, method=method,
        workers=workers, return_info=return_info,
    )


def convolve(
    input: Any,
    weights: Any,
    output: Any = None,
    mode: str = "reflect",
    cval: Any = 0.0,
    origin: Any = 0,
    *,
    axes: Any = None,
    method: str = "auto",
    workers: int | None = None,
    return_info: bool = False,
) -> Any:
    """Convolve an image with a kernel: ``scipy.ndimage.convolve``'s numbers, faster.
    {params}
    Notes
    -----
    As ndimage: correlation with the weights reversed and the origin
    negated, one less along axes of even length; complex weights are not
    conjugated.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> x = np.arange(42.0).reshape(6, 7)
    >>> k = np.outer([1.0, 3.0], [1.0, 2.0, 5.0, 1.0])  # even sizes
    >>> y = convolve(x, k, method="fft", mode="wrap", origin=(0, -2))
    >>> bool(np.allclose(y, ndimage.convolve(x, k, mode="wrap", origin=(0, -2)), rtol=1e-12))
    True
    >>> z = x * (1 + 2j)  # complex images and weights, every method
    >>> bool(np.allclose(convolve(z, k * 1j, method="separable"), ndimage.convolve(z, k * 1j)))
    True
    >>> vol = np.arange(60.0).reshape(3, 4, 5)  # the kernel's rows run along axis 0
    >>> bool(np.allclose(convolve(vol, k, axes=(2, 0)), ndimage.convolve(vol, k, axes=(2, 0))))
    True
    """
    return _filter(
        input, weights, output, mode, cval, origin, convolve=True, axes=axes, method=method,
        workers=workers, return_info=return_info,
    )


correlate.__doc__ = (correlate.__doc__ or "").format(params=_PARAMS_DOC)
convolve.__doc__ = (convolve.__doc__ or "").format(params=_PARAMS_DOC)
correlate = _renamed_keywords(correlate)
convolve = _renamed_keywords(convolve)
