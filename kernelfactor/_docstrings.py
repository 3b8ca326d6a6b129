"""One shared-parameter docstring filler, as scipy.ndimage's ``docfiller``.

Parameters documented once in :data:`PARAMS` are inserted into a docstring
wherever it says ``%(name)s``; the placeholder's indentation is applied to
every line of the inserted text.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

from ._validation import MODES

__all__ = ["PARAMS", "docfiller", "fill"]

F = TypeVar("F", bound=Callable[..., object])

# the boundary modes are written from the one mode table
_MODE_SET = ", ".join(repr(m) for m in MODES)
_MODE_LIST = textwrap.fill(
    "Any scipy.ndimage boundary mode: "
    + ", ".join(f"{m!r} (default)" if m == "reflect" else repr(m) for m in MODES) + ".",
    width=76, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False,
)

#: Shared parameter descriptions (numpydoc), keyed by placeholder name.
PARAMS: dict[str, str] = {
    "mode": f"""\
mode : {{{_MODE_SET}}} or sequence of them
    How the image is extended beyond its border, exactly as in
    :func:`scipy.ndimage.correlate` (one per filtered axis, or one for all).""",
    "cval": """\
cval : scalar
    The value outside the image for ``mode='constant'`` / ``'grid-constant'``.""",
    "kernel": """\
kernel : str, array_like or result
    A catalogue name (``"sobel_x"``), a spec string (``"gaussian:sigma=2"``),
    a ``(name, params)`` pair, an ``(m, n)`` array, or a result of
    :func:`kernelfactor.analyze` / :func:`kernelfactor.lowrank`.""",
    # kernelfactor.correlate / convolve (scipy.ndimage's parameters)
    "filter_input": """\
input : array_like or dask array
    At least 2-D.  Any dtype scipy.ndimage accepts: bool, integers,
    float32, float64, complex64, complex128, either byte order (and
    float16, read as float32).  A dask array gives a lazy dask array (see
    ``kernelfactor._large``).  The old name ``image=`` still works, with a
    DeprecationWarning.""",
    "filter_weights": """\
weights : str, array_like, Analysis, LowRankKernel or TensorLowRank
    A catalogue name, an ``(m, n)`` array of finite weights (real,
    complex or bool), an :func:`~kernelfactor.analyze` result (applied at
    its numerical rank by ``"separable"``) or a
    :func:`~kernelfactor.lowrank` result (its approximation is applied).
    As ndimage, d-D weights (``d >= 3``) filter d image axes: an array
    (``"separable"`` needs a separable one) or a ``lowrank(k, r, ndim=d)``
    result (r sets of d 1-D passes).
    Complex weights are conjugated by `correlate`, as ndimage (and
    ``np.correlate``) do.  The old name ``kernel=`` still works, with a
    DeprecationWarning.""",
    "filter_output": """\
output : None, dtype or ndarray, optional
    As ndimage: None gives the input's dtype (complex when the input or
    the weights are; float16 gives float32); a dtype (``np.float64``,
    ``'f4'``) a new array of it; an array of the input's shape and any
    supported dtype is written in place and returned.  Results are
    computed in double precision (float32 for float32 in and out) and cast
    as ndimage casts (C casts: integers truncate and wrap).""",
    "filter_mode": f"""\
mode : str, optional
{_MODE_LIST}""",
    "filter_cval": """\
cval : float or complex, optional
    The value outside the image for the constant modes (finite); complex
    only for a complex `input` (real part for its real part, imaginary
    part for its imaginary part).""",
    "filter_origin": """\
origin : int or sequence of int, optional
    ndimage's origin: ``-(size // 2) <= origin <= (size - 1) // 2`` per
    kernel axis.  As ndimage: for a 2-D image ``origin[i]`` belongs to
    image axis ``i``; with more dimensions ``origin[j]`` belongs to image
    axis ``axes[j]``.""",
    "filter_axes": """\
axes : sequence of int, optional
    The image axes the kernel runs along, one per kernel axis (a pair for
    2-D weights; ndimage's ``len(axes) == weights.ndim``); negative values
    count from the end.  None means every axis.  As ndimage, the kernel's
    axes run along the chosen image axes in increasing order, whatever
    the order of `axes`.""",
    "filter_method": """\
method : {'auto', 'direct', 'fft', 'separable'}, optional
    See the module notes; 'auto' picks the fastest by the calibrated cost
    model among the methods that give ndimage's numbers (only ``direct``
    for an image holding NaN or Inf, or an integer output whose exactness
    cannot be proven).""",
    "filter_workers": """\
workers : int, optional
    Threads; None or -1 means every core this process may use, ``-k``
    all but ``k - 1`` (scipy.fft's rule).  Results are bit-identical
    whatever the number.""",
    "filter_return_info": """\
return_info : bool, optional
    Also return an :class:`ApplyInfo` saying which method ran.""",
}

PARAMS["filter_parameters"] = "\n".join(
    PARAMS[f"filter_{name}"]
    for name in ("input", "weights", "output", "mode", "cval", "origin", "axes", "method",
                 "workers", "return_info")
)
PARAMS["filter_returns"] = """\
Returns
-------
ndarray, or (ndarray, ApplyInfo) with ``return_info=True``
    `output` itself when it was an array.

Raises
------
ValueError, TypeError
    For a bad argument; where scipy.ndimage raises ``RuntimeError`` (a
    sequence of the wrong length, an unknown mode, an unsupported dtype,
    an output of the wrong shape), the exception is also a
    ``RuntimeError`` (:class:`~kernelfactor.NdimageRuntimeError`,
    :class:`~kernelfactor.NdimageTypeError`)."""

PARAMS["exact_params"] = """\
kernel : array_like, sympy Matrix or nested lists
    An ``(m, n)`` matrix of int, float, ``fractions.Fraction``,
    ``decimal.Decimal`` or sympy numbers/expressions.  Floats are converted
    **exactly**: every float is a dyadic rational, so ``0.1`` means
    ``3602879701896397 / 36028797018963968``.
floats : {"error", "exact"}
    ``"exact"`` (default) converts each float to its exact binary value;
    ``"error"`` refuses floats (a TypeError) when exactness was asked for.
limit_denominator : int, optional
    Convert each float ``v`` to ``Fraction(v).limit_denominator(N)``
    instead, "the decimal I meant" (``0.1`` becomes ``1/10``).
backend : {"auto", "flint", "sympy"}
    ``"flint"`` uses python-flint's ``fmpz_mat`` (the ``exact`` extra),
    ``"sympy"`` the modular certificate / ``DomainMatrix``; ``"auto"``
    picks flint when installed.  Only used for rational kernels.
time_limit : float or None
    Wall-clock limit in seconds (default :data:`DEFAULT_TIME_LIMIT`, 10 s);
    None for no limit.  When it is reached the answer is undecided and
    says so (see Returns / Raises).  Symbolic kernels larger than
    :data:`MAX_EXPRESSION_NODES` nodes (or deeper than
    :data:`MAX_EXPRESSION_DEPTH`) are refused up front with a ValueError."""

_PLACEHOLDER = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.MULTILINE)


def fill(doc: str, params: Mapping[str, str] = PARAMS) -> str:
    """Replace each line holding only ``%(name)s`` with ``params[name]``, indented alike.

    Examples
    --------
    >>> print(fill("Parameters\\n    %(cval)s"))
    Parameters
        cval : scalar
            The value outside the image for ``mode='constant'`` / ``'grid-constant'``.
    """

    def replace(match: re.Match[str]) -> str:
        indent, name = match.groups()
        return textwrap.indent(params[name], indent)

    return _PLACEHOLDER.sub(replace, doc)


def docfiller(func: F) -> F:
    """Decorator: :func:`fill` the docstring of `func` with :data:`PARAMS`."""
    if func.__doc__:
        func.__doc__ = fill(func.__doc__)
    return func
