"""Numbers behind the paper figures and tables: catalogue surveys and trade-off points.

Everything here is computed through the numeric layers (:func:`analyze`,
:func:`lowrank`, :func:`rank_for_error`, :func:`filter_cost`, the CNN layer
counts) and returned as small frozen dataclasses that :mod:`kernelfactor.plotting`
and :mod:`kernelfactor._report` only read.

Costs are *counted* multiplications per output pixel (see
:func:`kernelfactor.filter_cost`): ``m n`` for direct filtering and
``k (m + n)`` for ``k`` separable terms, whatever the image size.  Errors are
relative.

Noise policy (:mod:`kernelfactor._noise`): a ratio or an error at or below the
verdict's relative tolerance (field ``rounding``, at least
:math:`\\max(m, n)\\,\\varepsilon`) is rounding noise, whose digits differ
between LAPACK builds.  The results here store it as exactly ``0.0`` (meaning
"0, or at the rounding level": tables write ``0 (below tol)``, figures draw it
on a labelled floor), and every other value to
:data:`~kernelfactor._noise.SIGNIFICANT_DIGITS` significant digits, so tables
and figures are the same on every machine.  ``KernelSurvey.raw`` keeps the
unrounded floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias, TypedDict

import numpy as np

from .._apply import correlate
from .._banks import separable_basis
from .._bounds import l1_norm
from .._catalogue import ExactMatrix, kernel_info, list_kernels
from .._coerce import as_kernel_spec
from .._costmodel import conv_cost, depthwise_separable_cost, filter_cost, seed_example
from .._exact import exact_rank
from .._lowrank import lowrank, rank_for_error
from .._noise import NOISE_TEXT, rounding_level, significant
from .._results import Result
from .._svd import Analysis, analyze
from .._typing import ArrayLike, Floats, JSONDict, JSONValue, Params
from .._validation import _check_nonnegative, _check_positive_int

__all__ = [
    "BankCurve",
    "DepthwiseCostGrid",
    "ErrorCurve",
    "KernelSurvey",
    "ResidualComparison",
    "TradeoffPoint",
    "bank_curve",
    "depthwise_cost_grid",
    "error_curve",
    "kernel_label",
    "pareto_mask",
    "residual_comparison",
    "survey",
    "timing_key",
    "tradeoff",
]

#: A catalogue kernel: a name, a spec string ``"gaussian:sigma=2"``, or ``(name, params)``.
KernelSpec: TypeAlias = "str | tuple[str, Params]"


def _specs(kernels: Iterable[KernelSpec] | None) -> list[tuple[str, dict[str, object]]]:
    if kernels is None:
        return [(name, {}) for name in list_kernels()]
    if isinstance(kernels, str):
        raise TypeError(
            f"`kernels` must be a list of names or (name, params) pairs; got the string "
            f"{kernels!r}. Wrap it in a list: `[{kernels!r}]`."
        )
    out = [as_kernel_spec(item) for item in kernels]
    if not out:
        raise ValueError("`kernels` is empty; pass at least one catalogue name, or None for all.")
    return out


def kernel_label(name: str, params: Params | None = None) -> str:
    """A short, stable label: ``name`` or ``name(key=value, ...)`` for non-default params.

    Examples
    --------
    >>> kernel_label("gaussian", {"sigma": 2.0})
    'gaussian(sigma=2)'
    >>> kernel_label("sobel_x")
    'sobel_x'
    >>> kernel_label("gabor", {"theta": 0.523599})  # radians, shown in degrees
    'gabor(theta=30°)'
    """
    if not params:
        return name
    parts = []
    for key in sorted(params):
        value = params[key]
        unit = _ANGLES.get((name, key))
        if unit is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            degrees = math.degrees(value) if unit == "rad" else float(value)
            text = f"{round(degrees, 6):.4g}\u00b0"  # the degree sign
        else:
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text}")
    return f"{name}({', '.join(parts)})"


#: Angle parameters of the catalogue and their units (labels show degrees).
_ANGLES: dict[tuple[str, str], str] = {("gabor", "theta"): "rad", ("motion_blur", "angle"): "deg"}


def _per_pixel(image_shape: tuple[int, int], shape: tuple[int, int], rank: int | None) -> float:
    """Counted multiplications per output: direct for ``rank=None``, else separable."""
    if rank is None:
        return filter_cost(image_shape, shape).per_output_multiplications
    if rank == 0:
        return 0.0  # a zero kernel costs nothing
    return filter_cost(image_shape, shape, method="separable", rank=rank).per_output_multiplications


def _speedup(full: float, other: float) -> float:
    return math.inf if other == 0 else full / other


# ---------------------------------------------------------------------------
# The catalogue table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KernelSurvey(Result):
    """One row of the catalogue table (see :func:`survey`).

    Attributes
    ----------
    name, label : str
        Catalogue name, and a label with any non-default parameters.
    params : dict
        The parameters actually used.
    shape : tuple of int
        ``(m, n)``.
    rank : int
        Numerical separable rank (:func:`kernelfactor.analyze`).
    exact_rank : int or None
        Rank over the rationals where the catalogue has an exact rational form.
    sigma_ratio : float or None
        :math:`\\sigma_2 / \\sigma_1` (None for a ``1 x n`` or ``m x 1`` kernel;
        0.0 at or below ``rounding``; 6 significant digits).
    rank1_error : float
        Relative Frobenius error of the best rank-1 approximation,
        :math:`(\\sum_{i>1} \\sigma_i^2)^{1/2} / \\|K\\|_F` (0.0 at or below
        ``rounding``; 6 significant digits).
    rounding : float
        The relative noise floor: ``max(rtol, max(m, n) eps)``; relative values
        at or below it are rounding noise.
    max_rel_error : float
        The tolerance of ``tol_rank``.
    tol_rank : int
        Smallest rank whose relative Frobenius error is ``<= max_rel_error``.
    full_mults, separable_mults, tol_mults : float
        Counted multiplications per output pixel: direct, separable at
        ``rank`` terms, separable at ``tol_rank`` terms.
    speedup, tol_speedup : float
        ``full_mults / separable_mults`` and ``full_mults / tol_mults``
        (below 1: separable filtering costs more).
    raw : dict
        Raw floats (``singular_values``, ``sigma_ratio``, ``rank1_error``),
        whose last digits depend on the LAPACK build; not in tables.
    """

    name: str
    label: str
    params: dict[str, object]
    shape: tuple[int, int]
    rank: int
    exact_rank: int | None
    sigma_ratio: float | None
    rank1_error: float
    rounding: float
    max_rel_error: float
    tol_rank: int
    full_mults: float
    separable_mults: float
    tol_mults: float
    speedup: float
    tol_speedup: float
    raw: dict[str, JSONValue] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        m, n = self.shape
        exact = "" if self.exact_rank is None else f", exact rank {self.exact_rank}"
        err = NOISE_TEXT if self.rank1_error <= self.rounding else f"{self.rank1_error:.3g}"
        return (
            f"KernelSurvey({self.label}: {m}x{n}, rank {self.rank}{exact}, "
            f"rank-1 error {err}; mults/pixel {self.full_mults:g} direct, "
            f"{self.separable_mults:g} separable (x{self.speedup:.3g}), "
            f"{self.tol_mults:g} at rank {self.tol_rank} <= {self.max_rel_error:g} "
            f"(x{self.tol_speedup:.3g}))"
        )


def _exact_rank(exact: ExactMatrix | None) -> int | None:
    if exact is None:
        return None
    return int(exact_rank([list(row) for row in exact]))


def survey(
    kernels: Iterable[KernelSpec] | None = None,
    *,
    rtol: float | None = None,
    max_rel_error: float = 1e-3,
    image_shape: tuple[int, int] = (512, 512),
) -> tuple[KernelSurvey, ...]:
    """One table row per catalogue kernel: ranks, spectrum ratio, errors and counted costs.

    Parameters
    ----------
    kernels : list of str or (str, dict), optional
        Catalogue names (default parameters) or ``(name, params)`` pairs;
        default: every kernel of :func:`kernelfactor.list_kernels`.
    rtol : float, optional
        Relative tolerance of the numerical rank (default policy of
        :func:`kernelfactor.tolerance` when None).
    max_rel_error : float
        Target relative Frobenius error of the "best rank within tolerance".
    image_shape : tuple of int
        Image shape for the counts (per-pixel counts do not depend on it).

    Returns
    -------
    tuple of KernelSurvey

    Notes
    -----
    The rank-1 error and the tolerance rank follow Eckart-Young-Mirsky:

    .. math::

        \\frac{\\|K - K_k\\|_F}{\\|K\\|_F}
        = \\Big(\\sum_{i>k} \\sigma_i^2 \\Big/ \\sum_i \\sigma_i^2\\Big)^{1/2}.

    Examples
    --------
    >>> row, = survey(["laplacian4"])
    >>> row.rank, row.exact_rank, row.full_mults, row.separable_mults
    (2, 2, 9.0, 12.0)
    >>> round(row.speedup, 2)
    0.75
    """
    if rtol is not None:
        rtol = _check_nonnegative(rtol, "rtol")
    max_rel_error = _check_nonnegative(max_rel_error, "max_rel_error")
    rows = []
    for name, params in _specs(kernels):
        info = kernel_info(name, **params)
        arr = info.array
        m, n = arr.shape
        a = analyze(arr, rtol=rtol)
        assert isinstance(a, Analysis)  # catalogue kernels are 2-D
        s = a.singular_values
        lr1 = lowrank(arr, 1)
        floor = max(rtol or 0.0, float(rounding_level(1.0, (m, n))))
        ratio = (float(s[1] / s[0]) if s[0] > 0 else 0.0) if s.size > 1 else None
        err1 = float(lr1.error.fro_rel)
        tol_rank = rank_for_error(arr, max_rel_error, relative=True)
        full = _per_pixel(image_shape, (m, n), None)
        sep = _per_pixel(image_shape, (m, n), a.rank)
        tol_mults = _per_pixel(image_shape, (m, n), tol_rank)
        rows.append(
            KernelSurvey(
                name=name,
                label=kernel_label(name, params),
                params=dict(info.params),
                shape=(m, n),
                rank=a.rank,
                exact_rank=_exact_rank(info.exact),
                sigma_ratio=None if ratio is None else _denoised(ratio, floor),
                rank1_error=_denoised(err1, floor),
                rounding=floor,
                max_rel_error=max_rel_error,
                tol_rank=tol_rank,
                full_mults=full,
                separable_mults=sep,
                tol_mults=tol_mults,
                speedup=_speedup(full, sep),
                tol_speedup=_speedup(full, tol_mults),
                raw={"singular_values": s.tolist(), "sigma_ratio": ratio, "rank1_error": err1},
            )
        )
    return tuple(rows)


def _denoised(value: float, floor: float) -> float:
    """0.0 at or below the noise floor, else `value` to 6 significant digits."""
    return 0.0 if abs(value) <= floor else significant(value)


# ---------------------------------------------------------------------------
# Error against cost
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeoffPoint(Result):
    """One way of filtering with one kernel: its error and its cost.

    Attributes
    ----------
    label : str
        The kernel (see :func:`kernel_label`).
    method : str
        ``"direct"``, ``"fft"`` or ``"separable"``.
    rank : int or None
        Terms for ``"separable"``, else None.
    shape : tuple of int
    error : float
        Relative Frobenius error of the kernel applied (0 for direct and FFT,
        which apply the kernel itself; 0 also where the error is at or below
        ``rounding``, which is rounding noise; else 6 significant digits).
    rounding : float
        Relative rounding level :math:`\\max(m, n)\\,\\varepsilon`.
    multiplications : float
        Counted multiplications per output pixel (an estimate for the FFT).
    seconds : float or None
        Measured time from the stored benchmark file, when given.
    pareto : bool
        On this kernel's error-multiplications Pareto front.
    pareto_seconds : bool or None
        On this kernel's error-time Pareto front (None without a time).
    image_shape : tuple of int or None
        The image shape of the counts and of the measured times.
    """

    label: str
    method: str
    rank: int | None
    shape: tuple[int, int]
    error: float
    rounding: float
    multiplications: float
    seconds: float | None = None
    pareto: bool = False
    pareto_seconds: bool | None = None
    image_shape: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        """``"label|method|rank"``: the key of this point in a timings mapping."""
        return timing_key(self.label, self.method, self.rank)

    def to_dict(self) -> JSONDict:
        """The fields as plain Python, and the timing ``key``."""
        return {**super().to_dict(), "key": self.key}


def timing_key(label: str, method: str, rank: int | None) -> str:
    """The key of a timing in the stored benchmark file: ``"label|method|rank"``."""
    return f"{label}|{method}|{'' if rank is None else rank}"


def pareto_mask(costs: Sequence[float], errors: Sequence[float]) -> np.ndarray:
    """Which (cost, error) points no other point dominates.

    A point dominates another when it is no worse in both and better in one.

    Examples
    --------
    >>> pareto_mask([1, 2, 3, 4], [0.5, 0.1, 0.2, 0.0]).tolist()
    [True, True, False, True]
    """
    c = np.asarray(costs, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    no_worse = (c[:, None] <= c[None, :]) & (e[:, None] <= e[None, :])
    better = (c[:, None] < c[None, :]) | (e[:, None] < e[None, :])
    dominated = np.any(no_worse & better, axis=0)
    return ~dominated


class _Way(TypedDict):
    """One way of filtering with a kernel, before its Pareto flags and time are known."""

    method: str
    rank: int | None
    error: float
    multiplications: float


def tradeoff(
    kernels: Iterable[KernelSpec],
    ranks: Iterable[int] | None = None,
    image_shape: tuple[int, int] = (512, 512),
    *,
    timings: Mapping[str, float] | None = None,
) -> tuple[TradeoffPoint, ...]:
    """Error against cost for each kernel: separable at each rank, direct, and FFT.

    Parameters
    ----------
    kernels : list of str or (str, dict)
        Catalogue names or ``(name, params)`` pairs.
    ranks : iterable of int, optional
        Separable ranks to include (each clipped to ``min(m, n)``; default:
        ``1 ..`` the numerical rank, beyond which errors are rounding).
    image_shape : tuple of int
        Image shape for the counts (the FFT estimate depends on it).
    timings : mapping, optional
        Measured seconds keyed by :func:`timing_key` (the stored benchmark
        file); points without an entry get ``seconds=None``.

    Returns
    -------
    tuple of TradeoffPoint
        Per kernel: the separable points, then ``"direct"`` and ``"fft"``,
        with their Pareto flags (per kernel; errors at rounding level count as 0).

    Examples
    --------
    >>> pts = tradeoff(["laplacian4"])
    >>> [(p.method, p.rank, p.multiplications, p.pareto) for p in pts][:3]
    [('separable', 1, 6.0, True), ('separable', 2, 12.0, False), ('direct', None, 9.0, True)]
    >>> pts[-1].method, pts[-1].pareto  # the FFT estimate costs more than direct here
    ('fft', False)
    """
    out: list[TradeoffPoint] = []
    for name, params in _specs(kernels):
        arr = kernel_info(name, **params).array
        m, n = arr.shape
        label = kernel_label(name, params)
        top = min(m, n)
        wanted = range(1, max(analyze(arr).rank, 1) + 1) if ranks is None else ranks
        chosen = sorted({min(_check_positive_int(r, "ranks"), top) for r in wanted})
        rounding = float(rounding_level(1.0, (m, n)))
        pts: list[_Way] = []
        for r in chosen:
            err = _denoised(float(lowrank(arr, r).error.fro_rel), rounding)
            pts.append(
                {"method": "separable", "rank": r, "error": err,
                 "multiplications": _per_pixel(image_shape, (m, n), r)}
            )
        pts.append({"method": "direct", "rank": None, "error": 0.0,
                    "multiplications": _per_pixel(image_shape, (m, n), None)})
        fft = filter_cost(image_shape, (m, n), method="fft")
        pts.append({"method": "fft", "rank": None, "error": 0.0,
                    "multiplications": fft.per_output_multiplications})
        effective = [p["error"] for p in pts]
        front = pareto_mask([p["multiplications"] for p in pts], effective)
        secs = [
            None if timings is None else timings.get(timing_key(label, p["method"], p["rank"]))
            for p in pts
        ]
        timed = [i for i, t in enumerate(secs) if t is not None]
        front_t: list[bool | None] = [None] * len(pts)
        if timed:
            mask = pareto_mask(
                [float(secs[i] or 0.0) for i in timed], [effective[i] for i in timed]
            )
            for i, flag in zip(timed, mask, strict=True):
                front_t[i] = bool(flag)
        for i, p in enumerate(pts):
            t = secs[i]
            out.append(
                TradeoffPoint(
                    label=label, shape=(m, n), rounding=rounding,
                    seconds=None if t is None else float(t),
                    pareto=bool(front[i]), pareto_seconds=front_t[i],
                    image_shape=(int(image_shape[0]), int(image_shape[1])), **p,
                )
            )
    return tuple(out)


# ---------------------------------------------------------------------------
# Errors against rank
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCurve(Result):
    """Relative errors and output-error bounds of the best rank-k approximations.

    Attributes
    ----------
    label : str
    shape : tuple of int
    ranks : tuple of int
        ``0 .. min(m, n)``.
    fro_rel, spectral_rel : tuple of float
        :math:`\\|K - K_k\\|_{F,2} / \\|K\\|_{F,2}` (Eckart-Young).
    l1_rel : tuple of float
        :math:`\\|K - K_k\\|_1 / \\|K\\|_1`.  Since
        :math:`\\|(K - K_k) \\star x\\|_\\infty \\le \\|K - K_k\\|_1 \\|x\\|_\\infty`
        (attained), this is also the relative bound on the max-norm output error.
    freq_rel : tuple of float
        The frequency-response bound on the l2 output error,
        :math:`\\max_\\omega |\\widehat{K - K_k}| / \\max_\\omega |\\hat K|`.
    rank : int
        The numerical rank.
    rounding : float
        Relative rounding level :math:`\\max(m, n)\\,\\varepsilon`.

    Notes
    -----
    At ranks :math:`k \\ge` ``rank`` every singular value dropped is at or
    below the tolerance, so every error there is rounding noise: it is stored
    as exactly 0.0 (drawn on the "0 (below tol)" floor); the other errors
    have 6 significant digits.
    """

    label: str
    shape: tuple[int, int]
    ranks: tuple[int, ...]
    fro_rel: tuple[float, ...]
    spectral_rel: tuple[float, ...]
    l1_rel: tuple[float, ...]
    freq_rel: tuple[float, ...]
    rank: int
    rounding: float


def error_curve(kernel: KernelSpec) -> ErrorCurve:
    """Relative errors of every truncation ``k = 0 .. min(m, n)`` of one catalogue kernel.

    Examples
    --------
    >>> c = error_curve(("disk", {"radius": 3.0}))
    >>> c.ranks[:3], c.fro_rel[0], c.fro_rel[-1]
    ((0, 1, 2), 1.0, 0.0)
    """
    name, params = as_kernel_spec(kernel, "kernel")
    arr = kernel_info(name, **params).array
    m, n = arr.shape
    ranks = tuple(range(min(m, n) + 1))
    lrs = [lowrank(arr, k) for k in ranks]
    l1_full = float(lrs[0].error.l1)
    freq_full = float(lrs[0].error.freq_bound)

    rank = int(analyze(arr).rank)

    def rel(values: list[Floats], scale: float) -> tuple[float, ...]:
        return tuple(
            0.0 if k >= rank or scale <= 0 else significant(float(v / scale))
            for k, v in zip(ranks, values, strict=True)
        )

    return ErrorCurve(
        label=kernel_label(name, params),
        shape=(m, n),
        ranks=ranks,
        fro_rel=rel([lr.error.fro_rel for lr in lrs], 1.0),
        spectral_rel=rel([lr.error.spectral_rel for lr in lrs], 1.0),
        l1_rel=rel([lr.error.l1 for lr in lrs], l1_full),
        freq_rel=rel([lr.error.freq_bound for lr in lrs], freq_full),
        rank=rank,
        rounding=float(rounding_level(1.0, (m, n))),
    )


# ---------------------------------------------------------------------------
# A photograph filtered exactly and approximately
# ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ResidualComparison(Result):
    """An image filtered with a kernel and with its rank-k approximation.

    Attributes
    ----------
    label : str
    rank : int
    image, exact, approx, difference : ndarray
        The input, :math:`K \\star x`, :math:`K_k \\star x` and their difference
        :math:`(K - K_k) \\star x` (``exact - approx``).
    max_abs_difference : float
        :math:`\\|(K - K_k) \\star x\\|_\\infty`, measured.
    bound : float
        :math:`\\|K - K_k\\|_1 \\|x\\|_\\infty`, the guaranteed bound on it.
    fro_rel : float
        Relative Frobenius error of the kernel approximation (0.0 when it is
        at the rounding level: the difference is then rounding noise).
    mode : str
        The boundary mode used.
    """

    label: str
    rank: int
    image: np.ndarray
    exact: np.ndarray
    approx: np.ndarray
    difference: np.ndarray
    max_abs_difference: float
    bound: float
    fro_rel: float
    mode: str = "reflect"

    def to_dict(self) -> JSONDict:
        """Summary numbers (the images are left out: use the attributes)."""
        d = super().to_dict()
        for key in ("image", "exact", "approx", "difference"):
            del d[key]
        return {**d, "image_shape": list(self.image.shape)}

    def __repr__(self) -> str:
        if self.fro_rel == 0.0:
            return (
                f"ResidualComparison({self.label}, rank {self.rank}, image {self.image.shape}: "
                f"exact up to rounding, difference {NOISE_TEXT})"
            )
        return (
            f"ResidualComparison({self.label}, rank {self.rank}, image {self.image.shape}: "
            f"max |difference| {self.max_abs_difference:.3g} <= bound {self.bound:.3g})"
        )


def residual_comparison(
    image: ArrayLike, kernel: KernelSpec, rank: int, *, mode: str = "reflect"
) -> ResidualComparison:
    """Filter a 2-D image exactly and with the best rank-`rank` approximation.

    Both use :func:`kernelfactor.correlate` (``method="direct"`` for the
    kernel, ``"separable"`` for its approximation), so the difference is
    :math:`(K - K_k) \\star x` up to rounding, bounded by

    .. math::

        \\|(K - K_k) \\star x\\|_\\infty \\le \\|K - K_k\\|_1\\,\\|x\\|_\\infty .

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((32, 32))
    >>> r = residual_comparison(x, ("disk", {"radius": 3.0}), 1)
    >>> bool(r.max_abs_difference <= r.bound)
    True
    """
    name, params = as_kernel_spec(kernel, "kernel")
    arr = kernel_info(name, **params).array
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"`image` must be 2-D (grey levels); got shape {x.shape}.")
    lr = lowrank(arr, rank)
    exact = correlate(x, arr, method="direct", mode=mode, workers=1)
    if lr.rank == 0:
        approx = np.zeros_like(exact)
    else:
        approx = correlate(x, lr, method="separable", mode=mode, workers=1)
    diff = exact - approx
    return ResidualComparison(
        label=kernel_label(name, params),
        rank=lr.rank,
        image=x,
        exact=exact,
        approx=approx,
        difference=diff,
        max_abs_difference=float(np.max(np.abs(diff))),
        bound=float(l1_norm(lr.residual) * np.max(np.abs(x))),
        fro_rel=0.0 if lr.error.within_rounding else significant(float(lr.error.fro_rel)),
        mode=mode,
    )


# ---------------------------------------------------------------------------
# CNN layers: standard vs depthwise-separable
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DepthwiseCostGrid(Result):
    """Standard and depthwise-separable layer multiplications over ``K`` and ``N``.

    Attributes
    ----------
    input_shape : tuple of int
        ``(H, W, C_in)``.
    kernel_sizes, out_channels : tuple of int
        The grid axes ``K`` (square ``K x K`` kernels) and ``N``.
    standard, depthwise : tuple of tuple of int
        Multiplications, indexed ``[i_K][i_N]``.
    seed : dict
        The seed example: ``K``, ``N``, ``standard``, ``depthwise`` and ``ratio``.
    """

    input_shape: tuple[int, int, int]
    kernel_sizes: tuple[int, ...]
    out_channels: tuple[int, ...]
    standard: tuple[tuple[int, ...], ...]
    depthwise: tuple[tuple[int, ...], ...]
    seed: dict[str, float]

    @property
    def ratio(self) -> np.ndarray:
        """``depthwise / standard``, shape ``(len(K), len(N))``."""
        return np.asarray(self.depthwise, dtype=float) / np.asarray(self.standard, dtype=float)

    def to_dict(self) -> JSONDict:
        """The fields as plain Python, and the ``ratio`` grid."""
        return {**super().to_dict(), "ratio": self.ratio.tolist()}


def depthwise_cost_grid(
    kernel_sizes: Sequence[int] = (3, 5, 7, 9, 11),
    out_channels: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    *,
    input_shape: tuple[int, int, int] = (12, 12, 3),
) -> DepthwiseCostGrid:
    """Counted multiplications of standard and depthwise-separable layers over ``K`` and ``N``.

    Valid padding, stride 1, multiplier 1, as in the seed example, whose point
    (``K = 5``, ``N = 256``) is stored in ``seed``.  The ratio is

    .. math::

        \\frac{\\text{depthwise-separable}}{\\text{standard}} = \\frac{1}{N} + \\frac{1}{K^2}.

    Examples
    --------
    >>> g = depthwise_cost_grid((5,), (256,))
    >>> g.standard, g.depthwise, round(g.seed["ratio"], 4)
    (((1228800,),), ((53952,),), 0.0439)
    """
    ks = tuple(_check_positive_int(k, "kernel_sizes") for k in kernel_sizes)
    ns = tuple(_check_positive_int(n, "out_channels") for n in out_channels)
    std = tuple(tuple(conv_cost(input_shape, k, n).multiplications for n in ns) for k in ks)
    dw = tuple(
        tuple(depthwise_separable_cost(input_shape, k, n).multiplications for n in ns) for k in ks
    )
    h, w, c = input_shape
    seed = seed_example()
    kh, _ = seed.standard.kernel
    seed_point = {
        "K": float(kh),
        "N": float(seed.standard.output_shape[2]),
        "standard": float(seed.standard.multiplications),
        "depthwise": float(seed.depthwise_separable.multiplications),
        "ratio": seed.ratios["depthwise_separable"]["multiplications"],
    }
    return DepthwiseCostGrid((h, w, c), ks, ns, std, dw, seed_point)


# ---------------------------------------------------------------------------
# Filter banks: shared separable bases
# ---------------------------------------------------------------------------

#: Significant digits of the bank errors: CP (alternating least squares) results
#: may differ in their last bits between LAPACK builds, so fewer digits than
#: :data:`~kernelfactor._noise.SIGNIFICANT_DIGITS`.
BANK_DIGITS = 3


@dataclass(frozen=True)
class BankCurve(Result):
    """A bank's shared separable bases of sizes ``M = 1, 2, ...``: errors and costs.

    Attributes
    ----------
    label : str
    shape : tuple of int
        ``(N, h, w)``.
    sizes : tuple of int
        ``M``, from 1 up to the first size at which the bank is exact up to
        rounding (``exact_size``), or ``max_size``.
    errors : tuple of float
        The achieved relative Frobenius error over the bank of each basis
        (:func:`kernelfactor.separable_basis`): 0.0 at the rounding level
        (rounding noise), else :data:`BANK_DIGITS` significant digits.
    lower_bounds : tuple of float
        The certified relative lower bound on the error of *every* basis of
        that size (same rounding).
    multiplications : tuple of float
        Counted multiplications per pixel through each basis,
        :math:`M (h + w) + N M`.
    direct : float
        Per pixel filtering with each kernel directly, :math:`N h w`.
    degenerate : tuple of bool
        The fit diverged (no best basis of that size).
    exact_size : int or None
        The smallest size found at which the bank is exact up to rounding.
    rounding : float
        The relative rounding level of the bank.
    """

    label: str
    shape: tuple[int, int, int]
    sizes: tuple[int, ...]
    errors: tuple[float, ...]
    lower_bounds: tuple[float, ...]
    multiplications: tuple[float, ...]
    direct: float
    degenerate: tuple[bool, ...]
    exact_size: int | None
    rounding: float


def bank_curve(bank: ArrayLike, label: str, *, max_size: int = 16) -> BankCurve:
    """Fit shared separable bases of sizes ``1, 2, ...`` to a bank, until it is exact.

    Each size is one :func:`kernelfactor.separable_basis` (a rank-``M`` CP of
    the bank): its achieved error, the certified lower bound

    .. math::

        \\min_{\\text{size } M} \\|\\mathcal{K} - \\hat{\\mathcal{K}}\\|_F \\ge
        \\max_k \\Big(\\sum_{i > M} \\sigma_i(\\mathcal{K}_{(k)})^2\\Big)^{1/2},

    relative to :math:`\\|\\mathcal{K}\\|_F`, and its cost.  The sweep stops at
    the first size whose error is at the rounding level (larger bases add
    cost and nothing else) or at `max_size`.

    Examples
    --------
    >>> from kernelfactor import steerable_bank
    >>> c = bank_curve(steerable_bank(order=1, orientations=8), "first derivatives")
    >>> c.sizes, c.errors, c.exact_size
    ((1, 2), (0.707, 0.0), 2)
    >>> c.multiplications, c.direct
    ((33.0, 66.0), 1352.0)
    """
    arr = np.asarray(bank, dtype=np.float64)
    top = _check_positive_int(max_size, "max_size")
    norm = float(np.sqrt(np.sum(arr**2)))
    scale = norm if norm > 0 else 1.0
    sizes: list[int] = []
    errors: list[float] = []
    bounds: list[float] = []
    mults: list[float] = []
    flags: list[bool] = []
    exact = None
    rounding = 0.0
    direct = float(np.prod(arr.shape))
    for m in range(1, top + 1):
        basis = separable_basis(arr, m)
        rounding = basis.rounding / scale
        sizes.append(m)
        errors.append(0.0 if basis.within_rounding
                      else significant(basis.fro_rel, BANK_DIGITS))
        bounds.append(0.0 if basis.lower_bound <= basis.rounding
                      else significant(basis.lower_bound / scale, BANK_DIGITS))
        cost = basis.cost()
        mults.append(float(cost["basis"]))
        direct = float(cost["direct"])
        flags.append(bool(basis.degenerate))
        if basis.within_rounding:
            exact = m
            break
    n, h, w = (int(v) for v in arr.shape)
    return BankCurve(
        label=label,
        shape=(n, h, w),
        sizes=tuple(sizes),
        errors=tuple(errors),
        lower_bounds=tuple(bounds),
        multiplications=tuple(mults),
        direct=direct,
        degenerate=tuple(flags),
        exact_size=exact,
        rounding=rounding,
    )
