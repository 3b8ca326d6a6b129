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
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np

from ._coerce import _as_kernel
from ._exact import _verify_numeric
from ._noise import (
    NOISE_TEXT,
    format_value,
    noise_floor,
    plain,
    shown_above,
    shown_vector,
    shown_where,
    significant,
    vector_floor,
)
from ._results import Result
from ._typing import ArrayLike, Floats, KernelLike
from ._validation import _check_choice, _check_nonnegative

__all__ = ["Analysis", "BatchAnalysis", "Margin", "TensorAnalysis", "analyze", "tolerance"]

_EPS = float(np.finfo(np.float64).eps)


def tolerance(
    sigma_max: ArrayLike, shape: tuple[int, int], rtol: float | None = None,
    atol: float | None = None,
) -> Floats:
    """The singular-value tolerance of the rank decision.

    Parameters
    ----------
    sigma_max : float or ndarray
        The largest singular value(s).
    shape : tuple of int
        ``(m, n)``, the kernel shape.
    rtol, atol : float, optional
        Relative (to ``sigma_max``) and absolute tolerances.

    Returns
    -------
    float or ndarray
        The tolerance: singular values strictly greater count towards the rank.

    Notes
    -----
    The policy, as in MATLAB's ``rank`` and ``numpy.linalg.matrix_rank``:

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

    Examples
    --------
    >>> tolerance(1.0, (3, 3))
    6.66133814775094e-16
    >>> tolerance(2.0, (3, 3), rtol=1e-3)
    0.002
    """
    sigma_max = np.asarray(sigma_max, dtype=np.float64)
    if rtol is None and atol is None:
        tol = max(shape) * _EPS * sigma_max
    elif atol is None:
        tol = rtol * sigma_max
    elif rtol is None:
        tol = np.full_like(sigma_max, atol)
    else:
        tol = np.maximum(atol, rtol * sigma_max)
    return float(tol) if tol.ndim == 0 else tol


def _policy(rtol: float | None, atol: float | None) -> str:
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

    def to_dict(self) -> dict[str, Any]:
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


def _margins(
    s: np.ndarray, rank: ArrayLike, tol: ArrayLike, shape: tuple[int, int]
) -> tuple[Any, ...]:
    """Vectorised margins for singular values ``s`` (..., k) and ranks (...).

    Returns gap, distance, radius, above_tol, below_tol, the noise floor and
    the two noise flags (dropped value noise, kept value noise).
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
    return gap, s_r1, s_r, above, below, floor, dropped, kept


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

    For a cluster of equal singular values (consecutive gaps at most
    :math:`10^{-8} \\sigma_1`, all above the rounding level) LAPACK may return
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
    close = (s[:-1] - s[1:] <= 1e-8 * s[0]) & (s[1:] > level)
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
        ``rank <= 1`` (a zero kernel is trivially separable).
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

    @property
    def is_separable(self) -> bool:
        return self.rank <= 1

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

    def to_dict(self) -> dict[str, Any]:
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
            f"  margin: {self.margin.describe()}",
        ]
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
        u, s, vt = np.linalg.svd(self.kernels, full_matrices=False)
        return _factor_terms(self.kernels, u, s, vt, s.shape[-1])

    @property
    def columns(self) -> np.ndarray:
        return self._terms[0]

    @property
    def rows(self) -> np.ndarray:
        return self._terms[1]

    def __len__(self) -> int:
        return self.kernels.shape[0]

    def __getitem__(self, index: Any) -> Analysis:
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
            ),
            factors=tuple((cols[i], rows[i]) for i in range(rank)),
        )

    def to_dict(self) -> dict[str, Any]:
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


@overload
def analyze(
    kernel: KernelLike, *, rtol: float | None = ..., atol: float | None = ...,
    verify: str | None = ..., ndim: Literal[2] = ...,
) -> Analysis | BatchAnalysis: ...
@overload
def analyze(
    kernel: KernelLike, *, rtol: float | None = ..., atol: float | None = ...,
    verify: str | None = ..., ndim: int,
) -> Analysis | BatchAnalysis | TensorAnalysis: ...
def analyze(
    kernel: KernelLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    verify: str | None = None,
    ndim: int = 2,
) -> Analysis | BatchAnalysis | TensorAnalysis:
    """Decide whether a kernel is separable, and of which separable rank.

    Parameters
    ----------
    kernel : str, array_like or result
        A catalogue name, an ``(m, n)`` array, or a stack ``(..., m, n)``.
    rtol, atol : float, optional
        Override the default tolerance; see :func:`tolerance` for the policy.
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
    if verify is not None:
        _check_choice(verify, ("exact",), "verify")
    if ndim != 2:
        if verify is not None:
            raise ValueError("`verify` works on 2-D kernels; for n-D kernels call "
                             "`kernelfactor.exact_rank(k, ndim=d)`.")
        return _analyze_tensor(_as_kernel(kernel, ndim=ndim), rtol, atol)
    arr = _as_kernel(kernel, batch=True)
    m, n = arr.shape[-2:]
    policy = _policy(rtol, atol)
    if arr.ndim > 2:
        if verify is not None:
            raise ValueError("`verify` works on one kernel at a time; got a stack "
                             f"of shape {arr.shape[:-2]}. Index the stack first.")
        s = np.linalg.svd(arr, compute_uv=False)
        tol = tolerance(s[..., 0], (m, n), rtol, atol)
        rank = np.count_nonzero(s > np.asarray(tol)[..., None], axis=-1)
        gap, dist, radius, above, below, floor, dropped, kept = _margins(s, rank, tol, (m, n))
        return BatchAnalysis(arr, s, np.asarray(tol), policy, rank, gap, dist, radius, above,
                             below, np.asarray(floor), np.asarray(dropped), np.asarray(kept))
    u, s, vt = np.linalg.svd(arr, full_matrices=False)
    tol = float(tolerance(s[0], (m, n), rtol, atol))
    rank = int(np.count_nonzero(s > tol))
    gap, dist, radius, above, below, floor, dropped, kept = _margins(s, rank, tol, (m, n))
    cols, rows = _factor_terms(arr, u, s, vt, rank)
    exact_rank = note = None
    if verify == "exact":
        # the data as given (int64 beyond 2**53, Fraction, Decimal, longdouble ...),
        # not the float64 copy the SVD used
        given = arr if isinstance(kernel, str) or hasattr(kernel, "to_array") else kernel
        check = _verify_numeric(given, rank, tol)
        exact_rank, note = check["exact_rank"], check["explanation"]
    return Analysis(
        shape=(m, n),
        singular_values=s,
        tol=tol,
        policy=policy,
        rank=rank,
        margin=Margin(float(gap), float(dist), float(radius), float(above), float(below),
                      float(floor), bool(dropped), bool(kept)),
        factors=tuple((cols[i], rows[i]) for i in range(rank)),
        exact_rank=exact_rank,
        note=note,
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

    def to_dict(self) -> dict[str, Any]:
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
