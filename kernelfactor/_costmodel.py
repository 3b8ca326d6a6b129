r"""What filtering costs: operation counts, the timing model and its constants.

One home for the cost of every filter method (:data:`METHOD_COSTS`, one row
per method of :func:`kernelfactor.correlate`): the counted operations of
:func:`filter_cost`, the counts the timing model multiplies
(:func:`features`), its constants (:data:`DEFAULT_CONSTANTS`, or this
machine's from the calibration cache, :func:`load_constants`) and the
predicted seconds (:func:`predict`).  Nothing here times anything: the
measuring is :func:`kernelfactor.calibrate`'s.  Also the counts of CNN
layers (:func:`conv_cost`, :func:`layer_costs`, ...).

Image filters (:func:`filter_cost`)
-----------------------------------
Conventions, for an image of spatial shape ``(H, W)`` and an ``m x n`` kernel:

* The output has the same size as the image (``scipy.ndimage`` semantics):
  every one of the ``H * W`` output pixels uses all ``m * n`` taps, the
  boundary being handled by extending the image (the extension costs no
  arithmetic and is not counted).
* ``"direct"``: ``m * n`` multiplications and ``m * n - 1`` additions per
  output.  Memory passes: 2 (read the image, write the output).
* ``"separable"`` with ``k`` rank-1 terms (a column pass of length ``m`` then a
  row pass of length ``n`` per term): ``k * (m + n)`` multiplications and
  ``k * (m - 1 + n - 1) + (k - 1)`` additions per output (the ``k - 1`` sum the
  terms).  Passes: the first term reads the image, writes an image-sized
  intermediate, reads it back and writes the output (4); each further term
  does the same but also reads the running sum before writing it (5), so
  ``5 k - 1`` in all.
* ``"fft"`` (an *estimate*, ``exact=False``): the image is extended by
  ``(m - 1, n - 1)`` and transformed with a real FFT of the padded size
  ``P = next_fast_len(H + m - 1) x next_fast_len(W + n - 1)``; a circular
  correlation of that size gives the ``H x W`` valid part exactly, so no
  larger padding is needed.  Three real 2-D transforms are counted (image
  forward, kernel forward, inverse), each
  :data:`FFT_MULTIPLICATIONS_PER_POINT_LOG2` ``* P log2 P`` multiplications
  and :data:`FFT_ADDITIONS_PER_POINT_LOG2` ``* P log2 P`` additions (half the
  radix-2 complex FFT's classical ``2 N log2 N`` multiplications and
  ``3 N log2 N`` additions, because the input is real).  The pointwise product
  over the ``S = P_h * (P_w // 2 + 1)`` half-spectrum is ``S`` complex
  multiplications (:data:`COMPLEX_MULTIPLY_MULTIPLICATIONS` = 4 real
  multiplications and :data:`COMPLEX_MULTIPLY_ADDITIONS` = 2 real additions
  each) and the ``1 / P`` normalisation, folded into the kernel's spectrum,
  ``2 S`` real multiplications.  Passes: :data:`FFT_PASSES` (pad: 2, three
  row-column transforms: 4 each, product: 3, crop: 2).  Real FFT libraries
  differ from these constants by small factors; treat the FFT figures as an
  order-of-magnitude model and use the calibration module for decisions.

Volumes (``ndim=d``): the same conventions over ``d`` axes: direct
:math:`\prod_i n_i` multiplications per output; ``r`` CP terms
:math:`r \sum_i n_i` (one 1-D pass per axis per term, ``2 d r + r - 1``
passes); FFT over the ``d`` fast sizes, ``2 d`` passes per transform.

Totals for the exactly counted methods are Python ints; per-output figures are
floats.

The timing model (``method="auto"``)
------------------------------------
:func:`predict` gives the time of each method as a sum of counts times
constants (seconds per count, :func:`features` gives the counts):

.. math::

    t_\text{direct} &= c_\text{tap}\, N\, \mathrm{nnz}(K) + c_\text{px} N \\
    t_\text{separable} &= \sum_\text{passes} N \left( c_\text{tap}' L
        \;\text{or}\; c_\text{pair} \lceil L/2 \rceil \right)
        + c_\text{inner/outer} N + c_\text{acc} N (k - 1) \\
    t_\text{fft} &= c_\text{fft} (2B + 1)\, P \log_2 P + c_\text{fpx} B P

for ``N`` output elements, 1-D passes of length ``L`` (``c_pair`` for the
(anti)symmetric ones, which ndimage runs with half the multiplications; the
per-element overhead of a pass differs between the last, contiguous axis and
the others), ``k`` rank-1 terms, ``B`` images in a batch and the FFT size
``P = next_fast_len(H + m - 1) * next_fast_len(W + n - 1)``.

On the compiled engine (:mod:`kernelfactor._compiled`, when numba is
available; :attr:`FilterProblem.compiled`) the fused one-pass filters have
their own ``jit_*`` constants:

.. math::

    t_\text{direct} &= c_\text{jtap}\, N\, \mathrm{nnz}(K) + c_\text{jpx} N \\
    t_\text{separable} &= N \left( c_\text{jpx}' + c_\text{term} k
        + c_\text{jtap}' T + c_\text{jpair} P \right)

with ``T`` taps and ``P`` folded pairs of taps per output over all terms and
both axes (a symmetric factor of length ``L`` counts ``L // 2`` pairs and one
tap).

:func:`kernelfactor.calibrate` fits the constants on this machine and caches
them as JSON in ``$KERNELFACTOR_CACHE_DIR``, else
``$XDG_CACHE_HOME/kernelfactor``, else ``~/.cache/kernelfactor``
(:func:`cache_dir`).  Until it has run, :data:`DEFAULT_CONSTANTS` (measured on
a 2-core x86-64 machine with scipy 1.17) are used.

CNN layers (:func:`conv_cost`, :func:`layer_costs`, ...)
--------------------------------------------------------
Shapes are channels-last, as in the seed example: an input ``(H, W, C_in)``.
Output sizes follow TensorFlow / PyTorch: ``"valid"`` gives
``floor((in - dilation * (K - 1) - 1) / stride) + 1``, ``"same"`` gives
``ceil(in / stride)`` with TensorFlow's zero padding (total
``max((out - 1) * stride + (K - 1) * dilation + 1 - in, 0)``, the extra one on
the bottom / right).  Every tap is counted, including taps that fall on the
zero padding: a convolution routine executes those multiplications.  Biases
are not counted unless ``bias=True``.

The seed example (see :func:`seed_example`) is reproduced exactly; its text has
three slips, which this module does not repeat:

* the pointwise count is printed as 49512; it is 49,152 (the printed total
  53,952 is right);
* the summary says the ordinary convolution "transforms the image 245 times";
  it is 256 (one per output channel);
* the step-by-step summary gives the output as 12 x 12 x 256, which holds for
  ``"same"`` padding; with the ``"valid"`` padding used everywhere else it is
  8 x 8 x 256.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from ._results import Result
from ._typing import Pair, Shape
from ._validation import _check_choice, _check_positive_int, _check_rank_at_most, _describe

__all__ = [
    "CACHE_ENV",
    "COMPLEX_MULTIPLY_ADDITIONS",
    "COMPLEX_MULTIPLY_MULTIPLICATIONS",
    "DEFAULT_CONSTANTS",
    "FFT_ADDITIONS_PER_POINT_LOG2",
    "FFT_MULTIPLICATIONS_PER_POINT_LOG2",
    "FFT_PASSES",
    "FILTER_METHODS",
    "METHOD_COSTS",
    "METRICS",
    "PADDINGS",
    "ConvCost",
    "FilterCost",
    "FilterProblem",
    "LayerCosts",
    "MethodCost",
    "cache_dir",
    "conv_cost",
    "conv_output_shape",
    "depthwise_separable_cost",
    "features",
    "fft_crossover",
    "filter_cost",
    "layer_costs",
    "load_constants",
    "low_rank_channel_cost",
    "multiplications",
    "predict",
    "rank_crossover",
    "save_constants",
    "seed_example",
    "separable_crossover",
    "spatially_separable_cost",
]

#: Real multiplications per point per ``log2`` of the size for one real-input
#: 2-D FFT (half of radix-2 complex FFT's ``2 N log2 N``).
FFT_MULTIPLICATIONS_PER_POINT_LOG2: float = 1.0
#: Real additions per point per ``log2`` of the size for one real-input 2-D FFT
#: (half of radix-2 complex FFT's ``3 N log2 N``).
FFT_ADDITIONS_PER_POINT_LOG2: float = 1.5
#: Real multiplications in one complex multiplication.
COMPLEX_MULTIPLY_MULTIPLICATIONS: int = 4
#: Real additions in one complex multiplication.
COMPLEX_MULTIPLY_ADDITIONS: int = 2
#: FFT transforms counted: image forward, kernel forward, inverse.
FFT_TRANSFORMS: int = 3
#: Memory passes of the FFT method: pad (2) + 3 transforms x 4 + product (3) + crop (2).
FFT_PASSES: int = 2 + FFT_TRANSFORMS * 4 + 3 + 2

#: What a crossover compares, sorted.
METRICS: tuple[str, ...] = ("additions", "multiplications", "operations")
#: CNN padding modes, sorted.
PADDINGS: tuple[str, ...] = ("same", "valid")


def _check_shape(shape: Any, name: str, ndim: int | Sequence[int]) -> tuple[int, ...]:
    """A tuple of positive ints of one of the lengths in `ndim`."""
    lengths = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool) and 1 in lengths:
        shape = (shape,)
    try:
        items = tuple(shape)
    except TypeError:
        items = None
    if items is None or len(items) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise ValueError(
            f"`{name}` must be a sequence of {want} positive integers; got {_describe(shape)}."
        )
    out = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(
                f"`{name}` must hold integers; entry {i} is {_describe(item)} (in {shape!r})."
            )
        if item < 1:
            raise ValueError(
                f"`{name}` must hold positive sizes (>= 1); entry {i} is {int(item)} "
                f"(in {tuple(int(v) for v in items)})."
            )
        out.append(int(item))
    return tuple(out)


def _fmt(value: float) -> str:
    """Thousands-separated; floats (estimates) rounded to integers."""
    return f"{value:,}" if isinstance(value, int) else f"~{value:,.0f}"


def _metric_value(mults: float, adds: float, metric: str) -> float:
    if metric == "multiplications":
        return mults
    if metric == "additions":
        return adds
    return mults + adds


# ---------------------------------------------------------------------------
# The methods: counted operations, timing-model counts, default constants
# ---------------------------------------------------------------------------

_EPS = float(np.finfo(np.float64).eps)  # ndimage's DBL_EPSILON thresholds

#: The rank-1 terms of a separable kernel: (column, row) weights in 2-D, one
#: factor per axis for a d-D kernel.
Terms = list[tuple[np.ndarray, ...]]


class _Counts(NamedTuple):
    multiplications: float
    additions: float
    passes: int
    exact: bool


def _fast_shape(shape: tuple[int, ...], kernel: tuple[int, ...]) -> tuple[int, ...]:
    """The FFT method's transform shape: fast sizes no smaller than the padded image."""
    from scipy.fft import next_fast_len  # lazy: heavy

    return tuple(next_fast_len(s + k - 1, real=True) for s, k in zip(shape, kernel, strict=True))


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


def _direct_counts(shape: tuple[int, ...], kernel: tuple[int, ...], rank: int) -> _Counts:
    size, taps = math.prod(shape), math.prod(kernel)
    return _Counts(size * taps, size * (taps - 1), 2, True)


def _separable_counts(shape: tuple[int, ...], kernel: tuple[int, ...], rank: int) -> _Counts:
    # per term one 1-D pass per axis, each reading and writing an image-sized array;
    # every term after the first also reads the running sum
    size, d = math.prod(shape), len(kernel)
    return _Counts(size * rank * sum(kernel), size * (rank * sum(k - 1 for k in kernel) + rank - 1),
                   2 * d * rank + rank - 1, True)


def _fft_counts(shape: tuple[int, ...], kernel: tuple[int, ...], rank: int) -> _Counts:
    fast = _fast_shape(shape, kernel)
    p = math.prod(fast)
    spectrum = math.prod(fast[:-1]) * (fast[-1] // 2 + 1)
    log_p = math.log2(p) if p > 1 else 0.0
    mults = (
        FFT_TRANSFORMS * FFT_MULTIPLICATIONS_PER_POINT_LOG2 * p * log_p
        + spectrum * COMPLEX_MULTIPLY_MULTIPLICATIONS
        + 2 * spectrum
    )
    adds = FFT_TRANSFORMS * FFT_ADDITIONS_PER_POINT_LOG2 * p * log_p + (
        spectrum * COMPLEX_MULTIPLY_ADDITIONS
    )
    passes = FFT_PASSES + FFT_TRANSFORMS * 2 * (len(kernel) - 2)  # 2 passes per axis
    return _Counts(float(mults), float(adds), passes, False)


@dataclass(frozen=True)
class FilterProblem:
    """What the timing model needs to know about one filtering call.

    Attributes
    ----------
    shape : tuple of int
        The image shape (any number of dimensions).
    axes : tuple of int
        The image axes the kernel's axes run along (two, or d for d-D weights).
    weights : ndarray
        The weights as applied (zero weights are skipped by ``direct``).
    terms : list of tuples or None
        The rank-1 terms ``separable`` would apply, one factor per kernel axis
        (None: not computed).
    scaled : bool
        The kernel runs scaled by a power of two (one more pass).
    compiled : bool
        ``separable`` and ``direct`` run on the compiled engine
        (:mod:`kernelfactor._compiled`), not on scipy.ndimage.
    """

    shape: tuple[int, ...]
    axes: tuple[int, ...]
    weights: np.ndarray
    terms: Terms | None = None
    scaled: bool = False
    compiled: bool = False

    @property
    def outputs(self) -> float:
        return float(math.prod(self.shape))

    @property
    def plane(self) -> tuple[int, ...]:
        """The image's extent along the kernel's axes."""
        return tuple(self.shape[a] for a in self.axes)

    @property
    def batch(self) -> int:
        return math.prod(self.shape) // math.prod(self.plane)


def _direct_features(p: FilterProblem) -> dict[str, float] | None:
    nnz = int(np.count_nonzero(np.abs(p.weights) > _EPS))
    if p.compiled:
        return {"jit_direct_tap": p.outputs * nnz, "jit_direct_px": p.outputs}
    return {"direct_tap": p.outputs * nnz, "direct_px": p.outputs}


def _compiled_separable_features(p: FilterProblem) -> dict[str, float]:
    """The fused engine: one pass over the image, taps (folded pairs) per output, terms."""
    assert p.terms is not None
    taps = pairs = 0.0
    for pair in p.terms:
        for w in pair:
            if _symmetry(w) and w.size > 1:
                pairs += w.size // 2
                taps += 1  # the centre tap
            else:
                taps += w.size
    total = p.outputs
    return {
        "jit_sep_px": total,
        "jit_sep_term": total * len(p.terms),
        "jit_sep_tap": total * taps,
        "jit_sep_pair": total * pairs,
        "acc_px": total * (1 if p.scaled else 0),
    }


def _separable_features(p: FilterProblem) -> dict[str, float] | None:
    if p.terms is None:
        return None
    if p.compiled:
        return _compiled_separable_features(p)
    last = len(p.shape) - 1
    taps = pairs = inner = outer = 0.0
    for pair in p.terms:
        for k, w in enumerate(pair):
            if w.size == 1:
                continue  # folded into the other pass
            if _symmetry(w):
                pairs += (w.size + 1) // 2
            else:
                taps += w.size
            if p.axes[k] == last:
                inner += 1
            else:
                outer += 1
    extra = max(len(p.terms) - 1, 0) + (1 if p.scaled else 0)
    total = p.outputs
    return {
        "sep_tap": total * taps,
        "sep_pair": total * pairs,
        "sep_inner": total * inner,
        "sep_outer": total * outer,
        "acc_px": total * extra,
    }


def _fft_features(p: FilterProblem) -> dict[str, float] | None:
    size = float(math.prod(_fast_shape(p.plane, p.weights.shape)))
    return {
        "fft_nlogn": (2 * p.batch + 1) * size * math.log2(max(size, 2.0)),
        "fft_px": p.batch * size,
    }


@dataclass(frozen=True)
class MethodCost:
    """The cost of one filter method.

    Attributes
    ----------
    counts : callable
        ``(shape, kernel_shape, rank) -> (multiplications, additions, passes,
        exact)`` for an image and a kernel of as many axes (:func:`filter_cost`).
    constants : mapping
        The timing model's default seconds per count, by name (see the module
        docstring).
    features : callable
        :class:`FilterProblem` -> the counts the constants multiply (None:
        the method cannot be priced, e.g. separable without its terms).
    ranked : bool
        The method applies rank-1 terms (its counts depend on the rank).
    """

    counts: Callable[[tuple[int, ...], tuple[int, ...], int], _Counts]
    constants: Mapping[str, float]
    features: Callable[[FilterProblem], dict[str, float] | None]
    ranked: bool = False


# The compiled engine's seconds per count (``jit_*``; 2048 x 2048 float64, one
# thread, same machine class): per output, per rank-1 term per output, per
# tap and per folded pair of taps per output.
JIT_DIRECT_PX = 1.7e-9
JIT_DIRECT_TAP = 0.075e-9
JIT_SEP_PX = 1.4e-9
JIT_SEP_TERM = 0.16e-9
JIT_SEP_TAP = 0.083e-9
JIT_SEP_PAIR = 0.14e-9

#: The one table of filter methods' costs: method -> its formulas.  Seconds per
#: count: a calibration at 2048 x 2048 on a 2-core x86-64 machine (scipy
#: 1.17.1); the fit put the FFT's per-pixel overhead at zero (absorbed by the
#: ``P log2 P`` term); ``acc_px`` is one measured ``np.add`` pass.  ``fft_nlogn``
#: and the ``jit_*`` constants: ``calibrate(size=2048)`` with the compiled
#: engine (issue 14; the older FFT figure was twice what this machine class
#: measures, which misplaced the crossover with the fused separable filter).
METHOD_COSTS: Mapping[str, MethodCost] = MappingProxyType({
    "direct": MethodCost(
        _direct_counts,
        {"direct_px": 3.4e-9, "direct_tap": 0.95e-9, "jit_direct_px": JIT_DIRECT_PX,
         "jit_direct_tap": JIT_DIRECT_TAP},
        _direct_features,
    ),
    "fft": MethodCost(_fft_counts, {"fft_nlogn": 0.46e-9, "fft_px": 0.0}, _fft_features),
    "separable": MethodCost(
        _separable_counts,
        {"acc_px": 1.3e-9, "sep_inner": 3.3e-9, "sep_outer": 18.9e-9, "sep_pair": 0.9e-9,
         "sep_tap": 0.785e-9, "jit_sep_px": JIT_SEP_PX, "jit_sep_term": JIT_SEP_TERM,
         "jit_sep_tap": JIT_SEP_TAP, "jit_sep_pair": JIT_SEP_PAIR},
        _separable_features,
        ranked=True,
    ),
})  # fmt: skip

#: Image-filter methods, sorted.
FILTER_METHODS: tuple[str, ...] = tuple(sorted(METHOD_COSTS))

#: Seconds per count, used until :func:`kernelfactor.calibrate` has run on this
#: machine (all rows of :data:`METHOD_COSTS`, by name).
DEFAULT_CONSTANTS: dict[str, float] = dict(
    sorted(item for cost in METHOD_COSTS.values() for item in cost.constants.items())
)


def features(problem: FilterProblem) -> dict[str, dict[str, float]]:
    """The timing model's counts per method that can be priced."""
    out = {}
    for method, cost in METHOD_COSTS.items():
        f = cost.features(problem)
        if f is not None:
            out[method] = f
    return out


def predict(problem: FilterProblem) -> dict[str, float]:
    """Predicted seconds per method (one thread), with :func:`load_constants`."""
    const = load_constants()
    return {
        method: float(sum(const.get(name, 0.0) * value for name, value in f.items()))
        for method, f in features(problem).items()
    }


def multiplications(problem: FilterProblem, rank: int | None) -> dict[str, float]:
    """Counted multiplications per method for the whole image (ranked ones need `rank`)."""
    kshape = tuple(int(n) for n in problem.weights.shape)
    return {
        method: float(
            filter_cost(problem.plane, kshape, method=method, rank=rank or 1,
                        ndim=len(kshape)).multiplications
            * problem.batch
        )
        for method, cost in METHOD_COSTS.items()
        if rank or not cost.ranked
    }


# ---------------------------------------------------------------------------
# The constants of this machine: the calibration cache
# ---------------------------------------------------------------------------

#: Environment variable overriding the cache directory.
CACHE_ENV = "KERNELFACTOR_CACHE_DIR"
_FILE = "calibration.json"
_VERSION = 1
_LOADED: dict[str, dict[str, float]] = {}


def cache_dir() -> Path:
    """The directory holding the calibration cache (not created here).

    ``$KERNELFACTOR_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/kernelfactor``,
    else ``~/.cache/kernelfactor``.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"KERNELFACTOR_CACHE_DIR": "/tmp/kf-cache-example"}):
    ...     str(cache_dir())
    '/tmp/kf-cache-example'
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "kernelfactor"


def load_constants() -> dict[str, float]:
    """The cost-model constants: this machine's calibration if cached, else the defaults.

    A missing, unreadable or outdated cache file gives the defaults.

    Examples
    --------
    >>> sorted(load_constants()) == sorted(DEFAULT_CONSTANTS)
    True
    """
    path = cache_dir() / _FILE
    key = str(path)
    if key not in _LOADED:
        constants = dict(DEFAULT_CONSTANTS)
        try:
            data = json.loads(path.read_text())
            if data.get("version") == _VERSION:
                for name in DEFAULT_CONSTANTS:
                    value = float(data["constants"][name])
                    if np.isfinite(value) and value >= 0:
                        constants[name] = value
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
                OverflowError):  # corrupt, deeply nested or absurd: the defaults
            constants = dict(DEFAULT_CONSTANTS)
        _LOADED[key] = constants
    return dict(_LOADED[key])


def save_constants(constants: Mapping[str, float], image_size: int) -> Path:
    """Write `constants` to the cache (atomically) for :func:`load_constants`; its path."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _FILE
    payload = {
        "version": _VERSION,
        "constants": dict(constants),
        "image_size": image_size,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": platform.machine(),
        "numpy": np.__version__,
    }
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    os.replace(tmp, target)
    _LOADED.pop(str(target), None)
    return target


# ---------------------------------------------------------------------------
# Image filters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterCost(Result):
    """Operation and memory-pass counts of filtering one image with one kernel.

    Attributes
    ----------
    method : str
        ``"direct"``, ``"separable"`` or ``"fft"``.
    image_shape : tuple of int
        The spatial shape ``(H, W)`` (d axes with ``ndim=d``).
    kernel_shape : tuple of int
        ``(m, n)`` (d axes with ``ndim=d``).
    rank : int or None
        Number of rank-1 terms for ``"separable"``, else None.
    multiplications, additions : int or float
        Totals over the image (ints for the counted methods).
    passes : int
        Memory passes over an image-sized array (reads and writes of full
        intermediates, see the module docstring).
    per_output_multiplications, per_output_additions : float
        Totals divided by ``H * W``.
    exact : bool
        True for counted methods, False for the FFT estimate.
    """

    method: str
    image_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    rank: int | None
    multiplications: float
    additions: float
    passes: int
    per_output_multiplications: float
    per_output_additions: float
    exact: bool

    @property
    def operations(self) -> float:
        """Multiplications plus additions."""
        return self.multiplications + self.additions

    def __repr__(self) -> str:
        rank = f", rank={self.rank}" if self.rank is not None else ""
        kind = "" if self.exact else " (estimate)"
        return (
            f"FilterCost(method={self.method!r}{rank}, image={self.image_shape}, "
            f"kernel={self.kernel_shape}: {_fmt(self.multiplications)} mults, "
            f"{_fmt(self.additions)} adds, {self.passes} passes; per output "
            f"{self.per_output_multiplications:g} mults, "
            f"{self.per_output_additions:g} adds{kind})"
        )


def filter_cost(
    image_shape: Shape, kernel_shape: Shape, *, method: str = "direct", rank: int = 1,
    ndim: int = 2,
) -> FilterCost:
    r"""Count the operations of filtering an image with an ``m x n`` kernel.

    Parameters
    ----------
    image_shape : tuple of int
        Spatial shape ``(H, W)``.
    kernel_shape : tuple of int
        ``(m, n)``.
    method : {"direct", "fft", "separable"}
        Direct 2-D correlation, ``rank`` separable (column then row) passes,
        or FFT (an estimate; see the module docstring for its constants).
    rank : int
        Number of rank-1 terms for ``"separable"`` (ignored otherwise).
    ndim : int
        2 (default), or ``d >= 3``: a d-D image and kernel (both shapes of
        length d).  Per output, direct takes :math:`\prod_k n_k`
        multiplications, a rank-``r`` CP kernel :math:`r \sum_k n_k` (one 1-D
        pass per axis per term, :math:`2 d r + r - 1` memory passes), FFT the
        same model over d axes (:math:`2 d` passes per transform); ``rank`` is
        at most :math:`\prod_k n_k / \max_k n_k` (one term per fibre: an
        upper bound on the tensor rank of any kernel of that shape).

    Returns
    -------
    FilterCost

    Notes
    -----
    Per output pixel:

    .. math::

        \text{direct: } mn \text{ mults},\ mn - 1 \text{ adds};\qquad
        \text{rank-}k\text{: } k(m + n) \text{ mults},\
        k(m + n - 2) + k - 1 \text{ adds}.

    Examples
    --------
    >>> c = filter_cost((512, 512), (5, 5))
    >>> c.multiplications, c.per_output_multiplications, c.passes
    (6553600, 25.0, 2)
    >>> s = filter_cost((512, 512), (5, 5), method="separable", rank=2)
    >>> s.per_output_multiplications, s.per_output_additions, s.passes
    (20.0, 17.0, 9)
    >>> filter_cost((512, 512), (5, 5), method="fft").exact
    False
    >>> v = filter_cost((64, 64, 64), (5, 5, 5), method="separable", rank=2, ndim=3)
    >>> v.per_output_multiplications, v.passes
    (30.0, 13)
    """
    if isinstance(ndim, bool) or not isinstance(ndim, numbers.Integral) or ndim < 2:
        raise ValueError(f"`ndim` must be an integer >= 2; got {_describe(ndim)}.")
    d = int(ndim)
    hw = _check_shape(image_shape, "image_shape", d)
    kshape = _check_shape(kernel_shape, "kernel_shape", d)
    method = _check_choice(method, FILTER_METHODS, "method")
    size = math.prod(hw)
    cost = METHOD_COSTS[method]
    top = math.prod(kshape) // max(kshape)
    why = (f"min(m, n) for a {kshape[0]} x {kshape[1]} kernel" if d == 2 else
           f"the number of fibres of a {'x'.join(map(str, kshape))} kernel along its "
           "longest axis (one term per fibre decomposes any kernel of that shape)")
    used_rank = _check_rank_at_most(rank, top, "rank", why) if cost.ranked else None
    mults, adds, passes, exact = cost.counts(hw, kshape, used_rank or 1)
    return FilterCost(
        method=method,
        image_shape=hw,
        kernel_shape=kshape,
        rank=used_rank,
        multiplications=mults,
        additions=adds,
        passes=passes,
        per_output_multiplications=mults / size,
        per_output_additions=adds / size,
        exact=exact,
    )


def separable_crossover(
    rank: int = 1, *, metric: str = "multiplications", max_size: int = 1024
) -> int | None:
    """Smallest square kernel size ``n`` where rank-`rank` separable beats direct.

    "Beats" means strictly fewer counted `metric` per output (the counts per
    output do not depend on the image size).  For multiplications this is
    ``2 * rank + 1``: ``rank * 2n < n**2``.

    Parameters
    ----------
    rank : int
        Number of rank-1 terms.
    metric : {"additions", "multiplications", "operations"}
        What is compared (``"operations"`` = multiplications + additions).
    max_size : int
        Search limit; None is returned if no size up to it wins.

    Returns
    -------
    int or None

    Examples
    --------
    >>> separable_crossover()
    3
    >>> separable_crossover(2)
    5
    >>> separable_crossover(1, metric="operations")
    2
    """
    k = _check_positive_int(rank, "rank")
    metric = _check_choice(metric, METRICS, "metric")
    limit = _check_positive_int(max_size, "max_size")
    for n in range(k, limit + 1):  # an n x n kernel has rank <= n
        d = filter_cost((1, 1), (n, n))
        s = filter_cost((1, 1), (n, n), method="separable", rank=k)
        if _metric_value(s.multiplications, s.additions, metric) < _metric_value(
            d.multiplications, d.additions, metric
        ):
            return n
    return None


def rank_crossover(kernel_shape: Shape, *, metric: str = "multiplications") -> int:
    """The smallest rank at which rank-k separable filtering stops paying.

    Returns the smallest ``k`` whose separable count is no smaller than the
    direct count; every rank below it is strictly cheaper than direct.  For
    multiplications that is ``ceil(m n / (m + n))``, which never exceeds
    ``min(m, n)``.  A result of 1 means separable filtering never pays for
    this kernel shape (e.g. a ``1 x n`` kernel).

    Parameters
    ----------
    kernel_shape : tuple of int
        ``(m, n)``.
    metric : {"additions", "multiplications", "operations"}

    Returns
    -------
    int

    Examples
    --------
    >>> rank_crossover((5, 5))  # ranks 1 and 2 pay, rank 3 does not
    3
    >>> rank_crossover((3, 3))
    2
    >>> rank_crossover((1, 7))
    1
    """
    m, n = _check_shape(kernel_shape, "kernel_shape", 2)
    metric = _check_choice(metric, METRICS, "metric")
    d = filter_cost((1, 1), (m, n))
    direct = _metric_value(d.multiplications, d.additions, metric)
    k = 1
    while True:
        s = filter_cost((1, 1), (m, n), method="separable", rank=k)
        if _metric_value(s.multiplications, s.additions, metric) >= direct:
            return k
        k += 1


def fft_crossover(
    image_shape: Shape,
    *,
    versus: str = "direct",
    rank: int = 1,
    metric: str = "operations",
    max_size: int | None = None,
) -> int | None:
    """Smallest square kernel size where the FFT estimate beats `versus`.

    Parameters
    ----------
    image_shape : tuple of int
        Spatial shape ``(H, W)``; the FFT cost depends on it.
    versus : {"direct", "separable"}
        The counted method the FFT is compared with.
    rank : int
        Rank of the separable method when ``versus="separable"``.
    metric : {"additions", "multiplications", "operations"}
    max_size : int, optional
        Search limit (default ``2 * max(H, W)``); None if nothing wins.

    Returns
    -------
    int or None
        Based on the FFT *estimate* (see the module docstring's constants).

    Examples
    --------
    >>> fft_crossover((512, 512))
    9
    >>> fft_crossover((512, 512), versus="separable")
    46
    """
    hw = _check_shape(image_shape, "image_shape", 2)
    versus = _check_choice(versus, ("direct", "separable"), "versus")
    metric = _check_choice(metric, METRICS, "metric")
    limit = 2 * max(hw) if max_size is None else _check_positive_int(max_size, "max_size")
    k = _check_positive_int(rank, "rank")
    for n in range(1, limit + 1):
        other = filter_cost(hw, (n, n), method=versus, rank=k)
        f = filter_cost(hw, (n, n), method="fft")
        if _metric_value(f.multiplications, f.additions, metric) < _metric_value(
            other.multiplications, other.additions, metric
        ):
            return n
    return None


# ---------------------------------------------------------------------------
# CNN layers
# ---------------------------------------------------------------------------


def _pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        v = _check_positive_int(value, name)
        return (v, v)
    pair = _check_shape(value, name, 2)
    return (pair[0], pair[1])


def conv_output_shape(
    input_hw: Any,
    kernel: Pair,
    *,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
) -> tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]]:
    r"""Output spatial size and zero padding of a 2-D convolution layer.

    TensorFlow / PyTorch rules, with effective kernel size
    :math:`K_e = d (K - 1) + 1`:

    .. math::

        \text{valid: } \left\lfloor \frac{\text{in} - K_e}{s} \right\rfloor + 1,
        \qquad
        \text{same: } \left\lceil \frac{\text{in}}{s} \right\rceil,\
        \text{pad} = \max((\text{out} - 1) s + K_e - \text{in}, 0)

    with the odd padding pixel at the bottom / right (TensorFlow).

    Parameters
    ----------
    input_hw : tuple of int
        ``(H, W)``.
    kernel : int or tuple of int
        ``(K_h, K_w)``.
    stride, dilation : int or tuple of int
    padding : {"same", "valid"}

    Returns
    -------
    (H_out, W_out), ((top, bottom), (left, right))

    Examples
    --------
    >>> conv_output_shape((12, 12), 5)
    ((8, 8), ((0, 0), (0, 0)))
    >>> conv_output_shape((12, 12), 5, padding="same", stride=2)
    ((6, 6), ((1, 2), (1, 2)))
    """
    return _conv_output_shape(
        input_hw, kernel, stride=stride, padding=padding, dilation=dilation
    )


def _conv_output_shape(
    input_hw: Any,
    kernel: Pair,
    *,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    input_name: str = "input_shape",
) -> tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]]:
    """:func:`conv_output_shape`, naming the input `input_name` in errors."""
    hw = _check_shape(input_hw, input_name, 2)
    k = _pair(kernel, "kernel")
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    padding = _check_choice(padding, PADDINGS, "padding")
    outs: list[int] = []
    pads: list[tuple[int, int]] = []
    for axis, label in enumerate(("height", "width")):
        size, eff = hw[axis], d[axis] * (k[axis] - 1) + 1
        if padding == "valid":
            if eff > size:
                raise ValueError(
                    f"`kernel` {k} (effective {label} {eff} with dilation {d[axis]}) is larger "
                    f"than the input {label} {size} of `{input_name}` with padding='valid'; use "
                    "padding='same', a smaller kernel or dilation, or a larger input."
                )
            outs.append((size - eff) // s[axis] + 1)
            pads.append((0, 0))
        else:
            out = -(-size // s[axis])
            total = max((out - 1) * s[axis] + eff - size, 0)
            outs.append(out)
            pads.append((total // 2, total - total // 2))
    return (outs[0], outs[1]), (pads[0], pads[1])


@dataclass(frozen=True)
class ConvCost(Result):
    """Counts of one convolution layer, or of a factorised layer's stages.

    Attributes
    ----------
    name : str
        ``"standard"``, ``"depthwise_separable"``, ``"spatially_separable"``,
        ``"low_rank_channel"`` or a stage name (``"depthwise"``,
        ``"pointwise"``, ``"column"``, ``"row"``).
    input_shape, output_shape : tuple of int
        Channels-last ``(H, W, C)``.
    kernel, stride, dilation : tuple of int
        ``(K_h, K_w)`` etc. of the layer (of the stage, for stages).
    padding : str
    groups : int
        Grouped-convolution groups (1 for composites).
    multiplications, additions, parameters : int
        Totals; every tap is counted, including taps on zero padding.
    stages : tuple of ConvCost
        The stages of a factorised layer, in execution order (empty for one
        convolution).  Totals are the sums over the stages.
    description : str
    """

    name: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: str
    groups: int
    multiplications: int
    additions: int
    parameters: int
    stages: tuple[ConvCost, ...] = ()
    description: str = ""

    @property
    def outputs(self) -> int:
        """Number of output values ``H_out * W_out * C_out``."""
        return math.prod(self.output_shape)

    @property
    def per_output_multiplications(self) -> float:
        """Multiplications per output value."""
        return self.multiplications / self.outputs

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python (stages nested; the description second)."""
        d = super().to_dict()
        return {"name": d.pop("name"), "description": d.pop("description"), **d}

    def __repr__(self) -> str:
        shape = "x".join(str(v) for v in self.input_shape)
        out = "x".join(str(v) for v in self.output_shape)
        parts = ""
        if self.stages:
            parts = " = " + " + ".join(f"{s.multiplications:,}" for s in self.stages)
        return (
            f"ConvCost({self.name}: {shape} -> {out}, {self.multiplications:,} mults{parts}, "
            f"{self.additions:,} adds, {self.parameters:,} params)"
        )


def _check_input_shape(input_shape: Shape) -> tuple[int, int, int]:
    try:
        items = tuple(input_shape)
    except TypeError:
        items = ()
    if len(items) != 3:
        raise ValueError(
            "`input_shape` must be a sequence of 3 positive integers, channels-last "
            f"(H, W, C_in) as in 12x12x3; got {_describe(input_shape)}."
        )
    shape = _check_shape(input_shape, "input_shape", 3)
    return (shape[0], shape[1], shape[2])


def _stage(
    name: str,
    input_shape: tuple[int, int, int],
    out_channels: int,
    kernel: tuple[int, int],
    *,
    stride: tuple[int, int] = (1, 1),
    padding: str = "valid",
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
    bias: bool = False,
    description: str = "",
) -> ConvCost:
    """One (grouped) convolution: every output sums ``C_in / groups * K_h * K_w`` products."""
    h, w, c_in = input_shape
    (ho, wo), _ = conv_output_shape(
        (h, w), kernel, stride=stride, padding=padding, dilation=dilation
    )
    taps = (c_in // groups) * kernel[0] * kernel[1]
    outputs = ho * wo * out_channels
    return ConvCost(
        name=name,
        input_shape=input_shape,
        output_shape=(ho, wo, out_channels),
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        padding=padding,
        groups=groups,
        multiplications=outputs * taps,
        additions=outputs * (taps - 1 + int(bias)),
        parameters=out_channels * taps + out_channels * int(bias),
        description=description,
    )


def _composite(name: str, stages: tuple[ConvCost, ...], description: str) -> ConvCost:
    first, last = stages[0], stages[-1]
    # kernel / stride / dilation of the whole layer: products of the stages' per axis
    kernel = (
        max(s.kernel[0] for s in stages),
        max(s.kernel[1] for s in stages),
    )
    stride = (math.prod(s.stride[0] for s in stages), math.prod(s.stride[1] for s in stages))
    dilation = (max(s.dilation[0] for s in stages), max(s.dilation[1] for s in stages))
    return ConvCost(
        name=name,
        input_shape=first.input_shape,
        output_shape=last.output_shape,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        padding=first.padding,
        groups=1,
        multiplications=sum(s.multiplications for s in stages),
        additions=sum(s.additions for s in stages),
        parameters=sum(s.parameters for s in stages),
        stages=stages,
        description=description,
    )


def _layer_args(
    input_shape: Shape, kernel: Pair, out_channels: Any, stride: Pair, padding: Any, dilation: Pair
) -> tuple[tuple[int, int, int], tuple[int, int], int, tuple[int, int], str, tuple[int, int]]:
    shape = _check_input_shape(input_shape)
    k = _pair(kernel, "kernel")
    n = _check_positive_int(out_channels, "out_channels")
    s = _pair(stride, "stride")
    p = _check_choice(padding, PADDINGS, "padding")
    d = _pair(dilation, "dilation")
    conv_output_shape(shape[:2], k, stride=s, padding=p, dilation=d)  # validates sizes
    return shape, k, n, s, p, d


def conv_cost(
    input_shape: Shape,
    kernel: Pair,
    out_channels: int,
    *,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    bias: bool = False,
) -> ConvCost:
    r"""Counts of a standard convolution layer ``C_in -> C_out``.

    .. math::

        \text{mults} = H_o W_o C_{out} \cdot C_{in} K_h K_w, \qquad
        \text{adds} = H_o W_o C_{out} (C_{in} K_h K_w - 1)

    Taps that fall on the zero padding (``padding="same"``) are counted: they
    are executed.

    Parameters
    ----------
    input_shape : tuple of int
        Channels-last ``(H, W, C_in)``.
    kernel : int or tuple of int
        ``(K_h, K_w)``.
    out_channels : int
    stride, dilation : int or tuple of int
    padding : {"same", "valid"}
    bias : bool
        Count one addition per output and ``C_out`` parameters for a bias.

    Returns
    -------
    ConvCost

    Examples
    --------
    >>> conv_cost((12, 12, 3), 5, 256)
    ConvCost(standard: 12x12x3 -> 8x8x256, 1,228,800 mults, 1,212,416 adds, 19,200 params)
    """
    shape, k, n, s, p, d = _layer_args(input_shape, kernel, out_channels, stride, padding, dilation)
    return _stage(
        "standard",
        shape,
        n,
        k,
        stride=s,
        padding=p,
        dilation=d,
        bias=bool(bias),
        description=f"{k[0]}x{k[1]} convolution, {shape[2]} -> {n} channels",
    )


def depthwise_separable_cost(
    input_shape: Shape,
    kernel: Pair,
    out_channels: int,
    *,
    multiplier: int = 1,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    bias: bool = False,
) -> ConvCost:
    r"""Counts of a depthwise-separable layer: depthwise ``K_h x K_w`` then pointwise 1x1.

    The depthwise stage convolves each input channel with `multiplier`
    filters (``groups = C_in``, ``C_in * m`` outputs) and carries the layer's
    stride, padding and dilation; the pointwise stage mixes the ``C_in * m``
    channels into ``C_out``.  Taps on zero padding are counted.  Relative to
    :func:`conv_cost`:

    .. math::

        \frac{m C_{in} K_h K_w + C_{out} m C_{in}}{C_{out} C_{in} K_h K_w}
        = m \left(\frac{1}{C_{out}} + \frac{1}{K_h K_w}\right)

    (the seed's :math:`1/N + 1/K^2` for ``m = 1``).

    Examples
    --------
    >>> c = depthwise_separable_cost((12, 12, 3), 5, 256)
    >>> [s.multiplications for s in c.stages], c.multiplications
    ([4800, 49152], 53952)
    """
    shape, k, n, s, p, d = _layer_args(input_shape, kernel, out_channels, stride, padding, dilation)
    m = _check_positive_int(multiplier, "multiplier")
    c_in = shape[2]
    dw = _stage(
        "depthwise",
        shape,
        c_in * m,
        k,
        stride=s,
        padding=p,
        dilation=d,
        groups=c_in,
        description=f"{k[0]}x{k[1]} depthwise, multiplier {m}",
    )
    pw = _stage(
        "pointwise",
        dw.output_shape,
        n,
        (1, 1),
        bias=bool(bias),
        description=f"1x1 pointwise, {c_in * m} -> {n} channels",
    )
    return _composite(
        "depthwise_separable",
        (dw, pw),
        f"depthwise {k[0]}x{k[1]} (multiplier {m}) then pointwise 1x1",
    )


def spatially_separable_cost(
    input_shape: Shape,
    kernel: Pair,
    out_channels: int,
    *,
    rank: int = 1,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    bias: bool = False,
) -> ConvCost:
    r"""Counts of a spatially separable layer: every ``W[o, c]`` of rank <= `rank`.

    Applied as ``K_h x 1`` then ``1 x K_w``: the column stage filters input
    channel ``c`` with the ``C_out * rank`` columns ``u`` of the ``W[o, c]``
    (grouped, ``groups = C_in``; vertical stride, padding and dilation),
    keeping all ``W`` input columns; the row stage filters each intermediate
    with its row ``v`` and sums over ``c`` and the rank terms (``groups =
    C_out``; horizontal stride, padding and dilation).  With zero padding this
    equals the 2-D layer exactly.  Taps on zero padding are counted.

    .. math::

        \text{mults} = r C_{out} C_{in} (H_o W K_h + H_o W_o K_w)

    Examples
    --------
    >>> c = spatially_separable_cost((12, 12, 3), 5, 256)
    >>> [s.multiplications for s in c.stages], c.multiplications
    ([368640, 245760], 614400)
    """
    shape, k, n, s, p, d = _layer_args(input_shape, kernel, out_channels, stride, padding, dilation)
    r = _check_rank_at_most(rank, min(k), "rank", f"min(K_h, K_w) for a {k[0]} x {k[1]} kernel")
    c_in = shape[2]
    col = _stage(
        "column",
        shape,
        c_in * n * r,
        (k[0], 1),
        stride=(s[0], 1),
        padding=p,
        dilation=(d[0], 1),
        groups=c_in,
        description=f"{k[0]}x1 per (output, input) channel pair, rank {r}",
    )
    row = _stage(
        "row",
        col.output_shape,
        n,
        (1, k[1]),
        stride=(1, s[1]),
        padding=p,
        dilation=(1, d[1]),
        groups=n,
        bias=bool(bias),
        description=f"1x{k[1]} per pair, summed over {c_in * r} terms per output channel",
    )
    return _composite(
        "spatially_separable", (col, row), f"{k[0]}x1 then 1x{k[1]} per W[o, c], rank {r}"
    )


def low_rank_channel_cost(
    input_shape: Shape,
    kernel: Pair,
    out_channels: int,
    *,
    rank: int,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    bias: bool = False,
) -> ConvCost:
    r"""Counts of the low-rank channel scheme: ``K_h x 1`` into `rank` channels, then ``1 x K_w``.

    Two ordinary convolutions: ``C_in -> R`` with a ``K_h x 1`` kernel, then
    ``R -> C_out`` with a ``1 x K_w`` kernel.  Taps on zero padding are
    counted.

    .. math::

        \text{mults} = H_o W R C_{in} K_h + H_o W_o C_{out} R K_w

    Examples
    --------
    >>> low_rank_channel_cost((12, 12, 3), 5, 256, rank=4).multiplications
    333440
    """
    shape, k, n, s, p, d = _layer_args(input_shape, kernel, out_channels, stride, padding, dilation)
    most = min(n, shape[2] * k[0] * k[1])
    r = _check_rank_at_most(rank, most, "rank", "min(out_channels, C_in * K_h * K_w)")
    col = _stage(
        "column",
        shape,
        r,
        (k[0], 1),
        stride=(s[0], 1),
        padding=p,
        dilation=(d[0], 1),
        description=f"{k[0]}x1, {shape[2]} -> {r} channels",
    )
    row = _stage(
        "row",
        col.output_shape,
        n,
        (1, k[1]),
        stride=(1, s[1]),
        padding=p,
        dilation=(1, d[1]),
        bias=bool(bias),
        description=f"1x{k[1]}, {r} -> {n} channels",
    )
    return _composite(
        "low_rank_channel", (col, row), f"{k[0]}x1 into {r} channels then 1x{k[1]}"
    )


_METRIC_FIELDS = ("multiplications", "additions", "parameters")


@dataclass(frozen=True)
class LayerCosts(Result):
    """The seed's comparison table: a standard layer and its factorised versions.

    Attributes
    ----------
    standard, depthwise_separable, spatially_separable : ConvCost
    low_rank_channel : ConvCost or None
        Present when a channel rank was given.
    multiplier : int
        Depth multiplier of the depthwise-separable layer.
    """

    standard: ConvCost
    depthwise_separable: ConvCost
    spatially_separable: ConvCost
    low_rank_channel: ConvCost | None = None
    multiplier: int = 1

    @property
    def layers(self) -> tuple[ConvCost, ...]:
        """The layers in table order (standard first)."""
        rows = (self.standard, self.depthwise_separable, self.spatially_separable)
        return rows + ((self.low_rank_channel,) if self.low_rank_channel is not None else ())

    @property
    def ratios(self) -> dict[str, dict[str, float]]:
        """Each layer's multiplications, additions and parameters over the standard layer's."""
        return {
            layer.name: {f: getattr(layer, f) / getattr(self.standard, f) for f in _METRIC_FIELDS}
            for layer in self.layers
        }

    @property
    def depthwise_separable_identity(self) -> float:
        r""":math:`m (1 / C_{out} + 1 / (K_h K_w))`, equal to the multiplication ratio."""
        kh, kw = self.standard.kernel
        return self.multiplier * (1 / self.standard.output_shape[2] + 1 / (kh * kw))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python, with the ratios (the layers keyed by name)."""
        return {
            "layers": {layer.name: layer.to_dict() for layer in self.layers},
            "ratios": self.ratios,
            "multiplier": self.multiplier,
            "depthwise_separable_identity": self.depthwise_separable_identity,
        }

    def table(self) -> str:
        """A plain-text table: counts and ratios to the standard layer."""
        head = (
            f"{'layer':<22}{'output':>12}{'multiplications':>18}{'ratio':>9}"
            f"{'additions':>14}{'parameters':>12}{'ratio':>9}"
        )
        lines = [head, "-" * len(head)]
        ratios = self.ratios
        for layer in self.layers:
            out = "x".join(str(v) for v in layer.output_shape)
            r = ratios[layer.name]
            lines.append(
                f"{layer.name:<22}{out:>12}{layer.multiplications:>18,}"
                f"{r['multiplications']:>9.4f}{layer.additions:>14,}"
                f"{layer.parameters:>12,}{r['parameters']:>9.4f}"
            )
            for stage in layer.stages:
                lines.append(f"  {stage.name:<20}{'':>12}{stage.multiplications:>18,}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def layer_costs(
    input_shape: Shape = (12, 12, 3),
    kernel: Pair = (5, 5),
    out_channels: int = 256,
    *,
    padding: str = "valid",
    stride: Pair = 1,
    dilation: Pair = 1,
    multiplier: int = 1,
    spatial_rank: int = 1,
    channel_rank: int | None = None,
) -> LayerCosts:
    """Standard vs depthwise-separable vs spatially separable (vs low-rank channel) counts.

    Defaults are the seed example.  Taps on zero padding are counted as
    multiplications (they are executed).

    Parameters
    ----------
    input_shape : tuple of int
        Channels-last ``(H, W, C_in)``.
    kernel : int or tuple of int
    out_channels : int
    padding : {"same", "valid"}
    stride, dilation : int or tuple of int
    multiplier : int
        Depth multiplier of the depthwise-separable layer.
    spatial_rank : int
        Rank of each ``W[o, c]`` in the spatially separable layer.
    channel_rank : int, optional
        Intermediate channels of the low-rank channel scheme (omitted if None).

    Returns
    -------
    LayerCosts

    Examples
    --------
    >>> t = layer_costs()
    >>> t.standard.multiplications, t.depthwise_separable.multiplications
    (1228800, 53952)
    >>> round(t.ratios["depthwise_separable"]["multiplications"], 4)
    0.0439
    """
    layer = (input_shape, kernel, out_channels)
    common: dict[str, Any] = {"stride": stride, "padding": padding, "dilation": dilation}
    standard = conv_cost(*layer, **common)
    ds = depthwise_separable_cost(*layer, multiplier=multiplier, **common)
    ss = spatially_separable_cost(*layer, rank=spatial_rank, **common)
    lr = None
    if channel_rank is not None:
        lr = low_rank_channel_cost(*layer, rank=channel_rank, **common)
    return LayerCosts(
        standard=standard,
        depthwise_separable=ds,
        spatially_separable=ss,
        low_rank_channel=lr,
        multiplier=int(multiplier),
    )


def seed_example() -> LayerCosts:
    """The seed's worked example: 12x12x3 input, 5x5 kernel, 256 outputs, valid padding.

    Output 8 x 8 x 256; 1,228,800 multiplications for the standard layer
    versus 4,800 + 49,152 = 53,952 for the depthwise-separable one, a ratio of
    0.0439 = 1/256 + 1/25.

    The seed text has three slips, not repeated here:

    * its pointwise count is printed as 49512; it is 49,152 (its total,
      53,952, is right);
    * its summary says the ordinary convolution "transforms the image 245
      times"; it is 256 times, once per output channel;
    * its step-by-step summary gives the output as 12 x 12 x 256, which is the
      ``padding="same"`` size; with the ``"valid"`` padding used everywhere
      else it is 8 x 8 x 256.

    Examples
    --------
    >>> print(seed_example())
    layer                       output   multiplications    ratio     additions  parameters    ratio
    ------------------------------------------------------------------------------------------------
    standard                   8x8x256         1,228,800   1.0000     1,212,416      19,200   1.0000
    depthwise_separable        8x8x256            53,952   0.0439        37,376         843   0.0439
      depthwise                                    4,800
      pointwise                                   49,152
    spatially_separable        8x8x256           614,400   0.5000       524,288       7,680   0.4000
      column                                     368,640
      row                                        245,760
    """
    return layer_costs((12, 12, 3), (5, 5), 256, padding="valid")
