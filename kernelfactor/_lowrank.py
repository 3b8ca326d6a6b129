"""Best rank-k approximations of kernels, their exact errors and output-error bounds."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np

from ._bounds import eckart_young, frequency_bound, image_linf, l1_norm, worst_case_image
from ._coerce import _as_kernel
from ._noise import NOISE_TEXT, plain, shown_above, shown_where
from ._results import Result
from ._svd import _factor_terms, _format_values, tolerance
from ._tensor import CP_NORMS, CPRank, TensorLowRank, cp_lowrank, cp_search, max_rank
from ._typing import ArrayLike, Floats, JSONDict, KernelLike
from ._validation import _check_bool, _check_choice, _check_nonnegative, _check_rank, _describe

__all__ = ["NORMS", "ApproximationAccuracy", "LowRankKernel", "lowrank", "rank_for_error"]

#: Error norms accepted by :func:`lowrank` and :func:`rank_for_error`, sorted.
NORMS: tuple[str, ...] = ("fro", "freq", "l1", "spectral")


def _deprecated(name: str) -> None:
    warnings.warn(
        f"ApproximationAccuracy.{name} always equals .l1 and is deprecated (0.2.0); use .l1.",
        DeprecationWarning,
        stacklevel=3,
    )


@dataclass(frozen=True)
class ApproximationAccuracy(Result):
    """Errors of a rank-k approximation :math:`K_k` and what they imply for images.

    Attributes
    ----------
    fro, spectral : float
        :math:`\\|K - K_k\\|_F` and :math:`\\|K - K_k\\|_2`, exact by
        Eckart-Young-Mirsky (from the singular values).
    fro_rel, spectral_rel : float
        The same relative to :math:`\\|K\\|_F` and :math:`\\|K\\|_2`
        (0 for a zero kernel).
    l1 : float
        :math:`\\|K - K_k\\|_1 = \\sum |K - K_k|`, the entrywise l1 norm of the
        residual kernel, and the gain of both output bounds below:

        .. math::

            \\|(K - K_k) \\star x\\|_\\infty \\le \\|K - K_k\\|_1\\,\\|x\\|_\\infty ,
            \\qquad
            \\|(K - K_k) \\star x\\|_2 \\le \\|K - K_k\\|_1\\,\\|x\\|_2 .

        The first holds in every boundary mode, with :math:`\\|x\\|_\\infty` read
        as :math:`\\max(\\|x\\|_\\infty, |\\mathrm{cval}|)` for the constant
        modes, and is attained by the sign image
        (:meth:`LowRankKernel.worst_case_image`); the second (Young) holds for
        the full convolution, ``'constant'`` with ``cval=0`` and ``'wrap'``.
        (``linf_bound`` and ``l2_bound``, both always equal to ``l1``, are
        deprecated aliases.)
    freq_bound : float
        The sharper :math:`\\max_\\omega |\\widehat{K - K_k}(\\omega)|` (a rigorous
        upper bound from a fine FFT grid) on the l2 gain, same modes as Young's.
    rounding : float
        :math:`\\max(m, n)\\,\\varepsilon\\,\\sigma_1`: errors at or below this
        level are rounding, and mean the kernel's rank is :math:`\\le k`.

    Notes
    -----
    Noise policy: when the spectral error is at the rounding level
    (:attr:`within_rounding`), every error here is rounding noise: the
    ``repr`` says so and :meth:`to_dict` writes ``None`` (raw floats under
    ``"raw"``, their last digits differ between LAPACK builds).
    """

    fro: Floats
    spectral: Floats
    fro_rel: Floats
    spectral_rel: Floats
    l1: Floats
    freq_bound: Floats
    rounding: Floats

    @property
    def linf_bound(self) -> Floats:
        """Deprecated: always equal to :attr:`l1` (the l-inf output-error gain)."""
        _deprecated("linf_bound")
        return self.l1

    @property
    def l2_bound(self) -> Floats:
        """Deprecated: always equal to :attr:`l1` (Young's l2 output-error gain)."""
        _deprecated("l2_bound")
        return self.l1

    def output_bound(
        self, image: ArrayLike, *, mode: str = "reflect", cval: float = 0.0
    ) -> Floats:
        """The bound on :math:`\\|(K - K_k) \\star x\\|_\\infty` for this `image`.

        :math:`\\|K - K_k\\|_1 \\max(\\|x\\|_\\infty, |\\mathrm{cval}|)` in the
        constant modes, :math:`\\|K - K_k\\|_1 \\|x\\|_\\infty` in the others
        (see :func:`kernelfactor._bounds.image_linf`).
        """
        return self.l1 * image_linf(image, mode, cval)

    @property
    def within_rounding(self) -> bool | np.ndarray:
        """True when the spectral error is at the rounding level (exact up to rounding)."""
        out = np.asarray(self.spectral) <= np.asarray(self.rounding)
        return bool(out) if out.ndim == 0 else out

    def to_dict(self) -> JSONDict:
        """Documented fields: ``None`` where within rounding, else 6 significant digits."""
        noise = np.asarray(self.within_rounding)
        out: JSONDict = {}
        for k in self.__dataclass_fields__:
            value = getattr(self, k)
            out[k] = shown_where(value, False if k == "rounding" else noise)
        out["within_rounding"] = noise.tolist()
        out["raw"] = {k: np.asarray(getattr(self, k)).tolist() for k in self.__dataclass_fields__}
        return out


@dataclass(frozen=True, repr=False)
class LowRankKernel(Result):
    """A kernel approximated by ``rank`` separable terms.

    Attributes
    ----------
    columns : ndarray, shape (rank, m)
    rows : ndarray, shape (rank, n)
        :math:`K_k = \\sum_i c_i r_i^T`, each factor scaled by
        :math:`\\sqrt{\\sigma_i}` (as :attr:`Analysis.factors`).
    shape : tuple of int
        ``(m, n)``.
    singular_values : ndarray
        The full spectrum of the original kernel.
    error : ApproximationAccuracy
        Exact errors and the output-error bounds.
    residual : ndarray
        :math:`K - K_k`.
    """

    columns: np.ndarray
    rows: np.ndarray
    shape: tuple[int, int]
    singular_values: np.ndarray
    error: ApproximationAccuracy
    residual: np.ndarray

    @property
    def rank(self) -> int:
        return int(self.columns.shape[-2])

    @property
    def stack_shape(self) -> tuple[int, ...]:
        """``()`` for one kernel, else the shape of the stack."""
        return tuple(self.columns.shape[:-2])

    @property
    def terms(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The rank-1 terms as ``(column, row)`` pairs (one kernel only)."""
        if self.stack_shape:
            raise ValueError(
                f"`terms` lists the terms of one kernel; this holds a stack {self.stack_shape}. "
                "Use `.columns` (..., k, m) and `.rows` (..., k, n)."
            )
        return tuple(zip(self.columns, self.rows, strict=True))

    def to_array(self) -> np.ndarray:
        """The approximation :math:`K_k`, shape ``(m, n)`` (or ``(..., m, n)``)."""
        return np.swapaxes(self.columns, -1, -2) @ self.rows

    def worst_case_image(self) -> np.ndarray:
        """The sign image attaining the ``linf_bound`` (see :func:`worst_case_image`)."""
        return worst_case_image(self.residual)

    def to_dict(self) -> JSONDict:
        """Plain Python: singular values under the noise policy; factors in ``raw``."""
        floor = np.asarray(self.error.rounding)[..., None]
        return {
            "shape": list(self.shape),
            "rank": self.rank,
            "singular_values": shown_above(self.singular_values, floor),
            "error": self.error.to_dict(),
            "raw": {
                "columns": plain(self.columns),
                "rows": plain(self.rows),
                "singular_values": self.singular_values.tolist(),
            },
        }

    def __repr__(self) -> str:
        m, n = self.shape
        e = self.error
        if self.stack_shape:
            inexact = np.asarray(e.fro_rel)[~np.asarray(e.within_rounding)]
            worst = f"{float(np.max(inexact)):.3g}" if inexact.size else NOISE_TEXT
            return (
                f"LowRankKernel(stack {self.stack_shape} of {m}x{n} kernels, rank {self.rank}: "
                f"max fro_rel={worst})"
            )
        values = _format_values(self.singular_values, float(e.rounding))
        if e.within_rounding:
            return (
                f"LowRankKernel({m}x{n} kernel, rank {self.rank} (exact up to rounding): "
                f"errors {NOISE_TEXT}; singular_values={values})"
            )
        return (
            f"LowRankKernel({m}x{n} kernel, rank {self.rank}: "
            f"fro_rel={e.fro_rel:.3g}, spectral_rel={e.spectral_rel:.3g}, l1={e.l1:.3g}; "
            f"singular_values={values})"
        )


def _build(arr: np.ndarray, u: np.ndarray, s: np.ndarray, vt: np.ndarray, k: int) -> LowRankKernel:
    """The rank-`k` truncation of ``arr`` (one kernel or a stack) with its errors."""
    cols, rows = _factor_terms(arr, u, s, vt, k)
    residual = arr - np.swapaxes(cols, -1, -2) @ rows
    fro, spectral = eckart_young(s, k)
    norm_f = np.sqrt(np.sum(s * s, axis=-1))
    norm_2 = s[..., 0]
    l1 = l1_norm(residual)
    error = ApproximationAccuracy(
        fro=fro,
        spectral=spectral,
        fro_rel=_safe_ratio(fro, norm_f),
        spectral_rel=_safe_ratio(spectral, norm_2),
        l1=l1,
        freq_bound=frequency_bound(residual),
        rounding=tolerance(norm_2, arr.shape[-2:]),
    )
    m, n = arr.shape[-2:]
    return LowRankKernel(cols, rows, (m, n), s, error, residual)


def _safe_ratio(a: ArrayLike, b: ArrayLike) -> Floats:
    """a / b, with 0 where b == 0 (relative errors of a zero kernel are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)
    return float(out) if out.ndim == 0 else out


def _search(arr: np.ndarray, max_error: float, norm: str, relative: bool) -> LowRankKernel:
    """The smallest truncation of one kernel meeting `max_error` in `norm`."""
    u, s, vt = np.linalg.svd(arr, full_matrices=False)
    scale = 1.0
    if relative:
        scale = {
            "fro": float(np.sqrt(np.sum(s * s))),
            "spectral": float(s[0]),
            "l1": float(l1_norm(arr)),
            "freq": float(frequency_bound(arr)),
        }[norm]
    # Noise policy: where sigma_{k+1} is at the rounding level every error of the
    # rank-k truncation is rounding noise, whose digits differ between LAPACK
    # builds; it counts as the rounding level times sqrt(m n) (a bound on it in
    # each norm), so the answer never depends on those digits.
    m, n = arr.shape
    rounding = tolerance(s[0], arr.shape)
    level = rounding * float(np.sqrt(m * n))
    for k in range(s.size + 1):
        noise = k < s.size and s[k] <= rounding
        if norm in ("fro", "spectral"):
            # Eckart-Young errors come from the spectrum alone: no need to build.
            fro, spectral = eckart_young(s, k)
            err = fro if norm == "fro" else spectral
            if noise:
                err = max(err, level)
            if _safe_ratio(err, scale) <= max_error or k == s.size:
                return _build(arr, u, s, vt, k)
            continue
        lrk = _build(arr, u, s, vt, k)
        err = lrk.error.l1 if norm == "l1" else lrk.error.freq_bound
        if noise:
            err = max(err, level)
        if _safe_ratio(err, scale) <= max_error or k == s.size:
            return lrk
    raise AssertionError("unreachable: k = min(m, n) always returns")  # pragma: no cover


def _cp_search(kernel: KernelLike, max_error: float, norm: str, relative: bool, ndim: int
               ) -> tuple[TensorLowRank, CPRank]:
    """:func:`rank_for_error` and :func:`lowrank` with a target, for a d-D kernel."""
    if norm == "spectral":
        raise ValueError(
            f"`norm`='spectral' is not offered for n-D kernels (ndim={ndim}): a tensor's "
            "spectral norm is NP-hard to compute; use 'fro', 'l1' or 'freq'."
        )
    _check_choice(norm, tuple(CP_NORMS), "norm")
    nd = _as_kernel(kernel, ndim=ndim)
    return cp_search(nd, max_error, norm, _check_bool(relative, "relative"))


def rank_for_error(
    kernel: KernelLike, max_error: float, *, norm: str = "fro", relative: bool = False,
    ndim: int = 2,
) -> int:
    """The smallest rank whose best approximation meets an error target.

    Parameters
    ----------
    kernel : str, array_like or result
        One ``(m, n)`` kernel (d axes with ``ndim=d``).
    max_error : float
        The target, ``>= 0``; absolute unless ``relative=True``.
    norm : {'fro', 'freq', 'l1', 'spectral'}
        ``'fro'`` and ``'spectral'``: the kernel error (Eckart-Young, exact);
        ``'l1'``: the entrywise l1 norm of the residual, i.e. the gain of the
        output-error bound on :math:`\\|\\cdot\\|_\\infty`; ``'freq'``: the
        frequency-response bound on :math:`\\|\\cdot\\|_2`.
    relative : bool
        Measure the error relative to the kernel's own norm of the same kind.
    ndim : int
        2 (default), or ``d >= 3`` for one d-D kernel (real or complex):
        the smallest CP rank whose fit (:func:`lowrank` with ``ndim=d``)
        meets the target, in ``'fro'``, ``'l1'`` or ``'freq'`` (achieved
        errors, exact a posteriori).  A :class:`CPRank`: ranks whose certified lower bound
        exceeds the target are excluded unfitted, and ``proven`` says whether
        all smaller ranks were (otherwise alternating least squares only
        missed the target there); ``degenerate`` flags a fit that meets the
        target only through diverging, cancelling terms (a border rank, as the
        7-point Laplacian's rank 2).  A target below the rounding level is
        met by the first rank exact up to rounding; one term per fibre
        (:func:`kernelfactor._tensor.max_rank` terms) always is.

    Returns
    -------
    int
        The smallest ``k`` (0 <= k <= min(m, n)) meeting the target with the
        truncated SVD.  For ``'l1'`` and ``'freq'`` the truncated SVD is the
        candidate at each rank (it is optimal for 'fro' and 'spectral' only).
        Errors at the rounding level are noise (their digits differ between
        LAPACK builds) and count as :math:`\\sqrt{mn}` times the rounding
        level :attr:`ApproximationAccuracy.rounding`: a target of 0 (or below
        that level) is met only at ``min(m, n)``, on every machine; to ask
        for "exact up to rounding" use :func:`lowrank` without a target.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.outer([1, 2, 1], [1, 0, -1]) + 1e-3 * np.eye(3)
    >>> rank_for_error(k, 1e-2), rank_for_error(k, 1e-4)
    (1, 2)
    >>> a, e = np.array([1.0, -2, 1]), np.array([0.0, 1, 0])
    >>> lap = (np.einsum("i,j,k", a, e, e) + np.einsum("i,j,k", e, a, e)
    ...        + np.einsum("i,j,k", e, e, a))
    >>> r = rank_for_error(lap, 0.01, relative=True, ndim=3)
    >>> int(r), r.proven, r.degenerate  # rank 1's certified bound is 0.067
    (2, True, True)
    """
    max_error = _check_nonnegative(max_error, "max_error")
    if ndim != 2:
        return _cp_search(kernel, max_error, norm, relative, ndim)[1]
    _check_choice(norm, NORMS, "norm")
    arr = _as_kernel(kernel)
    return _search(arr, max_error, norm, _check_bool(relative, "relative")).rank


@overload
def lowrank(
    kernel: KernelLike, rank: int | None = ..., *, max_error: float | None = ...,
    norm: str = ..., relative: bool = ..., ndim: Literal[2] = ...,
) -> LowRankKernel: ...
@overload
def lowrank(
    kernel: KernelLike, rank: int | None = ..., *, max_error: float | None = ...,
    norm: str = ..., relative: bool = ..., ndim: int,
) -> LowRankKernel | TensorLowRank: ...
def lowrank(
    kernel: KernelLike,
    rank: int | None = None,
    *,
    max_error: float | None = None,
    norm: str = "fro",
    relative: bool = False,
    ndim: int = 2,
) -> LowRankKernel | TensorLowRank:
    """The best rank-k approximation of a kernel, with its errors and output bounds.

    Parameters
    ----------
    kernel : str, array_like or result
        One ``(m, n)`` kernel, or a stack ``(..., m, n)`` (then `rank` is
        required and every kernel is truncated to it in one batched SVD).
    rank : int, optional
        The number of separable terms, ``0 <= rank <= min(m, n)``.
    max_error : float, optional
        Instead of `rank`: the smallest rank meeting this error in `norm`
        (see :func:`rank_for_error`; for ``ndim >= 3`` the fit found there,
        its ``degenerate`` flag included).  Without either, the numerical rank
        (default tolerance of :func:`analyze`): an exact factorisation up to
        rounding.
    norm : {'fro', 'freq', 'l1', 'spectral'}
        The norm of `max_error`.
    relative : bool
        `max_error` relative to the kernel's norm.
    ndim : int
        2 (default): matrices (more axes are a stack).  ``d >= 3``: one n-D
        kernel approximated by `rank` outer products of d 1-D factors (CP,
        through TensorLy; complex factors for a complex kernel): a
        :class:`TensorLowRank` with the achieved error, a certified lower
        bound and a ``degenerate`` flag (see
        :mod:`kernelfactor._tensor`); `rank` or `max_error` is required.

    Returns
    -------
    LowRankKernel or TensorLowRank
        ``.terms``, ``.rank``, ``.to_array()``, ``.error``.

    Notes
    -----
    The truncated SVD :math:`K_k = \\sum_{i \\le k} \\sigma_i u_i v_i^T` is the
    best approximation of rank :math:`\\le k` in the Frobenius and spectral
    norms (Eckart-Young-Mirsky), with

    .. math::

        \\|K - K_k\\|_F = \\Big(\\sum_{i>k} \\sigma_i^2\\Big)^{1/2}, \\qquad
        \\|K - K_k\\|_2 = \\sigma_{k+1},

    and for any image :math:`x`,
    :math:`\\|(K - K_k) \\star x\\|_\\infty \\le \\|K - K_k\\|_1 \\|x\\|_\\infty`
    (see :class:`ApproximationAccuracy` for all bounds and their modes).

    Examples
    --------
    >>> import numpy as np
    >>> lr = lowrank(np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]), 1)
    >>> lr.rank, round(lr.error.fro, 12), round(lr.error.spectral, 12)
    (1, 0.449489742783, 0.449489742783)
    >>> lowrank(np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])).rank
    2
    """
    if ndim != 2:
        if (rank is None) == (max_error is None):
            raise ValueError(
                f"For an n-D kernel (ndim={ndim}) pass `rank` or `max_error` (one of them; got "
                f"rank={rank!r}, max_error={max_error!r}): the tensor rank is not computable "
                "in general, and best approximations need not exist."
            )
        if max_error is not None:
            target = _check_nonnegative(max_error, "max_error")
            return _cp_search(kernel, target, norm, relative, ndim)[0]
        nd = _as_kernel(kernel, ndim=ndim)
        return cp_lowrank(nd, _check_rank(rank, max_rank(nd.shape)))
    arr = _as_kernel(kernel, batch=True)
    _check_choice(norm, NORMS, "norm")
    if arr.ndim > 2 and (rank is None or max_error is not None):
        raise ValueError(
            f"For a stack of kernels (shape {arr.shape}) pass an explicit `rank`; "
            "`max_error` and the default numerical rank work on one kernel at a time."
        )
    if rank is not None and max_error is not None:
        raise ValueError(
            "`rank` and `max_error` are alternatives; got both "
            f"(rank={rank!r}, max_error={max_error!r}). Pass one of them."
        )
    if max_error is not None:
        max_error = _check_nonnegative(max_error, "max_error")
        return _search(arr, max_error, norm, _check_bool(relative, "relative"))
    u, s, vt = np.linalg.svd(arr, full_matrices=False)
    if rank is None:
        rank = int(np.count_nonzero(s > tolerance(s[0], arr.shape)))
    elif isinstance(rank, float) and not isinstance(rank, bool):
        raise TypeError(f"`rank` must be an integer; got {_describe(rank)}.")
    rank = _check_rank(rank, s.shape[-1])
    return _build(arr, u, s, vt, rank)

