"""One ``to_dict`` mechanism for the small frozen dataclasses the package returns.

Every result class derives from :class:`Result`; its :meth:`Result.to_dict`
turns the public fields into plain Python (JSON-ready: lists, dicts, numbers,
strings, None) through :func:`plain`.  A class whose documented fields follow
the noise policy (:mod:`kernelfactor._noise`) overrides ``to_dict`` and
starts from ``super().to_dict()`` or from :func:`plain`.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from ._typing import JSONDict, JSONValue

__all__ = ["Result", "plain"]


def plain(value: object) -> JSONValue:
    """`value` as plain Python: results via ``to_dict``, arrays and tuples as lists.

    Fractions become strings (``"1/16"``), numpy scalars Python numbers, other
    integers (:class:`numbers.Integral`) ints; anything else its ``str`` (exact).

    Examples
    --------
    >>> import numpy as np
    >>> plain({"a": (1, np.float64(2.5)), "b": np.arange(2), "c": Fraction(1, 16)})
    {'a': [1, 2.5], 'b': [0, 1], 'c': '1/16'}
    """
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else int(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, complex)) or value is None:
        return value
    if isinstance(value, numbers.Integral):  # sympy's Integer...
        return int(value)
    return str(value)


class Result:
    """Base of the result dataclasses: one :meth:`to_dict` for all of them."""

    __slots__ = ()

    def to_dict(self) -> JSONDict:
        """The public fields as plain Python (see :func:`plain`).

        Fields whose names start with ``_`` are internal and left out.
        """
        assert dataclasses.is_dataclass(self)
        return {
            f.name: plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if not f.name.startswith("_")
        }
