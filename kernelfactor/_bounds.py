"""Approximation errors of truncated kernels and the bounds they imply on filtered images.

No SVD and no images here: functions of singular values and of residual
kernels :math:`R = K - K_k` only.

For a residual kernel :math:`R` and any image :math:`x`:

.. math::

    \\|R \\star x\\|_\\infty \\le \\|R\\|_1\\,\\|x\\|_\\infty, \\qquad
    \\|R \\star x\\|_2 \\le \\|R\\|_1\\,\\|x\\|_2, \\qquad
    \\|R \\star x\\|_2 \\le \\max_\\omega |\\hat R(\\omega)|\\,\\|x\\|_2,

where :math:`\\|R\\|_1 = \\sum_{ij} |R_{ij}|` (the entrywise l1 norm).  The
first holds for every scipy.ndimage boundary mode (each output value is a
weighted sum of image values, or of ``cval`` in the constant modes, which then
enters :math:`\\|x\\|_\\infty`) and is attained by the sign image
:func:`worst_case_image`.  The second (Young's inequality) and the third
(Parseval) hold for full linear convolution, hence for the 'constant' modes with
``cval=0``, and for circular convolution ('wrap' / 'grid-wrap').
"""

from __future__ import annotations

import numbers

import numpy as np

from ._typing import ArrayLike, Floats
from ._validation import BOUNDARY_MODES, _check_mode, _check_positive_int, _describe

__all__ = [
    "MAX_FREQUENCY_GRID",
    "eckart_young",
    "frequency_bound",
    "image_linf",
    "l1_norm",
    "worst_case_image",
]


#: :func:`frequency_bound` refuses FFT grids with more points per kernel than this.
MAX_FREQUENCY_GRID = 2**26


def _as_values(
    values: ArrayLike, name: str, what: str, min_ndim: int, *, complex_ok: bool = False
) -> np.ndarray:
    """A finite float64 (or, with `complex_ok`, complex128) array with at least
    `min_ndim` axes, none of the last `min_ndim` empty, or a clear refusal."""
    try:
        arr = np.asarray(values)
        kind = np.complex128 if complex_ok and np.iscomplexobj(arr) else np.float64
        arr = arr.astype(kind, copy=False)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be {what}; got {_describe(values)}.") from None
    if arr.ndim < min_ndim:
        raise ValueError(f"`{name}` must be {what}; got shape {arr.shape}.")
    if 0 in arr.shape[-min_ndim:]:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); it must be {what}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf; it must be {what} with finite values.")
    return arr


def _as_real(values: ArrayLike, name: str, what: str, min_ndim: int) -> np.ndarray:
    return _as_values(values, name, what, min_ndim)


def _as_kernel_values(values: ArrayLike, name: str, ndim: int) -> np.ndarray:
    what = f"a real or complex kernel of {ndim} axes (or a stack of them)"
    return _as_values(values, name, what, ndim, complex_ok=True)


def eckart_young(singular_values: ArrayLike, rank: int) -> tuple[Floats, Floats]:
    """Exact errors of the best rank-`rank` approximation.

    Parameters
    ----------
    singular_values : array_like, shape (..., k)
        Descending singular values.
    rank : int
        The rank kept.

    Returns
    -------
    fro, spectral : float or ndarray
        :math:`\\sqrt{\\sum_{i>r} \\sigma_i^2}` and :math:`\\sigma_{r+1}`
        (0 when :math:`r \\ge k`): the Frobenius and spectral distances from
        the kernel to the nearest matrix of rank :math:`\\le r`
        (Eckart-Young-Mirsky).

    Examples
    --------
    >>> eckart_young([3.0, 4.0 / 5, 3.0 / 5], 1)
    (1.0, 0.8)
    """
    what = "descending singular values >= 0 (array_like, shape (..., k))"
    s = _as_real(singular_values, "singular_values", what, 1)
    if np.any(s < 0):
        raise ValueError(f"`singular_values` must be >= 0 ({what}); a negative value was given.")
    if np.any(np.diff(s, axis=-1) > 0):
        raise ValueError(
            f"`singular_values` must be descending ({what}); sort them, e.g. "
            "`np.sort(s)[::-1]`."
        )
    rank = _check_positive_int(rank, "rank", allow_zero=True)
    tail = s[..., rank:]
    fro = np.sqrt(np.sum(tail * tail, axis=-1))
    spectral = tail[..., 0] if tail.shape[-1] else np.zeros(s.shape[:-1])
    if s.ndim == 1:
        return float(fro), float(spectral)
    return fro, spectral


def image_linf(image: ArrayLike, mode: str = "reflect", cval: float = 0.0) -> float:
    """:math:`\\|x\\|_\\infty` as the l-inf output bound reads it.

    In the constant modes (``'constant'``, ``'grid-constant'``) the image is
    extended by ``cval``, so the bound :math:`\\|R \\star x\\|_\\infty \\le
    \\|R\\|_1 \\|x\\|_\\infty` holds with :math:`\\|x\\|_\\infty` read as
    :math:`\\max(\\|x\\|_\\infty, |\\mathrm{cval}|)`: with ``x = 0`` and ``cval = 1``
    the error is not 0.

    Examples
    --------
    >>> image_linf([[0.0, 0.5]], mode="constant", cval=-1.0)
    1.0
    >>> image_linf([[0.0, 0.5]], mode="reflect", cval=-1.0)
    0.5
    """
    mode = _check_mode(mode)
    x = _as_real(image, "image", "a real image", 1)
    if isinstance(cval, bool) or not isinstance(cval, numbers.Real) or not np.isfinite(cval):
        raise ValueError(f"`cval` must be a finite real number; got {_describe(cval)}.")
    top = float(np.max(np.abs(x)))
    if BOUNDARY_MODES[mode].constant:
        top = max(top, abs(float(cval)))
    return top


def l1_norm(residual: ArrayLike, *, ndim: int = 2) -> Floats:
    """The entrywise l1 norm :math:`\\sum_{ij} |R_{ij}|` over the last `ndim` axes.

    It is the exact operator norm of :math:`x \\mapsto R \\star x` on
    :math:`\\ell_\\infty`, and a bound on :math:`\\ell_2`, for real and
    complex residuals and kernels of any dimension (``ndim=3`` for a volume).

    Examples
    --------
    >>> l1_norm([[1.0, -2.0], [0.5, 0.0]])
    3.5
    >>> l1_norm([[[3j, 4.0]]], ndim=3)
    7.0
    """
    r = _as_kernel_values(residual, "residual", ndim)
    out = np.sum(np.abs(r), axis=tuple(range(-ndim, 0)))
    return float(out) if out.ndim == 0 else out


def frequency_bound(residual: ArrayLike, *, oversample: int = 8, ndim: int = 2) -> Floats:
    """A rigorous upper bound on :math:`\\max_\\omega |\\hat R(\\omega)|`.

    :math:`\\hat R(\\omega) = \\sum_{pq} R_{pq} e^{-i(\\omega_1 p + \\omega_2 q)}`
    is evaluated on an :math:`N_1 \\times N_2` grid by a zero-padded FFT; between
    grid points it cannot rise by more than its Lipschitz constant times half
    the spacing, so

    .. math::

        \\max_\\omega |\\hat R| \\le \\max_{\\text{grid}} |\\hat R|
          + \\frac{\\pi}{N_1} \\sum_{pq} |R_{pq}|\\,|p - c_1|
          + \\frac{\\pi}{N_2} \\sum_{pq} |R_{pq}|\\,|q - c_2|

    (coordinates centred at :math:`c`, which does not change :math:`|\\hat R|`).
    The result is capped by :math:`\\|R\\|_1`, which is always a bound.

    Parameters
    ----------
    residual : array_like, shape (..., m, n)
        One residual kernel or a stack (a bound per kernel); complex allowed.
    oversample : int
        Grid points per kernel tap and axis (at least 64 points per axis; at
        least 16 for ``ndim > 2``); >= 1, and grids above
        :data:`MAX_FREQUENCY_GRID` points are refused.
    ndim : int
        The kernel's dimension: the last `ndim` axes are the kernel's (the
        same bound, one Lipschitz term per axis).

    Examples
    --------
    >>> frequency_bound([[1.0, 1.0]])  # |1 + e^{-iw}| peaks at 2 for w = 0
    2.0
    """
    r = _as_kernel_values(residual, "residual", ndim)
    oversample = _check_positive_int(oversample, "oversample")
    if ndim != 2 or np.iscomplexobj(r):
        return _frequency_bound_nd(r, ndim, oversample)
    m, n = r.shape[-2:]
    n1 = max(64, 1 << (oversample * m - 1).bit_length())
    n2 = max(64, 1 << (oversample * n - 1).bit_length())
    if n1 * n2 > MAX_FREQUENCY_GRID:
        raise ValueError(
            f"`oversample`={oversample} asks for an FFT grid of {n1} x {n2} points for a "
            f"{m} x {n} residual ({n1 * n2 * 16 / 2**30:.3g} GiB); the limit is "
            f"{MAX_FREQUENCY_GRID} points. Lower `oversample` (8 is the default), or use "
            "l1_norm(residual), which is always a bound."
        )
    absr = np.abs(r)
    l1 = np.sum(absr, axis=(-2, -1))
    flat = r.reshape(-1, m, n)
    peaks = np.empty(flat.shape[0])
    step = max(1, 2**22 // (n1 * n2))  # bound the FFT workspace for large stacks
    for i in range(0, flat.shape[0], step):
        spectrum = np.fft.rfft2(flat[i : i + step], s=(n1, n2))
        peaks[i : i + step] = np.max(np.abs(spectrum), axis=(-2, -1))
    grid_max = peaks.reshape(r.shape[:-2])
    dp = np.abs(np.arange(m) - (m - 1) / 2.0)
    dq = np.abs(np.arange(n) - (n - 1) / 2.0)
    lip = np.pi / n1 * (absr.sum(axis=-1) @ dp) + np.pi / n2 * (absr.sum(axis=-2) @ dq)
    out = np.minimum(l1, grid_max + lip)
    return float(out) if out.ndim == 0 else out


def _frequency_bound_nd(r: np.ndarray, ndim: int, oversample: int) -> Floats:
    """:func:`frequency_bound` for complex residuals and n-D kernels (a full FFT)."""
    axes = tuple(range(-ndim, 0))
    shape = r.shape[-ndim:]
    least = 64 if ndim == 2 else 16
    grid = tuple(max(least, int(2 ** np.ceil(np.log2(oversample * m)))) for m in shape)
    absr = np.abs(r)
    l1 = np.sum(absr, axis=axes)
    grid_max = np.max(np.abs(np.fft.fftn(r, s=grid, axes=axes)), axis=axes)
    lip = np.zeros(l1.shape)
    for i, (m, g) in enumerate(zip(shape, grid, strict=True)):
        ax = r.ndim - ndim + i
        other = tuple(a for a in range(r.ndim - ndim, r.ndim) if a != ax)
        d = np.abs(np.arange(m) - (m - 1) / 2.0)
        lip = lip + np.pi / g * (np.sum(absr, axis=other) @ d)
    out = np.minimum(l1, grid_max + lip)
    return float(out) if out.ndim == 0 else out


def worst_case_image(residual: ArrayLike) -> np.ndarray:
    """The image that attains :math:`\\|R \\star x\\|_\\infty = \\|R\\|_1 \\|x\\|_\\infty`.

    For correlation (``scipy.ndimage.correlate`` with origin 0) the sign image
    :math:`x = \\operatorname{sign}(R)` gives, at the centre pixel
    ``(m // 2, n // 2)``, the value :math:`\\sum |R_{ij}|` with
    :math:`\\|x\\|_\\infty = 1`.  For convolution flip it: ``x[::-1, ::-1]``
    (and shift by one pixel per even axis).

    Examples
    --------
    >>> worst_case_image([[0.5, -2.0], [0.0, 1.0]])
    array([[ 1., -1.],
           [ 0.,  1.]])

    For a complex residual the image is :math:`R / |R|`: correlation
    conjugates complex weights (scipy.ndimage, as ``np.correlate``), so
    :math:`\\sum \\bar R\\,x = \\sum |R|`; for convolution, which does not,
    flip and conjugate it.  Any dimension (a volume's residual too).
    """
    r = _as_kernel_values(residual, "residual", 2)
    if np.iscomplexobj(r):
        size = np.abs(r)
        return r / np.where(size > 0, size, 1.0)
    return np.sign(r)
