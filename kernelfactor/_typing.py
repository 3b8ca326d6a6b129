"""Type aliases shared by the package (annotations only: nothing here runs)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # pragma: no cover
    import onnx

__all__ = [
    "ArrayLike",
    "FloatArray",
    "Floats",
    "JSONDict",
    "JSONValue",
    "KernelLike",
    "ModelLike",
    "Pair",
    "Params",
    "PathLike",
    "Shape",
    "SupportsToArray",
    "SupportsToDict",
]

#: A float64 array.
FloatArray: TypeAlias = NDArray[np.float64]
#: One float, or an array of them (the functions that work on stacks).
Floats: TypeAlias = "float | NDArray[np.float64]"
#: One int for both axes, or one per axis (strides, dilations, kernel sizes).
Pair: TypeAlias = "int | Sequence[int]"
#: A shape such as ``(H, W, C)``.
Shape: TypeAlias = Sequence[int]
#: Catalogue parameters.
Params: TypeAlias = Mapping[str, object]
#: A file path: a string or an ``os.PathLike`` (``pathlib.Path``).
PathLike: TypeAlias = "str | os.PathLike[str]"
#: A value of a result's ``to_dict()``: plain Python, JSON-ready (complex numbers
#: only where a complex kernel's raw values are documented as such).  Lists and
#: dicts at run time; typed as the read-only ABCs so that a ``list[float]`` is one.
JSONValue: TypeAlias = (
    "bool | int | float | complex | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
#: A result's ``to_dict()``.
JSONDict: TypeAlias = "dict[str, JSONValue]"
#: An ONNX model: the path of an ``.onnx`` file, or an ``onnx.ModelProto``
#: (onnx is optional: only type checkers import it here).
ModelLike: TypeAlias = "PathLike | onnx.ModelProto"


@runtime_checkable
class SupportsToArray(Protocol):
    """A result that can rebuild its kernel (an analysis, a low-rank approximation)."""

    def to_array(self) -> NDArray[np.float64]: ...


class SupportsToDict(Protocol):
    """A result that turns into plain Python (every :class:`kernelfactor._results.Result`)."""

    def to_dict(self) -> Mapping[str, object]: ...


#: Every way a kernel may be given: an array, a name or spec string,
#: ``(name, params)``, or a result with ``to_array()``.
KernelLike: TypeAlias = "ArrayLike | str | tuple[str, Params] | SupportsToArray"
