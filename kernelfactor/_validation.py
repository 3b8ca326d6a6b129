"""Input coercion and checks shared by every module.

One home for: turning "a name, an array or a result" into a float64 kernel
(:func:`_as_kernel`), the dtype policy table (:data:`DTYPE_POLICY`), and the
checks of boundary modes, origins, ranks and tolerances.  Messages name the
parameter in backticks, say what was received and how to fix it.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "DTYPE_POLICY",
    "MODES",
    "_as_image",
    "_as_kernel",
    "_check_choice",
    "_check_mode",
    "_check_nonnegative",
    "_check_origin",
    "_check_positive_int",
    "_check_rank",
    "_close_matches",
    "_describe",
    "_image_dtype",
]

#: Boundary modes, exactly the names scipy.ndimage accepts, sorted.
MODES: tuple[str, ...] = (
    "constant",
    "grid-constant",
    "grid-mirror",
    "grid-wrap",
    "mirror",
    "nearest",
    "reflect",
    "wrap",
)

#: The dtype policy, by numpy dtype kind.  ``kernel`` is what numeric analysis
#: does with a kernel of that kind, ``image`` the dtype a filtered image gets.
#: ``None`` means "refused with a TypeError".
DTYPE_POLICY: dict[str, dict[str, str | None]] = {
    "b": {"kernel": None, "image": "float64"},  # bool: weights of True/False are a mistake
    "i": {"kernel": "float64", "image": "float64"},  # never wrap around
    "u": {"kernel": "float64", "image": "float64"},
    "f": {"kernel": "float64", "image": "same"},  # float16 -> float32, see _image_dtype
    "c": {"kernel": None, "image": None},  # complex: split into real/imag yourself
    "O": {"kernel": None, "image": None},
    "U": {"kernel": None, "image": None},
    "S": {"kernel": None, "image": None},
    "V": {"kernel": None, "image": None},
    "M": {"kernel": None, "image": None},
    "m": {"kernel": None, "image": None},
}

_FIX_COMPLEX = (
    "filter the real and imaginary parts separately (`k.real`, `k.imag`) and combine the results"
)


def _describe(value: Any) -> str:
    """A short description of `value` for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5)


def _check_choice(value: Any, choices: Sequence[str], name: str) -> str:
    """Return `value` if it is one of `choices`, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in sorted(choices))
        hint = ""
        if isinstance(value, str):
            close = _close_matches(value, choices)
            if close:
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?"
        raise ValueError(f"`{name}` must be one of {valid}; got {value!r}.{hint}")
    return value


def _check_mode(mode: Any, name: str = "mode") -> str:
    """Check a boundary mode name against scipy.ndimage's list."""
    return _check_choice(mode, MODES, name)


def _check_origin(origin: Any, size: int, name: str = "origin") -> int:
    """Check an ndimage origin for a filter of length `size`.

    scipy.ndimage accepts ``-(size // 2) <= origin <= (size - 1) // 2``.
    """
    if isinstance(origin, bool) or not isinstance(origin, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {_describe(origin)}.")
    lo, hi = -(size // 2), (size - 1) // 2
    origin = int(origin)
    if not lo <= origin <= hi:
        raise ValueError(
            f"`{name}` must lie in [{lo}, {hi}] for a filter of length {size} "
            f"(scipy.ndimage's rule -(size // 2) <= origin <= (size - 1) // 2); got {origin}."
        )
    return int(origin)


def _check_positive_int(value: Any, name: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {_describe(value)}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"`{name}` must be {bound}; got {value}.")
    return int(value)


def _check_rank(rank: Any, max_rank: int, name: str = "rank") -> int:
    """Check a requested rank ``0 <= rank <= max_rank``."""
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; got {_describe(rank)}.")
    rank = int(rank)
    if not 0 <= rank <= max_rank:
        raise ValueError(
            f"`{name}` must lie in [0, {max_rank}] (0 <= rank <= min(m, n) for this kernel); "
            f"got {rank}."
        )
    return int(rank)


def _check_nonnegative(value: Any, name: str) -> float:
    """Check a finite real number >= 0 (a tolerance or an error target)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {_describe(value)}.")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be finite and >= 0; got {value!r}.")
    return value


def _refuse_dtype(arr: np.ndarray, name: str) -> None:
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(
            f"`{name}` is complex ({_describe(arr)}); kernelfactor works on real kernels: "
            f"{_FIX_COMPLEX}."
        )
    if kind == "b":
        raise TypeError(
            f"`{name}` has dtype bool ({_describe(arr)}); pass numeric weights, "
            f"e.g. `{name}.astype(float)`."
        )
    raise TypeError(
        f"`{name}` must hold real numbers; got {_describe(arr)}. "
        "Convert it with `np.asarray(..., dtype=float)`."
    )


def _as_kernel(kernel: Any, *, name: str = "kernel", batch: bool = False) -> np.ndarray:
    """Coerce a kernel given as a name, an array-like or a result to float64.

    Parameters
    ----------
    kernel : str, array_like or result
        A catalogue name (see :func:`kernelfactor.list_kernels`), an array of
        real numbers, or any object with a ``to_array()`` method (an analysis
        or low-rank result).
    name : str
        The parameter name used in error messages.
    batch : bool
        If True, accept stacks of shape ``(..., m, n)``; otherwise exactly 2-D.

    Returns
    -------
    ndarray
        A float64 array (a copy when a conversion was needed), finite.

    Notes
    -----
    1-D input is refused: a 1-D filter is either a row or a column, and
    guessing would silently transpose results.  Use ``k[np.newaxis, :]`` for
    a row (1 x n) or ``k[:, np.newaxis]`` for a column (m x 1).
    """
    if isinstance(kernel, str):
        # Names are resolved by the catalogue (imported here to keep this module
        # at the bottom of the layer diagram at import time).
        from ._catalogue import get_kernel

        return get_kernel(kernel)
    if hasattr(kernel, "to_array") and not isinstance(kernel, np.ndarray):
        kernel = kernel.to_array()
    if isinstance(kernel, np.ndarray):
        arr = kernel
    else:
        try:
            arr = np.asarray(kernel)
        except (ValueError, TypeError) as exc:  # ragged nested lists
            raise ValueError(
                f"`{name}` must be a rectangular array of real numbers; got {_describe(kernel)} "
                f"({exc})."
            ) from None
    kind = arr.dtype.kind
    if kind == "O":
        # sympy / Fraction matrices land here: point to the exact functions.
        flat = arr.ravel()
        if flat.size and any(type(v).__module__.startswith("sympy") for v in flat[:64]):
            raise TypeError(
                f"`{name}` holds sympy objects; numeric analysis needs floats. Use "
                "`kernelfactor.exact_rank` / `exact_factor` / `separability_conditions` "
                "for exact or symbolic kernels, or convert with `np.array(K, dtype=float)`."
            )
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            _refuse_dtype(arr, name)
        kind = "f"
    policy = DTYPE_POLICY.get(kind, {"kernel": None})
    if policy["kernel"] is None:
        _refuse_dtype(arr, name)
    if arr.ndim < 2 or (not batch and arr.ndim != 2):
        expected = "(..., m, n)" if batch else "(m, n)"
        hint = ""
        if arr.ndim == 1:
            hint = (
                " A 1-D filter is ambiguous: pass `k[np.newaxis, :]` for a row (1 x n) "
                "or `k[:, np.newaxis]` for a column (m x 1)."
            )
        elif arr.ndim > 2:
            hint = " Pass one kernel at a time, or use a function that accepts stacks."
        raise ValueError(f"`{name}` must have shape {expected}; got shape {arr.shape}.{hint}")
    if arr.shape[-1] == 0 or arr.shape[-2] == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); a kernel needs m, n >= 1.")
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"`{name}` contains NaN or Inf (first at index {tuple(int(i) for i in bad)}); "
            "a separability verdict needs finite weights."
        )
    return out


def _image_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a filtered image gets, by :data:`DTYPE_POLICY`."""
    policy = DTYPE_POLICY.get(dtype.kind, {"image": None})["image"]
    if policy is None:
        raise TypeError(f"images of dtype {dtype} are not supported")
    if policy == "same":
        return np.dtype(np.float32) if dtype.itemsize < 4 else np.dtype(dtype)
    return np.dtype(policy)


def _as_image(image: Any, *, name: str = "image", min_ndim: int = 1) -> np.ndarray:
    """Coerce an image to an ndarray with a supported dtype (not converted yet)."""
    arr = image if isinstance(image, np.ndarray) else np.asarray(image)
    if DTYPE_POLICY.get(arr.dtype.kind, {"image": None})["image"] is None:
        if arr.dtype.kind == "c":
            raise TypeError(f"`{name}` is complex ({_describe(arr)}); {_FIX_COMPLEX}.")
        raise TypeError(f"`{name}` must hold real numbers; got {_describe(arr)}.")
    if arr.ndim < min_ndim:
        raise ValueError(f"`{name}` must have at least {min_ndim} dimensions; got {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}).")
    return arr
