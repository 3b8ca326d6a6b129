"""The noise policy: rounding noise is not data.

A singular value (or an error, a ratio, a margin) at or below the *noise floor*
of a verdict is rounding noise.  Its digits depend on which LAPACK/BLAS
kernels the machine's CPU selects (an exact zero on one machine is 2.6e-17 on
another), so nothing a person reads or a file stores for a paper may show
them: tables, figures, ``repr``\\ s, command-line text and the documented
fields of ``to_dict()`` / ``--json`` show such a value as
:data:`NOISE_TEXT` (text), ``None`` / ``null`` with a flag (data), or a marker
on a labelled floor (figures).  The raw floats stay available in the fields
documented as raw (``to_dict()["raw"]``).

The noise floor of a verdict with tolerance ``tol`` on an ``m x n`` kernel is

.. math::

    \\mathrm{floor} = \\max(\\mathrm{tol},\\; \\max(m, n)\\,\\varepsilon\\,\\sigma_1),

the verdict's tolerance, and never less than the rounding level of a
backward-stable SVD in float64 (the default tolerance), since a value below
that level is noise whatever tolerance was asked for.  Values above the floor
are shown to :data:`SIGNIFICANT_DIGITS` significant digits in data
(:func:`significant`) and fewer in text: enough for a paper, few enough that
the last-bit differences between LAPACK builds do not show.
"""

from __future__ import annotations

import math

import numpy as np

from ._typing import ArrayLike, Floats, JSONValue

__all__ = [
    "NOISE_TEXT",
    "SIGNIFICANT_DIGITS",
    "format_value",
    "noise_floor",
    "plain",
    "rounding_level",
    "shown",
    "shown_above",
    "shown_vector",
    "shown_where",
    "significant",
    "vector_floor",
]

_EPS = float(np.finfo(np.float64).eps)

#: How a value at or below the noise floor is written in text.
NOISE_TEXT = "0 (below tol)"

#: Significant digits of values above the noise floor in documented data fields.
SIGNIFICANT_DIGITS = 6


def rounding_level(sigma_max: ArrayLike, shape: tuple[int, ...]) -> Floats:
    """:math:`\\max(m, n)\\,\\varepsilon\\,\\sigma_1`: where rounding noise ends.

    Examples
    --------
    >>> rounding_level(1.0, (3, 3))
    6.66133814775094e-16
    """
    out = max(shape[-2:]) * _EPS * np.asarray(sigma_max, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def noise_floor(tol: ArrayLike, sigma_max: ArrayLike, shape: tuple[int, ...]) -> Floats:
    """The larger of the verdict's tolerance and the rounding level.

    Examples
    --------
    >>> noise_floor(0.0, 1.0, (3, 3)) == rounding_level(1.0, (3, 3))
    True
    >>> noise_floor(1e-3, 1.0, (3, 3))
    0.001
    """
    out = np.maximum(np.asarray(tol, dtype=np.float64), rounding_level(sigma_max, shape))
    return float(out) if out.ndim == 0 else out


def significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """`value` rounded to `digits` significant digits (inf, nan and 0 unchanged).

    Examples
    --------
    >>> significant(0.21575154789357104)
    0.215752
    >>> significant(12345678.9, 3)
    12300000.0
    """
    v = float(value)
    if v == 0.0 or not math.isfinite(v):
        return v + 0.0  # -0.0 -> 0.0
    return float(f"{v:.{digits - 1}e}")


def shown(value: float, floor: float, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """The documented form of `value`: None when ``|value| <= floor``, else :func:`significant`.

    Examples
    --------
    >>> shown(2.6e-17, 6.7e-16) is None
    True
    >>> shown(0.21575154789357104, 6.7e-16)
    0.215752
    """
    v = float(value)
    if abs(v) <= floor:
        return None
    return significant(v, digits)


def format_value(value: float, floor: float, digits: int = 4) -> str:
    """Text for `value`: :data:`NOISE_TEXT` when ``|value| <= floor``, else `digits` significant.

    Examples
    --------
    >>> format_value(8e-18, 6.7e-16)
    '0 (below tol)'
    >>> format_value(0.21575154789357104, 6.7e-16)
    '0.2158'
    >>> format_value(float("inf"), 0.0)
    'inf'
    """
    if isinstance(value, complex) or np.iscomplexobj(value):
        z = complex(value)
        if abs(z) <= floor:
            return NOISE_TEXT
        re = 0.0 if abs(z.real) <= floor else z.real
        im = 0.0 if abs(z.imag) <= floor else z.imag
        return f"{re:.{digits}g}{im:+.{digits}g}j"
    v = float(value)
    if abs(v) <= floor:
        return NOISE_TEXT
    return f"{v:.{digits}g}"


def shown_where(values: ArrayLike, noise: ArrayLike) -> JSONValue:
    """Nested lists of `values` with ``None`` where `noise` is true, else :func:`significant`.

    Examples
    --------
    >>> shown_where([0.123456789, 1e-17], [False, True])
    [0.123457, None]
    """
    v = np.asarray(values, dtype=np.float64)
    mask = np.broadcast_to(np.asarray(noise, dtype=bool), v.shape)
    if v.ndim == 0:
        return None if bool(mask) else significant(float(v))
    return [shown_where(a, b) for a, b in zip(v, mask, strict=True)]


def shown_above(values: ArrayLike, floor: ArrayLike) -> JSONValue:
    """:func:`shown_where` with noise where ``|values| <= floor`` (element by element).

    Examples
    --------
    >>> shown_above([[3.0, 2.6e-17]], 6.7e-16)
    [[3.0, None]]
    """
    v = np.asarray(values, dtype=np.float64)
    return shown_where(v, np.abs(v) <= np.asarray(floor, dtype=np.float64))


def vector_floor(vector: ArrayLike, shape: tuple[int, ...]) -> float:
    """The rounding level of a factor vector: :math:`\\max(m, n)\\,\\varepsilon \\max_i |v_i|`."""
    top = float(np.max(np.abs(np.asarray(vector)), initial=0.0))
    return max(shape[-2:]) * _EPS * top


def shown_vector(
    vector: ArrayLike, shape: tuple[int, ...]
) -> list[float] | list[list[float]]:
    """A factor for documented fields: entries at its rounding level 0, others 6 digits.

    Examples
    --------
    >>> shown_vector([0.7071067811865476, 1e-17, -0.7071067811865475], (3, 3))
    [0.707107, 0.0, -0.707107]
    """
    v = np.asarray(vector)
    level = vector_floor(v, shape)
    if np.iscomplexobj(v):  # complex entries as [re, im] pairs (plain JSON)
        return [[0.0 if abs(x) <= level else significant(x) for x in (z.real, z.imag)]
                for z in v.tolist()]
    return [0.0 if abs(x) <= level else significant(x) for x in v.astype(np.float64).tolist()]


def plain(values: ArrayLike) -> JSONValue:
    """Nested lists of floats; complex entries as ``[re, im]`` pairs (plain JSON).

    Examples
    --------
    >>> plain([1.5, 2.0]), plain([1 + 2j])
    ([1.5, 2.0], [[1.0, 2.0]])
    """
    v = np.asarray(values)
    if np.iscomplexobj(v):
        return np.stack([v.real, v.imag], axis=-1).tolist()
    return v.tolist()
