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

__all__ = ["PARAMS", "docfiller", "fill"]

F = TypeVar("F", bound=Callable[..., object])

#: Shared parameter descriptions (numpydoc), keyed by placeholder name.
PARAMS: dict[str, str] = {
    "mode": """\
mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-constant', \
'grid-mirror', 'grid-wrap'} or sequence of them
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
}

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
