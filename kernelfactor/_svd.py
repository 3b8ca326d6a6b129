"""Numeric separability verdicts from the singular value decomposition.

A kernel :math:`K \\in \\mathbb{R}^{m \\times n}` has separable rank :math:`r`
when it is a sum of :math:`r` outer products :math:`\\sum_i c_i r_i^T` and no
fewer; numerically, :math:`r` is the number of singular values above a
tolerance.  This module states that tolerance, the margin of the verdict and
the factors; it works on single kernels and on stacks ``(..., m, n)`` with one
batched LAPACK call.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, SupportsIndex, overload

import numpy as np

from ._coerce import _as_kernel
from ._exact import _verify_numeric
from ._noise import (
    NOISE_TEXT,
    format_value,
    noise_floor,
    plain,
    rounding_level,
    shown_above,
    shown_vector,
    shown_where,
    significant,
    vector_floor,
)
from ._results import Result
from ._typing import ArrayLike, Floats, JSONDict, KernelLike
from ._validation import _check_choice, _check_nonnegative, _describe

__all__ = [
    "ROBUST_DROP", "ROBUST_KEEP", "TOLERANCE_POLICIES", "Analysis", "BatchAnalysis", "Margin",
    "TensorAnalysis", "analyze", "tolerance",
]  # fmt: skip

_EPS = float(np.finfo(np.float64).eps)


#: Named tolerance policies (``analyze(..., policy=...)``, :func:`tolerance`):
#: the rule each tool uses to count singular values, so a verdict from a paper
#: can be reproduced.  ``"numpy"`` is the default.
TOLERANCE_POLICIES: dict[str, str] = {
    "numpy": "max(m, n) * eps * sigma_1 (numpy.linalg.matrix_rank; the default)",
    "matlab": "max(m, n) * eps(sigma_1), eps(x) = np.spacing(x) (MATLAB's rank)",
    "imagefiltering": "sigma_1 counted if > 0; sigma_i (i > 1) counted if > sqrt(eps) "
                      "(absolute; ImageFiltering.jl's kernelfactors)",
}

_SQRT_EPS = float(np.sqrt(_EPS))

#: :attr:`Margin.robust` needs the smallest counted singular value at least this
#: many times the noise floor (so rounding cannot bring it down to the tolerance) ...
ROBUST_KEEP = 10.0
#: ... and the largest dropped one at most the tolerance divided by this (so a
#: rounding difference between LAPACK builds cannot lift it above the tolerance).
ROBUST_DROP = 2.0

#: Kernels whose largest magnitude lies outside [2**-_SAFE_EXP, 2**_SAFE_EXP] are
#: scaled by an exact power of two before the SVD (see :func:`analyze`).
_SAFE_EXP = 500

#: :func:`analyze` refuses single kernels with more entries than this (an SVD of
#: a 3000 x 3000 matrix takes about 10 s; time grows as the cube of the side).
MAX_ANALYZE_ENTRIES = 3000 * 3000


def _scale_exponents(arr: np.ndarray) -> np.ndarray:
    """Per kernel (last two axes): E with max|K| * 2**-E in [1/2, 1), or 0 in the safe range."""
    top = np.max(np.abs(arr), axis=(-2, -1))
    _, exp = np.frexp(top)
    extreme = (top > 0) & ((top > 2.0**_SAFE_EXP) | (top < 2.0**-_SAFE_EXP))
    return np.where(extreme, exp, 0).astype(np.int64)


def _check_policy(policy: object, rtol: float | None, atol: float | None) -> str | None:
    if policy is None:
        return None
    _check_choice(policy, tuple(TOLERANCE_POLICIES), "policy")
    if rtol is not None or atol is not None:
        raise ValueError(
            f"`policy`={policy!r} fixes the tolerance; do not pass `rtol` or `atol` with it "
            "(pass either a named policy or your own rtol/atol)."
        )
    return str(policy)


def _check_shape(shape: object) -> tuple[int, int]:
    if (not isinstance(shape, tuple | list) or len(shape) != 2
            or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                       and int(d) >= 1 for d in shape)):
        raise ValueError(
            f"`shape` must be (m, n), two integers >= 1 (the kernel's shape); got "
            f"{_describe(shape)}."
        )
    return int(shape[0]), int(shape[1])


def tolerance(
    sigma_max: ArrayLike, shape: tuple[int, int], rtol: float | None = None,
    atol: float | None = None, *, policy: str | None = None,
) -> Floats:
    """The singular-value tolerance of the rank decision.

    Parameters
    ----------
    sigma_max : float or ndarray
        The largest singular value(s): finite and >= 0.
    shape : tuple of int
        ``(m, n)``, the kernel shape.
    rtol, atol : float, optional
        Relative (to ``sigma_max``) and absolute tolerances.
    policy : {None, 'numpy', 'matlab', 'imagefiltering'}
        A named policy (:data:`TOLERANCE_POLICIES`) instead of rtol/atol.

    Returns
    -------
    float or ndarray
        The tolerance: singular values strictly greater count towards the rank.

    Notes
    -----
    The default policy is numpy's (``numpy.linalg.matrix_rank``):

    .. math::

        \\mathrm{tol} = \\begin{cases}
            \\max(m, n)\\,\\varepsilon\\,\\sigma_1 & \\text{neither given (default)}\\\\
            \\mathrm{rtol}\\,\\sigma_1 & \\text{only rtol}\\\\
            \\mathrm{atol} & \\text{only atol}\\\\
            \\max(\\mathrm{atol}, \\mathrm{rtol}\\,\\sigma_1) & \\text{both}
        \\end{cases}

    with :math:`\\varepsilon = 2^{-52}`.  The default is the size of the
    rounding errors an SVD of a float64 matrix makes: singular values below it
    are indistinguishable from zero.

    The named policies reproduce other tools' verdicts:

    - ``'numpy'``: the default above.
    - ``'matlab'``: MATLAB's ``rank``, :math:`\\max(m, n)\\,\\mathrm{eps}(\\sigma_1)`
      where ``eps(x)`` is the spacing of floats at ``x`` (``np.spacing``), 1 to
      2 times smaller than numpy's: ``diag(1.9, 1e-15, 0)`` has rank 1 by numpy's
      policy and 2 by MATLAB's.
    - ``'imagefiltering'``: ImageFiltering.jl's ``kernelfactors``: a kernel is
      separable when every :math:`\\sigma_i`, :math:`i > 1`, is below the
      absolute :math:`\\sqrt{\\varepsilon} \\approx 1.49 \\cdot 10^{-8}`; the
      tolerance returned is that constant, and :func:`analyze` counts
      :math:`\\sigma_1` whenever it is > 0.

    Examples
    --------
    >>> tolerance(1.0, (3, 3))
    6.66133814775094e-16
    >>> tolerance(2.0, (3, 3), rtol=1e-3)
    0.002
    >>> tolerance(1.9, (3, 3), policy="matlab")  # 3 * np.spacing(1.9)
    6.661338147750939e-16
    """
    m, n = _check_shape(shape)
    policy = _check_policy(policy, rtol, atol)
    if rtol is not None:
        rtol = _check_nonnegative(rtol, "rtol")
    if atol is not None:
        atol = _check_nonnegative(atol, "atol")
    if isinstance(sigma_max, bool):
        raise TypeError(f"`sigma_max` must be a real number >= 0; got {_describe(sigma_max)}.")
    try:
        sigma_max = np.asarray(sigma_max, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"`sigma_max` must be a real number >= 0 (the largest singular value); got "
            f"{_describe(sigma_max)}."
        ) from None
    if not np.all(np.isfinite(sigma_max)) or np.any(sigma_max < 0):
        raise ValueError(
            "`sigma_max` must be finite and >= 0 (the largest singular value); got "
            f"{_describe(sigma_max if sigma_max.ndim else float(sigma_max))}."
        )
    if policy == "matlab":
        tol = max(m, n) * np.spacing(sigma_max)
        tol = np.where(sigma_max > 0, tol, 0.0)
    elif policy == "imagefiltering":
        tol = np.full_like(sigma_max, _SQRT_EPS)
    elif rtol is None and atol is None:
        tol = max(m, n) * _EPS * sigma_max
    elif atol is None:
        tol = rtol * sigma_max
    elif rtol is None:
        tol = np.full_like(sigma_max, atol)
    else:
        tol = np.maximum(atol, rtol * sigma_max)
    return float(tol) if tol.ndim == 0 else tol


def _policy(rtol: float | None, atol: float | None, named: str | None = None) -> str:
    if named is not None:
        return f"{named}: {TOLERANCE_POLICIES[named]}"
    if rtol is None and atol is None:
        return "max(m, n) * eps * sigma_1"
    if atol is None:
        return f"rtol * sigma_1 (rtol={rtol:g})"
    if rtol is None:
        return f"atol (atol={atol:g})"
    return f"max(atol, rtol * sigma_1) (rtol={rtol:g}, atol={atol:g})"


@dataclass(frozen=True, repr=False)
class Margin(Result):
    """How far a rank verdict is from changing.

    Attributes
    ----------
    gap : float
        :math:`\\sigma_r / \\sigma_{r+1}` (``inf`` when :math:`\\sigma_{r+1} = 0`
        or :math:`r = \\min(m, n)`; ``nan`` never: 0 when :math:`r = 0`).
    distance : float
        :math:`\\sigma_{r+1}`, the spectral distance from the kernel to the
        nearest matrix of rank :math:`\\le r` (Eckart-Young-Mirsky).
    radius : float
        :math:`\\sigma_r`: no perturbation of spectral norm below this can lower
        the rank below :math:`r` (Weyl's inequality).
    above_tol : float
        :math:`\\sigma_r / \\mathrm{tol}`: by what factor the smallest counted
        singular value clears the tolerance (``inf`` if the tolerance is 0).
    below_tol : float
        :math:`\\mathrm{tol} / \\sigma_{r+1}`: by what factor the largest dropped
        singular value sits under it (``inf`` if none is dropped or it is 0).
    floor : float
        The noise floor of the verdict (:func:`kernelfactor._noise.noise_floor`).
    dropped_is_noise : bool
        :math:`\\sigma_{r+1}` exists and is at or below ``floor``: ``distance``,
        ``gap`` and ``below_tol`` are then rounding noise (raw values only);
        the documented bound is ``gap >= radius / floor`` (:attr:`gap_at_least`).
    kept_is_noise : bool
        :math:`\\sigma_r` is at or below ``floor`` (a tolerance below the
        rounding level counted noise): ``radius`` and ``above_tol`` are noise.
    robust : bool
        The one field to ask "is this verdict robust?".  True when (a) the
        smallest counted singular value :math:`\\sigma_r` is at least
        :data:`ROBUST_KEEP` (10) times the noise floor, or nothing is counted:
        no perturbation smaller than that can lower the rank; and (b) the
        largest dropped one :math:`\\sigma_{r+1}` is at most the tolerance
        divided by :data:`ROBUST_DROP` (2), or is at the rounding level
        :math:`\\max(m, n)\\,\\varepsilon\\,\\sigma_1` (indistinguishable from 0:
        the noise policy), or nothing is dropped.  Unlike ``gap`` it cannot
        look safe when the counted values are noise, or when a user tolerance
        sits just above real data (``atol=1e-3`` with
        :math:`\\sigma_{r+1} = 0.996 \\cdot 10^{-3}`: ``gap`` may be huge,
        ``robust`` is False).  It never depends on the digits of rounding noise,
        so it is the same on every LAPACK build.  With the default tolerance
        (at the rounding level) every dropped value is rounding noise, and the
        verdict means "within rounding of rank r".

    Notes
    -----
    ``gap``, ``distance`` and ``below_tol`` hold the raw floats; with the
    default tolerance :math:`\\sigma_{r+1}` is always rounding noise (that is
    what the tolerance means), so their digits differ between LAPACK builds.
    :meth:`to_dict` and the ``repr`` follow the noise policy.
    """

    gap: float
    distance: float
    radius: float
    above_tol: float
    below_tol: float
    floor: float = 0.0
    dropped_is_noise: bool = False
    kept_is_noise: bool = False
    robust: bool = False

    @property
    def gap_at_least(self) -> float:
        """A lower bound on the gap that does not depend on rounding noise.

        ``radius / floor`` when the dropped value is noise, else ``gap``.
        """
        if self.kept_is_noise or self.radius == 0:
            return 0.0
        if not self.dropped_is_noise:
            return self.gap
        return float(_ratio(self.radius, self.floor))

    def raw(self) -> dict[str, float]:
        """The raw floats (their last digits depend on the LAPACK build)."""
        return {k: float(getattr(self, k)) for k in
                ("gap", "distance", "radius", "above_tol", "below_tol")}

    def to_dict(self) -> JSONDict:
        """Documented fields: noise is ``None``; others to 6 significant digits."""
        dropped = self.dropped_is_noise
        kept = self.kept_is_noise
        return {
            "gap": None if dropped or kept else significant(self.gap),
            "gap_at_least": significant(self.gap_at_least),
            "distance": None if dropped else significant(self.distance),
            "radius": None if kept else significant(self.radius),
            "above_tol": None if kept else significant(self.above_tol),
            "below_tol": None if dropped else significant(self.below_tol),
            "dropped_is_noise": dropped,
            "kept_is_noise": kept,
            "robust": self.robust,
        }

    def describe(self) -> str:
        """One line for people (noise shown as noise)."""
        if self.kept_is_noise:
            return f"radius sigma_r = {NOISE_TEXT}: the counted values include rounding noise"
        radius = f"radius sigma_r = {self.radius:.4g}"
        if self.dropped_is_noise:
            return (f"gap sigma_r/sigma_r+1 >= {self.gap_at_least:.3g}, distance to rank r "
                    f"sigma_r+1 = {NOISE_TEXT}, {radius}")
        return (f"gap sigma_r/sigma_r+1 = {self.gap:.4g}, distance to rank r sigma_r+1 = "
                f"{self.distance:.4g}, {radius}")

    def __repr__(self) -> str:
        return f"Margin({self.describe()})"


def _ratio(a: ArrayLike, b: ArrayLike) -> Floats:
    """a / b with x / 0 = inf for x > 0 and 0 / 0 = inf (an empty side)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # overflow -> inf
        out = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.inf)
    return out[()] if out.ndim == 0 else out


class _Margins(NamedTuple):
    """What :func:`_margins` returns, one entry per kernel of the stack."""

    gap: np.ndarray
    distance: np.ndarray
    radius: np.ndarray
    above_tol: np.ndarray
    below_tol: Floats
    floor: Floats
    dropped: np.ndarray  # the dropped value is noise
    kept: np.ndarray  # the kept value is noise
    robust: np.ndarray


def _margins(s: np.ndarray, rank: ArrayLike, tol: ArrayLike, shape: tuple[int, int]) -> _Margins:
    """Vectorised margins for singular values ``s`` (..., k) and ranks (...).

    Returns gap, distance, radius, above_tol, below_tol, the noise floor,
    the two noise flags (dropped value noise, kept value noise) and robust.
    """
    k = s.shape[-1]
    rank = np.asarray(rank)
    edge = (*s.shape[:-1], 1)
    padded = np.concatenate([np.full(edge, np.inf), s, np.zeros(edge)], axis=-1)
    s_r = np.take_along_axis(padded, rank[..., None], axis=-1)[..., 0]  # sigma_r (inf at r=0)
    s_r1 = np.take_along_axis(padded, rank[..., None] + 1, axis=-1)[..., 0]  # sigma_{r+1}
    s_r = np.where(rank == 0, 0.0, s_r)
    s_r1 = np.where(rank >= k, 0.0, s_r1)
    gap = _ratio(s_r, s_r1)
    gap = np.where(rank == 0, 0.0, gap)
    above = _ratio(s_r, tol)
    above = np.where(rank == 0, 0.0, above)
    below = _ratio(tol, s_r1)
    floor = noise_floor(tol, s[..., 0], shape)
    dropped = (rank < k) & (s_r1 <= floor)
    kept = (rank > 0) & (s_r <= floor)
    level = rounding_level(s[..., 0], shape)
    kept_ok = (rank == 0) | (~kept & (s_r >= ROBUST_KEEP * floor))
    dropped_ok = (rank >= k) | (s_r1 <= level) | (s_r1 * ROBUST_DROP <= np.asarray(tol))
    robust = np.asarray(kept_ok & dropped_ok)
    return _Margins(gap, s_r1, s_r, above, below, floor, dropped, kept, robust)


def _flip_symmetry(kernel: np.ndarray, axis: int) -> int:
    """+1 if ``kernel`` is exactly symmetric along `axis`, -1 if antisymmetric, else 0."""
    flipped = np.flip(kernel, axis=axis)
    if np.array_equal(kernel, flipped):
        return 1
    if np.array_equal(kernel, -flipped):
        return -1
    return 0


def _symmetrize(vectors: np.ndarray) -> np.ndarray:
    """Make each row of `vectors` exactly even or odd when it is so up to rounding.

    Used only when the kernel's symmetry along that axis is exact, so that every
    singular vector of a simple singular value is even or odd in exact arithmetic.
    """
    out = vectors.copy()
    flipped = vectors[..., ::-1]
    even = 0.5 * (vectors + flipped)
    odd = 0.5 * (vectors - flipped)
    norm_even = np.linalg.norm(even, axis=-1)
    norm_odd = np.linalg.norm(odd, axis=-1)
    scale = np.maximum(norm_even, norm_odd)
    small = 1e-8 * scale
    use_even = norm_odd <= small
    use_odd = (norm_even <= small) & ~use_even
    out[use_even] = even[use_even]
    out[use_odd] = odd[use_odd]
    # Make the projection exact: mirror the first half onto the second.
    n = vectors.shape[-1]
    half = n // 2
    if half:
        out[use_even, n - half :] = out[use_even, :half][:, ::-1]
        out[use_odd, n - half :] = -out[use_odd, :half][:, ::-1]
        if n % 2:
            out[use_odd, half] = 0.0
    return out


def _fix_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic signs: the largest-magnitude entry of each column factor is positive.

    Ties (within a relative 1e-8, as for the two ends of an even vector) go to
    the first index.  ``u`` has the factors as its last-axis rows (..., k, m).
    """
    mag = np.abs(u)
    top = mag.max(axis=-1, keepdims=True)
    first = np.argmax(mag >= top * (1 - 1e-8), axis=-1)
    pivot = np.take_along_axis(u, first[..., None], axis=-1)
    if np.iscomplexobj(u):
        # complex factors: the pivot's phase is moved to the row factor (pivot real > 0)
        size = np.abs(pivot)
        phase = np.where(size > 0, pivot / np.where(size > 0, size, 1.0), 1.0)
        out = u * np.conj(phase)
        np.put_along_axis(out, first[..., None], size, axis=-1)  # exactly real, > 0
        return out, vt * phase
    sign = np.where(pivot < 0, -1.0, 1.0)
    return u * sign, vt * sign


def _canonical_clusters(
    u: np.ndarray, s: np.ndarray, vt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fix the singular vectors of repeated singular values by the kernel itself.

    For a cluster of equal singular values (consecutive gaps within the
    rounding level :math:`\\max(m, n)\\,\\epsilon\\,\\sigma_1`, all above it:
    values that differ by more are data, and rotating their vectors would
    move the truncation off Eckart-Young's) LAPACK may return
    any orthonormal basis of the singular subspaces, and different builds
    do (``roberts_y`` has :math:`\\sigma_1 = \\sigma_2`).  The cluster's own
    matrix :math:`P = U_c V_c^T` is unique; its columns, orthonormalised in
    order (Gram-Schmidt), give the left basis :math:`U'` and
    :math:`V' = P^T U'`, so that :math:`U' V'^T = P` and the factors are the
    same on every machine up to rounding.
    """
    k = s.size
    if k < 2 or s[0] <= 0:
        return u, vt
    level = max(u.shape[0], vt.shape[1]) * _EPS * s[0]
    close = (s[:-1] - s[1:] <= level) & (s[1:] > level)
    start = 0
    u, vt = u.copy(), vt.copy()
    while start < k - 1:
        if not close[start]:
            start += 1
            continue
        stop = start + 1
        while stop < k - 1 and close[stop]:
            stop += 1
        stop += 1  # the cluster is start .. stop - 1
        p = u[:, start:stop] @ vt[start:stop, :]
        basis: list[np.ndarray] = []
        for j in range(p.shape[1]):
            c = p[:, j].copy()
            for b in basis:
                c -= (np.conj(b) @ c) * b
            norm = float(np.linalg.norm(c))
            if norm > 1e-6:  # columns of P have norm <= 1
                basis.append(c / norm)
            if len(basis) == stop - start:
                break
        if len(basis) == stop - start:
            new_u = np.array(basis).T
            u[:, start:stop] = new_u
            if np.iscomplexobj(p):  # U' V'^H = P with V'^H = U'^H P
                vt[start:stop, :] = np.conj(new_u).T @ p
            else:
                vt[start:stop, :] = (p.T @ new_u).T
        start = stop
    return u, vt


def _factor_terms(
    kernels: np.ndarray, u: np.ndarray, s: np.ndarray, vt: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled factors of the leading `k` terms: columns (..., k, m), rows (..., k, n).

    Each side carries :math:`\\sqrt{\\sigma_i}`; signs are fixed by
    :func:`_fix_signs`; where a single kernel is exactly (anti)symmetric along
    an axis its factors along that axis are made exactly even or odd.
    """
    if kernels.ndim == 2:
        u, vt = _canonical_clusters(u, s, vt)
    cols = np.swapaxes(u[..., :, :k], -1, -2)  # (..., k, m)
    rows = vt[..., :k, :]  # (..., k, n)
    if kernels.ndim == 2:
        if _flip_symmetry(kernels, 0):
            cols = _symmetrize(cols)
        if _flip_symmetry(kernels, 1):
            rows = _symmetrize(rows)
    cols, rows = _fix_signs(cols, rows)
    root = np.sqrt(s[..., :k])[..., None]
    # "+ 0.0" turns the -0.0 of exact zeros into +0.0 (readable, and stable in JSON).
    return cols * root + 0.0, rows * root + 0.0


def _format_values(
    values: np.ndarray, floor: float = 0.0, limit: int = 6, noise: str = NOISE_TEXT
) -> str:
    """``[a, b, ...]`` for people: values at or below `floor` as `noise`, others to 4 digits."""
    shown_values = ", ".join(
        noise if abs(v) <= floor else format_value(v, floor) for v in values[:limit]
    )
    more = f", ... ({values.size - limit} more)" if values.size > limit else ""
    return f"[{shown_values}{more}]"


@dataclass(frozen=True, repr=False)
class Analysis(Result):
    """The numeric separability verdict for one kernel (see :func:`analyze`).

    Attributes
    ----------
    shape : tuple of int
        ``(m, n)``.
    singular_values : ndarray
        All :math:`\\min(m, n)` singular values, descending.
    tol : float
        The tolerance actually used; ``rank`` counts singular values ``> tol``.
    policy : str
        How ``tol`` was obtained (see :func:`tolerance`).
    rank : int
        The numerical separable rank.
    is_separable : bool
        ``rank <= 1``.  Convention: the zero kernel has rank 0 and is separable
        here (it is the empty sum of outer products, and filtering by it is
        free); MATLAB-style checks that require ``rank == 1`` call it not
        separable.
    robust : bool
        ``margin.robust``: the verdict cannot be changed by rounding (see
        :attr:`Margin.robust`).
    scale_exponent : int
        :math:`E`: the SVD ran on the kernel scaled by :math:`2^{-E}` (exact),
        0 unless its largest magnitude lies outside :math:`[2^{-500}, 2^{500}]`.
        ``singular_values``, ``tol`` and the margin's ``distance``, ``radius``
        and ``floor`` are then those of :math:`2^{-E} K` (the kernel's own are
        :math:`2^{E}` times larger and may not be representable: a 3x3 kernel
        of 1e308 has :math:`\\sigma_1 = 3 \\cdot 10^{308}`); the ratios, the rank
        and ``factors`` (of :math:`K` itself) do not depend on it, so the
        verdict is the same at every representable scale.
    margin : Margin
        How far the verdict is from changing.
    factors : tuple of (ndarray, ndarray)
        ``rank`` pairs ``(column, row)`` with :math:`K \\approx \\sum c_i r_i^T`,
        each scaled by :math:`\\sqrt{\\sigma_i}`, signs fixed deterministically.
    exact_rank : int or None
        With ``verify="exact"``: the rank over the rationals of the kernel as
        given (see :func:`analyze`); None when its time limit was reached.
    note : str or None
        With ``verify="exact"``: what the two answers mean when they differ.

    Notes
    -----
    Noise policy: singular values at or below :attr:`noise_floor` (the
    tolerance, and never less than :math:`\\max(m, n)\\,\\varepsilon\\,\\sigma_1`)
    are rounding noise.  The ``repr`` writes them as ``0 (below tol)`` and
    :meth:`to_dict` as ``null``; the raw floats are in ``singular_values``
    and in ``to_dict()["raw"]``, and their last digits differ between LAPACK
    builds.
    """

    shape: tuple[int, int]
    singular_values: np.ndarray
    tol: float
    policy: str
    rank: int
    margin: Margin
    factors: tuple[tuple[np.ndarray, np.ndarray], ...]
    exact_rank: int | None = None
    note: str | None = None
    scale_exponent: int = 0

    @property
    def is_separable(self) -> bool:
        return self.rank <= 1

    @property
    def robust(self) -> bool:
        return self.margin.robust

    @property
    def gap(self) -> float:
        return self.margin.gap

    @property
    def noise_floor(self) -> float:
        """Values at or below this are rounding noise (see :mod:`kernelfactor._noise`)."""
        return float(noise_floor(self.tol, self.singular_values[0], self.shape))

    def to_array(self) -> np.ndarray:
        """The kernel rebuilt from its ``rank`` factors (equal to it up to rounding)."""
        complex_ = any(np.iscomplexobj(c) for c, _ in self.factors)
        out = np.zeros(self.shape, dtype=complex if complex_ else float)
        for c, r in self.factors:
            out += np.outer(c, r)
        return out

    def to_dict(self) -> JSONDict:
        """Plain Python; documented fields follow the noise policy, ``raw`` has the floats.

        ``singular_values`` holds ``None`` for values at or below
        ``noise_floor``, the others to 6 significant digits; ``factors`` to 6
        significant digits (entries at rounding level 0).  ``raw`` holds the
        unrounded ``singular_values``, ``tol``, ``margin`` and ``factors``,
        whose last digits depend on the LAPACK build.
        """
        floor = self.noise_floor
        return {
            "shape": list(self.shape),
            "rank": self.rank,
            "is_separable": self.is_separable,
            "singular_values": shown_above(self.singular_values, floor),
            "tol": significant(self.tol),
            "noise_floor": significant(floor),
            "policy": self.policy,
            "margin": self.margin.to_dict(),
            "factors": [
                None if sv <= floor else [shown_vector(c, self.shape), shown_vector(r, self.shape)]
                for sv, (c, r) in zip(self.singular_values, self.factors, strict=False)
            ],
            "exact_rank": self.exact_rank,
            "note": self.note,
            "robust": self.robust,
            "scale_exponent": self.scale_exponent,
            "raw": {
                "singular_values": self.singular_values.tolist(),
                "tol": self.tol,
                "margin": self.margin.raw(),
                "factors": [[plain(c), plain(r)] for c, r in self.factors],
            },
        }

    def __repr__(self) -> str:
        m, n = self.shape
        verdict = "separable" if self.is_separable else "not separable"
        floor = self.noise_floor
        lines = [
            f"Analysis({m}x{n} kernel: rank {self.rank}, {verdict}",
            f"  singular_values={_format_values(self.singular_values, floor)}",
            f"  tol={self.tol:.3g} ({self.policy})",
            f"  margin: {self.margin.describe()}; robust={self.robust}",
        ]
        if self.scale_exponent:
            lines.insert(1, f"  (values of the kernel scaled by 2**{-self.scale_exponent}, exact)")
        for i, (c, r) in enumerate(self.factors[:4]):
            if self.singular_values[i] <= floor:
                lines.append(f"  term {i}: from a singular value at rounding level (noise)")
                continue
            fc = _format_values(c, vector_floor(c, self.shape), noise="0")
            fr = _format_values(r, vector_floor(r, self.shape), noise="0")
            lines.append(f"  term {i}: column={fc} row={fr}")
        if len(self.factors) > 4:
            lines.append(f"  ... {len(self.factors) - 4} more terms")
        if self.exact_rank is not None:
            note = f": {self.note}" if self.note else ""
            lines.append(f"  exact_rank={self.exact_rank}{note}")
        return "\n".join(lines) + ")"


@dataclass(frozen=True, repr=False)
class BatchAnalysis(Result):
    """Numeric verdicts for a stack of kernels ``(..., m, n)`` (see :func:`analyze`).

    Attributes hold one entry per kernel: ``rank`` (int array), ``tol``,
    ``singular_values`` (..., min(m, n)), ``is_separable`` and the margin
    arrays ``gap``, ``distance``, ``radius``.  Factors are computed on demand:
    ``columns`` (..., k, m) and ``rows`` (..., k, n) hold all
    ``k = min(m, n)`` scaled terms (use the first ``rank`` of each); indexing
    (``batch[i, j]``) gives the :class:`Analysis` of one kernel.
    """

    kernels: np.ndarray
    singular_values: np.ndarray
    tol: np.ndarray
    policy: str
    rank: np.ndarray
    gap: np.ndarray
    distance: np.ndarray
    radius: np.ndarray
    _above: np.ndarray = field(repr=False)
    _below: np.ndarray = field(repr=False)
    noise_floor: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(()))
    _dropped: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((), bool))
    _kept: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((), bool))
    scale_exponent: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((), int))
    robust: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((), bool))

    @property
    def shape(self) -> tuple[int, ...]:
        """The stack shape (without the kernel axes)."""
        return self.kernels.shape[:-2]

    @property
    def kernel_shape(self) -> tuple[int, int]:
        m, n = self.kernels.shape[-2:]
        return (m, n)

    @property
    def is_separable(self) -> np.ndarray:
        return self.rank <= 1

    @functools.cached_property
    def _terms(self) -> tuple[np.ndarray, np.ndarray]:
        e = np.broadcast_to(self.scale_exponent, self.shape)[..., None, None]
        work = np.ldexp(self.kernels, -e) if np.any(e) else self.kernels
        u, s, vt = np.linalg.svd(work, full_matrices=False)
        cols, rows = _factor_terms(work, u, s, vt, s.shape[-1])
        if np.any(e):
            cols, rows = np.ldexp(cols, e // 2), np.ldexp(rows, e - e // 2)
        return cols, rows

    @property
    def columns(self) -> np.ndarray:
        return self._terms[0]

    @property
    def rows(self) -> np.ndarray:
        return self._terms[1]

    def __len__(self) -> int:
        return self.kernels.shape[0]

    def __getitem__(self, index: SupportsIndex | tuple[SupportsIndex, ...]) -> Analysis:
        if not isinstance(index, tuple):
            index = (index,)
        sv = self.singular_values[index]
        if sv.ndim != 1:
            raise IndexError(
                f"`index` must select one kernel of the stack {self.shape}; got {index}."
            )
        rank = int(self.rank[index])
        cols, rows = self.columns[index], self.rows[index]
        return Analysis(
            shape=self.kernel_shape,
            singular_values=sv,
            tol=float(self.tol[index]),
            policy=self.policy,
            rank=rank,
            margin=Margin(
                float(self.gap[index]),
                float(self.distance[index]),
                float(self.radius[index]),
                float(self._above[index]),
                float(self._below[index]),
                float(self.noise_floor[index]),
                bool(self._dropped[index]),
                bool(self._kept[index]),
                bool(np.broadcast_to(self.robust, self.shape)[index]),
            ),
            factors=tuple((cols[i], rows[i]) for i in range(rank)),
            scale_exponent=int(np.broadcast_to(self.scale_exponent, self.shape)[index]),
        )

    def to_dict(self) -> JSONDict:
        """Plain Python; documented fields follow the noise policy (see :class:`Analysis`).

        ``singular_values``, ``distance`` and ``gap`` hold ``None`` where the
        value is rounding noise; ``raw`` holds the unrounded floats.
        """
        dropped = self._dropped
        noisy_gap = dropped | self._kept
        return {
            "stack_shape": list(self.shape),
            "kernel_shape": list(self.kernel_shape),
            "rank": self.rank.tolist(),
            "singular_values": shown_above(self.singular_values, self.noise_floor[..., None]),
            "tol": shown_where(self.tol, False),
            "noise_floor": shown_where(self.noise_floor, False),
            "policy": self.policy,
            "gap": shown_where(self.gap, noisy_gap),
            "distance": shown_where(self.distance, dropped),
            "radius": shown_where(self.radius, self._kept),
            "raw": {
                "singular_values": self.singular_values.tolist(),
                "tol": self.tol.tolist(),
                "gap": self.gap.tolist(),
                "distance": self.distance.tolist(),
                "radius": self.radius.tolist(),
            },
        }

    def __repr__(self) -> str:
        m, n = self.kernel_shape
        counts = np.bincount(self.rank.ravel(), minlength=min(m, n) + 1)
        hist = ", ".join(f"rank {r}: {c}" for r, c in enumerate(counts) if c)
        return (
            f"BatchAnalysis({self.rank.size} kernels of {m}x{n} in a stack {self.shape}; "
            f"{hist}; tol policy {self.policy})"
        )


#: ``verify='exact'`` refuses kernels with more entries than this (512 x 512).
MAX_VERIFY_ENTRIES = 512 * 512


def _check_analyze_size(shape: tuple[int, ...], verify: str | None) -> None:
    """Refuse, before any work, kernels whose SVD (or exact check) would take minutes."""
    m, n = shape[-2:]
    work = m * n * min(m, n)
    if work > 3000**3:
        seconds = 10.0 * work / 3000**3
        raise ValueError(
            f"`kernel` is {m} x {n}: its SVD would take about {seconds:.0f} s or more, and "
            f"analyze refuses kernels beyond a 3000 x 3000 SVD (m * n * min(m, n) <= 3000**3). "
            "Crop or subsample the kernel, or call numpy.linalg.svd yourself."
        )
    if verify is not None and m * n > MAX_VERIFY_ENTRIES:
        raise ValueError(
            f"`verify`='exact' works on kernels of at most {MAX_VERIFY_ENTRIES} entries "
            f"(512 x 512); got {m} x {n}. Drop verify='exact' (--exact), or crop the kernel."
        )


def _tolerance_scaled(
    s1: Floats, shape: tuple[int, int], rtol: float | None, atol: Floats | None,
    named: str | None,
) -> Floats:
    """:func:`tolerance` on a kernel scaled by 2**-E (`atol` already scaled; it may be inf)."""
    if named == "imagefiltering":
        out = np.broadcast_to(np.asarray(atol, dtype=np.float64), np.shape(s1)).copy()
        return float(out) if out.ndim == 0 else out
    if named is not None:
        return tolerance(s1, shape, policy=named)
    if atol is None:
        return tolerance(s1, shape, rtol)
    rel = 0.0 if rtol is None else rtol * np.asarray(s1)
    out = np.maximum(atol, rel) if rtol is not None else np.broadcast_to(atol, np.shape(s1))
    out = np.asarray(out, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def _count_rank(s: np.ndarray, tol: Floats, named: str | None) -> np.ndarray:
    """Singular values above `tol`; ImageFiltering.jl's policy always counts sigma_1 > 0."""
    t = np.asarray(tol)[..., None]
    if named == "imagefiltering":
        return np.asarray((s[..., 0] > 0) + np.count_nonzero(s[..., 1:] > t, axis=-1))
    return np.asarray(np.count_nonzero(s > t, axis=-1))


@overload
def analyze(
    kernel: KernelLike, *, rtol: float | None = ..., atol: float | None = ...,
    verify: str | None = ..., ndim: Literal[2] = ..., policy: str | None = ...,
) -> Analysis | BatchAnalysis: ...
@overload
def analyze(
    kernel: KernelLike, *, rtol: float | None = ..., atol: float | None = ...,
    verify: str | None = ..., ndim: int, policy: str | None = ...,
) -> Analysis | BatchAnalysis | TensorAnalysis: ...
def analyze(
    kernel: KernelLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    verify: str | None = None,
    ndim: int = 2,
    policy: str | None = None,
) -> Analysis | BatchAnalysis | TensorAnalysis:
    """Decide whether a kernel is separable, and of which separable rank.

    Parameters
    ----------
    kernel : str, array_like or result
        A catalogue name, an ``(m, n)`` array, or a stack ``(..., m, n)``.
    rtol, atol : float, optional
        Override the default tolerance; see :func:`tolerance` for the policy.
    policy : {None, 'numpy', 'matlab', 'imagefiltering'}
        A named tolerance policy (:data:`TOLERANCE_POLICIES`, :func:`tolerance`)
        that reproduces the verdict of that tool; not with rtol/atol.
    verify : {None, 'exact'}
        ``'exact'`` also computes the rank over the rationals of the kernel
        *as given* (integers of any width, ``Fraction``, ``Decimal``; every
        float, longdouble included, at its exact binary value; not the
        float64 copy the SVD uses) and explains a disagreement in ``note``.
        Single kernels only; ``exact_rank`` is None when the exact check
        reached its time limit (see :func:`exact_rank`).
    ndim : int
        The kernel's dimension.  2 (default): an ``(m, n)`` kernel, and more
        axes are a stack.  ``d >= 3``: one d-dimensional kernel (a volume);
        the verdict is a :class:`TensorAnalysis` (every unfolding's rank).

    Returns
    -------
    Analysis, BatchAnalysis or TensorAnalysis
        :class:`Analysis` for one kernel, :class:`BatchAnalysis` for a stack,
        :class:`TensorAnalysis` with ``ndim >= 3``.  Complex kernels get a
        complex SVD (factors complex, the pivot entry of each column real).

    Notes
    -----
    The numerical rank is the number of singular values above ``tol``.  The
    margin reports :math:`\\sigma_r / \\sigma_{r+1}`, the distance
    :math:`\\sigma_{r+1}` to the nearest rank-:math:`r` matrix and the radius
    :math:`\\sigma_r` within which no perturbation lowers the rank (Weyl):

    .. math::

        |\\sigma_i(K + E) - \\sigma_i(K)| \\le \\|E\\|_2 .

    Stacks use one batched LAPACK call (``numpy.linalg.svd`` with
    ``compute_uv=False``); their factors are computed on first access.

    A kernel whose largest magnitude lies outside :math:`[2^{-500}, 2^{500}]`
    (1e308, or subnormal entries) is scaled by an exact power of two first
    (:attr:`Analysis.scale_exponent`), so the verdict and the margin are the
    same at every representable scale.

    Size limit: a single kernel with :math:`m n \\min(m, n)` above
    :math:`3000^3` (a 3000 x 3000 SVD, about 10-30 s) is refused at once, as is
    ``verify='exact'`` above 512 x 512 entries; crop the kernel, or call
    ``numpy.linalg.svd`` yourself.

    Examples
    --------
    >>> import numpy as np
    >>> a = analyze(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]))
    >>> a.rank, a.is_separable
    (1, True)
    >>> col, row = a.factors[0]
    >>> np.round(col / col[0], 12), np.round(row / row[0], 12)
    (array([1., 2., 1.]), array([ 1.,  0., -1.]))
    >>> analyze(np.eye(3)).rank
    3
    """
    if rtol is not None:
        rtol = _check_nonnegative(rtol, "rtol")
    if atol is not None:
        atol = _check_nonnegative(atol, "atol")
    named = _check_policy(policy, rtol, atol)
    if verify is not None:
        _check_choice(verify, ("exact",), "verify")
    if ndim != 2:
        if verify is not None:
            raise ValueError("`verify` works on 2-D kernels; for n-D kernels call "
                             "`kernelfactor.exact_rank(k, ndim=d)`.")
        return _analyze_tensor(_as_kernel(kernel, ndim=ndim), rtol, atol)
    arr = _as_kernel(kernel, batch=True)
    m, n = arr.shape[-2:]
    _check_analyze_size(arr.shape, verify)
    policy_text = _policy(rtol, atol, named)
    e = _scale_exponents(arr)
    work = np.ldexp(arr, -e[..., None, None]) if np.any(e) else arr
    # an absolute tolerance is in the kernel's units: scale it with the kernel
    if named == "imagefiltering":
        atol = _SQRT_EPS  # absolute, in the kernel's units
    atol_w = None if atol is None else np.ldexp(atol, -e)
    if arr.ndim > 2:
        if verify is not None:
            raise ValueError("`verify` works on one kernel at a time; got a stack "
                             f"of shape {arr.shape[:-2]}. Index the stack first.")
        s = np.linalg.svd(work, compute_uv=False)
        tol = _tolerance_scaled(s[..., 0], (m, n), rtol, atol_w, named)
        ranks = _count_rank(s, tol, named)
        gap, dist, radius, above, below, floor, dropped, kept, robust = _margins(
            s, ranks, tol, (m, n))
        return BatchAnalysis(arr, s, np.asarray(tol), policy_text, ranks, gap, dist, radius,
                             above, np.asarray(below), np.asarray(floor), np.asarray(dropped),
                             np.asarray(kept), e, robust)
    exp = int(e)
    u, s, vt = np.linalg.svd(work, full_matrices=False)
    tol = float(_tolerance_scaled(s[0], (m, n), rtol, atol_w, named))
    rank = int(_count_rank(s, tol, named))
    gap, dist, radius, above, below, floor, dropped, kept, robust = _margins(s, rank, tol, (m, n))
    cols, rows = _factor_terms(work, u, s, vt, rank)
    if exp:
        cols, rows = np.ldexp(cols, exp // 2), np.ldexp(rows, exp - exp // 2)
    exact_rank = note = None
    if verify == "exact":
        # the data as given (int64 beyond 2**53, Fraction, Decimal, longdouble ...),
        # not the float64 copy the SVD used
        given = arr if isinstance(kernel, str) or hasattr(kernel, "to_array") else kernel
        check = _verify_numeric(given, rank, float(np.ldexp(tol, exp)))
        exact_rank, note = check["exact_rank"], check["explanation"]
    return Analysis(
        shape=(m, n),
        singular_values=s,
        tol=tol,
        policy=policy_text,
        rank=rank,
        margin=Margin(float(gap), float(dist), float(radius), float(above), float(below),
                      float(floor), bool(dropped), bool(kept), bool(robust)),
        factors=tuple((cols[i], rows[i]) for i in range(rank)),
        exact_rank=exact_rank,
        note=note,
        scale_exponent=exp,
    )


# --------------------------------------------------------------------------- n-D kernels


def _unfold(t: np.ndarray, axis: int) -> np.ndarray:
    """The mode-`axis` unfolding: ``t``'s axis `axis` as rows, the others flattened."""
    return np.moveaxis(t, axis, 0).reshape(t.shape[axis], -1)


@dataclass(frozen=True, repr=False)
class TensorAnalysis(Result):
    """The numeric separability verdict for one n-D kernel (``analyze(k, ndim=d)``).

    A d-dimensional kernel is separable (an outer product of d 1-D factors)
    exactly when every unfolding (axis ``k`` against the others) has rank
    at most 1.  Each unfolding's rank is decided as :func:`analyze` decides a
    matrix's (same tolerance policy); their tuple is the multilinear rank, and
    its largest entry is a lower bound on the tensor (CP) rank.

    Attributes
    ----------
    shape : tuple of int
    singular_values : tuple of ndarray
        The singular values of each unfolding.
    tol : tuple of float
        The tolerance used for each unfolding.
    policy : str
    multilinear_rank : tuple of int
    factors : tuple of ndarray
        When separable: the ``d`` 1-D factors (``K = f_0 (x) f_1 (x) ...``,
        each scaled to the same norm, signs fixed); else ``()``.

    Notes
    -----
    Noise policy as :class:`Analysis`: values at or below each unfolding's
    noise floor are ``None`` in :meth:`to_dict` and ``0 (below tol)`` in the
    ``repr``.
    """

    shape: tuple[int, ...]
    singular_values: tuple[np.ndarray, ...]
    tol: tuple[float, ...]
    policy: str
    multilinear_rank: tuple[int, ...]
    factors: tuple[np.ndarray, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def rank_lower_bound(self) -> int:
        """A proven lower bound on the tensor (CP) rank, up to the tolerance."""
        return max(self.multilinear_rank)

    @property
    def is_separable(self) -> bool:
        return self.rank_lower_bound <= 1

    @property
    def noise_floors(self) -> tuple[float, ...]:
        return tuple(
            float(noise_floor(t, s[0], _unfold_shape(self.shape, k)))
            for k, (t, s) in enumerate(zip(self.tol, self.singular_values, strict=True))
        )

    def to_array(self) -> np.ndarray:
        """The kernel rebuilt from its factors (separable kernels only)."""
        if not self.factors:
            raise ValueError(
                f"this {self.ndim}-D kernel is not separable (multilinear rank "
                f"{self.multilinear_rank}); use `kernelfactor.lowrank(k, r, ndim={self.ndim})`."
            )
        out = self.factors[0]
        for f in self.factors[1:]:
            out = np.multiply.outer(out, f)
        return np.asarray(out)

    def to_dict(self) -> JSONDict:
        floors = self.noise_floors
        return {
            "shape": list(self.shape),
            "multilinear_rank": list(self.multilinear_rank),
            "is_separable": self.is_separable,
            "singular_values": [shown_above(s, f) for s, f in
                                zip(self.singular_values, floors, strict=True)],
            "tol": [significant(t) for t in self.tol],
            "policy": self.policy,
            "factors": [shown_vector(f, self.shape) for f in self.factors],
            "raw": {
                "singular_values": [s.tolist() for s in self.singular_values],
                "tol": list(self.tol),
                "factors": [plain(f) for f in self.factors],
            },
        }

    def __repr__(self) -> str:
        shape = "x".join(str(n) for n in self.shape)
        verdict = "separable" if self.is_separable else "not separable"
        lines = [f"TensorAnalysis({shape} kernel: multilinear rank {self.multilinear_rank}, "
                 + verdict]
        for k, (s, f) in enumerate(zip(self.singular_values, self.noise_floors, strict=True)):
            lines.append(f"  unfolding {k}: singular_values={_format_values(s, f)}")
        for k, v in enumerate(self.factors):
            shown = _format_values(v, vector_floor(v, self.shape), noise="0")
            lines.append(f"  factor {k}={shown}")
        return "\n".join(lines) + ")"


def _unfold_shape(shape: tuple[int, ...], axis: int) -> tuple[int, int]:
    n = shape[axis]
    return n, int(np.prod(shape)) // n


def _analyze_tensor(arr: np.ndarray, rtol: float | None, atol: float | None) -> TensorAnalysis:
    d = arr.ndim
    svals, tols, ranks, lead = [], [], [], []
    for k in range(d):
        mat = _unfold(arr, k)
        u, s, _ = np.linalg.svd(mat, full_matrices=False)
        tol = float(tolerance(s[0], mat.shape, rtol, atol))
        svals.append(s)
        tols.append(tol)
        ranks.append(int(np.count_nonzero(s > tol)))
        lead.append(u[:, 0])
    factors: tuple[np.ndarray, ...] = ()
    if max(ranks) == 1:
        vecs = []
        for k, v in enumerate(lead):
            if _flip_symmetry(arr, k):
                v = _symmetrize(v[None, :])[0]
            vecs.append(_fix_signs(v[None, None, :], np.ones((1, 1, 1)))[0][0, 0])
        # the scale: the kernel contracted with every (unit) factor
        lam = arr
        for v in vecs:
            lam = np.tensordot(np.conj(v), lam, axes=(0, 0))
        scale = complex(lam) if np.iscomplexobj(lam) else float(lam)
        root = abs(scale) ** (1.0 / d)
        phase = scale / abs(scale) if abs(scale) > 0 else 1.0
        factors = tuple((v * root * (phase if k == d - 1 else 1.0)) + 0.0
                        for k, v in enumerate(vecs))
    return TensorAnalysis(
        shape=tuple(int(n) for n in arr.shape),
        singular_values=tuple(svals),
        tol=tuple(tols),
        policy=_policy(rtol, atol),
        multilinear_rank=tuple(ranks),
        factors=factors,
    )
