"""Type aliases shared by the package (annotations only: nothing here runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ArrayLike",
    "FloatArray",
    "Floats",
    "KernelLike",
    "Pair",
    "Params",
    "Shape",
    "SupportsToArray",
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


@runtime_checkable
class SupportsToArray(Protocol):
    """A result that can rebuild its kernel (an analysis, a low-rank approximation)."""

    def to_array(self) -> NDArray[np.float64]: ...


#: Every way a kernel may be given: an array, a name or spec string,
#: ``(name, params)``, or a result with ``to_array()``.
KernelLike: TypeAlias = "ArrayLike | str | tuple[str, Params] | SupportsToArray"
