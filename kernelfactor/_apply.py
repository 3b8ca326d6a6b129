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
    The fastest by a cost model (:mod:`kernelfactor._costmodel`): operation
    counts times constants measured on this machine by
    :func:`kernelfactor.calibrate` (built-in defaults until it has run once).

d-D weights (``d >= 3``, ``len(axes) == weights.ndim`` as ndimage) take
the same methods, prices and backends: ``"separable"`` runs a
``lowrank(k, r, ndim=d)`` result or a separable array as r sets of d 1-D
passes, ``"fft"`` is the same padded FFT over d axes (complex transforms for
complex data), ``"auto"`` prices them by the cost model's d-D counts
(:class:`kernelfactor._costmodel.FilterProblem` with d axes).  They are not
rescaled by powers of two, split into strips, or run on the compiled engine.

The methods are the rows of :data:`kernelfactor._engine.METHODS`; this module
checks the arguments (scipy.ndimage's rules, kernelfactor's messages) and hands
them to the in-memory engine or, for a dask array, to the dask backend
(:mod:`kernelfactor._large`).

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
``"auto"`` runs ``"direct"`` on such images.  A compiled ``"separable"`` run
of ``"auto"`` checks its own output as it writes it: every image value
reaches the output of its own position, so a NaN or Inf there means a
non-finite image (or an overflow), and only then is the image scanned (one
summation pass) and the right method run; other methods are preceded by the
scan.
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
On the compiled engine (:mod:`kernelfactor._compiled`) each thread takes a
strip and claims its rows a chunk at a time; a thread done first takes half of
the rows left in another's strip.
Images below :data:`kernelfactor._engine.MIN_SPLIT_ELEMENTS` elements, or too
short to give every strip :data:`kernelfactor._engine.MIN_STRIP_LENGTH` rows,
are not split.  ``"fft"`` passes
``workers`` to :mod:`scipy.fft` instead.
"""

from __future__ import annotations

import cmath
import functools
import math
import numbers
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._coerce import (
    _as_filter_input,
    _as_kernel,
    _image_dtype,
)
from ._costmodel import FilterProblem, multiplications
from ._docstrings import docfiller
from ._engine import (
    METHODS,
    _Kernel,
    _make_kernel,
    _make_nd_kernel,
    _NdKernel,
    filter_into,
)
from ._large import ChunkFilter, dask_filter
from ._results import Result
from ._svd import BatchAnalysis, TensorAnalysis, analyze
from ._tensor import TensorLowRank
from ._validation import (
    NdimageRuntimeError,
    NdimageTypeError,
    NdimageValueError,
    _check_bool,
    _check_choice,
    _check_filter_axes,
    _check_kernel_axes,
    _check_mode,
    _describe,
)

__all__ = [
    "APPLY_METHODS",
    "ApplyInfo",
    "convolve",
    "correlate",
]

#: Values of ``method``, sorted: "auto" and the engine's methods.
APPLY_METHODS: tuple[str, ...] = tuple(sorted(("auto", *METHODS)))


@dataclass(frozen=True, repr=False)
class ApplyInfo(Result):
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
        Pieces the image was cut into (1: one call).  On the compiled engine
        with several workers, the chunks run, which can differ from call to
        call as threads take rows from one another (the result does not).
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
    if type(cval) in (float, int) and not complex_input:  # the usual case, without ABC checks
        value = float(cval)
        if math.isfinite(value):
            return value
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
    if not cmath.isfinite(value):
        raise ValueError(
            f"`cval` must be finite; got {value!r}. To mark outside pixels, filter a "
            "finite-padded image and a mask separately."
        )
    return value


def _check_workers(workers: Any) -> int:
    """Threads: None or -1 all cores this process may use, -k all but k - 1 (scipy.fft's rule)."""
    if type(workers) is int and workers > 0:  # the usual case, without a system call
        return workers
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


def _kernel_weights(kernel: Any) -> tuple[np.ndarray, Any]:
    """(2-D float64 or complex128 weights, the object separable terms come from, or None)."""
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


def _prepare_kernel(
    kernel: Any, origin: Any, convolve: bool, *, axes: Any = None, ndim: int = 2
) -> tuple[_Kernel, tuple[int, int]]:
    """The prepared kernel for an image of `ndim` dimensions, and the image axes it runs along.

    Small real arrays are prepared once per (weights, origin, axes) and the
    result reused (filtering frames of a video, or dask chunks): checks and
    scaling cost a tenth of a millisecond, a fifth of a small filter's time.
    """
    key = _prepared_key(kernel, origin, convolve, axes, ndim)
    if key is not None:
        return _prepared(*key)
    return _prepare(kernel, origin, convolve, axes, ndim)


def _prepare(kernel: Any, origin: Any, convolve: bool, axes: Any, ndim: int
             ) -> tuple[_Kernel, tuple[int, int]]:
    weights, source = _kernel_weights(kernel)
    ax, origins = _check_filter_axes(axes, origin, ndim, weights.shape)
    return _make_kernel(weights, origins, source, convolve), ax


@functools.lru_cache(maxsize=32)
def _prepared(dtype: str, shape: tuple[int, int], data: bytes, origin: int | tuple[int, ...],
              convolve: bool, axes: tuple[int, ...] | None, ndim: int
              ) -> tuple[_Kernel, tuple[int, int]]:
    """:func:`_prepare` of the weights held in `data` (its own read-only copy: the
    caller's array stays theirs, and later calls share the result)."""
    weights = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
    kern, ax = _prepare(weights, origin, convolve, axes, ndim)
    kern.weights.flags.writeable = False
    return kern, ax


def _plain_ints(value: Any) -> bool:
    return type(value) is int or (
        type(value) is tuple and all(type(v) is int for v in value)
    )


def _prepared_key(kernel: Any, origin: Any, convolve: bool, axes: Any, ndim: int
                  ) -> tuple[Any, ...] | None:
    """The arguments of :func:`_prepared`, or None: only small real 2-D arrays, plain ints."""
    if (type(kernel) is not np.ndarray or kernel.ndim != 2 or kernel.size > 4096
            or kernel.dtype.kind not in "fiu" or not _plain_ints(origin)
            or not (axes is None or _plain_ints(axes))):
        return None
    return (kernel.dtype.str, kernel.shape, kernel.tobytes(), origin, convolve, axes, ndim)


def _check_filter_mode(mode: Any) -> str:
    """One boundary mode name (ndimage's RuntimeError class for an unknown one)."""
    if not isinstance(mode, str):
        raise NdimageRuntimeError(
            f"`mode` must be one boundary mode name (a sequence of modes is not supported "
            f"by correlate / convolve); got {_describe(mode)}."
        )
    try:
        return _check_mode(mode)
    except ValueError as exc:  # ndimage: RuntimeError('boundary mode not supported')
        raise NdimageRuntimeError(str(exc)) from None


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
    lazy = type(input).__module__.startswith("dask")
    if lazy and (output is not None or return_info):
        raise ValueError(
            "`output` and `return_info` are not supported for dask arrays (the result "
            "is lazy); call with a NumPy array for those."
        )
    method = _check_choice(method, APPLY_METHODS, "method")
    return_info = _check_bool(return_info, "return_info")
    # A dask array is checked by its dtype and shape (a view of one zero; unknown
    # lengths read as 1), never read.
    img = _as_filter_input(
        np.broadcast_to(
            np.zeros((), input.dtype), tuple(1 if s != s else s for s in input.shape)
        )
        if lazy
        else input
    )
    nd = _nd_weights(weights)
    kern: _Kernel | _NdKernel
    ax: tuple[int, ...]
    if nd is not None:
        kern, ax = _prepare_nd_kernel(nd, origin, convolve, axes, img.ndim, method)
    else:
        kern, ax = _prepare_kernel(weights, origin, convolve, axes=axes, ndim=img.ndim)
    complex_out = img.dtype.kind == "c" or kern.is_complex
    out = None if lazy else _output_array(output, img.shape, img.dtype, complex_out)
    mode = _check_filter_mode(mode)
    cv = _check_cval(cval, img.dtype.kind == "c")
    n_workers = _check_workers(workers)
    if out is None:
        dtype = _default_output_dtype(img.dtype, complex_out)
        return dask_filter(input, ChunkFilter(kern, ax, mode, cv, method, dtype))
    done = filter_into(img, out, kern, ax, mode, cv, method, n_workers, price=return_info)
    if not return_info:
        return out
    counted: dict[str, float] = {}
    if img.size:
        counted = multiplications(FilterProblem(img.shape, ax, kern.weights), done.rank)
    info = ApplyInfo(
        method=done.method,
        requested=method,
        convolve=convolve,
        predicted_seconds=done.predicted,
        multiplications=counted,
        workers=done.workers,
        strips=done.strips,
        rank=done.rank,
        scale_exponent=kern.exponent if img.size else 0,
        note=done.note,
    )
    return out, info


def _nd_weights(weights: Any) -> np.ndarray | TensorLowRank | None:
    """n-D weights (>= 3 axes) or a :class:`TensorLowRank`; None for 2-D weights."""
    if isinstance(weights, TensorLowRank):
        return weights
    if isinstance(weights, (str, BatchAnalysis)) or hasattr(weights, "to_array"):
        return None
    try:
        arr = np.asarray(weights)
    except (ValueError, TypeError):
        return None
    # object arrays too: _as_kernel converts them (Fractions) or says what is wrong (None)
    return arr if arr.ndim >= 3 and arr.dtype.kind in "biufcO" else None


def _prepare_nd_kernel(
    weights: np.ndarray | TensorLowRank, origin: Any, convolve: bool, axes: Any, ndim: int,
    method: str,
) -> tuple[_NdKernel, tuple[int, ...]]:
    """The prepared d-D kernel (d >= 3) for an image of `ndim` axes, and the image axes.

    Terms come from a :class:`TensorLowRank` (the approximation is filtered),
    or from a dense kernel that is separable (``analyze(w, ndim=d)``, rank 1);
    any other dense kernel has none (``"separable"`` refuses it).
    """
    if isinstance(weights, TensorLowRank):
        terms: list[tuple[np.ndarray, ...]] | None = [tuple(t) for t in weights.terms]
        dense = weights.to_array()
    else:
        w = weights.astype(np.float64) if weights.dtype.kind == "b" else weights
        dense = _as_kernel(w, name="weights", ndim=w.ndim)
        terms = None
        if method != "direct":
            verdict = analyze(dense, ndim=dense.ndim)
            if isinstance(verdict, TensorAnalysis) and verdict.is_separable and verdict.factors:
                terms = [verdict.factors]
            elif method == "separable":
                raise ValueError(
                    "`method='separable'` needs a separable n-D kernel (every unfolding of "
                    "rank <= 1) or a `lowrank(k, r, ndim=d)` result; pass `method='auto'`."
                )
    ax, origins = _check_kernel_axes(axes, origin, ndim, tuple(int(n) for n in dense.shape))
    return _make_nd_kernel(dense, origins, terms, convolve), ax


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




@docfiller
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

    Parameters
    ----------
    %(filter_parameters)s

    %(filter_returns)s

    Notes
    -----
    .. math::

        y_i = \\sum_j w_j \\, x_{i + j - \\lfloor m/2 \\rfloor - o}

    per axis, with ``x`` extended by `mode`.  Results equal
    ``scipy.ndimage.correlate`` to rounding (bit for bit for ``direct``, and
    for every method when integer data make ndimage's result exact), except
    that weights below ndimage's absolute threshold :math:`2^{-52}` are not
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


@docfiller
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

    Parameters
    ----------
    %(filter_parameters)s

    %(filter_returns)s

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


correlate = _renamed_keywords(correlate)
convolve = _renamed_keywords(convolve)
