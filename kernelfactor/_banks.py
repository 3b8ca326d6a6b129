"""Filter banks with a shared separable basis.

A bank of ``N`` kernels ``K_n`` (a stack ``(N, h, w)``) applied to one image
costs ``N h w`` multiplications per pixel.  Written as linear combinations of
``M`` shared separable filters,

.. math::

    K_n \\approx \\sum_{j=1}^{M} A_{nj}\\, c_j r_j^T ,

it costs ``M (h + w)`` for the ``M`` separable passes plus ``N M`` to combine
them (Rigamonti, Sironi, Lepetit and Fua, CVPR 2013; Jaderberg, Vedaldi and
Zisserman, BMVC 2014, scheme 1), ``N M`` less the coefficients that are zero.
Finding ``A``, ``c_j``, ``r_j`` is a rank-``M`` CP decomposition of the 3-way
tensor ``(N, h, w)`` (:func:`kernelfactor._tensor.cp_fit`), so the same
guarantees apply: the achieved error is exact (a posteriori), the largest
unfolding's Eckart-Young error is a certified lower bound on the error of
*every* shared basis of size ``M``, and a degenerate fit is flagged.  ALS runs
from TensorLy's start and from a greedy one, the kernels' own separable SVD
terms picked by simultaneous orthogonal matching pursuit; the better is kept.
(A Tucker-structured basis, ``p`` column and ``q`` row factors shared by the
bank, whose ``p q`` products are the separable filters, counts at best
``q w + p q h + N p q`` per pixel: for the 32 Gabor kernels of the benchmark
the cheapest one within 1%, ``p = q = 13`` (HOOI), counts 8866 against the CP
basis's 1424, and for steerable banks 142 and 300 against 84 and 126; it is
not offered.)

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

from ._apply import _check_cval, _check_workers, correlate
from ._catalogue import MAX_TAPS, _real
from ._compiled import available, basis_into, index_map
from ._engine import MIN_SPLIT_ELEMENTS, MIN_STRIP_LENGTH, _snap_symmetry
from ._noise import NOISE_TEXT, rounding_level, shown_where
from ._results import Result
from ._svd import Analysis, BatchAnalysis, analyze
from ._tensor import cp_fit, unfolding_lower_bound
from ._typing import ArrayLike, Shape
from ._validation import _check_mode, _check_nonnegative, _check_positive_int, _describe

__all__ = [
    "BankBasis",
    "SeparableBasis",
    "gabor_bank",
    "separable_basis",
    "separable_basis_for_error",
    "steerable_bank",
    "svd_basis",
]


#: Without numba: the most memory the ``M`` passes of one band of rows take in
#: :meth:`SeparableBasis.apply` (bands much smaller pay kf.correlate's per-call cost).
_BAND_BYTES = 64 * 2**20


def _scaled_factors(cols: np.ndarray, rows: np.ndarray, coef: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factors scaled by powers of two into [1/2, 1), exactly (anti)symmetric where they are
    so up to rounding; the coefficients carry the scales (exact: powers of two)."""
    cols, rows, coef = cols.copy(), rows.copy(), coef.astype(np.float64, copy=True)
    for j in range(cols.shape[0]):
        ec = -int(np.frexp(np.max(np.abs(cols[j])))[1])
        er = -int(np.frexp(np.max(np.abs(rows[j])))[1])
        cols[j] = _snap_symmetry(np.ldexp(cols[j], ec))
        rows[j] = _snap_symmetry(np.ldexp(rows[j], er))
        coef[:, j] = np.ldexp(coef[:, j], -ec - er)
    return cols, rows, coef


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
    filter_ranks : tuple of int
        Each kernel's own numerical separable rank (:func:`kernelfactor.analyze`):
        what filtering it on its own through separable passes takes.
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
    filter_ranks: tuple[int, ...]

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
        """Counted multiplications per output pixel, and over an image of `image_shape`.

        ``direct``: the ``N`` kernels as 2-D filters, ``N h w``;
        ``separable``: each kernel on its own through its numerical-rank
        separable terms, :math:`\\sum_n r_n (h + w)` (what
        :func:`kernelfactor.correlate` picks for a low-rank kernel);
        ``basis``: the ``M`` shared separable passes and the combination,
        ``M (h + w) + nnz(A)`` (``N M`` unless coefficients are zero: those
        at the rounding level are set to zero by the fit).  ``speedup`` is ``direct / basis``,
        ``speedup_separable`` is ``separable / basis``; ``*_total`` are
        the counts over the image.
        """
        n, m = self.coefficients.shape
        h, w = self.columns.shape[1], self.rows.shape[1]
        direct = float(n * h * w)
        separate = float(sum(self.filter_ranks) * (h + w))
        basis = float(m * (h + w) + np.count_nonzero(self.coefficients))
        pixels = float(math.prod(int(v) for v in image_shape))
        return {"direct": direct, "separable": separate, "basis": basis,
                "speedup": direct / basis, "speedup_separable": separate / basis,
                "direct_total": direct * pixels, "separable_total": separate * pixels,
                "basis_total": basis * pixels}

    def apply(
        self, image: ArrayLike, *, mode: str = "reflect", cval: float = 0.0,
        workers: int | None = None,
    ) -> np.ndarray:
        """The ``N`` filtered images ``(N, H, W)``: ``M`` separable passes, then combined.

        Equal (up to rounding) to correlating `image` with each approximated
        kernel of :meth:`to_array`, in scipy.ndimage's semantics (origin 0;
        a NaN or Inf spreads over the rectangle of the kernels, as in
        ``method="separable"``).  On the compiled engine (numba) one fused
        pass computes, for each output row, the ``M`` basis filters into rows
        that stay in cache and combines them with the non-zero coefficients;
        otherwise the image runs in bands of rows (each read with its halo),
        each basis filter one separable :func:`kernelfactor.correlate` and the
        ``N x M`` combination one matrix product.  `workers` threads (None:
        all cores) run strips of rows.

        Examples
        --------
        >>> import numpy as np
        >>> basis = separable_basis(steerable_bank(1, 4), 2)
        >>> basis.apply(np.ones((6, 5))).shape
        (4, 6, 5)
        """
        x = np.asarray(image)
        if x.ndim != 2 or x.dtype.kind not in "biuf" or 0 in x.shape:
            raise ValueError(
                f"`image` must be a real 2-D array (H, W); got {_describe(image)}. "
                "Apply the basis to each plane of a stack."
            )
        mode = _check_mode(mode)
        cval = _check_cval(cval, False).real
        threads = _check_workers(workers)
        x = x.astype(np.float64, copy=False)
        n = self.coefficients.shape[0]
        out = np.empty((n, *x.shape))
        if available():
            cols, rows, coef = _scaled_factors(self.columns, self.rows, self.coefficients)
            basis_into(x, out, cols, rows, coef, mode, cval, threads,
                       min_elements=MIN_SPLIT_ELEMENTS, min_rows=MIN_STRIP_LENGTH)
            return out
        self._apply_banded(x, out, mode, cval, threads)
        return out

    def _apply_banded(self, x: np.ndarray, out: np.ndarray, mode: str, cval: float,
                      workers: int) -> None:
        """The scipy.ndimage route: bands of rows, ``M`` passes each, then BLAS."""
        n, m = self.coefficients.shape
        h = self.columns.shape[1]
        (height, width), top = x.shape, h // 2
        kernels = [np.outer(c, r) for c, r in zip(self.columns, self.rows, strict=True)]
        rowmap = index_map(height, (top, h - 1 - top), mode)  # the rows each band reads
        band = max(1, min(height, _BAND_BYTES // (8 * m * width) - (h - 1)))
        passes = np.empty((m, band + h - 1, width))
        for y0 in range(0, height, band):
            rows = min(band, height - y0)
            idx = rowmap[y0 : y0 + rows + h - 1]
            xb = np.where((idx >= 0)[:, None], x[np.maximum(idx, 0)], cval)
            for j, k in enumerate(kernels):
                correlate(xb, k, passes[j, : rows + h - 1], mode, cval, method="separable",
                          workers=workers)
            np.matmul(self.coefficients, passes[:, top : top + rows].reshape(m, -1),
                      out=out[:, y0 : y0 + rows].reshape(n, -1))

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
            "filter_ranks": list(self.filter_ranks),
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


class _Greedy:
    """A greedy start for the CP fit of a bank: its kernels' own separable terms, chosen in order.

    Every kernel's SVD terms ``u_i v_i^T`` (singular values above its
    rounding level) are the candidates; each step takes the candidate that
    captures the most of the bank's residual (simultaneous orthogonal
    matching pursuit), so the first ``M`` picks are the start for size ``M``
    and the order is computed once for every size.  A bank of kernels of
    separable rank ``<= 2`` whose pairs share their terms (a Gabor bank:
    orientations ``t`` and ``pi - t``) is spanned exactly by such picks.
    """

    def __init__(self, arr: np.ndarray, top: int) -> None:
        n, h, w = arr.shape
        u, s, vt = np.linalg.svd(arr, full_matrices=False)
        keep = s > rounding_level(s[:, :1], (h, w))
        self.cols = np.swapaxes(u, 1, 2)[keep]  # (K, h) unit columns
        self.rows = vt[keep]  # (K, w) unit rows
        self.atoms = np.einsum("kh,kw->khw", self.cols, self.rows).reshape(-1, h * w)
        self.bank = arr.reshape(n, h * w)
        resid = self.bank.copy()
        corr = resid @ self.atoms.T  # (N, K): the residual against every candidate
        basis = np.zeros((0, h * w))  # orthonormal span of the picks
        self.order: list[int] = []
        floor = float(np.sum(arr**2)) * 1e-28
        while len(self.order) < min(top, len(self.atoms)):
            score = np.sum(corr**2, axis=0)
            score[self.order] = -1.0
            k = int(np.argmax(score))
            q = self.atoms[k] - (self.atoms[k] @ basis.T) @ basis
            norm = float(np.linalg.norm(q))
            if score[k] <= floor or norm <= 1e-8:
                break  # the picks span the bank: further ones would be dependent
            self.order.append(k)
            q /= norm
            basis = np.vstack([basis, q])
            rq = resid @ q
            resid -= np.outer(rq, q)
            corr -= np.outer(rq, self.atoms @ q)

    def start(self, m: int) -> list[np.ndarray] | None:
        """The factors ``(N x m, h x m, w x m)`` of the first `m` picks (None: too few atoms).

        Past the picks that span the bank, the unpicked atoms that capture
        the most of it fill the start (their coefficients come out ~0).
        """
        if m > len(self.atoms):
            return None
        rest = np.setdiff1d(np.arange(len(self.atoms)), self.order)
        energy = np.sum((self.bank @ self.atoms[rest].T) ** 2, axis=0)
        pick = [*self.order, *rest[np.argsort(-energy, kind="stable")].tolist()][:m]
        coef = np.linalg.lstsq(self.atoms[pick].T, self.bank.T, rcond=None)[0]
        return [coef.T, self.cols[pick].T, self.rows[pick].T]


def _coefficients(arr: np.ndarray, cols: np.ndarray, rows: np.ndarray, rounding: float
                  ) -> np.ndarray:
    """Least-squares coefficients ``(N, M)`` of the bank over the basis filters.

    Dense first; then the coefficients whose terms are at the rounding level
    are dropped and each kernel's coefficients solved again on what is left,
    kept when the error stays within rounding of the dense one (rounding noise
    is not data, and zeros make the combination cheaper).
    """
    n = arr.shape[0]
    atoms = np.einsum("jh,jw->jhw", cols, rows).reshape(cols.shape[0], -1)
    bank = arr.reshape(n, -1)
    dense = np.linalg.lstsq(atoms.T, bank.T, rcond=None)[0].T
    keep = np.abs(dense) * np.linalg.norm(atoms, axis=1)[None, :] > rounding
    if keep.all():
        return dense
    sparse = np.zeros_like(dense)
    for i in range(n):
        if keep[i].any():
            sparse[i, keep[i]] = np.linalg.lstsq(atoms[keep[i]].T, bank[i], rcond=None)[0]
    err_dense = float(np.linalg.norm(bank - dense @ atoms))
    err_sparse = float(np.linalg.norm(bank - sparse @ atoms))
    return sparse if err_sparse <= err_dense + rounding else dense


def _rounding(arr: np.ndarray) -> float:
    """The bank's rounding level in the Frobenius norm (errors at or below it are noise)."""
    return float(rounding_level(float(np.max(np.abs(arr))), arr.shape)) * max(
        1.0, math.sqrt(arr.size))


def _fit(arr: np.ndarray, m: int, greedy: _Greedy) -> SeparableBasis:
    """The size-`m` basis: CP from the default and the greedy start, the better kept."""
    n, h, w = arr.shape
    total = float(np.sqrt(np.sum(arr**2)))
    rounding = _rounding(arr)
    if total == 0:
        cols, rows, coef = np.zeros((m, h)), np.zeros((m, w)), np.zeros((n, m))
        degenerate = False
    else:
        start = greedy.start(m)
        fit = cp_fit(arr, m, starts=[start] if start is not None else [])
        _, cols, rows = (np.asarray(f, dtype=np.float64) for f in fit.factors)
        coef = _coefficients(arr, cols, rows, rounding)
        degenerate = fit.degenerate
    resid = arr - np.einsum("nj,jh,jw->nhw", coef, cols, rows)
    norms = np.sqrt(np.sum(arr**2, axis=(1, 2)))
    errs = np.sqrt(np.sum(resid**2, axis=(1, 2)))
    fro = float(np.sqrt(np.sum(resid**2)))
    analysis = analyze(arr)
    assert isinstance(analysis, BatchAnalysis)
    return SeparableBasis(
        columns=cols,
        rows=rows,
        coefficients=coef,
        fro=fro,
        fro_rel=fro / total if total > 0 else 0.0,
        filter_errors=np.divide(errs, norms, out=np.zeros_like(errs), where=norms > 0),
        lower_bound=unfolding_lower_bound(arr, m),
        degenerate=degenerate,
        rounding=rounding,
        filter_ranks=tuple(int(r) for r in np.atleast_1d(analysis.rank)),
    )


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
    The fit is a rank-``M`` CP decomposition of the bank tensor by
    alternating least squares (TensorLy) from two deterministic starts, the
    better kept: TensorLy's SVD initialisation, and a greedy one, the ``M``
    separable SVD terms of the bank's own kernels that capture the most of it
    (simultaneous orthogonal matching pursuit) with least-squares
    coefficients.  Its error is reported as achieved, next to the certified
    lower bound

    .. math::

        \\min_{\\text{size } M} \\|\\mathcal{K} - \\hat{\\mathcal{K}}\\|_F \\ge
        \\max_k \\Big(\\sum_{i > M} \\sigma_i(\\mathcal{K}_{(k)})^2\\Big)^{1/2}

    over the unfoldings :math:`\\mathcal{K}_{(k)}` (the bank unfolding's term
    is the error of Perona's SVD basis, :func:`svd_basis`, the best basis of
    ``M`` kernels separable or not).

    Examples
    --------
    >>> b = steerable_bank(order=1, orientations=16)
    >>> basis = separable_basis(b, 2)
    >>> basis.within_rounding, basis.cost()["basis"] < basis.cost()["direct"]
    (True, True)
    """
    arr = _as_bank(bank)
    m = _check_positive_int(size, "size")
    return _fit(arr, m, _Greedy(arr, m))


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
    rounding = _rounding(arr)
    greedy = _Greedy(arr, top)
    for m in range(1, top + 1):
        lower = unfolding_lower_bound(arr, m)
        if scale > 0 and lower > rounding and lower / scale > target:
            continue  # certified: no basis of this size meets the target (a bound at the
            # rounding level is noise and excludes nothing)
        basis = _fit(arr, m, greedy)
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


#: Largest number of entries (``N h w``) a bank builder makes: 16 Mi (128 MiB of float64).
MAX_BANK_ENTRIES = 2**24


def _grid(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float64) - (size - 1) / 2


def _check_bank_size(n: int, k: int, why: str) -> None:
    """Refuse up front a bank too large to build (`why`: what sets the side)."""
    if k > MAX_TAPS:
        raise ValueError(
            f"the bank's kernels would be {k}x{k} ({why}); the limit is {MAX_TAPS} taps per "
            "side. Pass a smaller sigma or an explicit `size`."
        )
    if n * k * k > MAX_BANK_ENTRIES:
        raise ValueError(
            f"the bank would hold {n} kernels of {k}x{k} = {n * k * k:,} entries ({why}); the "
            f"limit is {MAX_BANK_ENTRIES:,}. Pass fewer orientations, fewer scales or a "
            "smaller `size`."
        )


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
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"`order` must be 1 or 2 (first or second derivatives); got {order!r}.")
    n = _check_positive_int(orientations, "orientations")
    s = _real(sigma, "sigma", positive=True)
    k = 2 * math.ceil(4 * s) + 1 if size is None else _check_positive_int(size, "size")
    _check_bank_size(n, k, "size 2 ceil(4 sigma) + 1" if size is None else "`size`")
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
    sig = [_real(v, "scales", positive=True) for v in scales]
    freq = _real(cycles, "cycles", positive=True)
    k = 2 * math.ceil(3 * max(sig)) + 1 if size is None else _check_positive_int(size, "size")
    _check_bank_size(n * len(sig), k, "size 2 ceil(3 max(scales)) + 1" if size is None
                     else "`size`")
    x = _grid(k)
    xx, yy = np.meshgrid(x, x)
    out = []
    for s in sig:
        env = np.exp(-(xx**2 + yy**2) / (2 * s * s))
        for t in np.arange(n) * math.pi / n:
            out.append(env * np.cos(2 * math.pi * freq / s * (xx * math.cos(t)
                                                                 + yy * math.sin(t))))
    return np.array(out)
