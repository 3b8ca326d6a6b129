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
footprint (non-zero weights; ndimage skips zero weights) covers it.
``"separable"`` spreads it like ndimage's own separable filters
(``gaussian_filter``): over the rectangle of the factors, zero taps included
(:math:`0 \cdot \infty` is NaN).  ``"fft"`` would spread it over the whole
image, so it refuses non-finite images; ``"auto"`` then picks another method.

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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import (
    _as_image,
    _as_kernel,
    _check_choice,
    _check_mode,
    _check_origin,
    _check_positive_int,
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
# Argument handling
# ---------------------------------------------------------------------------


def _normalize_axes(axes: Any, ndim: int) -> tuple[int, int]:
    try:
        items = tuple(axes)
    except TypeError:
        items = ()
    if len(items) != 2 or any(
        isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items
    ):
        raise ValueError(
            f"`axes` must be a pair of integers, the image axes the kernel's rows and "
            f"columns run along; got {_describe(axes)}."
        )
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"`axes` {tuple(int(v) for v in items)} is out of range for an image with "
                f"{ndim} dimensions; use axes in [{-ndim}, {ndim - 1}]."
            )
        out.append(int(a) % ndim)
    if out[0] == out[1]:
        raise ValueError(
            f"`axes` must name two different axes; got {tuple(int(v) for v in items)}."
        )
    return out[0], out[1]


def _normalize_origin(origin: Any, shape: tuple[int, int]) -> tuple[int, int]:
    if isinstance(origin, numbers.Integral) and not isinstance(origin, bool):
        pair: tuple[Any, ...] = (origin, origin)
    elif isinstance(origin, Sequence) or isinstance(origin, np.ndarray):
        pair = tuple(origin)
        if len(pair) != 2:
            raise ValueError(
                f"`origin` must be an integer or a pair of integers (one per axis in `axes`); "
                f"got {_describe(origin)}."
            )
    else:
        raise TypeError(
            f"`origin` must be an integer or a pair of integers (one per axis in `axes`); "
            f"got {_describe(origin)}."
        )
    return (
        _check_origin(pair[0], shape[0], "origin[0]"),
        _check_origin(pair[1], shape[1], "origin[1]"),
    )


def _check_cval(cval: Any) -> float:
    if isinstance(cval, bool) or not isinstance(cval, numbers.Real):
        raise TypeError(f"`cval` must be a real number; got {_describe(cval)}.")
    value = float(cval)
    if not math.isfinite(value):
        raise ValueError(
            f"`cval` must be finite; got {value!r}. To mark outside pixels, filter a "
            "finite-padded image and a mask separately."
        )
    return value


def _check_workers(workers: Any) -> int:
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    return _check_positive_int(workers, "workers")


def _result_dtype(image: np.ndarray) -> np.dtype:
    dtype = _image_dtype(image.dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(
            f"`image` of dtype {image.dtype} is not supported by scipy.ndimage; convert it "
            "with `image.astype(np.float64)`."
        )
    return dtype


def _check_output(output: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    if output is None:
        return None
    if not isinstance(output, np.ndarray):
        raise TypeError(
            f"`output` must be a NumPy array of shape {shape} and dtype {dtype}, or None; "
            f"got {_describe(output)}."
        )
    if output.shape != shape or output.dtype != dtype:
        raise ValueError(
            f"`output` must have the image's shape {shape} and the result dtype {dtype} "
            f"(float32 stays float32, everything else gives float64); got {_describe(output)}. "
            "Pass `output=None` to get a new array."
        )
    if not output.flags.writeable:
        raise ValueError("`output` is read-only; pass a writeable array or `output=None`.")
    return output


@dataclass(frozen=True)
class _Kernel:
    """A kernel ready for correlation: flipped for convolve, scaled by ``2**exponent``."""

    weights: np.ndarray
    origin: tuple[int, int]
    exponent: int
    source: Any  # what to take separable terms from (None: analyse `weights`)
    flip: bool

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.weights.shape[0]), int(self.weights.shape[1]))


def _scale_exponent(weights: np.ndarray) -> int:
    """E such that the largest weight times 2**E lies in [1/2, 1), or 0 when not needed."""
    top = float(np.max(np.abs(weights)))
    if top == 0.0 or top >= _SCALE_FLOOR:
        return 0
    return -int(np.frexp(top)[1])


def _prepare_kernel(kernel: Any, origin: Any, convolve: bool) -> _Kernel:
    from ._svd import BatchAnalysis

    if isinstance(kernel, BatchAnalysis):
        raise TypeError(
            f"`kernel` is an analysis of a stack of {len(kernel)} kernels; filter with one "
            "kernel at a time, e.g. `batch[i]` or `batch.kernels[i]`."
        )
    weights = _as_kernel(kernel)
    origins = _normalize_origin(origin, weights.shape)
    source = kernel if (hasattr(kernel, "factors") or hasattr(kernel, "terms")) else None
    if convolve:
        # ndimage: reverse the weights, negate the origin, one less for even sizes.
        weights = weights[::-1, ::-1]
        origins = (
            -origins[0] - (1 - weights.shape[0] % 2),
            -origins[1] - (1 - weights.shape[1] % 2),
        )
    exponent = _scale_exponent(weights)
    if exponent:
        weights = np.ldexp(weights, exponent)
    weights = np.ascontiguousarray(weights)
    return _Kernel(weights, origins, exponent, source, convolve)


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
    ax = _normalize_axes(axes, len(image_shape))
    kern = _prepare_kernel(kernel, 0, convolve)
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
# Public functions
# ---------------------------------------------------------------------------


def _filter(
    image: Any,
    kernel: Any,
    *,
    convolve: bool,
    mode: Any,
    cval: Any,
    origin: Any,
    method: Any,
    axes: Any,
    output: Any,
    workers: Any,
    return_info: bool,
) -> Any:
    if type(image).__module__.startswith("dask"):
        from ._large import dask_filter

        if output is not None or return_info:
            raise ValueError(
                "`output` and `return_info` are not supported for dask arrays (the result "
                "is lazy); call with a NumPy array for those."
            )
        return dask_filter(
            image, kernel, convolve=convolve, mode=mode, cval=cval, origin=origin,
            method=method, axes=axes,
        )
    method = _check_choice(method, APPLY_METHODS, "method")
    mode = _check_mode(mode)
    cval = _check_cval(cval)
    n_workers = _check_workers(workers)
    img = _as_image(image, min_ndim=2)
    dtype = _result_dtype(img)
    ax = _normalize_axes(axes, img.ndim)
    kern = _prepare_kernel(kernel, origin, convolve)
    out = _check_output(output, img.shape, dtype)
    x = img if img.dtype == dtype else img.astype(dtype)

    terms: list[tuple[np.ndarray, np.ndarray]] | None = None
    if method == "separable" or method == "auto" or return_info:
        terms = _terms(kern)
    predicted: dict[str, float] = {}
    if method == "auto" or return_info:
        predicted = _predict(_features(img.shape, ax, kern, terms))
    note = None
    chosen = method
    if method == "auto":
        chosen = min(sorted(predicted), key=lambda k: predicted[k])
        if chosen == "fft" and not np.isfinite(x).all():
            chosen = min(("direct", "separable"), key=lambda k: predicted[k])
            note = "the image holds NaN or Inf, which the FFT would spread everywhere"
    elif method == "fft" and not np.isfinite(x).all():
        raise ValueError(
            "`method='fft'` would spread the image's NaN or Inf over the whole output; "
            "use method='direct' (ndimage's NaN propagation) or clean the image."
        )

    target = out
    if target is None or np.shares_memory(target, img):
        target = np.empty(img.shape, dtype=dtype)
    split = _plan_strips(img.shape, ax, kern, n_workers, chosen)
    if chosen == "fft":
        _fft(x, target, kern, ax, mode, cval, n_workers)
    else:
        if chosen == "separable":
            assert terms is not None

            def body(s: np.ndarray, d: np.ndarray, keep: tuple[int, slice] | None) -> None:
                _separable(s, d, terms, kern, ax, mode, cval, keep)

        else:

            def body(s: np.ndarray, d: np.ndarray, keep: tuple[int, slice] | None) -> None:
                _direct(s, d, kern, ax, mode, cval, keep)

        if split[1] > 1:
            _run_split(x, target, split, mode, cval, body)
        else:
            body(x, target, None)
    if kern.exponent:
        np.multiply(target, np.float64(2.0**-kern.exponent), out=target, casting="same_kind")
    if out is not None and target is not out:
        out[...] = target
        target = out
    if not return_info:
        return target
    used_workers = n_workers if chosen == "fft" else split[1]
    rank = len(terms) if terms is not None else None
    info = ApplyInfo(
        method=chosen,
        requested=method,
        convolve=convolve,
        predicted_seconds=predicted,
        multiplications=_multiplications(img.shape, ax, kern.shape, rank),
        workers=used_workers,
        strips=split[1],
        rank=rank,
        scale_exponent=kern.exponent,
        note=note,
    )
    return target, info


_PARAMS_DOC = """
    Parameters
    ----------
    image : array_like or dask array
        At least 2-D; the kernel runs along `axes`, every other axis (channels,
        batch) is filtered independently.  float32 stays float32, float64
        stays float64, integer and bool images give float64; float16 gives
        float32.  Complex images are refused (filter ``.real`` and ``.imag``).
        A dask array gives a lazy dask array (see ``kernelfactor._large``).
    kernel : str, array_like, Analysis or LowRankKernel
        A catalogue name, an ``(m, n)`` array of real finite weights, an
        :func:`~kernelfactor.analyze` result (applied at its numerical rank by
        ``"separable"``) or a :func:`~kernelfactor.lowrank` result (its
        approximation is applied).
    mode : str
        Any scipy.ndimage boundary mode: 'constant', 'grid-constant',
        'grid-mirror', 'grid-wrap', 'mirror', 'nearest', 'reflect', 'wrap'.
    cval : float
        The value outside the image for the constant modes (finite).
    origin : int or (int, int)
        ndimage's origin, per axis in `axes`:
        ``-(size // 2) <= origin <= (size - 1) // 2``.
    method : {'auto', 'direct', 'fft', 'separable'}
        See the module notes; 'auto' picks the fastest by the calibrated cost
        model.
    axes : (int, int)
        The image axes the kernel's rows and columns run along, in that
        order.  For increasing axes this is ndimage's convention; ndimage
        ignores the order of `axes` for the weights (it does not for
        `origin`), kernelfactor does not: with reversed axes, pass
        ``kernel.T`` and the origin reversed to get ndimage's numbers.
    output : ndarray, optional
        Written in place; must have the image's shape and the result dtype.
    workers : int, optional
        Threads; None means every core this process may use.  Results are
        bit-identical whatever the number.
    return_info : bool
        Also return an :class:`ApplyInfo` saying which method ran.

    Returns
    -------
    ndarray, or (ndarray, ApplyInfo) with ``return_info=True``
"""


def correlate(
    image: Any,
    kernel: Any,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    origin: Any = 0,
    method: str = "auto",
    axes: Any = (-2, -1),
    output: np.ndarray | None = None,
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
    ``scipy.ndimage.correlate`` to rounding, except that weights below
    ndimage's absolute threshold :math:`2^{{-52}}` are not dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> x = np.arange(30.0).reshape(5, 6)
    >>> k = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> y, info = correlate(x, k, method="separable", mode="nearest", return_info=True)
    >>> bool(np.allclose(y, ndimage.correlate(x, k, mode="nearest"), rtol=1e-12))
    True
    >>> info.method, info.rank
    ('separable', 1)
    >>> tiny = np.full((3, 3), 1e-17)  # ndimage drops these weights and returns zeros
    >>> float(correlate(np.ones((4, 4)), tiny, method="direct")[0, 0])
    9e-17
    """
    return _filter(
        image, kernel, convolve=False, mode=mode, cval=cval, origin=origin, method=method,
        axes=axes, output=output, workers=workers, return_info=return_info,
    )


def convolve(
    image: Any,
    kernel: Any,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    origin: Any = 0,
    method: str = "auto",
    axes: Any = (-2, -1),
    output: np.ndarray | None = None,
    workers: int | None = None,
    return_info: bool = False,
) -> Any:
    """Convolve an image with a kernel: ``scipy.ndimage.convolve``'s numbers, faster.
    {params}
    Notes
    -----
    As ndimage: correlation with the weights reversed and the origin
    negated, one less along axes of even length.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> x = np.arange(42.0).reshape(6, 7)
    >>> k = np.outer([1.0, 3.0], [1.0, 2.0, 5.0, 1.0])  # even sizes
    >>> y = convolve(x, k, method="fft", mode="wrap", origin=(0, -2))
    >>> bool(np.allclose(y, ndimage.convolve(x, k, mode="wrap", origin=(0, -2)), rtol=1e-12))
    True
    """
    return _filter(
        image, kernel, convolve=True, mode=mode, cval=cval, origin=origin, method=method,
        axes=axes, output=output, workers=workers, return_info=return_info,
    )


correlate.__doc__ = (correlate.__doc__ or "").format(params=_PARAMS_DOC)
convolve.__doc__ = (convolve.__doc__ or "").format(params=_PARAMS_DOC)
