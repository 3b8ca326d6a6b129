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

import numpy as np

from ._typing import ArrayLike, Floats

__all__ = [
    "eckart_young",
    "frequency_bound",
    "l1_norm",
    "worst_case_image",
]


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
    s = np.asarray(singular_values, dtype=np.float64)
    tail = s[..., rank:]
    fro = np.sqrt(np.sum(tail * tail, axis=-1))
    spectral = tail[..., 0] if tail.shape[-1] else np.zeros(s.shape[:-1])
    if s.ndim == 1:
        return float(fro), float(spectral)
    return fro, spectral


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
    r = np.abs(np.asarray(residual)).astype(np.float64, copy=False)
    out = np.sum(r, axis=tuple(range(-ndim, 0)))
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
        least 16 for ``ndim > 2``).
    ndim : int
        The kernel's dimension: the last `ndim` axes are the kernel's (the
        same bound, one Lipschitz term per axis).

    Examples
    --------
    >>> frequency_bound([[1.0, 1.0]])  # |1 + e^{-iw}| peaks at 2 for w = 0
    2.0
    """
    r = np.asarray(residual)
    if ndim != 2 or np.iscomplexobj(r):
        return _frequency_bound_nd(r, ndim, oversample)
    r = np.asarray(r, dtype=np.float64)
    m, n = r.shape[-2:]
    absr = np.abs(r)
    l1 = np.sum(absr, axis=(-2, -1))
    n1 = max(64, int(2 ** np.ceil(np.log2(oversample * m))))
    n2 = max(64, int(2 ** np.ceil(np.log2(oversample * n))))
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

    For a complex residual the image is :math:`\\bar R / |R|` (then
    :math:`\\sum R\\,x = \\sum |R|`); any dimension (a volume's residual too).
    """
    r = np.asarray(residual)
    if np.iscomplexobj(r):
        size = np.abs(r)
        return np.conj(r) / np.where(size > 0, size, 1.0)
    return np.sign(np.asarray(r, dtype=np.float64))
