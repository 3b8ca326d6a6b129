"""n-D kernels beyond rank 1: CP (canonical polyadic) approximations through TensorLy.

A d-dimensional kernel of tensor rank ``r`` is a sum of ``r`` outer products
of d 1-D factors, and filters as ``r`` sets of d 1-D passes.  Beyond matrices
the best rank-``r`` approximation need not exist: the set of tensors of rank
``<= r`` is not closed, and a tensor of *border rank* ``r`` (the 3-D 7-point
Laplacian ``a(x)e(x)e + e(x)a(x)e + e(x)e(x)a``, tensor rank 3, border rank 2;
de Silva and Lim, "Tensor rank and the ill-posedness of the best low-rank
approximation problem", SIAM J. Matrix Anal. Appl. 30, 2008) is the limit of
rank-``r`` tensors whose terms diverge and cancel.  So every result here
reports what is *proven* rather than a "best" error:

* the achieved error of the approximation returned (a posteriori, from its
  residual), with the output-error bounds it implies;
* a certified lower bound on the error of *every* rank-``r`` approximation:
  the largest over the unfoldings of the Eckart-Young error at rank ``r``
  (a rank-``r`` tensor has unfoldings of rank ``<= r``);
* ``degenerate``: the alternating least squares iterations diverge (the
  error still falls while the largest term grows and two terms cancel,
  congruence near -1): no best approximation is reported.

Complex kernels (a 3-D Gabor) are fitted over the complex numbers (TensorLy's
ALS solves the complex normal equations): complex factors, the same errors
and bounds (Frobenius norms of moduli, singular values of complex
unfoldings).  Real kernels stay in real arithmetic.

TensorLy (a dependency) is imported on first use, so ``import kernelfactor`` stays light.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np

from ._bounds import frequency_bound, l1_norm, worst_case_image
from ._noise import NOISE_TEXT, plain, rounding_level, shown_where
from ._results import Result
from ._svd import _unfold

__all__ = [
    "CP_NORMS", "CPFit", "CPRank", "TensorLowRank", "cp_fit", "cp_lowrank", "cp_search",
    "max_rank", "unfolding_lower_bound",
]

#: ALS iterations per stage (two stages: the second tells convergence from divergence).
_STAGE = 300
#: Two terms cancel when their congruence (cosine of the rank-one terms) is below this.
_CANCEL = -0.8


def unfolding_lower_bound(kernel: np.ndarray, rank: int) -> float:
    """A certified lower bound on ``||K - T||_F`` over all tensors ``T`` of rank ``<= rank``.

    Every unfolding of a rank-``r`` tensor has matrix rank ``<= r``, so each
    unfolding's Eckart-Young error at rank ``r`` bounds the error from below;
    the bound is the largest of them.  For a complex kernel the unfoldings'
    complex SVDs bound every complex rank-``r`` tensor.

    Examples
    --------
    >>> import numpy as np
    >>> a, e = np.array([1.0, -2, 1]), np.array([0.0, 1, 0])
    >>> lap = (np.einsum("i,j,k", a, e, e) + np.einsum("i,j,k", e, a, e)
    ...        + np.einsum("i,j,k", e, e, a))
    >>> unfolding_lower_bound(lap, 2)  # multilinear rank (2, 2, 2): no bound above 0
    0.0
    """
    best = 0.0
    for k in range(kernel.ndim):
        tail = np.linalg.svd(_unfold(kernel, k), compute_uv=False)[rank:]
        if tail.size and not _SAFE_SQUARES[0] <= tail[0] <= _SAFE_SQUARES[1]:
            best = max(best, _fro(tail))
        else:
            best = max(best, float(np.sqrt(np.sum(tail**2))))
    return best


@dataclass(frozen=True, repr=False)
class TensorLowRank(Result):
    """A d-dimensional kernel approximated by ``rank`` outer products (CP).

    Attributes
    ----------
    factors : tuple of ndarray
        ``d`` arrays of shape ``(rank, n_k)``: term ``i`` is
        ``factors[0][i] (x) factors[1][i] (x) ...`` (scales spread evenly);
        complex for a complex kernel.
    shape : tuple of int
    fro, fro_rel : float
        The achieved error :math:`\\|K - K_r\\|_F` (exact, from the residual)
        and relative to :math:`\\|K\\|_F`.
    l1 : float
        :math:`\\|K - K_r\\|_1`, the gain of the output bound
        :math:`\\|(K - K_r) \\star x\\|_\\infty \\le \\|K - K_r\\|_1 \\|x\\|_\\infty`
        (every mode; see :class:`ApproximationAccuracy`).
    freq_bound : float
        The l2 gain bound (frequency response), modes as Young's.
    lower_bound, lower_bound_rel : float
        No rank-``rank`` tensor is closer than this (:func:`unfolding_lower_bound`).
    degenerate : bool
        The iterations diverge: no best rank-``rank`` approximation was found
        (probably none exists: errors fall towards ``lower_bound`` with
        diverging, cancelling factors).  The approximation returned is the
        last iterate; its error is still exact.
    note : str
        What the numbers mean.
    residual : ndarray
    """

    factors: tuple[np.ndarray, ...]
    shape: tuple[int, ...]
    fro: float
    fro_rel: float
    l1: float
    freq_bound: float
    lower_bound: float
    lower_bound_rel: float
    degenerate: bool
    note: str
    residual: np.ndarray
    rounding: float

    @property
    def rank(self) -> int:
        return int(self.factors[0].shape[0])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def terms(self) -> tuple[tuple[np.ndarray, ...], ...]:
        """The rank-1 terms, each a tuple of ``d`` 1-D factors."""
        return tuple(tuple(f[i] for f in self.factors) for i in range(self.rank))

    @property
    def within_rounding(self) -> bool:
        return self.fro <= self.rounding

    def to_array(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=np.result_type(*self.factors))
        for term in self.terms:
            t = term[0]
            for f in term[1:]:
                t = np.multiply.outer(t, f)
            out += t
        return out

    def worst_case_image(self) -> np.ndarray:
        """The sign image attaining the ``l1`` bound (see :func:`worst_case_image`)."""
        return worst_case_image(self.residual)

    def to_dict(self) -> dict[str, Any]:
        noise = self.within_rounding
        keys = ("fro", "fro_rel", "l1", "freq_bound")
        return {
            "shape": list(self.shape),
            "rank": self.rank,
            **{k: shown_where(getattr(self, k), noise) for k in keys},
            "lower_bound": shown_where(self.lower_bound, self.lower_bound <= self.rounding),
            "degenerate": self.degenerate,
            "note": self.note,
            "raw": {
                **{k: getattr(self, k) for k in (*keys, "lower_bound", "rounding")},
                "factors": [plain(f) for f in self.factors],
            },
        }

    def __repr__(self) -> str:
        shape = "x".join(str(n) for n in self.shape)
        if self.within_rounding:
            err = f"exact up to rounding (errors {NOISE_TEXT})"
        else:
            low = (NOISE_TEXT if self.lower_bound <= self.rounding
                   else f"{self.lower_bound_rel:.3g}")
            err = f"fro_rel={self.fro_rel:.3g}, l1={self.l1:.3g}, lower bound fro_rel>={low}"
        flag = "; DEGENERATE: no best approximation" if self.degenerate else ""
        return f"TensorLowRank({shape} kernel, rank {self.rank}: {err}{flag})"


def _congruence(factors: list[np.ndarray]) -> float:
    """The smallest cosine between two rank-one terms (1 for a single term).

    The cosine of two terms is the product of their factors' cosines; for
    complex factors (conjugated inner products, :func:`numpy.vdot`) its real
    part, which is near -1 exactly where two terms of positive weight cancel.
    """
    r = factors[0].shape[1]
    unit = [f / np.maximum(np.linalg.norm(f, axis=0), 1e-300) for f in factors]
    worst = 1.0
    for i, j in itertools.combinations(range(r), 2):
        worst = min(worst, float(np.real(np.prod([np.vdot(u[:, i], u[:, j]) for u in unit]))))
    return worst


class _CP(Protocol):
    """What is read of a TensorLy CP tensor."""

    weights: np.ndarray
    factors: list[np.ndarray]


class CPFit(NamedTuple):
    """The factors of a CP fit and what the iterations did (see :func:`cp_fit`)."""

    factors: list[np.ndarray]
    degenerate: bool
    note: str
    error: float


def _parafac(kernel: np.ndarray, rank: int, init: str | _CP) -> _CP:
    """One stage of ALS iterations (TensorLy) from `init`.

    Singular normal equations (an exact fit, a rank above the multilinear
    ranks, a term gone to zero) get a tiny ridge; where a zero weight still
    zeroes its equations, the weights go into the factors, unnormalised.
    """
    from tensorly.cp_tensor import CPTensor  # lazy: heavy
    from tensorly.decomposition import parafac  # lazy: heavy

    ridge = 1e-12 * float(np.sum(np.abs(kernel) ** 2))
    with warnings.catch_warnings():  # restarting from a normalised CP is what we mean
        warnings.filterwarnings("ignore", "It is not recommended to initialize")
        for reg, normalize in ((0.0, True), (ridge, True), (ridge, False)):
            if not normalize and not isinstance(init, str):
                scaled = [np.asarray(f, dtype=_dtype(kernel)) for f in init.factors]
                scaled[0] = scaled[0] * np.asarray(init.weights)[None, :]
                init = CPTensor((np.ones(rank), scaled))
            try:
                cp: _CP = parafac(kernel, rank, init=init, n_iter_max=_STAGE, tol=0.0,
                                  random_state=0, normalize_factors=normalize,
                                  linesearch=False, l2_reg=reg)
                return cp
            except np.linalg.LinAlgError:
                if not normalize:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def _stage(kernel: np.ndarray, rank: int, init: str | _CP) -> tuple[_CP, float]:
    """One stage of ALS from `init`: the normalised cp and its error (LinAlgError on overflow)."""
    import tensorly as tl  # lazy: heavy
    from tensorly.cp_tensor import cp_normalize  # lazy: heavy

    with np.errstate(over="ignore", invalid="ignore"):  # overflow is caught below
        cp: _CP = cp_normalize(_parafac(kernel, rank, init))
        err = float(np.linalg.norm(kernel - tl.cp_to_tensor(cp)))
    if not np.isfinite(err):
        raise np.linalg.LinAlgError("alternating least squares overflowed")
    return cp, err


def _als(kernel: np.ndarray, rank: int, init: str | _CP) -> list[tuple[_CP, float, float]]:
    """Two stages of ALS from `init`: (normalised cp, error, largest weight) after each."""
    import tensorly as tl  # lazy: heavy

    tl.set_backend("numpy")
    out = []
    for _ in range(2):
        cp, err = _stage(kernel, rank, init)
        out.append((cp, err, float(np.max(np.abs(cp.weights)))))
        init = cp
    return out


def _rounding(kernel: np.ndarray) -> float:
    """The kernel's rounding level in the Frobenius norm (errors at or below it are noise)."""
    return float(rounding_level(_fro(kernel), kernel.shape)) * math.sqrt(kernel.size)


def cp_fit(kernel: np.ndarray, rank: int, *, starts: Sequence[Sequence[np.ndarray]] = ()) -> CPFit:
    """:func:`_cp_fit`; where every ALS run overflows, the highest lower rank's fit and zero terms.

    Iterations overflow when a term they drive to zero is normalised (a
    kernel of lower rank up to entries whose squares underflow, such as
    1e-269 beside 1.5): a rank-``r - 1`` tensor is also of rank ``r``, and its
    achieved error is exact as always.  The note says so.
    """
    if rank < 1:
        return _cp_fit(kernel, rank, starts)
    for r in range(rank, 0, -1):
        try:
            fit = _cp_fit(kernel, r, [[np.asarray(f)[:, :r] for f in s] for s in starts])
            break
        except np.linalg.LinAlgError:
            if r == 1:
                raise
    if r == rank:
        return fit
    zeros = rank - r
    note = (f"alternating least squares overflowed at rank {rank}"
            + (f" down to {r + 1}" if zeros > 1 else "")
            + f" (terms driven to zero): the rank-{r} fit and {zeros} zero "
            + ("term" if zeros == 1 else "terms") + ", achieved error (exact)")
    return fit._replace(factors=[np.vstack([f, np.zeros((zeros, f.shape[1]), f.dtype)])
                                 for f in fit.factors],
                        note=f"{note}; {fit.note}" if fit.note else note)


def _cp_fit(kernel: np.ndarray, rank: int, starts: Sequence[Sequence[np.ndarray]]) -> CPFit:
    """CP by alternating least squares (TensorLy), from deterministic starts; the best kept.

    The default start is TensorLy's SVD initialisation (HOSVD factors) while
    `rank` is within every unfolding's rank, else a seeded random one (the
    SVD has null vectors beyond it).  Each of `starts` (``d`` arrays of shape
    ``(n_k, rank)``, e.g. a greedy selection, :func:`kernelfactor._banks`) is
    run too, and the fit with the smallest achieved error is kept.  Each run
    is two stages of :data:`_STAGE` iterations; the second tells convergence
    from divergence (``degenerate``).  A start closer than every run is kept
    as it is (ALS from an exact start can only wander).  A complex kernel is
    fitted with complex factors (a seeded random start is real, cast to
    complex: ALS moves it off the real axis at its first step).

    The ridge of :func:`_parafac` is absolute (set for kernels of norm near
    1).  Where it fails (lost in rounding for a kernel of small norm: the
    equations stay singular; dominant for a large one: the fit is no closer
    than 0, which every rank-1 term beats) or the iterations overflow, the
    kernel is refitted scaled by a power of two to a norm in [1/2, 1), and
    the factors scaled back (exactly).
    """
    d = kernel.ndim
    exponent = _norm_exponent(kernel)
    unit = _ldexp(kernel, -exponent)
    try:
        fit = _fit(kernel, rank, starts, 0)
        if exponent == 0 or math.ldexp(fit.error, -exponent) < float(np.linalg.norm(unit)):
            return fit
    except np.linalg.LinAlgError:
        if exponent == 0:
            raise
    parts = [exponent // d] * d  # 2**exponent spread over the d factors
    parts[0] += exponent - d * (exponent // d)
    fit = _fit(unit, rank, [[_ldexp(np.asarray(f), -p) for f, p in zip(s, parts, strict=True)]
                            for s in starts], exponent)
    return fit._replace(factors=[_ldexp(f, p) for f, p in zip(fit.factors, parts, strict=True)],
                        error=math.ldexp(fit.error, exponent))


def _norm_exponent(kernel: np.ndarray) -> int:
    """``e`` with :math:`\\|K\\|_F / 2^e` in [1/2, 1), found without overflow (0 for 0)."""
    peak = float(np.max(np.abs(kernel))) if kernel.size else 0.0
    if peak == 0 or not np.isfinite(peak):
        return 0
    e = math.frexp(peak)[1]
    return e + math.frexp(float(np.linalg.norm(_ldexp(kernel, -e))))[1]


#: Entries of modulus within [2**-460, 2**460]: their squares and sums of squares are normal.
_SAFE_SQUARES = (2.0**-460, 2.0**460)


def _fro(a: np.ndarray) -> float:
    """:math:`\\|a\\|_F`; outside the range where squares are safe, BLAS ``nrm2`` (scaled sums)."""
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    if peak == 0 or _SAFE_SQUARES[0] <= peak <= _SAFE_SQUARES[1]:
        return float(np.linalg.norm(a))
    from scipy.linalg import norm  # lazy: heavy

    return float(norm(a.ravel()))


def _ldexp(a: np.ndarray, e: int) -> np.ndarray:
    """``a * 2**e``, exactly (real and imaginary parts; no overflow of ``2**e``)."""
    if np.iscomplexobj(a):
        return np.ldexp(a.real, e) + 1j * np.ldexp(a.imag, e)
    return np.ldexp(a, e)


def _fit(kernel: np.ndarray, rank: int, starts: Sequence[Sequence[np.ndarray]], exponent: int
         ) -> CPFit:
    """:func:`cp_fit` of `kernel` as given (the note's errors and weights times ``2**exponent``)."""
    import tensorly as tl  # lazy: heavy
    from tensorly.cp_tensor import CPTensor  # lazy: heavy

    ranks = [np.linalg.matrix_rank(_unfold(kernel, k)) for k in range(kernel.ndim)]
    given: list[_CP] = [
        CPTensor((np.ones(rank), [np.array(f, dtype=_dtype(kernel)) for f in start]))
        for start in starts
    ]
    # a start closer than where ALS takes it is kept as it is
    stays = [(init, float(np.linalg.norm(kernel - tl.cp_to_tensor(init))), 1.0)
             for init in given]
    inits: list[str | _CP] = ["svd" if rank <= min(ranks) else "random", *given]
    runs = [_als(kernel, rank, init) for init in inits] + [[stay, stay] for stay in stays]
    (_, err1, w1), (cp2, err2, w2) = min(runs, key=lambda run: run[1][1])
    cp2, err2 = _polish(kernel, rank, cp2, err2)
    weights, fac = cp2.weights, [np.asarray(f) for f in cp2.factors]
    falling = err2 < err1 * (1 - 1e-4)
    growing = w2 > w1 * 1.01
    cancel = _congruence(fac) < _CANCEL
    degenerate = falling and growing and cancel
    why = (
        f"alternating least squares diverge: after {2 * _STAGE} iterations the error still "
        f"falls ({math.ldexp(err1, exponent):.3g} -> {math.ldexp(err2, exponent):.3g}) while "
        f"the largest term grows ({math.ldexp(w1, exponent):.3g} -> "
        f"{math.ldexp(w2, exponent):.3g}) and terms cancel (congruence "
        f"{_congruence(fac):.3f}); no best rank-{rank} "
        "approximation was found: errors can approach the lower bound only with diverging "
        "factors (border rank; de Silva and Lim 2008)"
        if degenerate else ""
    )
    # spread each term's weight evenly over its d factors (sign, or phase, on the last)
    d = kernel.ndim
    root = np.abs(weights) ** (1.0 / d)
    out = [(f * root[None, :]).T.copy() for f in fac]
    out[-1] = out[-1] * np.sign(weights)[:, None]
    return CPFit(out, degenerate, why, err2)


#: A fit this close to the kernel (in rounding levels) is an exact one still converging.
_NEAR_EXACT = 1e6

#: Most extra ALS stages spent driving a near-exact fit down to rounding.
_POLISH_STAGES = 8


def _polish(kernel: np.ndarray, rank: int, cp: _CP, err: float) -> tuple[_CP, float]:
    """Drive a fit within :data:`_NEAR_EXACT` rounding levels of the kernel well below rounding.

    ALS approaches an exact decomposition linearly; stopping at a fixed
    iteration count could leave its error just above the rounding level on
    one machine and just below on another.  More stages run while the error
    at least halves per stage, until it is below 1/16 of the rounding level.
    """
    rounding = _rounding(kernel)
    for _ in range(_POLISH_STAGES):
        if not rounding / 16 < err <= _NEAR_EXACT * rounding:
            break
        try:
            nxt, nerr = _stage(kernel, rank, cp)
        except np.linalg.LinAlgError:
            break
        if not nerr < err:
            break
        cp, err, falling = nxt, nerr, nerr <= err / 2
        if not falling:
            break
    return cp, err


def _dtype(kernel: np.ndarray) -> np.dtype:
    """The factors' dtype: float64, or complex128 for a complex kernel."""
    return np.result_type(kernel.dtype, np.float64)


def _result(kernel: np.ndarray, factors: Sequence[np.ndarray], degenerate: bool, note: str
            ) -> TensorLowRank:
    """The errors and bounds of the CP approximation with these factors."""
    d, rank = kernel.ndim, int(factors[0].shape[0])
    norm = _fro(kernel)
    approx = np.zeros(kernel.shape, dtype=_dtype(kernel))
    for i in range(rank):
        t = factors[0][i]
        for f in factors[1:]:
            t = np.multiply.outer(t, f[i])
        approx += t
    residual = kernel - approx
    fro = _fro(residual)
    lower = unfolding_lower_bound(kernel, rank)
    rounding = _rounding(kernel)
    return TensorLowRank(
        factors=tuple(factors),
        shape=tuple(int(n) for n in kernel.shape),
        fro=fro,
        fro_rel=fro / norm if norm else 0.0,
        l1=float(l1_norm(residual, ndim=d)),
        freq_bound=float(frequency_bound(residual, ndim=d)),
        lower_bound=lower,
        lower_bound_rel=lower / norm if norm else 0.0,
        degenerate=degenerate,
        note=note,
        residual=residual,
        rounding=rounding,
    )


def max_rank(shape: Sequence[int]) -> int:
    """An upper bound on the tensor rank of a kernel of this shape: size over longest axis.

    One term per fibre along the longest axis is always an exact
    decomposition.  The largest rank a shape actually allows can be smaller
    (5 for 3x3x3; it is not known in general).

    >>> max_rank((3, 3, 3)), max_rank((2, 5, 3))
    (9, 6)
    """
    return math.prod(shape) // max(shape)


def cp_lowrank(kernel: np.ndarray, rank: int) -> TensorLowRank:
    """The CP rank-`rank` approximation of one n-D kernel with its errors and bounds.

    Called by :func:`kernelfactor.lowrank` with ``ndim >= 3``.
    """
    if rank == 0 or not np.any(kernel):
        factors = [np.zeros((rank, n), dtype=_dtype(kernel)) for n in kernel.shape]
        return _result(kernel, factors, False, f"achieved error (exact) of rank {rank}")
    factors, degenerate, why, _ = cp_fit(kernel, rank)
    return _result(kernel, factors, degenerate, why or (
        f"achieved error (exact); every rank-{rank} approximation has error >= the lower "
        "bound; alternating least squares converged"
    ))


def _fibres(kernel: np.ndarray) -> TensorLowRank:
    """The exact decomposition of :func:`max_rank` terms: unit vectors and fibres."""
    axis = int(np.argmax(kernel.shape))
    others = [k for k in range(kernel.ndim) if k != axis]
    rank = max_rank(kernel.shape)
    factors = [np.zeros((rank, n), dtype=_dtype(kernel)) for n in kernel.shape]
    for i, index in enumerate(itertools.product(*(range(kernel.shape[k]) for k in others))):
        at = dict(zip(others, index, strict=True))
        for k in others:
            factors[k][i, at[k]] = 1.0
        factors[axis][i] = kernel[tuple(at.get(k, slice(None)) for k in range(kernel.ndim))]
    return _result(kernel, factors, False, (
        f"exact: one term per fibre along axis {axis} (rank {rank}, which every kernel of this "
        "shape reaches)"
    ))


class CPRank(int):
    """The smallest CP rank whose fit meets a target (:func:`kernelfactor.rank_for_error`).

    An ``int``, and what stands behind it: the fit at this rank meets the
    target (its achieved error, exact a posteriori); whether every smaller
    rank is *proven* unable to (their certified lower bounds exceed the
    target), or only missed by the iterations; whether the fit is degenerate.

    Attributes
    ----------
    achieved : float
        The fit's error in the norm asked (relative when asked).
    proven : bool
        Every smaller rank is excluded by its certified lower bound: this
        rank is the smallest possible.  False when a smaller rank was only
        tried (alternating least squares missed the target there, which does
        not prove it impossible).
    degenerate : bool
        The fit at this rank diverges (cancelling terms of growing size: no
        best approximation of this rank; the error is met, the factors are
        ill-conditioned).
    note : str
        Rank by rank, what excluded or failed.
    """

    achieved: float
    proven: bool
    degenerate: bool
    note: str

    def __new__(cls, value: int, achieved: float = 0.0, proven: bool = True,
                degenerate: bool = False, note: str = "") -> CPRank:
        obj = super().__new__(cls, value)
        obj.achieved, obj.proven, obj.degenerate, obj.note = achieved, proven, degenerate, note
        return obj

    def __repr__(self) -> str:
        how = "proven smallest" if self.proven else "smaller ranks not excluded"
        flag = ", DEGENERATE fit (no best approximation)" if self.degenerate else ""
        return f"CPRank({int(self)}, {how}{flag}: {self.note})"

    def __reduce__(self) -> tuple[type[CPRank], tuple[int, float, bool, bool, str]]:
        return (CPRank, (int(self), self.achieved, self.proven, self.degenerate, self.note))


#: The norms of a CP fit's error: attribute of :class:`TensorLowRank`.
CP_NORMS = {"fro": "fro", "freq": "freq_bound", "l1": "l1"}


def cp_search(kernel: np.ndarray, max_error: float, norm: str, relative: bool
              ) -> tuple[TensorLowRank, CPRank]:
    """The smallest CP rank whose fit meets `max_error` in `norm` (see :func:`rank_for_error`).

    A rank whose certified lower bound exceeds the target is skipped unfitted
    (the Frobenius bound bounds the l1 norm and the frequency response's
    maximum too).  Errors at the rounding level count as that level, and
    :func:`max_rank` always meets the target (an exact decomposition).
    """
    scale = 1.0
    if relative:
        d = kernel.ndim
        scale = {"fro": _fro(kernel), "l1": float(l1_norm(kernel, ndim=d)),
                 "freq": float(frequency_bound(kernel, ndim=d))}[norm]
    top = max_rank(kernel.shape)
    rounding = _rounding(kernel)

    def shown(value: float, noise: bool) -> str:
        return NOISE_TEXT if noise else f"{value:.3g}"

    proven, log = True, []
    for r in range(top + 1):
        lower = unfolding_lower_bound(kernel, r)
        bound = shown(lower / scale if scale > 0 else 0.0, lower <= rounding)
        if r < top and lower > rounding and scale > 0 and lower / scale > max_error:
            log.append(f"rank {r} excluded (certified lower bound {bound})")
            continue
        fit = cp_lowrank(kernel, r)
        achieved = _achieved(fit, norm, scale)
        if r == top and achieved > max_error:  # ALS missed: the fibres are exact
            fit = _fibres(kernel)
            achieved = _achieved(fit, norm, scale)
        flag = ", degenerate" if fit.degenerate else ""
        got = shown(achieved, fit.within_rounding)
        if achieved <= max_error:
            log.append(f"rank {r} meets it (achieved {got}{flag})")
        elif fit.within_rounding or r == top:
            log.append(f"rank {r} is exact up to rounding (the target is below the rounding "
                       "level)")
        else:
            proven = False
            log.append(f"rank {r} not excluded (certified lower bound {bound}) but missed by "
                       f"ALS (achieved {got}{flag})")
            continue
        return fit, CPRank(r, achieved, proven, fit.degenerate, "; ".join(log))
    raise AssertionError("unreachable: max_rank always returns")  # pragma: no cover


def _achieved(fit: TensorLowRank, norm: str, scale: float) -> float:
    """The fit's error in `norm` over `scale`; rounding noise counts as the rounding level."""
    err = max(float(getattr(fit, CP_NORMS[norm])), fit.rounding if fit.within_rounding else 0.0)
    return err / scale if scale > 0 else 0.0
