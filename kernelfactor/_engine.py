r"""The in-memory filter engine: separable, direct and FFT correlation on NumPy arrays.

Everything here works on checked arguments: a prepared kernel
(:class:`_Kernel`: flipped for convolve, scaled by a power of two), image axes,
a boundary mode name and ``cval``.  :mod:`kernelfactor._apply` checks the
arguments of the public functions; :mod:`kernelfactor._large` runs
:func:`filter_into` on every dask chunk.

The methods are one table, :data:`METHODS` (method -> its engine function,
whether it runs on strips over threads, its floating-point error bound); their
costs are :data:`kernelfactor._costmodel.METHOD_COSTS`.  See
:mod:`kernelfactor._apply` for what each method computes and how ndimage's
traps are handled.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from . import _compiled  # light: numba itself is imported on first use
from ._costmodel import (
    _EPS,
    METHOD_COSTS,
    FilterProblem,
    MethodCost,
    Terms,
    _fast_shape,
    predict,
)
from ._svd import Analysis, analyze
from ._tensor import _ldexp
from ._validation import BOUNDARY_MODES, _cast_bounds

__all__ = ["METHODS", "MIN_SPLIT_ELEMENTS", "MIN_STRIP_LENGTH", "Method", "Outcome", "filter_into"]

#: Images with fewer elements are filtered in one call (threads do not pay).
MIN_SPLIT_ELEMENTS: int = 1 << 17

#: Every strip gets at least this many rows along the split axis (and at
#: least four times the kernel's extent there, so that halos stay small).
MIN_STRIP_LENGTH: int = 64

_SCALE_FLOOR = 2.0**-8  # rescale kernels whose largest weight is below this


def _ndimage_dtype(dt: np.dtype) -> bool:
    """True if scipy.ndimage's C loops read and write this dtype."""
    return dt.kind in "biu" or (dt.kind == "f" and dt.itemsize in (4, 8))


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
        return _ldexp(self.weights, -self.exponent) if self.exponent else self.weights

    @functools.cached_property
    def integer_weights(self) -> bool:
        """Whether every (unscaled) weight is an integer (once per prepared kernel)."""
        return _integer_weights(self.unscaled())

    def halo(self, k: int) -> tuple[int, int]:
        """Input cells read before and after each output along kernel axis `k`.

        ndimage's correlation reads inputs ``i - before .. i + after`` for
        output ``i``, with ``before = size // 2 + origin`` (both >= 0 by its
        origin rule; convolve's flip and origin are already applied here).

        >>> _make_kernel(np.ones((5, 4)), (0, 1), None, False).halo(1)
        (3, 0)
        >>> _make_kernel(np.ones((5, 4)), (0, 0), None, True).halo(1)
        (1, 2)
        """
        return _halo(self.shape[k], self.origin[k])

    def part(self, which: str) -> _Kernel:
        """The real or imaginary part as a real kernel (its own scale)."""
        w = self.unscaled()
        w = np.ascontiguousarray(w.real if which == "real" else w.imag)
        return _scaled_kernel(w, self.origin, None, False)


def _integer_weights(w: np.ndarray) -> bool:
    return w.dtype.kind != "c" and bool(np.array_equal(w, np.round(w)))


def _halo(size: int, origin: int) -> tuple[int, int]:
    """Cells (before, after) a correlation of length `size` and ndimage `origin` reads."""
    before = size // 2 + origin
    return before, size - 1 - before


@dataclass(frozen=True)
class _NdKernel:
    """An n-D kernel (d >= 3 axes) ready for correlation, with its rank-1 terms.

    `weights` and every term are the weights as applied, unconjugated:
    output :math:`y_i = \\sum_j w_j x_{i + j - h}`, so a complex correlate holds
    the conjugated weights (as ndimage applies them) and convolve the flipped
    ones.  `terms` is None when the kernel has no separable form to apply.
    """

    weights: np.ndarray
    origin: tuple[int, ...]
    terms: tuple[tuple[np.ndarray, ...], ...] | None
    exponent: int = 0  # never scaled (ApplyInfo reads it as the 2-D kernel's)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.weights.shape)

    @property
    def is_complex(self) -> bool:
        return self.weights.dtype.kind == "c"

    def unscaled(self) -> np.ndarray:
        return self.weights

    @functools.cached_property
    def integer_weights(self) -> bool:
        """Whether every weight is an integer (once per prepared kernel)."""
        return _integer_weights(self.weights)

    def halo(self, k: int) -> tuple[int, int]:
        """Input cells read before and after each output along kernel axis `k`.

        >>> _make_nd_kernel(np.ones((5, 4, 3)), (0, 0, 0), None, True).halo(1)
        (1, 2)
        """
        return _halo(self.shape[k], self.origin[k])


def _make_nd_kernel(
    weights: np.ndarray, origins: tuple[int, ...], terms: Any, convolve: bool
) -> _NdKernel:
    """The applied weights and terms of n-D `weights` (ndimage's flip and conjugation)."""
    raw = None if terms is None else [tuple(np.asarray(f) for f in t) for t in terms]
    if convolve:
        # ndimage: reverse the weights, negate the origin, one less for even sizes.
        weights = weights[(slice(None, None, -1),) * weights.ndim]
        origins = tuple(-o - (1 - n % 2) for o, n in zip(origins, weights.shape, strict=True))
        if raw is not None:
            raw = [tuple(f[::-1] for f in t) for t in raw]
    elif weights.dtype.kind == "c":
        weights = weights.conj()  # ndimage (as np.correlate) conjugates for correlate
        if raw is not None:
            raw = [tuple(np.conj(f) for f in t) for t in raw]
    frozen = None if raw is None else tuple(
        tuple(np.ascontiguousarray(f) for f in t) for t in raw)
    return _NdKernel(np.ascontiguousarray(weights), tuple(int(o) for o in origins), frozen)


#: A prepared kernel: 2-D, or n-D (d >= 3 axes).
AnyKernel = _Kernel | _NdKernel


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
        weights = _ldexp(weights, exponent)  # complex weights too
    return _Kernel(np.ascontiguousarray(weights), origins, exponent, source, flip)


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


@functools.lru_cache(maxsize=64)
def _analysed_factors(
    shape: tuple[int, int], data: bytes
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """:func:`kernelfactor.analyze`'s factors of a float64 kernel, cached.

    Filtering many images (or dask chunks) with one kernel analyses it once.
    """
    weights = np.frombuffer(data, dtype=np.float64).reshape(shape)
    out = []
    analysis = analyze(weights)
    assert isinstance(analysis, Analysis)  # 2-D weights: one kernel
    for c, r in analysis.factors:
        c, r = np.array(c, dtype=np.float64), np.array(r, dtype=np.float64)
        c.flags.writeable = r.flags.writeable = False
        out.append((c, r))
    return tuple(out)


def _terms(kern: _Kernel) -> Terms:
    """Rank-1 terms (column, row) of the scaled correlation kernel.

    Each column is scaled by a power of two into [1/2, 1) and its row carries
    the rest, so every 1-D weight vector is well above ndimage's absolute
    thresholds and exact symmetry is kept.
    """
    if kern.is_complex:
        return _complex_terms(kern.weights)
    if kern.source is None:
        # The weights are already reversed (convolve) and scaled.
        w = kern.weights
        return list(_weight_terms(w.shape, w.tobytes()))
    if hasattr(kern.source, "factors"):
        raw = [(np.asarray(c, float), np.asarray(r, float)) for c, r in kern.source.factors]
    else:
        raw = [(np.asarray(c, float), np.asarray(r, float)) for c, r in kern.source.terms]
    return _scaled_terms(raw, kern.exponent, kern.flip)


@functools.lru_cache(maxsize=64)
def _weight_terms(shape: tuple[int, int], data: bytes) -> tuple[tuple[np.ndarray, ...], ...]:
    """:func:`_terms` of float64 weights analysed here, cached (read-only arrays)."""
    out = _scaled_terms(list(_analysed_factors(shape, data)), 0, False)
    for pair in out:
        for v in pair:
            v.flags.writeable = False
    return tuple(out)


def _scaled_terms(raw: Sequence[tuple[np.ndarray, ...]], scale: int, flip: bool) -> Terms:
    """Each column scaled into [1/2, 1) by a power of two, its row times ``2**scale`` and
    the rest; reversed when `flip`; (anti)symmetry snapped (:func:`_snap_symmetry`)."""
    out: Terms = []
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



# ---------------------------------------------------------------------------
# The methods (on numpy arrays, already in the result dtype)
# ---------------------------------------------------------------------------

#: Where a strip's own outputs lie in what a method computed: (axis, slice);
#: None when the method filtered exactly the outputs' cells.
Keep = tuple[int, slice] | None


@dataclass(frozen=True)
class _Task:
    """One real filtering job: what a method's engine function needs besides the arrays."""

    kern: _Kernel
    axes: tuple[int, int]
    mode: str
    cval: float
    terms: Terms | None = None  # the separable method's rank-1 terms
    workers: int = 1  # threads of a method that runs its own (FFT)
    guard: bool = False  # raise _Unscreened if the (compiled) result holds NaN or Inf


def _pass_order(axes: tuple[int, int]) -> tuple[int, int]:
    """Which kernel axis (0 or 1) runs first: the outer image axis."""
    return (0, 1) if axes[0] < axes[1] else (1, 0)


def _along(a: np.ndarray, axis: int, sl: slice) -> np.ndarray:
    """The view ``a[..., sl, ...]`` with `sl` at `axis`."""
    index = [slice(None)] * a.ndim
    index[axis] = sl
    return a[tuple(index)]


def _kept(a: np.ndarray, keep: Keep) -> np.ndarray:
    return a if keep is None else _along(a, *keep)


def _direct(x: np.ndarray, out: np.ndarray, task: _Task, keep: Keep) -> None:
    """``scipy.ndimage.correlate`` with the 2-D weights."""
    from scipy import ndimage  # lazy: heavy

    weights, origin, axes = task.kern.weights, task.kern.origin, task.axes
    if axes[0] > axes[1]:
        # ndimage lays the weights' axes along the image axes in increasing order.
        weights, origin, axes = weights.T, origin[::-1], axes[::-1]
    kw = {"mode": task.mode, "cval": task.cval, "origin": origin, "axes": axes}
    if keep is None:
        ndimage.correlate(x, weights, output=out, **kw)
        return
    out[...] = _kept(ndimage.correlate(x, weights, output=out.dtype, **kw), keep)


def _separable(x: np.ndarray, out: np.ndarray, task: _Task, keep: Keep) -> None:
    """``scipy.ndimage.correlate1d`` passes, one per axis per rank-1 term, summed."""
    from scipy import ndimage  # lazy: heavy

    kern, axes, mode, cval, terms = task.kern, task.axes, task.mode, task.cval, task.terms
    assert terms is not None
    first, second = _pass_order(axes)
    if not terms:
        out[...] = 0
        return
    constant = BOUNDARY_MODES[mode].constant
    tmp: np.ndarray | None = None
    acc = np.empty(out.shape, dtype=out.dtype) if len(terms) > 1 else None

    def corr1d(src: np.ndarray, w: np.ndarray, k: int, dst: np.ndarray, c: float) -> None:
        ndimage.correlate1d(src, w, axis=axes[k], output=dst, mode=mode, cval=c,
                            origin=kern.origin[k])

    for t, pair in enumerate(terms):
        w1, w2 = pair[first], pair[second]
        dst = out if t == 0 or acc is None else acc
        if w1.size == 1:
            # A one-tap pass is a product: fold it into the other pass.
            corr1d(_kept(x, keep), w2 * w1[0], second, dst, cval)
        elif w2.size == 1 and keep is None:
            corr1d(x, w1 * w2[0], first, dst, cval)
        else:
            if tmp is None:
                tmp = np.empty(x.shape, dtype=out.dtype)
            corr1d(x, w1 * w2[0] if w2.size == 1 else w1, first, tmp, cval)
            if w2.size == 1:
                dst[...] = _kept(tmp, keep)
            else:
                # Outside the image the first pass left cval * sum(w1), not cval.
                cval2 = cval * float(np.sum(w1)) if constant else cval
                corr1d(_kept(tmp, keep), w2, second, dst, cval2)
        if t > 0:
            np.add(out, dst, out=out)


def _fft(x: np.ndarray, out: np.ndarray, task: _Task, keep: Keep) -> None:
    """Extend as ndimage does (:func:`numpy.pad`), correlate circularly by real FFTs.

    The transform size (a fast size no smaller than the padded image) makes
    the kept part exact.  Faster here than ``scipy.signal.fftconvolve`` /
    ``oaconvolve`` on the padded image, whose linear convolution needs the
    larger size ``H + 2 (m - 1)`` (``benchmarks/bench_fft.py``).
    """
    assert keep is None  # the FFT runs its own threads, never on strips
    kern = task.kern
    w = kern.weights.astype(out.dtype, copy=False)
    out[...] = _fft_correlate(x, w, task.axes, (kern.halo(0), kern.halo(1)), task.mode,
                              task.cval, task.workers)


def _fft_correlate(
    x: np.ndarray, weights: np.ndarray, axes: tuple[int, ...],
    halos: tuple[tuple[int, int], ...], mode: str, cval: float | complex, workers: int,
) -> np.ndarray:
    """Correlate `x` with `weights` (kernel axis k along image axis ``axes[k]``) by FFTs.

    The image is extended by the halos as ndimage extends it, and correlated
    circularly at fast sizes no smaller than the extended image: the kept part
    is the linear correlation.  Real data take real transforms; complex data
    (image or weights) complex ones.
    """
    from scipy import fft as sfft  # lazy: heavy

    pad = [(0, 0)] * x.ndim
    for a, h in zip(axes, halos, strict=True):
        pad[a] = h
    extension = BOUNDARY_MODES[mode]
    if extension.constant:
        xp = np.pad(x, pad, mode="constant", constant_values=cval)
    else:
        xp = np.pad(x, pad, mode=extension.pad)  # type: ignore[call-overload]
    # Correlation = convolution with the reversed kernel; reversed weights
    # shifted by (size - 1) along each axis put the valid part at [size - 1 :].
    order = np.argsort(axes)
    sorted_axes = tuple(int(axes[k]) for k in order)
    w = np.transpose(weights, order)[(slice(None, None, -1),) * weights.ndim]
    wshape = [1] * x.ndim
    for a, n in zip(sorted_axes, w.shape, strict=True):
        wshape[a] = n
    w = np.ascontiguousarray(w).reshape(wshape)
    real = xp.dtype.kind != "c" and w.dtype.kind != "c"
    fshape = [sfft.next_fast_len(xp.shape[a], real=real) for a in sorted_axes]
    forward, inverse = (sfft.rfftn, sfft.irfftn) if real else (sfft.fftn, sfft.ifftn)
    spec_x = forward(xp, s=fshape, axes=sorted_axes, workers=workers)
    spec_x *= forward(w, s=fshape, axes=sorted_axes, workers=workers)
    full = inverse(spec_x, s=fshape, axes=sorted_axes, workers=workers)
    for a in sorted_axes:
        size = wshape[a]
        full = _along(full, a, slice(size - 1, size - 1 + x.shape[a]))
    return np.asarray(full)


# ---------------------------------------------------------------------------
# Strips over a thread pool
# ---------------------------------------------------------------------------

Split = tuple[int, int, tuple[int, int]]  # (axis, strips, (halo before, after))


def _plan_strips(
    shape: tuple[int, ...], axes: tuple[int, int], kern: _Kernel, workers: int, method: str
) -> Split:
    """(split axis, number of strips, halo) for a thread-parallel run; 1 strip: no split."""
    total = math.prod(shape)
    if workers < 2 or not METHODS[method].strips or total < MIN_SPLIT_ELEMENTS:
        return -1, 1, (0, 0)
    first = _pass_order(axes)[0]
    outer_kernel_axis = axes[first]
    # A batch / channel axis outside the kernel axes splits without halos.
    for a in range(outer_kernel_axis):
        if a not in axes and shape[a] >= workers:
            return a, workers, (0, 0)
    before, after = kern.halo(first)
    length = shape[outer_kernel_axis]
    min_rows = max(MIN_STRIP_LENGTH, 4 * (before + after), before + after + 1)
    strips = min(workers, length // min_rows)
    if strips < 2:
        return -1, 1, (0, 0)
    return outer_kernel_axis, strips, (before, after)


def _run_split(
    x: np.ndarray,
    out: np.ndarray,
    split: Split,
    wraps: bool,
    body: Callable[[np.ndarray, np.ndarray, Keep], None],
) -> None:
    axis, strips, (before, after) = split
    length = x.shape[axis]
    bounds = np.linspace(0, length, strips + 1).round().astype(int)

    def job(i: int) -> None:
        a, b = int(bounds[i]), int(bounds[i + 1])
        dst = _along(out, axis, slice(a, b))
        if before == 0 and after == 0:
            body(_along(x, axis, slice(a, b)), dst, None)
            return
        lo, hi = a - before, b + after
        if wraps and (lo < 0 or hi > length):
            # The halo wraps to the far side of the image: gather it.
            src = np.take(x, np.arange(lo, hi) % length, axis=axis)
            body(src, dst, (axis, slice(before, before + b - a)))
            return
        # Elsewhere the strip's own border is the image's border, and the
        # extension ndimage builds there reads only cells inside the strip.
        clo, chi = max(lo, 0), min(hi, length)
        body(_along(x, axis, slice(clo, chi)), dst, (axis, slice(a - clo, b - clo)))

    with ThreadPoolExecutor(max_workers=strips) as pool:
        for f in [pool.submit(job, i) for i in range(strips)]:
            f.result()


# ---------------------------------------------------------------------------
# Dispatch: exact integers, non-finite images, complex numbers, casting
# ---------------------------------------------------------------------------

def _exact_scale(img: np.ndarray, kern: AnyKernel, mode: str, cval: float) -> float | None:
    """M = max |extended image| when ndimage's result is exact integers, else None.

    ndimage sums in double precision: with integer image values (of any real
    dtype), integer weights and (constant modes) an integer `cval`, every
    partial sum is an integer of magnitude at most :math:`M \\sum |w|`, exact
    below :math:`2^{53}`.
    """
    if img.dtype.kind not in "biuf" or img.size == 0 or not kern.integer_weights:
        return None
    w = kern.unscaled()
    constant = BOUNDARY_MODES[mode].constant
    if constant and not float(cval).is_integer():
        return None
    if img.dtype.kind == "f":
        found = _integer_top(img)
        if found is None:
            return None
        top = found
    elif img.dtype.kind == "b":
        top = 1.0
    else:
        top = float(max(abs(int(img.max())), abs(int(img.min()))))
    if constant:
        top = max(top, abs(float(cval)))
    if not top * float(np.sum(np.abs(w))) < 2.0**53:
        return None
    return top


#: Elements per block of :func:`_integer_top` (a block and its rounding stay in L2).
_SCAN_BLOCK = 1 << 15


def _integer_top(img: np.ndarray) -> float | None:
    """max |x| of a float image when every value is an integer, else None (NaN: None).

    A sample first, so that real data leave cheaply; then the image in blocks
    of :data:`_SCAN_BLOCK`: one compiled pass when the engine is active
    (:func:`kernelfactor._compiled.integer_top`), else NumPy's, with no
    image-sized temporary.

    >>> _integer_top(np.array([[3.0, -4.0], [0.0, 2.0]])), _integer_top(np.array([0.5]))
    (4.0, None)
    """
    sample = img.reshape(-1)[:64] if img.flags.c_contiguous else img[(0,) * (img.ndim - 1)]
    if not np.array_equal(sample, np.rint(sample)):
        return None
    if _compiled._float_array(img.dtype) and _compiled_active():
        return _compiled.integer_top(img, _SCAN_BLOCK)
    flat = img.reshape(-1)  # a copy only for a non-contiguous image
    buf = np.empty(min(flat.size, _SCAN_BLOCK), flat.dtype)
    top = 0.0
    for start in range(0, flat.size, _SCAN_BLOCK):
        block = flat[start:start + _SCAN_BLOCK]
        rounded = np.rint(block, out=buf[:block.size])
        if not np.array_equal(block, rounded):  # a fraction, or NaN
            return None
        top = max(top, float(block.max()), -float(block.min()))
    return top


def _separable_bound(
    kern: AnyKernel, terms: Terms | None, shape: tuple[int, ...], axes: tuple[int, ...],
    top: float,
) -> float:
    """An upper bound on the floating-point error of ``separable`` in one output (float64).

    Every output is :math:`\\sum_t \\sum_i c_{ti} \\sum_j r_{tj} x`, a sum of
    at most :math:`m + n + r` rounded operations per product path, so the
    error is at most :math:`\\gamma_{m+n+2r} M \\sum_t \\|c_t\\|_1 \\|r_t\\|_1`
    plus the factorisation's own residual :math:`M \\sum |W - \\sum_t c_t r_t^T|`,
    with a safety factor of 4 (:math:`M`: the largest image value, `top`).
    """
    assert terms is not None
    scale = 2.0**-kern.exponent
    recon = np.zeros(kern.shape)
    mass = 0.0
    for t in terms:
        recon += functools.reduce(np.multiply.outer, t) * scale
        mass += math.prod(float(np.sum(np.abs(f))) for f in t) * scale
    gamma = (sum(kern.shape) + 2 * len(terms) + 4) * _EPS
    return 4.0 * top * (gamma * mass + float(np.sum(np.abs(kern.unscaled() - recon))))


def _fft_bound(
    kern: AnyKernel, terms: Terms | None, shape: tuple[int, ...], axes: tuple[int, ...],
    top: float,
) -> float:
    """An upper bound on the floating-point error of ``fft`` in one output (float64).

    Higham (Accuracy and Stability, 2nd ed., 24.1): three transforms of
    :math:`P` points and one product err by at most
    :math:`(3\\log_2 P + 2)\\,\\eta\\,\\|\\tilde x\\|_2 \\|w\\|_1` in 2-norm
    (:math:`\\eta \\approx 5u`), with :math:`\\|\\tilde x\\|_2 \\le \\sqrt P M`;
    taken with a safety factor of 4.
    """
    p = float(math.prod(_fast_shape(tuple(shape[a] for a in axes), kern.shape)))
    eta = 5.0 * _EPS
    return 4.0 * (3.0 * math.log2(max(p, 2.0)) + 2.0) * eta * math.sqrt(p) * top * float(
        np.sum(np.abs(kern.unscaled()))
    )


#: ``"auto"`` passes over a method whose intermediate values could exceed this
#: (float64's largest value is about 2**1024) where ``"direct"`` would not.
_OVERFLOW_LIMIT = 2.0**1000
_FLOAT64_MAX = float(np.finfo(np.float64).max)


def _image_top(img: np.ndarray) -> float:
    """max |x| of a float image (two passes, no copy), relative to its dtype's largest value.

    0 for integer images (their sums are done in float64 and cannot overflow).
    """
    if img.dtype.kind != "f":
        return 0.0
    with np.errstate(invalid="ignore"):
        top = max(abs(float(np.max(img))), abs(float(np.min(img))))
    if not math.isfinite(top):
        return 0.0
    return top * (_FLOAT64_MAX / float(np.finfo(img.dtype).max))


def _overflow_risk(
    method: str, img: np.ndarray, kern: _Kernel, terms: Terms | None, axes: tuple[int, int]
) -> bool:
    """Could `method` overflow on `img` (real, finite) where direct's sums stay finite?

    ``fft``: the spectra reach :math:`N \\max|x| \\|w\\|_1` on an N-point grid;
    ``separable``: each term's passes reach :math:`\\max|x| \\|c\\|_1 \\|r\\|_1`.
    Only images whose values come near float64's limit (1e308) can trigger it.
    """
    if method == "direct":
        return False
    top = _image_top(img)
    if top < 2.0**900:
        return False
    w = np.abs(kern.weights)
    if method == "fft":
        points = math.prod(img.shape[a] + kern.weights.shape[k] for k, a in enumerate(axes))
        return top * float(np.sum(w)) * points > _OVERFLOW_LIMIT
    if method == "separable" and terms is not None:
        gain = sum(float(np.sum(np.abs(c))) * float(np.sum(np.abs(r))) for c, r in terms)
        return top * gain > _OVERFLOW_LIMIT
    return False


class _Unscreened(Exception):
    """A guarded run left NaN or Inf in its result: screen the image as unguarded runs do."""


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
    if out.dtype.kind in "iu" and src.dtype.kind == "f" and _casts_in_range(src, out.dtype):
        # Every value truncates to one the type holds: a C cast, NumPy's or ndimage's,
        # is truncation toward zero on every platform.
        np.copyto(out, src, casting="unsafe")
        return
    from scipy import ndimage  # lazy: heavy

    # A one-tap identity pass: ndimage.correlate's own double -> integer conversion
    # (correlate1d's, compiled apart, may treat values out of range differently).
    ndimage.correlate(src, np.ones((1,) * src.ndim), output=out, mode="constant")


def _round_exact(a: np.ndarray) -> None:
    """Round float sums of integers, proven within 0.5 of ndimage's exact ones, to them.

    ndimage's sums start at +0.0, so a zero is never -0.0 there: adding 0.0
    after rounding clears the sign that a rounding (or a sum in another order)
    can leave.

    >>> a = np.array([-0.25, 2.9999999999999996]); _round_exact(a); a.tolist(), np.signbit(a[0])
    ([0.0, 3.0], np.False_)
    """
    np.rint(a, out=a)
    a += 0.0


def _casts_in_range(src: np.ndarray, dtype: np.dtype) -> bool:
    """Every value of the float array `src` truncates to an integer that `dtype` holds
    (no NaN); only there is a C cast defined, and the same on every platform.

    >>> _casts_in_range(np.array([-0.9, 255.9]), np.dtype(np.uint8))
    True
    >>> _casts_in_range(np.array([-1.0, 3.0]), np.dtype(np.uint8))
    False
    """
    if src.size == 0:
        return True
    with np.errstate(invalid="ignore"):
        lo, hi = float(np.min(src)), float(np.max(src))  # NaN: both comparisons fail
    below, above = _cast_bounds(dtype)
    return below < lo and hi < above


def _work_dtype(img: np.ndarray, out_dtype: np.dtype) -> np.dtype:
    """float32 where both ends are float32 (kernelfactor's float32 path), else float64."""
    if img.dtype.kind == "f" and img.dtype.itemsize <= 4 and out_dtype == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _run_real(
    img: np.ndarray,
    out: np.ndarray,
    task: _Task,
    method: str,
    exact_top: float | None,
) -> tuple[str, int, int, str | None]:
    """Filter a real image with a real kernel into `out`: (method run, workers, strips, note)."""
    note = None
    round_result = False
    if method != "direct" and exact_top is not None:
        if _provably_exact(method, task.kern, task.terms, img.shape, task.axes, exact_top):
            round_result = True
        else:
            method = "direct"
            note = "integer data too large to round the float result exactly"
    kern = task.kern
    compiled = METHODS[method].compiled and _compiled_active()
    if compiled and method == "direct":
        # double sums of float32/64 or integer data, as ndimage's loops
        x = img if _compiled._direct_input(img.dtype) else img.astype(np.float64)
        target = out
        if (not _compiled._direct_output(x.dtype, out.dtype) or np.may_share_memory(out, img)
                or (kern.exponent and out.dtype.kind in "iu")):
            # (a scaled kernel's sums are scaled back before an integer output's cast)
            target = np.empty(out.shape, np.float64)
    elif (
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
        compiled = compiled and _scratch_fits(method, img.shape, work, task)
        # the compiled separable widens a pixel-integer image's rows itself
        as_is = img.dtype == work or (compiled and work == np.float64
                                      and img.dtype in _compiled.PIXEL_INTEGERS)
        x = img if as_is else img.astype(work)
        target = out
        if out.dtype != work or np.may_share_memory(out, img):
            target = np.empty(out.shape, work)
    if compiled:
        threads, strips, nonfinite = _compiled.correlate_into(
            method, x, target, kern, task.axes, task.mode, task.cval, task.terms, task.workers,
            min_elements=MIN_SPLIT_ELEMENTS, min_rows=MIN_STRIP_LENGTH, guard=task.guard,
        )
        if nonfinite and method == "direct":
            # An integer output got sums its type cannot hold: filter again into
            # float64, whose values reach `out` through ndimage's own cast.
            target = np.empty(out.shape, np.float64)
            threads, strips, _ = _compiled.correlate_into(
                method, x, target, kern, task.axes, task.mode, task.cval, None, task.workers,
                min_elements=MIN_SPLIT_ELEMENTS, min_rows=MIN_STRIP_LENGTH,
            )
        elif nonfinite:
            raise _Unscreened  # before anything reaches `out`
        split: Split = (-1, strips, (0, 0))
        used_workers = threads
    else:
        split = _plan_strips(img.shape, task.axes, kern, task.workers, method)
        run = METHODS[method].run

        def body(src: np.ndarray, dst: np.ndarray, keep: Keep) -> None:
            run(src, dst, task, keep)

        if split[1] > 1:
            _run_split(x, target, split, BOUNDARY_MODES[task.mode].wraps, body)
        else:
            body(x, target, None)
        used_workers = split[1] if METHODS[method].strips else task.workers
    if kern.exponent:
        np.multiply(target, np.float64(2.0**-kern.exponent), out=target, casting="same_kind")
    if round_result:
        _round_exact(target)
    if target is not out:
        _cast_into(out, target)
    return method, used_workers, split[1], note


def _complex_terms(weights: np.ndarray) -> Terms:
    """Rank-1 terms (column, row) of complex weights by the complex SVD.

    Terms with singular values at or below ``max(m, n) * eps * s_max`` are
    rounding noise and dropped; each column is scaled by a power of two into
    modulus [1/2, 1) and its row carries the rest.
    """
    u, s, vh = np.linalg.svd(weights)
    if s.size == 0 or s[0] == 0.0:
        return []
    tol = max(weights.shape) * _EPS * float(s[0])
    out: Terms = []
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
    from scipy import ndimage  # lazy: heavy

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
    terms: Terms,
    kern: _Kernel,
    ax: tuple[int, int],
    mode: str,
    cval: complex,
) -> None:
    acc = np.zeros(x.shape, np.complex128)
    constant = BOUNDARY_MODES[mode].constant
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
    terms: Terms | None,
) -> tuple[str, int, int, str | None]:
    """Complex image and/or weights: real parts as ndimage, or the complex SVD for separable.

    As ``ndimage``'s ``_complex_via_real_components``: for a complex image the
    real part is filtered with ``cval.real``, the imaginary part with ``cval.imag``;
    complex weights are applied as their real and imaginary parts, each a real
    kernel (on the compiled engine, each part's own rank-1 terms in one fused
    pass).  On the scipy.ndimage fallback, ``separable`` applies the complex
    SVD's terms by 1-D passes instead.
    """
    if method == "separable" and kern.is_complex and not _compiled_active():
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
    # real and imaginary parts summed apart and assigned as parts (as ndimage's
    # _complex_via_real_components): 1j * inf would make nan + inf j
    parts = {0: np.zeros(out.shape), 1: np.zeros(out.shape)}
    ran = method
    strips = used = 1
    note = None
    for xpart, c, unit_x in img_parts:
        for kpart, unit_k in kern_parts:
            if not np.any(kpart.weights):
                continue
            top = _exact_scale(xpart, kpart, mode, c)
            task = _task(kpart, ax, mode, c, method, n_workers)
            ran, used, strips, note = _run_real(xpart, tmp, task, method, top)
            unit = unit_x * unit_k  # 1, 1j or -1
            target = parts[1] if unit == 1j else parts[0]
            if unit == -1:
                target -= tmp
            else:
                target += tmp
    acc = np.empty(out.shape, np.complex128)
    acc.real, acc.imag = parts[0], parts[1]
    np.copyto(out, acc, casting="unsafe")
    return ran, used, strips, note


# ---------------------------------------------------------------------------
# The one table of methods, and the engine's entry point
# ---------------------------------------------------------------------------

#: An upper bound on a method's floating-point error in one output, for data
#: whose exact result is an integer: (kernel, terms, image shape, axes, M).
RoundingBound = Callable[
    ["AnyKernel", "Terms | None", tuple[int, ...], tuple[int, ...], float], float]


@dataclass(frozen=True)
class Method:
    """One filter method of the engine (a row of :data:`METHODS`).

    Attributes
    ----------
    run : callable
        The engine function ``(x, out, task, keep)``: filter `x` into `out`.
    cost : MethodCost
        Its row of the cost model (:data:`kernelfactor._costmodel.METHOD_COSTS`).
    strips : bool
        Runs on strips of the image over a thread pool (False: it runs
        threads of its own, ``workers`` of them).
    bound : callable or None
        Its rounding error bound (:data:`RoundingBound`); None for a method
        whose sums are ndimage's own.
    finite_only : bool
        Refuses images holding NaN or Inf (it would spread them everywhere).
    compiled : bool
        Runs on the compiled engine (:mod:`kernelfactor._compiled`) when it is
        available; `run` is the scipy.ndimage fallback.
    """

    run: Callable[[np.ndarray, np.ndarray, _Task, Keep], None]
    cost: MethodCost
    strips: bool = True
    bound: RoundingBound | None = None
    finite_only: bool = False
    compiled: bool = False


#: The filter methods: name -> :class:`Method`.  Adding a method is a row here
#: and a row in :data:`kernelfactor._costmodel.METHOD_COSTS`.
METHODS: Mapping[str, Method] = MappingProxyType({
    "direct": Method(_direct, METHOD_COSTS["direct"], compiled=True),
    "fft": Method(_fft, METHOD_COSTS["fft"], strips=False, bound=_fft_bound, finite_only=True),
    "separable": Method(_separable, METHOD_COSTS["separable"], bound=_separable_bound,
                        compiled=True),
})  # fmt: skip
if set(METHODS) != set(METHOD_COSTS):  # pragma: no cover - a development error
    raise ImportError("every filter method needs a row in METHODS and in METHOD_COSTS")


def _scratch_fits(method: str, shape: tuple[int, ...], work: np.dtype, task: _Task) -> bool:
    """The compiled run's scratch (in the `work` dtype) fits
    :data:`kernelfactor._compiled.SCRATCH_LIMIT`."""
    width = shape[max(task.axes)]
    return _compiled.scratch_fits(method, width, work.itemsize, task.terms, task.workers)


def _compiled_active() -> bool:
    """True when the compiled engine runs the methods marked ``compiled`` (numba imported)."""
    return _compiled.available()


def _task(
    kern: _Kernel, axes: tuple[int, int], mode: str, cval: float, method: str, workers: int,
    terms: Terms | None = None, *, guard: bool = False,
) -> _Task:
    if terms is None and METHODS[method].cost.ranked:
        terms = _terms(kern)
    return _Task(kern, axes, mode, cval, terms, workers, guard)


def _predict(img: np.ndarray, kern: _Kernel, axes: tuple[int, int], terms: Terms | None
             ) -> dict[str, float]:
    """Predicted seconds of each method (:func:`kernelfactor._costmodel.predict`).

    On the compiled engine complex weights run as their real and imaginary
    parts (:func:`_run_complex`): the parts' predictions add up.
    """
    compiled = _compiled_active()
    if kern.is_complex and compiled:
        total: dict[str, float] = {}
        parts = [kern.part("real"), kern.part("imag")]
        for part in [p for p in parts if np.any(p.weights)] or parts[:1]:
            problem = FilterProblem(img.shape, axes, part.weights, _terms(part),
                                    bool(part.exponent), compiled=True)
            for name, seconds in predict(problem).items():
                total[name] = total.get(name, 0.0) + seconds
        return total
    return predict(FilterProblem(img.shape, axes, kern.weights, terms, bool(kern.exponent),
                                 compiled=compiled and not kern.is_complex))


def _screen(
    chosen: str, candidates: list[str], predicted: Mapping[str, float], img: np.ndarray,
    kern: _Kernel, terms: Terms | None, axes: tuple[int, int], complex_out: bool,
) -> tuple[str, str | None]:
    """``"auto"``'s look at the image for `chosen`: the method to run, and why it changed.

    A NaN or Inf in the image: ``direct`` (ndimage's footprint); values so
    large that `chosen` could overflow where ``direct`` does not: the
    cheapest method that cannot.
    """
    if chosen != "direct" and not _all_finite(img):
        return "direct", "the image holds NaN or Inf: direct gives ndimage's footprint"
    if not complex_out and _overflow_risk(chosen, img, kern, terms, axes):
        safe = [m for m in candidates
                if not _overflow_risk(m, img, kern, terms, axes)] or ["direct"]
        return min(safe, key=lambda m: predicted.get(m, 0.0)), (
            f"image values near float64's limit: {chosen} could overflow where direct does not")
    return chosen, None


def _provably_exact(
    method: str, kern: AnyKernel, terms: Terms | None, shape: tuple[int, ...],
    axes: tuple[int, ...], top: float,
) -> bool:
    """True if `method`'s float result rounds to ndimage's exact integers."""
    bound = METHODS[method].bound
    return bound is None or bound(kern, terms, shape, axes, top) < 0.5


@dataclass(frozen=True)
class Outcome:
    """What :func:`filter_into` did."""

    method: str
    workers: int = 1
    strips: int = 1
    rank: int | None = None
    predicted: dict[str, float] = field(default_factory=dict)
    note: str | None = None


def filter_into(
    img: np.ndarray,
    out: np.ndarray,
    kern: AnyKernel,
    axes: tuple[int, ...],
    mode: str,
    cval: float | complex,
    method: str,
    workers: int,
    *,
    price: bool = False,
) -> Outcome:
    """Correlate `img` with `kern` into `out` (arguments checked): the engine's entry point.

    `method` is a row of :data:`METHODS` or ``"auto"`` (the cheapest by the
    cost model among those that give ndimage's numbers); with `price` the
    predicted seconds of every method are returned as well.
    """
    if img.size == 0:
        out[...] = 0
        return Outcome("direct", note="empty image")
    if isinstance(kern, _NdKernel):
        return _filter_nd_into(img, out, kern, axes, mode, cval, method, workers, price=price)
    axes = (axes[0], axes[1])
    complex_out = img.dtype.kind == "c" or kern.is_complex
    if (kern.exponent > 0 and not complex_out
            and _image_top(img) * float(np.sum(np.abs(kern.weights))) > _OVERFLOW_LIMIT):
        # weights scaled up by 2**E would overflow where ndimage's own do not
        kern = replace(kern, weights=kern.unscaled(), exponent=0)
    # Only the methods other than ndimage's own sums round to exact integers: an
    # explicit "direct" skips the check (for an integer image, a scan of it).
    exact_top = (None if complex_out or method == "direct"
                 else _exact_scale(img, kern, mode, float(cval.real)))
    terms: Terms | None = None
    if method == "auto" or price or METHODS[method].cost.ranked:
        terms = _complex_terms(kern.weights) if kern.is_complex else _terms(kern)
    predicted: dict[str, float] = {}
    if method == "auto" or price:
        predicted = _predict(img, kern, axes, terms)
    note = None
    chosen = method
    guard = False
    candidates: list[str] = []
    if method == "auto":
        candidates = sorted(predicted)
        if exact_top is not None:
            # integers: only methods whose rounded result is provably ndimage's
            candidates = [
                m for m in candidates
                if _provably_exact(m, kern, terms, img.shape, axes, exact_top)
            ]
        elif out.dtype.kind in "biu":
            candidates = ["direct"]  # truncation to integers: ndimage's sums, bit for bit
            note = "integer output: direct gives ndimage's truncation bit for bit"
        chosen = min(candidates, key=predicted.__getitem__)
        # The compiled passes screen their own results (NaN or Inf there comes from a
        # non-finite image or an overflow): the image is scanned only then.
        guard = (chosen != "direct" and not complex_out and METHODS[chosen].compiled
                 and _compiled_active()
                 and _scratch_fits(chosen, img.shape, np.dtype(np.float64),  # (the most)
                                   _Task(kern, axes, mode, 0.0, terms, workers)))
        if not guard:
            chosen, screened = _screen(chosen, candidates, predicted, img, kern, terms, axes,
                                       complex_out)
            note = screened or note
    else:
        _refuse_non_finite(method, img)
    if complex_out:
        ran, used, strips, why = _run_complex(
            img, out, kern, axes, mode, complex(cval), chosen, workers, terms
        )
    else:
        task = _task(kern, axes, mode, float(cval.real), chosen, workers, terms, guard=guard)
        try:
            ran, used, strips, why = _run_real(img, out, task, chosen, exact_top)
        except _Unscreened:
            chosen, screened = _screen(chosen, candidates, predicted, img, kern, terms, axes,
                                       complex_out)
            note = screened or note
            task = _task(kern, axes, mode, float(cval.real), chosen, workers, terms)
            ran, used, strips, why = _run_real(img, out, task, chosen, exact_top)
    rank = len(terms) if terms is not None else None
    return Outcome(ran, used, strips, rank, predicted, why or note)


def _refuse_non_finite(method: str, img: np.ndarray) -> None:
    """An explicit method that spreads NaN or Inf (the FFT) refuses such images."""
    if METHODS[method].finite_only and not _all_finite(img):
        raise ValueError(
            f"`method={method!r}` would spread the image's NaN or Inf over the whole output; "
            "use method='direct' (ndimage's NaN propagation) or clean the image."
        )


def _filter_nd_into(
    img: np.ndarray, out: np.ndarray, kern: _NdKernel, axes: tuple[int, ...], mode: str,
    cval: float | complex, method: str, workers: int, *, price: bool = False,
) -> Outcome:
    """:func:`filter_into` for d-D weights: ndimage, d 1-D passes per term, or FFTs.

    ``"direct"`` is ``scipy.ndimage.correlate``; ``"separable"`` runs each
    term as d ``scipy.ndimage.correlate1d`` passes (the constant modes filter
    ``x - cval`` with zeros outside and add ``cval * sum(w)``, which is
    ndimage's extension by ``cval`` for every axis at once); ``"fft"`` is
    :func:`_fft_correlate`.  ``"auto"`` takes the cheapest by the cost model's
    d-D counts, ``"direct"`` for non-finite images and integer outputs; for
    integer data the float results are rounded when provably ndimage's exact
    integers (else ``"direct"`` runs), as in 2-D.
    """
    terms: Terms | None = None if kern.terms is None else list(kern.terms)
    predicted: dict[str, float] = {}
    if method == "auto" or price:
        predicted = predict(FilterProblem(img.shape, axes, kern.weights, terms))
    complex_out = img.dtype.kind == "c" or kern.is_complex
    exact_top = (None if complex_out or method == "direct"
                 else _exact_scale(img, kern, mode, float(cval.real)))
    note = None
    chosen = method
    if method == "auto":
        candidates = sorted(predicted)
        if exact_top is not None:
            candidates = [m for m in candidates
                          if _provably_exact(m, kern, terms, img.shape, axes, exact_top)]
        elif out.dtype.kind in "biu":
            candidates = ["direct"]
            note = "integer output: direct gives ndimage's truncation bit for bit"
        chosen = min(candidates, key=predicted.__getitem__)
        if chosen != "direct" and not _all_finite(img):
            chosen, note = "direct", "the image holds NaN or Inf: direct gives ndimage's footprint"
    else:
        _refuse_non_finite(method, img)
        if chosen != "direct" and exact_top is not None and not _provably_exact(
                chosen, kern, terms, img.shape, axes, exact_top):
            chosen, note = "direct", "integer data too large to round the float result exactly"
    used = 1
    if chosen == "direct":
        from scipy import ndimage  # lazy: heavy

        # ndimage conjugates complex weights in correlate: hand it the conjugate
        w = kern.weights.conj() if kern.is_complex else kern.weights
        # real data into a complex output: ndimage refuses it, so filter into float64
        into = np.empty(out.shape) if out.dtype.kind == "c" and not complex_out else out
        ndimage.correlate(img, w, output=into, mode=mode, cval=cval, origin=kern.origin,
                          axes=axes)
        if into is not out:
            out[...] = into
    else:
        work = np.complex128 if complex_out else np.float64
        x = np.asarray(img, dtype=work)
        if chosen == "fft":
            used = workers
            total = _fft_correlate(x, kern.weights.astype(work), axes,
                                   tuple(kern.halo(k) for k in range(len(axes))), mode, cval,
                                   workers)
        else:
            assert terms is not None
            total = _separable_nd(x, terms, kern, axes, mode, cval)
        if exact_top is not None:
            _round_exact(total)
        _cast_into(out, total)
    return Outcome(chosen, used, 1, None if terms is None else len(terms), predicted, note)


def _separable_nd(
    x: np.ndarray, terms: Terms, kern: _NdKernel, axes: tuple[int, ...], mode: str,
    cval: float | complex,
) -> np.ndarray:
    """Sum over the terms of d ``scipy.ndimage.correlate1d`` passes (`x` float64/complex128)."""
    from scipy import ndimage  # lazy: heavy

    constant = BOUNDARY_MODES[mode].constant
    if constant and cval != 0:
        x = x - cval
    pass_mode = "constant" if constant else mode
    total = np.zeros(x.shape, dtype=x.dtype)
    for t in terms:
        y = x
        for k, f in enumerate(t):
            # correlate1d conjugates complex weights: hand it the conjugate
            y = ndimage.correlate1d(y, np.conj(f) if np.iscomplexobj(f) else f, axis=axes[k],
                                    mode=pass_mode, cval=0.0, origin=kern.origin[k],
                                    output=np.complex128 if np.iscomplexobj(f)
                                    or np.iscomplexobj(y) else np.float64)
        total += y
    if constant and cval != 0:
        total += cval * np.sum(kern.weights)
    return total
