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


def l1_norm(residual: ArrayLike) -> Floats:
    """The entrywise l1 norm :math:`\\sum_{ij} |R_{ij}|` over the last two axes.

    It is the exact operator norm of :math:`x \\mapsto R \\star x` on
    :math:`\\ell_\\infty`, and a bound on :math:`\\ell_2`.

    Examples
    --------
    >>> l1_norm([[1.0, -2.0], [0.5, 0.0]])
    3.5
    """
    r = np.asarray(residual, dtype=np.float64)
    out = np.sum(np.abs(r), axis=(-2, -1))
    return float(out) if out.ndim == 0 else out


def frequency_bound(residual: ArrayLike, *, oversample: int = 8) -> Floats:
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
        One residual kernel or a stack (a bound per kernel).
    oversample : int
        Grid points per kernel tap and axis (at least 64 points per axis).

    Examples
    --------
    >>> frequency_bound([[1.0, 1.0]])  # |1 + e^{-iw}| peaks at 2 for w = 0
    2.0
    """
    r = np.asarray(residual, dtype=np.float64)
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
    """
    return np.sign(np.asarray(residual, dtype=np.float64))
