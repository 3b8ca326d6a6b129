"""The built-in catalogue of named 2-D kernels: ground truth for the project.

Every entry knows its array, and where one is known a priori, its separable
rank, a closed-form factorisation into outer products, and its exact
integer/rational form.

Conventions
-----------
* **Correlation weights.**  Every kernel is a weight array for *correlation*,
  i.e. for :func:`scipy.ndimage.correlate` (and ``cv2.filter2D``).  For the
  symmetric kernels this is the same as convolution; for the derivative
  kernels it is not.
* **Axes.**  ``x`` is the column axis (axis 1, increasing to the right) and
  ``y`` the row axis (axis 0, increasing *downwards*, as the row index does).
  ``*_y`` kernels are the transposes of the ``*_x`` ones.
* **Sign.**  Derivative kernels respond *positively* to intensity increasing
  along their axis: ``correlate(image, get_kernel("sobel_x"))`` equals
  ``scipy.ndimage.sobel(image, axis=1)``, so

  .. math::

     \\mathrm{sobel\\_x} = \\begin{pmatrix}1\\\\2\\\\1\\end{pmatrix}
     \\begin{pmatrix}-1 & 0 & 1\\end{pmatrix}
     = \\begin{pmatrix}-1&0&1\\\\-2&0&2\\\\-1&0&1\\end{pmatrix},

  the negative of the textbook *convolution* mask ``[[1, 0, -1], ...]``.  The
  Gaussian derivatives follow :func:`scipy.ndimage.gaussian_filter` with
  ``order`` (also positive along the axis), so both families agree.
* **Angles.**  ``gabor``'s ``theta`` is in radians and ``motion_blur``'s
  ``angle`` in degrees, both counter-clockwise from ``+x`` with ``y`` pointing
  *up* on screen (as MATLAB's ``fspecial``): an angle of 90 degrees points to
  row index ``-1``.
* **Factors.**  ``KernelInfo.factors`` is a tuple of ``(column, row)`` pairs of
  1-D float64 arrays with ``sum(np.outer(c, r)) == array`` to rounding, with
  exactly ``rank`` terms whenever ``rank`` is known; ``None`` when no closed
  form is known (use the numeric or exact factorisations of kernelfactor).
* **Rank.**  ``KernelInfo.rank`` is the exact rank of the kernel as sampled
  (for float kernels: of the exact-arithmetic formula), or ``None`` when it is
  not known a priori, or when parameters sit at a degeneracy where rounding
  decides it (e.g. a Gabor frequency aliased to a multiple of the Nyquist
  rate).  ``np.linalg.matrix_rank`` agrees with it for ordinary parameters;
  it can be lower when a term falls below rounding level (e.g. Gaussians with
  ``sigma`` below about 0.2, whose side taps underflow relative to the centre).
* **Exact.**  ``KernelInfo.exact`` is a tuple of tuples of ``int`` /
  :class:`fractions.Fraction` equal to the array (each float entry is the
  correctly rounded value of the exact entry), or ``None`` when the kernel is
  irrational (Gaussians, sqrt(2) in Frei-Chen, pi in the anti-aliased disk,
  trigonometric values in Gabor and oblique motion blur) or has more than
  :data:`EXACT_MAX_ENTRIES` entries (too many Python objects to be useful).
* **Size limit.**  No kernel has more than :data:`MAX_TAPS` taps per side;
  larger requests are refused rather than allocating gigabytes.

Default parameters are given by :func:`catalogue_params`, and the values
actually used (defaults filled in, sizes resolved) by ``KernelInfo.params``;
``get_kernel(name, **kernel_info(name, ...).params)`` rebuilds the same kernel.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

import numpy as np

from ._results import Result
from ._typing import ArrayLike, JSONDict, Params
from ._validation import (
    _check_choice,
    _check_positive_int,
    _close_matches,
    _describe,
)

__all__ = [
    "EXACT_MAX_ENTRIES",
    "MAX_TAPS",
    "VOLUME_KERNELS",
    "KernelInfo",
    "VolumeKernel",
    "catalogue_params",
    "get_kernel",
    "kernel_info",
    "list_kernels",
    "volume_kernel",
]

#: Largest number of taps per side the catalogue builds.
MAX_TAPS = 4097

#: Largest number of entries for which ``KernelInfo.exact`` is materialised.
EXACT_MAX_ENTRIES = 65536

ExactEntry = int | Fraction
ExactMatrix = tuple[tuple[ExactEntry, ...], ...]
Factors = tuple[tuple[np.ndarray, np.ndarray], ...]
#: A builder's ``(column, row)`` factors, as lists or arrays.
_RawFactors: TypeAlias = Sequence[tuple[ArrayLike, ArrayLike]]
#: A builder: the parameters (defaults merged with the user's) to the kernel.
_Builder: TypeAlias = Callable[[Params], "_Built"]


# ---------------------------------------------------------------------------
# The result type
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KernelInfo(Result):
    """A catalogue kernel with what is known about it a priori.

    Attributes
    ----------
    name : str
        The catalogue name.
    params : Mapping[str, object]
        The parameter values actually used (defaults filled in, sizes
        resolved), read-only.
    array : ndarray
        The kernel, float64, 2-D, read-only (correlation weights).
    factors : tuple of (ndarray, ndarray) or None
        ``(column, row)`` pairs with ``sum(np.outer(c, r)) == array`` to
        rounding, ``rank`` of them when ``rank`` is known; ``None`` when no
        closed form is known.
    rank : int or None
        The separable rank known a priori, or ``None``.
    exact : tuple of tuple of (int or Fraction), or None
        The exact rational form, or ``None`` (irrational or too large).
    definition : str
        One-line definition.
    citation : str
        One-line reference.
    tags : tuple of str
        Keywords such as ``"edge"`` or ``"smoothing"``.

    Examples
    --------
    >>> from kernelfactor import kernel_info
    >>> info = kernel_info("sobel_x")
    >>> info.rank, info.array.shape
    (1, (3, 3))
    >>> info.factors[0][0], info.factors[0][1]
    (array([1., 2., 1.]), array([-1.,  0.,  1.]))
    >>> info.exact[0]
    (-1, 0, 1)
    """

    name: str
    params: Params
    array: np.ndarray
    factors: Factors | None
    rank: int | None
    exact: ExactMatrix | None
    definition: str
    citation: str
    tags: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """The kernel's shape ``(m, n)``."""
        m, n = self.array.shape
        return int(m), int(n)

    def to_array(self) -> np.ndarray:
        """A fresh writable float64 copy of the kernel."""
        return np.array(self.array, dtype=np.float64)

    def to_dict(self) -> JSONDict:
        """JSON-ready plain Python: exact entries become strings such as ``"1/16"``.

        Examples
        --------
        >>> import json
        >>> from kernelfactor import kernel_info
        >>> d = kernel_info("binomial", size=3).to_dict()
        >>> d["exact"][0], d["rank"], d["shape"]
        (['1/16', '1/8', '1/16'], 1, [3, 3])
        >>> s = json.dumps(d)
        """
        d = super().to_dict()  # params as plain Python, tuples as lists
        d["exact"] = (None if self.exact is None
                      else [[str(Fraction(v)) for v in row] for row in self.exact])
        return {"name": d.pop("name"), "params": d.pop("params"), "shape": list(self.shape),
                **d}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        nf = None if self.factors is None else len(self.factors)
        return (
            f"KernelInfo(name={self.name!r}, params={{{params}}}, shape={self.shape}, "
            f"rank={self.rank}, n_factors={nf}, exact={'yes' if self.exact else 'no'}, "
            f"tags={self.tags!r})"
        )


# ---------------------------------------------------------------------------
# Builders' plumbing
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Built:
    array: np.ndarray
    factors: _RawFactors | None
    rank: int | None
    exact: Callable[[], ExactMatrix] | None
    params: Params


@dataclass(frozen=True)
class _Spec:
    defaults: dict[str, object]
    build: _Builder
    definition: str
    citation: str
    tags: tuple[str, ...]


_REGISTRY: dict[str, _Spec] = {}


def _register(
    name: str, defaults: Params, definition: str, citation: str, tags: tuple[str, ...]
) -> Callable[[_Builder], _Builder]:
    def deco(fn: _Builder) -> _Builder:
        _REGISTRY[name] = _Spec(dict(defaults), fn, definition, citation, tuple(sorted(tags)))
        return fn

    return deco


def _real(value: object, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {_describe(value)}.")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"`{name}` must be finite; got {out!r}.")
    if positive and out <= 0:
        raise ValueError(f"`{name}` must be > 0; got {out!r}.")
    if nonneg and out < 0:
        raise ValueError(f"`{name}` must be >= 0; got {out!r}.")
    return out


def _check_taps(taps: int, name: str) -> None:
    if taps > MAX_TAPS:
        raise ValueError(
            f"`{name}` asks for a kernel {taps} taps wide; the catalogue builds at most "
            f"{MAX_TAPS} taps per side. Use smaller parameters (for a huge Gaussian, filter "
            "with scipy.ndimage.gaussian_filter directly)."
        )


def _odd_size(value: object, name: str) -> int:
    size = _check_positive_int(value, name)
    _check_taps(size, name)
    if size % 2 == 0:
        raise ValueError(
            f"`{name}` must be odd (a centred kernel); got {size}. Use {size - 1} or {size + 1}."
        )
    return size


#: Smallest Gaussian sigma built (sigma**2 must not underflow in scipy's taps).
MIN_SIGMA = 1e-100


def _gauss_radius(sigma: float, truncate: float, name: str = "sigma") -> int:
    # exactly scipy.ndimage.gaussian_filter1d's rule
    if sigma < MIN_SIGMA:
        raise ValueError(
            f"`{name}` must be >= {MIN_SIGMA:g} (smaller widths underflow; the kernel is then "
            f"the identity: use `identity`); got {sigma!r}."
        )
    width = 2.0 * (truncate * sigma + 0.5) - 1.0
    if width > MAX_TAPS:
        raise ValueError(
            f"`{name}`={sigma:.6g} with `truncate`={truncate:.6g} asks for a kernel about "
            f"{width:.3g} taps wide (2 * int(truncate * {name} + 0.5) + 1); the catalogue "
            f"builds at most {MAX_TAPS} taps per side. Lower `{name}` or `truncate` (for a "
            "huge Gaussian, filter with scipy.ndimage.gaussian_filter directly)."
        )
    radius = int(truncate * sigma + 0.5)
    _check_taps(2 * radius + 1, name)
    return radius


def _gauss1d(sigma: float, order: int, radius: int) -> np.ndarray:
    """ndimage's own 1-D Gaussian (derivative) taps, as correlation weights.

    The impulse response of a correlation is the weight array reversed, so the
    weights are the reversed response to a centred impulse (exact: each output
    sample is one weight times 1 plus zeros).
    """
    from scipy import ndimage

    delta = np.zeros(2 * radius + 1)
    delta[radius] = 1.0
    resp = ndimage.gaussian_filter1d(delta, sigma, order=order, mode="constant", radius=radius)
    return np.ascontiguousarray(resp[::-1])


def _ints(
    rows: list[list[int]], factors: _RawFactors | None, rank: int, params: Params
) -> _Built:
    exact = tuple(tuple(int(v) for v in row) for row in rows)
    return _Built(np.array(rows, dtype=np.float64), factors, rank, lambda: exact, params)


def _row_factors(rows: list[list[int]]) -> list[tuple[np.ndarray, list[int]]]:
    """``K = sum_i e_i (x) K[i, :]``: a minimal factorisation when K has full row rank."""
    m = len(rows)
    return [(np.eye(m)[i], rows[i]) for i in range(m)]


# ---------------------------------------------------------------------------
# Derivative / edge kernels with integer weights
# ---------------------------------------------------------------------------

_SOBEL = {3: ([1, 2, 1], [-1, 0, 1]), 5: ([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1])}


def _sobel(params: Params, transpose: bool) -> _Built:
    given = params["size"]
    if isinstance(given, bool) or given not in _SOBEL:
        raise ValueError(f"`size` must be 3 or 5; got {_describe(given)}.")
    size = next(k for k in _SOBEL if k == given)  # the int equal to it (3.0 -> 3)
    smooth, deriv = _SOBEL[size]
    col, row = (deriv, smooth) if transpose else (smooth, deriv)
    rows = np.outer(col, row).astype(int).tolist()
    return _ints(rows, [(col, row)], 1, {"size": size})


_SOBEL_CITE = (
    "Sobel & Feldman (1968), 'A 3x3 isotropic gradient operator'; 5x5 taps as OpenCV "
    "getDerivKernels(ksize=5)"
)
for _axis, _t in (("x", False), ("y", True)):
    _register(
        f"sobel_{_axis}",
        {"size": 3},
        (f"Sobel derivative along {_axis}: derivative [-1,0,1] (size 5: [-1,-2,0,2,1]) (x) "
         "smoothing [1,2,1] (size 5: [1,4,6,4,1])") if _t else
        (f"Sobel derivative along {_axis}: smoothing [1,2,1] (size 5: [1,4,6,4,1]) (x) "
         "derivative [-1,0,1] (size 5: [-1,-2,0,2,1])"),
        _SOBEL_CITE,
        ("derivative", "edge", "gradient"),
    )(functools.partial(_sobel, transpose=_t))


def _fixed_rank1(col: list[int], row: list[int]) -> _Builder:
    return lambda p: _ints(np.outer(col, row).astype(int).tolist(), [(col, row)], 1, {})


for _axis, _t in (("x", False), ("y", True)):
    _c, _r = [3, 10, 3], [-1, 0, 1]
    _register(
        f"scharr_{_axis}",
        {},
        f"Scharr derivative along {_axis}: "
        + ("[-1,0,1] (x) [3,10,3]" if _t else "[3,10,3] (x) [-1,0,1]"),
        "Scharr (2000), PhD thesis, Univ. Heidelberg; as OpenCV Scharr",
        ("derivative", "edge", "gradient"),
    )(_fixed_rank1(_r, _c) if _t else _fixed_rank1(_c, _r))
    _c, _r = [1, 1, 1], [-1, 0, 1]
    _register(
        f"prewitt_{_axis}",
        {},
        f"Prewitt derivative along {_axis}: "
        + ("[-1,0,1] (x) [1,1,1]" if _t else "[1,1,1] (x) [-1,0,1]"),
        "Prewitt (1970), 'Object enhancement and extraction', in Picture Processing and "
        "Psychopictorics",
        ("derivative", "edge", "gradient"),
    )(_fixed_rank1(_r, _c) if _t else _fixed_rank1(_c, _r))

_register(
    "roberts_x",
    {},
    "Roberts cross, main diagonal: [[1,0],[0,-1]] (rank 2)",
    "Roberts (1963), 'Machine perception of three-dimensional solids', MIT",
    ("derivative", "diagonal", "edge"),
)(lambda p: _ints([[1, 0], [0, -1]], [([1, 0], [1, 0]), ([0, 1], [0, -1])], 2, {}))
_register(
    "roberts_y",
    {},
    "Roberts cross, anti-diagonal: [[0,1],[-1,0]] (rank 2)",
    "Roberts (1963), 'Machine perception of three-dimensional solids', MIT",
    ("derivative", "diagonal", "edge"),
)(lambda p: _ints([[0, 1], [-1, 0]], [([1, 0], [0, 1]), ([0, 1], [-1, 0])], 2, {}))

_register(
    "laplacian4",
    {},
    "4-neighbour Laplacian [[0,1,0],[1,-4,1],[0,1,0]] = e (x) [1,-2,1] + [1,-2,1] (x) e",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.6; as scipy.ndimage.laplace",
    ("edge", "laplacian", "second-derivative"),
)(
    lambda p: _ints(
        [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        [([0, 1, 0], [1, -2, 1]), ([1, -2, 1], [0, 1, 0])],
        2,
        {},
    )
)
_register(
    "laplacian8",
    {},
    "8-neighbour Laplacian [[1,1,1],[1,-8,1],[1,1,1]] = ones - 9 delta",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.6",
    ("edge", "laplacian", "second-derivative"),
)(
    lambda p: _ints(
        [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
        [([1, 1, 1], [1, 1, 1]), ([0, -9, 0], [0, 1, 0])],
        2,
        {},
    )
)
_register(
    "sharpen",
    {},
    "Sharpening mask [[0,-1,0],[-1,5,-1],[0,-1,0]] = delta - laplacian4",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.6",
    ("sharpening",),
)(
    lambda p: _ints(
        [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        [([0, 1, 0], [-1, 6, -1]), ([1, 1, 1], [0, -1, 0])],
        2,
        {},
    )
)
_EMBOSS = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
_register(
    "emboss",
    {},
    "Emboss mask [[-2,-1,0],[-1,1,1],[0,1,2]] (full rank 3)",
    "GIMP documentation, 'Convolution Matrix' filter (emboss example)",
    ("emboss", "stylise"),
)(lambda p: _ints(_EMBOSS, _row_factors(_EMBOSS), 3, {}))


# Kirsch compass masks: 5 on three consecutive ring cells facing `direction`,
# -3 on the other five, 0 in the centre.  Directions counter-clockwise from east.
_KIRSCH_DIRS = ("e", "ne", "n", "nw", "w", "sw", "s", "se")
_RING = [(1, 2), (0, 2), (0, 1), (0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]  # e, ne, n, ... (r, c)


def _kirsch_rows(k: int) -> list[list[int]]:
    rows = [[0] * 3 for _ in range(3)]
    for i, (r, c) in enumerate(_RING):
        rows[r][c] = 5 if (i - k) % 8 in (0, 1, 7) else -3
    return rows


_KIRSCH_AXIS_FACTORS = {
    # axis-aligned masks: outer(...) with -3 at the centre, plus 3 * delta (rank 2)
    "e": ([1, 1, 1], [-3, -3, 5]),
    "n": ([5, -3, -3], [1, 1, 1]),
    "w": ([1, 1, 1], [5, -3, -3]),
    "s": ([-3, -3, 5], [1, 1, 1]),
}


@_register(
    "kirsch",
    {"direction": "n"},
    "Kirsch compass mask: 5 on the three ring cells facing `direction` (0..7 or "
    "'e','ne','n','nw','w','sw','s','se', counter-clockwise from east), -3 elsewhere, 0 centre",
    "Kirsch (1971), 'Computer determination of the constituent structure of biological "
    "images', Comput. Biomed. Res. 4",
    ("compass", "edge"),
)
def _kirsch(params: Params) -> _Built:
    d = params["direction"]
    if isinstance(d, numbers.Integral) and not isinstance(d, bool):
        d = int(d)
        if not 0 <= d <= 7:
            raise ValueError(
                f"`direction` must be 0..7 or one of {sorted(_KIRSCH_DIRS)}; got {d}."
            )
        name = _KIRSCH_DIRS[int(d)]
    elif isinstance(d, str):
        name = _check_choice(d.lower(), _KIRSCH_DIRS, "direction")
    else:
        raise TypeError(f"`direction` must be an int 0..7 or a str; got {_describe(d)}.")
    rows = _kirsch_rows(_KIRSCH_DIRS.index(name))
    if name in _KIRSCH_AXIS_FACTORS:
        factors = [_KIRSCH_AXIS_FACTORS[name], ([0, 1, 0], [0, 3, 0])]
        return _ints(rows, factors, 2, {"direction": name})
    return _ints(rows, _row_factors(rows), 3, {"direction": name})


@_register(
    "identity",
    {"size": 3},
    "Centred unit impulse (delta) of odd `size`",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.4",
    ("identity",),
)
def _identity(params: Params) -> _Built:
    size = _odd_size(params["size"], "size")
    e = np.zeros(size)
    e[size // 2] = 1.0

    def exact() -> ExactMatrix:
        return tuple(tuple(int(v) for v in row) for row in np.outer(e, e).astype(int).tolist())

    return _Built(np.outer(e, e), [(e, e)], 1, exact, {"size": size})


# ---------------------------------------------------------------------------
# Frei-Chen basis
# ---------------------------------------------------------------------------

_S2 = math.sqrt(2.0)
_FC_EDGE = 1.0 / (2.0 * _S2)


def _frei_chen(index: int) -> tuple[float, list[tuple[list[float], list[float]]], int]:
    """Scale, unscaled factors and rank of Frei-Chen mask `index` (1..9)."""
    s = _S2
    table: dict[int, tuple[float, list[tuple[list[float], list[float]]], int]] = {
        1: (_FC_EDGE, [([1, 0, -1], [1, s, 1])], 1),
        2: (_FC_EDGE, [([1, s, 1], [1, 0, -1])], 1),
        3: (_FC_EDGE, [([1, 0, -1], [0, -1, s]), ([0, 1, -s], [1, 0, -1])], 2),
        4: (_FC_EDGE, [([1, 0, -1], [s, -1, 0]), ([0, 1, -s], [-1, 0, 1])], 2),
        5: (0.5, [([1, 0, 1], [0, 1, 0]), ([0, 1, 0], [-1, 0, -1])], 2),
        6: (0.5, [([-1, 0, 1], [1, 0, -1])], 1),
        7: (1.0 / 6.0, [([1, -2, 1], [1, -2, 1])], 1),
        8: (1.0 / 6.0, [([1, 0, 1], [-2, 1, -2]), ([0, 1, 0], [1, 4, 1])], 2),
        9: (1.0 / 3.0, [([1, 1, 1], [1, 1, 1])], 1),
    }
    return table[index]


_FC_EXACT = {
    5: (Fraction(1, 2), [[0, 1, 0], [-1, 0, -1], [0, 1, 0]]),
    6: (Fraction(1, 2), [[-1, 0, 1], [0, 0, 0], [1, 0, -1]]),
    7: (Fraction(1, 6), [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]),
    8: (Fraction(1, 6), [[-2, 1, -2], [1, 4, 1], [-2, 1, -2]]),
    9: (Fraction(1, 3), [[1, 1, 1], [1, 1, 1], [1, 1, 1]]),
}


@_register(
    "freichen",
    {"index": 1},
    "Frei-Chen orthonormal basis mask G_index (1-2 isotropic gradient, 3-4 ripple, 5-6 line, "
    "7-8 discrete Laplacian, 9 average); 1-4 involve sqrt(2) so have no exact rational form",
    "Frei & Chen (1977), 'Fast boundary detection: a generalization and a new algorithm', "
    "IEEE Trans. Comput. C-26",
    ("basis", "edge", "line"),
)
def _freichen(params: Params) -> _Built:
    idx = params["index"]
    if isinstance(idx, bool) or not isinstance(idx, numbers.Integral):
        raise TypeError(f"`index` must be an integer 1..9; got {_describe(idx)}.")
    idx = int(idx)
    if not 1 <= idx <= 9:
        raise ValueError(f"`index` must be 1..9; got {idx}.")
    idx = int(idx)
    scale, raw, rank = _frei_chen(idx)
    factors = [(np.asarray(c, float) * scale, np.asarray(r, float)) for c, r in raw]
    if idx in _FC_EXACT:
        q, ints = _FC_EXACT[idx]
        exact_m = tuple(tuple(q * v for v in row) for row in ints)
        array = np.array([[float(v) for v in row] for row in exact_m])
        return _Built(array, factors, rank, lambda: exact_m, {"index": idx})
    array = np.add.reduce([np.outer(c, r) for c, r in factors])
    return _Built(array, factors, rank, None, {"index": idx})


# ---------------------------------------------------------------------------
# Rational smoothing kernels
# ---------------------------------------------------------------------------


@_register(
    "box",
    {"size": None, "shape": None},
    "Box (moving average) of `shape` (m, n) or square `size` (default 3): 1/(m n) everywhere",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.5 (box filter)",
    ("lowpass", "smoothing"),
)
def _box(params: Params) -> _Built:
    size, shape = params["size"], params["shape"]
    from_size = None
    if size is not None:
        if isinstance(size, tuple | list):
            from_size = tuple(size)
        else:
            s = _check_positive_int(size, "size")
            from_size = (s, s)
    if shape is not None:
        if not isinstance(shape, tuple | list) or len(shape) != 2:
            raise TypeError(f"`shape` must be a pair (m, n); got {_describe(shape)}.")
        use = tuple(shape)
        if from_size is not None and tuple(from_size) != use:
            raise ValueError(f"`size` {size!r} and `shape` {shape!r} disagree; give only one.")
    else:
        use = from_size if from_size is not None else (3, 3)
    if len(use) != 2:
        raise ValueError(f"`size` must be an int or a pair (m, n); got {size!r}.")
    m = _check_positive_int(use[0], "shape")
    n = _check_positive_int(use[1], "shape")
    _check_taps(max(m, n), "shape")
    q = Fraction(1, m * n)
    factors = [(np.full(m, 1.0 / m), np.full(n, 1.0 / n))]
    array = np.full((m, n), float(q))
    used = {"size": m if m == n else None, "shape": (m, n)}
    return _Built(array, factors, 1, lambda: tuple((q,) * n for _ in range(m)), used)


@_register(
    "binomial",
    {"size": 3},
    "Binomial smoothing: outer(b, b) with b_k = C(size-1, k) / 2**(size-1), entries over "
    "4**(size-1)",
    "Aubury & Luk (1996), 'Binomial filters', J. VLSI Signal Process. 12; Jähne, Digital "
    "Image Processing, sec. 11.4",
    ("binomial", "lowpass", "smoothing"),
)
def _binomial(params: Params) -> _Built:
    size = _check_positive_int(params["size"], "size")
    _check_taps(size, "size")
    n = size - 1
    coeffs = [1]
    for k in range(n):  # C(n, k+1) = C(n, k) (n - k) / (k + 1), exact in ints
        coeffs.append(coeffs[-1] * (n - k) // (k + 1))
    den = 2**n
    row = np.array([c / den for c in coeffs])  # int / int: correctly rounded
    if size * size <= EXACT_MAX_ENTRIES:
        cobj = np.array(coeffs, dtype=object)
        # Python int / int per entry: each float is the correctly rounded exact value.
        array = np.array(np.outer(cobj, cobj) / (den * den), dtype=np.float64)

        def exact() -> ExactMatrix:
            return tuple(tuple(Fraction(a * b, den * den) for b in coeffs) for a in coeffs)

        return _Built(array, [(row, row)], 1, exact, {"size": size})
    return _Built(np.outer(row, row), [(row, row)], 1, None, {"size": size})


# ---------------------------------------------------------------------------
# Gaussian family (taps exactly those of scipy.ndimage)
# ---------------------------------------------------------------------------

_G_CITE = "scipy.ndimage.gaussian_filter (same radius rule and normalisation)"


@_register(
    "gaussian",
    {"sigma": 1.0, "truncate": 4.0, "size": None},
    "Sampled Gaussian g (x) g, g normalised to sum 1, radius int(truncate*sigma + 0.5) "
    "or (size-1)//2 for odd `size`",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.5; taps as " + _G_CITE,
    ("gaussian", "lowpass", "smoothing"),
)
def _gaussian(params: Params) -> _Built:
    sigma = _real(params["sigma"], "sigma", positive=True)
    truncate = _real(params["truncate"], "truncate", positive=True)
    if params["size"] is None:
        radius = _gauss_radius(sigma, truncate)
    else:
        radius = (_odd_size(params["size"], "size") - 1) // 2
    g = _gauss1d(sigma, 0, radius)
    used = {"sigma": sigma, "truncate": truncate, "size": 2 * radius + 1}
    return _Built(np.outer(g, g), [(g, g)], 1, None, used)


@_register(
    "gaussian_derivative",
    {"order": 1, "axis": "x", "sigma": 1.0, "truncate": 4.0},
    "Gaussian derivative of `order` along `axis` ('x' columns, 'y' rows), smoothing along "
    "the other: the weights scipy.ndimage.gaussian_filter(..., order=...) correlates with",
    _G_CITE + "; Lindeberg (1994), Scale-Space Theory in Computer Vision",
    ("derivative", "edge", "gaussian"),
)
def _gaussian_derivative(params: Params) -> _Built:
    order = _check_positive_int(params["order"], "order")
    axis = _check_choice(params["axis"], ("x", "y"), "axis")
    sigma = _real(params["sigma"], "sigma", positive=True)
    truncate = _real(params["truncate"], "truncate", positive=True)
    radius = _gauss_radius(sigma, truncate)
    g0 = _gauss1d(sigma, 0, radius)
    gk = _gauss1d(sigma, order, radius)
    col, row = (g0, gk) if axis == "x" else (gk, g0)
    # g0 has a positive centre tap, so the outer product has rank 1 iff gk != 0
    # (an odd order with radius 0 gives the zero kernel).
    rank = 1 if np.any(gk != 0) else 0
    used = {"order": order, "axis": axis, "sigma": sigma, "truncate": truncate}
    return _Built(np.outer(col, row), [(col, row)] if rank else [], rank, None, used)


@_register(
    "log",
    {"sigma": 1.0, "truncate": 4.0},
    "Laplacian of Gaussian g''(y) g(x) + g(y) g''(x) (ndimage taps; rank 2 by construction)",
    "Marr & Hildreth (1980), 'Theory of edge detection', Proc. R. Soc. Lond. B 207; "
    "as scipy.ndimage.gaussian_laplace",
    ("edge", "gaussian", "laplacian", "second-derivative"),
)
def _log(params: Params) -> _Built:
    sigma = _real(params["sigma"], "sigma", positive=True)
    truncate = _real(params["truncate"], "truncate", positive=True)
    radius = _gauss_radius(sigma, truncate)
    g0 = _gauss1d(sigma, 0, radius)
    g2 = _gauss1d(sigma, 2, radius)
    # g'' = p(x) g with p non-constant on >= 2 integer points, so g, g'' are independent
    # when radius >= 1; a 1x1 kernel is the nonzero -2/sigma^2.
    rank = 2 if radius >= 1 else 1
    factors = [(g2, g0), (g0, g2)] if radius >= 1 else [(2 * g2, g0)]
    return _Built(
        np.outer(g2, g0) + np.outer(g0, g2),
        factors,
        rank,
        None,
        {"sigma": sigma, "truncate": truncate},
    )


@_register(
    "dog",
    {"sigma1": 1.0, "sigma2": 1.6, "truncate": 4.0},
    "Difference of Gaussians G(sigma1) - G(sigma2), each with its own ndimage radius, "
    "zero-padded to the larger",
    "Marr & Hildreth (1980), Proc. R. Soc. Lond. B 207 (sigma2/sigma1 = 1.6); taps as " + _G_CITE,
    ("bandpass", "edge", "gaussian"),
)
def _dog(params: Params) -> _Built:
    s1 = _real(params["sigma1"], "sigma1", positive=True)
    s2 = _real(params["sigma2"], "sigma2", positive=True)
    truncate = _real(params["truncate"], "truncate", positive=True)
    if s1 == s2:
        raise ValueError(
            f"`sigma1` and `sigma2` are equal ({s1!r}); their difference is the zero kernel. "
            "Pick different widths (Marr & Hildreth use sigma2 = 1.6 * sigma1)."
        )
    r1, r2 = _gauss_radius(s1, truncate, "sigma1"), _gauss_radius(s2, truncate, "sigma2")
    radius = max(r1, r2)
    g1, g2 = np.zeros(2 * radius + 1), np.zeros(2 * radius + 1)
    g1[radius - r1 : radius + r1 + 1] = _gauss1d(s1, 0, r1)
    g2[radius - r2 : radius + r2 + 1] = _gauss1d(s2, 0, r2)
    used = {"sigma1": s1, "sigma2": s2, "truncate": truncate}
    if radius == 0:  # both are [1.0]: the difference is exactly zero
        return _Built(np.zeros((1, 1)), [], 0, lambda: ((0,),), used)
    # different widths: g1 and g2 are never proportional, so the rank is exactly 2
    return _Built(np.outer(g1, g1) - np.outer(g2, g2), [(g1, g1), (-g2, g2)], 2, None, used)


@_register(
    "unsharp",
    {"amount": 1.0, "sigma": 1.0, "truncate": 4.0},
    "Unsharp mask (1 + amount) delta - amount G(sigma)",
    "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.6 (unsharp masking); "
    "Gaussian taps as " + _G_CITE,
    ("sharpening",),
)
def _unsharp(params: Params) -> _Built:
    amount = _real(params["amount"], "amount", nonneg=True)
    sigma = _real(params["sigma"], "sigma", positive=True)
    truncate = _real(params["truncate"], "truncate", positive=True)
    radius = _gauss_radius(sigma, truncate)
    g = _gauss1d(sigma, 0, radius)
    e = np.zeros_like(g)
    e[radius] = 1.0
    used = {"amount": amount, "sigma": sigma, "truncate": truncate}
    array = (1.0 + amount) * np.outer(e, e) - amount * np.outer(g, g)
    if amount == 0 or radius == 0:  # delta alone, or the 1x1 kernel [1]
        return _Built(array, [(e, e)], 1, None, used)
    return _Built(array, [((1.0 + amount) * e, e), (-amount * g, g)], 2, None, used)


# ---------------------------------------------------------------------------
# Disk, Gabor, motion blur
# ---------------------------------------------------------------------------


def _quadrant_area(x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    """Signed area of the disk of radius r inside [0, x] x [0, y] (odd in x and in y)."""
    sx, sy = np.sign(x), np.sign(y)
    ax, ay = np.minimum(np.abs(x), r), np.minimum(np.abs(y), r)
    r2 = r * r

    def prim(t: np.ndarray) -> np.ndarray:  # int_0^t sqrt(r^2 - u^2) du
        root = np.sqrt(np.maximum(r2 - t * t, 0.0))
        return 0.5 * (t * root + r2 * np.arcsin(np.clip(t / r, -1.0, 1.0)))

    inside = ax * ax + ay * ay <= r2
    u = np.sqrt(np.maximum(r2 - ay * ay, 0.0))  # where the arc crosses height ay
    area = np.where(inside, ax * ay, ay * u + prim(ax) - prim(np.minimum(u, ax)))
    return sx * sy * area


@_register(
    "disk",
    {"radius": 5.0, "antialias": True},
    "Pillbox of `radius`, size 2*ceil(radius)+1; antialias: exact area of the disk inside "
    "each unit pixel square (closed form), else pixel centres within radius; sum 1",
    "MATLAB fspecial('disk') documentation (same support; its anti-aliasing is approximate, "
    "this one is the exact area)",
    ("blur", "lowpass", "pillbox", "smoothing"),
)
def _disk(params: Params) -> _Built:
    r = _real(params["radius"], "radius", positive=True)
    aa = params["antialias"]
    if not isinstance(aa, bool | np.bool_):
        raise TypeError(f"`antialias` must be True or False; got {_describe(aa)}.")
    if r > (MAX_TAPS - 1) // 2:
        _check_taps(2 * math.ceil(r) + 1, "radius")
    rad = math.ceil(r)
    t = np.arange(-rad, rad + 1, dtype=np.float64)
    y, x = t[:, None], t[None, :]
    used = {"radius": r, "antialias": bool(aa)}
    if not aa:
        mask = x * x + y * y <= r * r
        count = int(mask.sum())
        q = Fraction(1, count)

        def exact() -> ExactMatrix:
            return tuple(tuple(q if v else 0 for v in row) for row in mask.tolist())

        return _Built(np.where(mask, float(q), 0.0), None, None, exact, used)
    # Area by inclusion-exclusion of the signed quadrant area H:
    # A = H(x1,y1) - H(x0,y1) - H(x1,y0) + H(x0,y0); absolute error ~ r^2 * 1e-16.
    # Pixels wholly inside get 1, wholly outside 0; only the O(r) boundary pixels use
    # the formula.  The area depends only on {|x|, |y|}: computing it there makes the
    # kernel exactly symmetric under flips and transposition.
    ax, ay = np.abs(x), np.abs(y)
    near = np.maximum(ax - 0.5, 0) ** 2 + np.maximum(ay - 0.5, 0) ** 2
    far = (ax + 0.5) ** 2 + (ay + 0.5) ** 2
    area = np.where(far <= r * r, 1.0, 0.0)
    rows, cols = np.nonzero((near < r * r) & (far > r * r))
    hi = np.maximum(np.abs(t[rows]), np.abs(t[cols]))
    lo = np.minimum(np.abs(t[rows]), np.abs(t[cols]))
    x0, x1, y0, y1 = lo - 0.5, lo + 0.5, hi - 0.5, hi + 0.5
    part = (
        _quadrant_area(x1, y1, r)
        - _quadrant_area(x0, y1, r)
        - _quadrant_area(x1, y0, r)
        + _quadrant_area(x0, y0, r)
    )
    area[rows, cols] = np.clip(part, 0.0, 1.0)
    return _Built(area / area.sum(), None, None, None, used)


def _snap_quarter(turns: float) -> int | None:
    """If `turns` (in quarter turns) is within 1e-12 of an integer, that integer mod 4."""
    k = round(turns)
    return int(k) % 4 if abs(turns - k) <= 1e-12 else None


_QUARTER = {0: (1.0, 0.0), 1: (0.0, 1.0), 2: (-1.0, 0.0), 3: (0.0, -1.0)}
_DEGENERATE = 1e-8


@_register(
    "gabor",
    {"sigma": 2.0, "theta": 0.0, "frequency": 0.2, "phase": 0.0, "size": None},
    "Real Gabor exp(-(x^2+y^2)/(2 sigma^2)) cos(2 pi frequency (x cos theta + y sin theta) "
    "+ phase), x columns, y rows; size 2*ceil(3 sigma)+1 by default; not normalised",
    "Gabor (1946), 'Theory of communication', J. IEE 93; Daugman (1985), J. Opt. Soc. Am. A 2",
    ("gabor", "oriented", "texture"),
)
def _gabor(params: Params) -> _Built:
    sigma = _real(params["sigma"], "sigma", positive=True)
    theta = _real(params["theta"], "theta")
    f = _real(params["frequency"], "frequency", nonneg=True)
    phase = _real(params["phase"], "phase")
    if params["size"] is None:
        size = 2 * math.ceil(3 * sigma) + 1
        _check_taps(size, "sigma")
    else:
        size = _odd_size(params["size"], "size")
    radius = size // 2
    used = {"sigma": sigma, "theta": theta, "frequency": f, "phase": phase, "size": size}
    q = _snap_quarter(theta / (math.pi / 2))
    c, s = _QUARTER[q] if q is not None else (math.cos(theta), math.sin(theta))
    if f * max(radius, 1) > 2.0**40:
        raise ValueError(
            f"`frequency`={f:.6g} is too large: the phase 2*pi*frequency*x has no correct digits "
            "in float64 at this size. Sampled at integer x only `frequency` modulo 1 matters: "
            f"pass {math.fmod(f, 1.0):.6g} (the same samples), or a frequency <= 0.5 (Nyquist)."
        )
    alpha, beta = 2 * math.pi * f * c, 2 * math.pi * f * s
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    e = np.exp(-(t * t) / (2 * sigma * sigma))
    array = np.outer(e, e) * np.cos(alpha * t[None, :] + beta * t[:, None] + phase)
    if q is not None:
        # theta a multiple of pi/2: one of alpha, beta is exactly 0 -> one cos factor
        if s == 0.0:
            col, row = e, e * np.cos(alpha * t + phase)
            wave = row / e.max()
        else:
            col, row = e * np.cos(beta * t + phase), e
            wave = col / e.max()
        rank = 1 if np.max(np.abs(wave)) > _DEGENERATE else None
        return _Built(array, [(col, row)], rank, None, used)
    # cos(a + b) = cos a cos b - sin a sin b, with a = alpha x, b = beta y + phase
    factors = [
        (e * np.cos(beta * t + phase), e * np.cos(alpha * t)),
        (-e * np.sin(beta * t + phase), e * np.sin(alpha * t)),
    ]
    # Rank 2 iff cos(alpha x), sin(alpha x) are independent on the grid (sin alpha != 0),
    # likewise for beta, and radius >= 1.  Near-degenerate cases: rounding decides -> None.
    ok = (
        radius >= 1
        and abs(math.sin(alpha)) > _DEGENERATE
        and abs(math.sin(beta)) > _DEGENERATE
        and math.exp(-1.0 / (2 * sigma * sigma)) > 1e-6
    )
    return _Built(array, factors, 2 if ok else None, None, used)


def _segment_overlap(lo: Fraction, hi: Fraction, half: Fraction) -> Fraction:
    return max(Fraction(0), min(hi, half) - max(lo, -half))


@_register(
    "motion_blur",
    {"length": 9.0, "angle": 0.0},
    "Linear motion blur: a segment of `length` pixels through the centre at `angle` degrees "
    "(counter-clockwise, y up); weight = length of the segment inside each pixel square, sum 1",
    "cf. MATLAB fspecial('motion', len, theta) documentation (same result at 0 and 90 "
    "degrees; oblique angles: exact area sampling of a thin line, Foley et al., Computer "
    "Graphics, sec. 3.17)",
    ("blur", "motion", "oriented"),
)
def _motion_blur(params: Params) -> _Built:
    length = _real(params["length"], "length", positive=True)
    angle = _real(params["angle"], "angle")
    used = {"length": length, "angle": angle}
    reach = math.ceil((length + 1) / 2) - 1  # last pixel index the segment enters
    _check_taps(2 * reach + 1, "length")
    q = _snap_quarter(angle / 90.0)
    if q is not None:
        half = Fraction(length) / 2
        line = [
            _segment_overlap(k - Fraction(1, 2), k + Fraction(1, 2), half) / Fraction(length)
            for k in range(-reach, reach + 1)
        ]
        vec = np.array([float(v) for v in line])
        one = np.ones(1)
        if q in (0, 2):  # horizontal: a 1 x n row
            exact_h = (tuple(line),)
            return _Built(vec[None, :], [(one, vec)], 1, lambda: exact_h, used)
        exact_v = tuple((v,) for v in line)
        return _Built(vec[:, None], [(vec, one)], 1, lambda: exact_v, used)
    a = math.radians(angle)
    dx, dy = math.cos(a), -math.sin(a)  # column and row direction (rows grow downwards)
    t = np.arange(-reach, reach + 1, dtype=np.float64)
    # parameter interval of the segment p(s) = s (dx, dy), |s| <= length/2, inside each pixel
    tx = np.sort(np.stack([(t - 0.5) / dx, (t + 0.5) / dx]), axis=0)
    ty = np.sort(np.stack([(t - 0.5) / dy, (t + 0.5) / dy]), axis=0)
    lo = np.maximum(np.maximum(tx[0][None, :], ty[0][:, None]), -length / 2)
    hi = np.minimum(np.minimum(tx[1][None, :], ty[1][:, None]), length / 2)
    w = np.maximum(hi - lo, 0.0)
    w[w <= 64 * np.finfo(float).eps * (reach + 1)] = 0.0  # corner touches: rounding noise
    rows_nz = np.flatnonzero(w.any(axis=1))
    cols_nz = np.flatnonzero(w.any(axis=0))
    cr = min(int(rows_nz[0]), len(t) - 1 - int(rows_nz[-1]))
    cc = min(int(cols_nz[0]), len(t) - 1 - int(cols_nz[-1]))
    w = w[cr : len(t) - cr, cc : len(t) - cc]
    return _Built(w / w.sum(), None, None, None, used)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def list_kernels() -> list[str]:
    """The catalogue's kernel names, sorted.

    Examples
    --------
    >>> from kernelfactor import list_kernels
    >>> "sobel_x" in list_kernels(), list_kernels() == sorted(list_kernels())
    (True, True)
    """
    return sorted(_REGISTRY)


def _spec(name: object) -> _Spec:
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a kernel name (str); got {_describe(name)}.")
    try:
        return _REGISTRY[name]
    except KeyError:
        close = _close_matches(name, _REGISTRY)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"`name` {name!r} is not a catalogue kernel.{hint} "
            "`kernelfactor.list_kernels()` lists all names."
        ) from None


def catalogue_params(name: str) -> dict[str, object]:
    """The parameters of kernel `name` with their default values.

    Examples
    --------
    >>> from kernelfactor import catalogue_params
    >>> catalogue_params("gaussian")
    {'sigma': 1.0, 'truncate': 4.0, 'size': None}
    """
    return dict(_spec(name).defaults)


def _build(name: str, params: Params) -> tuple[_Spec, _Built]:
    spec = _spec(name)
    unknown = sorted(set(params) - set(spec.defaults))
    if unknown:
        valid = ", ".join(f"`{p}`" for p in sorted(spec.defaults)) or "none"
        raise TypeError(
            f"`{unknown[0]}` is not a parameter of kernel {name!r}; valid parameters: {valid}."
        )
    return spec, spec.build({**spec.defaults, **params})


def get_kernel(name: str, **params: object) -> np.ndarray:
    """A catalogue kernel as a fresh float64 2-D array (correlation weights).

    Parameters
    ----------
    name : str
        A name from :func:`list_kernels`.
    **params
        Kernel parameters; see :func:`catalogue_params` for names and defaults.

    Returns
    -------
    ndarray
        A new writable float64 array on every call.

    Raises
    ------
    ValueError
        Unknown name (close matches are suggested) or an invalid parameter value.
    TypeError
        Unknown parameter name or a parameter of the wrong type.

    Examples
    --------
    >>> from kernelfactor import get_kernel
    >>> get_kernel("sobel_x")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    >>> get_kernel("binomial", size=3) * 16
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    _, built = _build(name, params)
    out = np.array(built.array, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        given = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items())) or "defaults"
        raise ValueError(
            f"kernel {name!r} with parameters ({given}) has NaN or Inf weights: a parameter is "
            "outside the range where its formula can be evaluated in float64; use values of "
            "ordinary size."
        )
    return out


def _readonly(a: ArrayLike) -> np.ndarray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def kernel_info(name: str, **params: object) -> KernelInfo:
    """A catalogue kernel with its known rank, factors, exact form and reference.

    Parameters
    ----------
    name : str
        A name from :func:`list_kernels`.
    **params
        Kernel parameters; see :func:`catalogue_params`.

    Returns
    -------
    KernelInfo
        Read-only arrays; ``params`` holds the values actually used.

    Examples
    --------
    >>> from kernelfactor import kernel_info
    >>> info = kernel_info("laplacian4")
    >>> info.rank, len(info.factors)
    (2, 2)
    >>> kernel_info("gaussian", sigma=2.0).params["size"]
    17
    >>> kernel_info("gabor", theta=0.5).rank
    2
    """
    spec, built = _build(name, params)
    array = _readonly(built.array)
    factors = None
    if built.factors is not None:
        factors = tuple((_readonly(c), _readonly(r)) for c, r in built.factors)
    exact = None
    if built.exact is not None and array.size <= EXACT_MAX_ENTRIES:
        exact = built.exact()
    return KernelInfo(
        name=name,
        params=MappingProxyType(dict(built.params)),
        array=array,
        factors=factors,
        rank=built.rank,
        exact=exact,
        definition=spec.definition,
        citation=spec.citation,
        tags=spec.tags,
    )


# ---------------------------------------------------------------------------
# 3-D kernels (issue 16): volumes, with their 1-D factors
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VolumeKernel(Result):
    """A 3-D catalogue kernel (see :func:`volume_kernel`).

    Attributes
    ----------
    name : str
    array : ndarray
        The kernel, float64, 3-D (correlation weights).
    factors : tuple of ndarray or None
        For a separable kernel: integer 1-D factors ``f0, f1, f2`` with
        ``array == scale * f0 (x) f1 (x) f2`` exactly; None otherwise.
    scale : Fraction
    rank : int or None
        The tensor rank known a priori.
    border_rank : int or None
        The smallest ``r`` such that rank-``r`` tensors come arbitrarily close.
    citation : str
    """

    name: str
    array: np.ndarray
    factors: tuple[np.ndarray, ...] | None
    scale: Fraction
    rank: int | None
    border_rank: int | None
    citation: str

    def to_array(self) -> np.ndarray:
        return np.array(self.array, dtype=np.float64)

    def to_dict(self) -> JSONDict:
        return {
            "name": self.name,
            "shape": list(self.array.shape),
            "factors": None if self.factors is None else [f.tolist() for f in self.factors],
            "scale": str(self.scale),
            "rank": self.rank,
            "border_rank": self.border_rank,
            "citation": self.citation,
        }


def _outer3(f: Sequence[np.ndarray]) -> np.ndarray:
    return np.asarray(np.einsum("i,j,k->ijk", *f))


def _binomial_row(size: int) -> list[int]:
    row = [1]
    for k in range(size - 1):
        row.append(row[-1] * (size - 1 - k) // (k + 1))
    return row


VOLUME_KERNELS: tuple[str, ...] = ("binomial3d", "gaussian3d", "laplacian7", "sobel3d")


def volume_kernel(name: str, **params: object) -> VolumeKernel:
    """A 3-D kernel: ``binomial3d`` (size), ``gaussian3d`` (sigma, truncate),
    ``laplacian7`` (the 7-point Laplacian) or ``sobel3d`` (axis 0, 1 or 2).

    Examples
    --------
    >>> from kernelfactor import volume_kernel
    >>> s = volume_kernel("sobel3d", axis=2)
    >>> s.rank, [f.tolist() for f in s.factors]
    (1, [[1, 2, 1], [1, 2, 1], [-1, 0, 1]])
    >>> volume_kernel("laplacian7").rank, volume_kernel("laplacian7").border_rank
    (3, 2)
    """
    name = _check_choice(name, VOLUME_KERNELS, "name")
    allowed = {"binomial3d": {"size"}, "gaussian3d": {"sigma", "truncate"}, "laplacian7": set(),
               "sobel3d": {"axis"}}[name]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise TypeError(f"`{unknown[0]}` is not a parameter of {name!r}; valid: {sorted(allowed)}.")
    if name == "sobel3d":
        axis = params.get("axis", 0)
        if axis not in (0, 1, 2):
            raise ValueError(f"`axis` must be 0, 1 or 2; got {axis!r}.")
        f = [np.array([1, 2, 1])] * 3
        f = [np.array([-1, 0, 1]) if k == axis else f[k] for k in range(3)]
        return VolumeKernel(name, _outer3(f).astype(np.float64), tuple(f), Fraction(1), 1, 1,
                            "Sobel-Feldman operator extended to 3-D (derivative [-1, 0, 1] "
                            "along `axis`, smoothing [1, 2, 1] along the others); Zucker & "
                            "Hummel (1981), IEEE PAMI 3")
    if name == "binomial3d":
        size = _check_positive_int(params.get("size", 3), "size")
        _check_taps(size, "size")
        b = np.array(_binomial_row(size))
        den = 8 ** (size - 1)
        arr = _outer3([b, b, b]).astype(np.float64) / den
        return VolumeKernel(name, arr, (b, b, b), Fraction(1, den), 1, 1,
                            "Binomial smoothing (the discrete Gaussian) along each axis; "
                            "Jähne, Digital Image Processing, sec. 11.4")
    if name == "gaussian3d":
        sigma = _real(params.get("sigma", 1.0), "sigma", positive=True)
        truncate = _real(params.get("truncate", 4.0), "truncate", positive=True)
        g = _gauss1d(sigma, 0, _gauss_radius(sigma, truncate))
        return VolumeKernel(name, _outer3([g, g, g]), None, Fraction(1), 1, 1,
                            "Sampled Gaussian g (x) g (x) g, taps as " + _G_CITE)
    a, e = np.array([1, -2, 1]), np.array([0, 1, 0])
    lap = _outer3([a, e, e]) + _outer3([e, a, e]) + _outer3([e, e, a])
    return VolumeKernel(name, lap.astype(np.float64), None, Fraction(1), 3, 2,
                        "7-point Laplacian a(x)e(x)e + e(x)a(x)e + e(x)e(x)a; tensor rank 3, "
                        "border rank 2: de Silva & Lim (2008), SIAM J. Matrix Anal. Appl. 30")
