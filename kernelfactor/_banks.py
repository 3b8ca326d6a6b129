"""Filter banks with a shared separable basis.

A bank of ``N`` kernels ``K_n`` (a stack ``(N, h, w)``) applied to one image
costs ``N h w`` multiplications per pixel.  Written as linear combinations of
``M`` shared separable filters,

.. math::

    K_n \\approx \\sum_{j=1}^{M} A_{nj}\\, c_j r_j^T ,

it costs ``M (h + w)`` for the ``M`` separable passes plus ``N M`` to combine
them (Rigamonti, Sironi, Lepetit and Fua, CVPR 2013; Jaderberg, Vedaldi and
Zisserman, BMVC 2014, scheme 1).  Finding ``A``, ``c_j``, ``r_j`` is a rank-``M``
CP decomposition of the 3-way tensor ``(N, h, w)`` (:func:`kernelfactor._tensor.cp_lowrank`),
so the same guarantees apply: the achieved error is exact (a posteriori), the
largest unfolding's Eckart-Young error is a certified lower bound on the error
of *every* shared basis of size ``M``, and a degenerate fit is flagged.

Exact facts the tests reproduce: first derivatives of a Gaussian at any
orientation share a separable basis of size 2 (steerability; Freeman and
Adelson, IEEE PAMI 1991), second derivatives one of size 3.  The SVD-optimal
(not separable) basis of a bank is Perona's ("Deformable kernels for early
vision", IEEE PAMI 1995): :func:`svd_basis`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._apply import correlate
from ._noise import NOISE_TEXT, rounding_level, shown_where
from ._results import Result
from ._svd import Analysis, analyze
from ._tensor import cp_lowrank, unfolding_lower_bound
from ._typing import ArrayLike, Shape
from ._validation import _check_nonnegative, _check_positive_int, _describe

__all__ = [
    "BankBasis",
    "SeparableBasis",
    "gabor_bank",
    "separable_basis",
    "separable_basis_for_error",
    "steerable_bank",
    "svd_basis",
]


def _as_bank(bank: ArrayLike, name: str = "bank") -> np.ndarray:
    arr = np.asarray(bank)
    if arr.dtype.kind not in "iuf" or arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(
            f"`{name}` must be a real stack of kernels, shape (N, h, w) with N, h, w >= 1; "
            f"got {_describe(bank)}. Stack 2-D kernels with np.stack([...])."
        )
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"`{name}` contains NaN or Inf; pass finite kernels.")
    return out


@dataclass(frozen=True, repr=False)
class SeparableBasis(Result):
    """A bank written over ``M`` shared separable filters (see :func:`separable_basis`).

    Attributes
    ----------
    columns, rows : ndarray, shape (M, h) and (M, w)
        Basis filter ``j`` is ``outer(columns[j], rows[j])``.
    coefficients : ndarray, shape (N, M)
        ``K_n ~ sum_j coefficients[n, j] outer(columns[j], rows[j])``.
    fro, fro_rel : float
        Achieved Frobenius error over the whole bank (exact, a posteriori),
        absolute and relative to the bank's norm.
    filter_errors : ndarray, shape (N,)
        Each filter's relative Frobenius error.
    lower_bound : float
        Certified: no shared basis of size ``M`` (separable or not in all but
        the bank axis) gets a smaller Frobenius error over the bank.
    degenerate : bool
        The fit diverged (cancelling terms): no best basis of this size exists.
    rounding : float
        The bank's rounding level: errors at or below it are rounding noise.
    """

    columns: np.ndarray
    rows: np.ndarray
    coefficients: np.ndarray
    fro: float
    fro_rel: float
    filter_errors: np.ndarray
    lower_bound: float
    degenerate: bool
    rounding: float

    @property
    def size(self) -> int:
        """``M``, the number of shared separable filters."""
        return int(self.columns.shape[0])

    @property
    def within_rounding(self) -> bool:
        return self.fro <= self.rounding

    def to_array(self) -> np.ndarray:
        """The approximated bank ``(N, h, w)``."""
        basis = np.einsum("jh,jw->jhw", self.columns, self.rows)
        return np.einsum("nj,jhw->nhw", self.coefficients, basis)

    def cost(self, image_shape: Shape = (512, 512)) -> dict[str, float]:
        """Counted multiplications per output pixel: the bank direct, and through the basis."""
        n, m = self.coefficients.shape
        h, w = self.columns.shape[1], self.rows.shape[1]
        direct = float(n * h * w)
        basis = float(m * (h + w) + n * m)
        pixels = float(math.prod(int(v) for v in image_shape))
        return {"direct": direct, "basis": basis, "speedup": direct / basis,
                "direct_total": direct * pixels, "basis_total": basis * pixels}

    def apply(self, image: ArrayLike, *, mode: str = "reflect", cval: float = 0.0) -> np.ndarray:
        """The ``N`` filtered images ``(N, H, W)``: ``M`` separable passes, then combined.

        Equal (up to rounding) to correlating `image` with each approximated
        kernel of :meth:`to_array`, in scipy.ndimage's semantics.
        """
        x = np.asarray(image, dtype=np.float64)
        passes = np.stack([
            correlate(x, np.outer(c, r), None, mode, cval, method="separable")
            for c, r in zip(self.columns, self.rows, strict=True)
        ])
        return np.einsum("nj,j...->n...", self.coefficients, passes)

    def to_dict(self) -> dict[str, Any]:
        """Errors under the noise policy; factors and raw floats under ``raw``."""
        noise = self.within_rounding
        return {
            "size": self.size,
            "fro": None if noise else shown_where(self.fro, False),
            "fro_rel": None if noise else shown_where(self.fro_rel, False),
            "filter_errors": shown_where(self.filter_errors,
                                         np.asarray(self.filter_errors) <= self.rounding),
            "lower_bound": shown_where(self.lower_bound, self.lower_bound <= self.rounding),
            "degenerate": self.degenerate,
            "within_rounding": noise,
            "raw": {
                "columns": self.columns.tolist(),
                "rows": self.rows.tolist(),
                "coefficients": self.coefficients.tolist(),
                "fro": self.fro,
                "lower_bound": self.lower_bound,
            },
        }

    def __repr__(self) -> str:
        n, m = self.coefficients.shape
        h, w = self.columns.shape[1], self.rows.shape[1]
        err = NOISE_TEXT if self.within_rounding else f"{self.fro_rel:.3g}"
        flag = ", degenerate (no best basis of this size)" if self.degenerate else ""
        return (f"SeparableBasis({n} filters of {h}x{w} over {m} separable filters: "
                f"relative error {err}{flag})")


def separable_basis(bank: ArrayLike, size: int) -> SeparableBasis:
    """Approximate every kernel of a bank by combinations of ``size`` shared separable filters.

    Parameters
    ----------
    bank : array_like, shape (N, h, w)
        The kernels.
    size : int
        ``M``, the number of shared separable filters.

    Returns
    -------
    SeparableBasis

    Notes
    -----
    The fit is a rank-``M`` CP decomposition of the bank tensor (TensorLy,
    deterministic initialisation).  Its error is reported as achieved, next
    to the certified lower bound

    .. math::

        \\min_{\\text{size } M} \\|\\mathcal{K} - \\hat{\\mathcal{K}}\\|_F \\ge
        \\max_k \\Big(\\sum_{i > M} \\sigma_i(\\mathcal{K}_{(k)})^2\\Big)^{1/2}

    over the unfoldings :math:`\\mathcal{K}_{(k)}`.

    Examples
    --------
    >>> b = steerable_bank(order=1, orientations=16)
    >>> basis = separable_basis(b, 2)
    >>> basis.within_rounding, basis.cost()["basis"] < basis.cost()["direct"]
    (True, True)
    """
    arr = _as_bank(bank)
    m = _check_positive_int(size, "size")
    fit = cp_lowrank(arr, m)
    a, cols, rows = (np.asarray(f, dtype=np.float64) for f in fit.factors)
    approx = np.einsum("jn,jh,jw->nhw", a, cols, rows)
    resid = arr - approx
    norms = np.sqrt(np.sum(arr**2, axis=(1, 2)))
    errs = np.sqrt(np.sum(resid**2, axis=(1, 2)))
    filter_errors = np.divide(errs, norms, out=np.zeros_like(errs), where=norms > 0)
    total = float(np.sqrt(np.sum(arr**2)))
    fro = float(np.sqrt(np.sum(resid**2)))
    return SeparableBasis(
        columns=cols,
        rows=rows,
        coefficients=a.T.copy(),
        fro=fro,
        fro_rel=fro / total if total > 0 else 0.0,
        filter_errors=filter_errors,
        lower_bound=unfolding_lower_bound(arr, m),
        degenerate=bool(getattr(fit, "degenerate", False)),
        rounding=float(rounding_level(max(float(np.max(np.abs(arr))), 0.0), arr.shape))
        * max(1.0, math.sqrt(arr.size)),
    )


def separable_basis_for_error(
    bank: ArrayLike, max_error: float, *, relative: bool = True, max_size: int = 32
) -> SeparableBasis:
    """The smallest shared separable basis whose achieved error meets `max_error`.

    Sizes whose certified lower bound already exceeds the target are skipped
    without fitting.  Raises ValueError when no size up to `max_size` meets it.

    Examples
    --------
    >>> separable_basis_for_error(steerable_bank(order=2), 1e-9).size
    3
    """
    arr = _as_bank(bank)
    target = _check_nonnegative(max_error, "max_error")
    if not isinstance(relative, bool):
        raise TypeError(f"`relative` must be True or False; got {_describe(relative)}.")
    top = _check_positive_int(max_size, "max_size")
    scale = float(np.sqrt(np.sum(arr**2))) if relative else 1.0
    for m in range(1, top + 1):
        if scale > 0 and unfolding_lower_bound(arr, m) / scale > target:
            continue
        basis = separable_basis(arr, m)
        error = basis.fro_rel if relative else basis.fro
        if error <= target or basis.within_rounding:
            return basis
    raise ValueError(
        f"no shared separable basis of size <= {top} meets `max_error`={max_error!r}; "
        "raise `max_size` or the target."
    )


@dataclass(frozen=True, repr=False)
class BankBasis(Result):
    """The SVD-optimal (not separable) basis of a bank (Perona 1995; see :func:`svd_basis`).

    Attributes
    ----------
    kernels : ndarray, shape (M, h, w)
        Orthonormal basis kernels.
    coefficients : ndarray, shape (N, M)
    singular_values : ndarray
        Of the bank as an ``(N, h w)`` matrix.
    fro_rel : float
        The optimal relative error of any size-``M`` basis (Eckart-Young).
    separable_ranks : tuple of int
        Each basis kernel's numerical separable rank.
    """

    kernels: np.ndarray
    coefficients: np.ndarray
    singular_values: np.ndarray
    fro_rel: float
    separable_ranks: tuple[int, ...]

    def __repr__(self) -> str:
        n, m = self.coefficients.shape
        return (f"BankBasis({n} filters over {m} SVD basis kernels: relative error "
                f"{self.fro_rel:.3g}; separable ranks {list(self.separable_ranks)})")


def svd_basis(bank: ArrayLike, size: int) -> BankBasis:
    """The best basis of `size` kernels in the Frobenius norm (any kernels, not separable).

    Examples
    --------
    >>> svd_basis(steerable_bank(order=1), 2).separable_ranks
    (1, 1)
    """
    arr = _as_bank(bank)
    m = _check_positive_int(size, "size")
    n, h, w = arr.shape
    u, s, vt = np.linalg.svd(arr.reshape(n, h * w), full_matrices=False)
    m = min(m, s.size)
    kernels = vt[:m].reshape(m, h, w)
    total = float(np.sqrt(np.sum(s**2)))
    err = float(np.sqrt(np.sum(s[m:] ** 2)))
    ranks = []
    for k in kernels:
        a = analyze(k)
        assert isinstance(a, Analysis)
        ranks.append(int(a.rank))
    return BankBasis(kernels, u[:, :m] * s[:m], s, err / total if total > 0 else 0.0,
                     tuple(ranks))


def _grid(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float64) - (size - 1) / 2


def steerable_bank(
    order: int = 1, orientations: int = 16, *, sigma: float = 1.5, size: int | None = None
) -> np.ndarray:
    """Directional derivatives of a Gaussian at `orientations` angles in [0, pi).

    ``order=1``: :math:`\\cos\\theta\\, G_x + \\sin\\theta\\, G_y`; ``order=2``:
    :math:`\\cos^2\\theta\\, G_{xx} + 2\\cos\\theta\\sin\\theta\\, G_{xy} +
    \\sin^2\\theta\\, G_{yy}` (rows are y, columns x), sampled on a
    ``size x size`` grid (default ``2 ceil(4 sigma) + 1``).

    Examples
    --------
    >>> steerable_bank(1, 8).shape
    (8, 13, 13)
    """
    if order not in (1, 2):
        raise ValueError(f"`order` must be 1 or 2 (first or second derivatives); got {order!r}.")
    n = _check_positive_int(orientations, "orientations")
    s = _check_nonnegative(sigma, "sigma")
    if s <= 0:
        raise ValueError(f"`sigma` must be > 0; got {sigma!r}.")
    k = 2 * math.ceil(4 * s) + 1 if size is None else _check_positive_int(size, "size")
    x = _grid(k)
    g = np.exp(-(x**2) / (2 * s * s))
    d1 = -x / (s * s) * g
    d2 = (x**2 / s**4 - 1 / s**2) * g
    out = []
    for t in np.arange(n) * math.pi / n:
        c, si = math.cos(t), math.sin(t)
        if order == 1:
            out.append(c * np.outer(g, d1) + si * np.outer(d1, g))
        else:
            out.append(c * c * np.outer(g, d2) + 2 * c * si * np.outer(d1, d1)
                       + si * si * np.outer(d2, g))
    return np.array(out)


def gabor_bank(
    orientations: int = 8,
    scales: tuple[float, ...] = (2.0, 3.0),
    *,
    cycles: float = 0.8,
    size: int | None = None,
) -> np.ndarray:
    """Real (cosine) Gabor kernels at `orientations` angles in [0, pi) and `scales` sigmas.

    Each has frequency ``cycles / sigma`` cycles per pixel; all share one
    ``size x size`` grid (default: that of the largest sigma, ``2 ceil(3 sigma) + 1``).

    Examples
    --------
    >>> gabor_bank(4, (2.0,)).shape
    (4, 13, 13)
    """
    n = _check_positive_int(orientations, "orientations")
    if not scales:
        raise ValueError("`scales` is empty; pass at least one sigma, e.g. (2.0,).")
    sig = [_check_nonnegative(v, "scales") for v in scales]
    if min(sig) <= 0:
        raise ValueError(f"`scales` must hold sigmas > 0; got {scales!r}.")
    k = 2 * math.ceil(3 * max(sig)) + 1 if size is None else _check_positive_int(size, "size")
    x = _grid(k)
    xx, yy = np.meshgrid(x, x)
    out = []
    for s in sig:
        env = np.exp(-(xx**2 + yy**2) / (2 * s * s))
        for t in np.arange(n) * math.pi / n:
            out.append(env * np.cos(2 * math.pi * cycles / s * (xx * math.cos(t)
                                                                 + yy * math.sin(t))))
    return np.array(out)
