"""Coercion: every way a kernel or an image may be given, turned into an array.

The one coercion point for kernels (:func:`_as_kernel`: an array, a result
with ``to_array()``, a catalogue name, a ``(name, params)`` pair or the spec
string ``"gaussian:sigma=2"``), the one parser and formatter of that spec
syntax (:func:`parse_kernel_spec`, :func:`format_kernel_spec`), and images
and dtypes by the dtype policy.  It sits above the catalogue (names resolve
through :func:`kernelfactor.get_kernel`) and below every numeric module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

import numpy as np

from ._catalogue import get_kernel
from ._typing import ArrayLike, KernelLike, Params, SupportsToArray
from ._validation import (
    _FIX_COMPLEX,
    DTYPE_POLICY,
    NdimageRuntimeError,
    NdimageTypeError,
    _describe,
)

__all__ = [
    "KernelSpecError",
    "_as_filter_input",
    "_as_image",
    "_as_kernel",
    "_image_dtype",
    "as_kernel_spec",
    "format_kernel_spec",
    "parse_kernel_spec",
]


class KernelSpecError(ValueError):
    """A malformed kernel spec string such as ``"gaussian:sigma"`` (the command
    line reports it as a usage error)."""


def _parse_value(text: str) -> bool | int | float | tuple[int, ...] | str | None:
    """A spec value: bool, None, int, float, a shape ``3x5``, or the text itself."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    parts = low.replace("\u00d7", "x").split("x")
    if len(parts) > 1 and all(p.isdigit() for p in parts):  # a shape such as 3x5
        return tuple(int(p) for p in parts)
    return text


def parse_kernel_spec(spec: str, *, name: str = "kernel") -> tuple[str, dict[str, object]]:
    """``"gaussian:size=15,sigma=2"`` -> ``("gaussian", {"size": 15, "sigma": 2})``.

    Values are ints, floats, ``true``/``false``, ``none``, shapes such as
    ``3x5``, or strings.  The name is not looked up here.

    Examples
    --------
    >>> parse_kernel_spec("gaussian:size=15,sigma=2")
    ('gaussian', {'size': 15, 'sigma': 2})
    >>> parse_kernel_spec("box:shape=3x5")
    ('box', {'shape': (3, 5)})
    """
    head, _, rest = spec.partition(":")
    head = head.strip()
    if not head:
        raise KernelSpecError(
            f"`{name}` spec {spec!r} has no name; write `name` or `name:key=value,key=value`."
        )
    params: dict[str, object] = {}
    for item in (p.strip() for p in rest.split(",")):
        if not item:
            if rest.strip():
                raise KernelSpecError(
                    f"`{name}` spec {spec!r} has an empty parameter (two commas?)."
                )
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise KernelSpecError(
                f"`{name}` parameters must look like `name:key=value,key=value`; got {item!r} "
                f"in {spec!r}."
            )
        if key in params:
            raise KernelSpecError(f"`{name}` parameter {key!r} is given twice in {spec!r}.")
        params[key] = _parse_value(value)
    return head, params


def format_kernel_spec(kernel_name: str, params: Params | None = None) -> str:
    """The spec string of ``(name, params)``: the inverse of :func:`parse_kernel_spec`.

    Examples
    --------
    >>> format_kernel_spec("gaussian", {"sigma": 2.0, "size": 15})
    'gaussian:sigma=2.0,size=15'
    >>> format_kernel_spec("box", {"shape": (3, 5)})
    'box:shape=3x5'
    """
    if not params:
        return kernel_name

    def text(value: object) -> str:
        if isinstance(value, tuple):
            return "x".join(str(v) for v in value)
        if value is None or isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return kernel_name + ":" + ",".join(f"{k}={text(params[k])}" for k in sorted(params))


def _is_name_params(item: object) -> TypeGuard[tuple[str, Params]]:
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], Mapping)
    )


def as_kernel_spec(item: object, name: str = "kernels") -> tuple[str, dict[str, object]]:
    """A catalogue kernel as ``(name, params)``: from a name, a spec string or a pair.

    Examples
    --------
    >>> as_kernel_spec("gaussian:sigma=2")
    ('gaussian', {'sigma': 2})
    >>> as_kernel_spec(("disk", {"radius": 5.0}))
    ('disk', {'radius': 5.0})
    """
    if isinstance(item, str):
        return parse_kernel_spec(item, name=name)
    if _is_name_params(item):
        return item[0], dict(item[1])
    raise TypeError(
        f"`{name}` must hold catalogue names, spec strings or (name, params) pairs, e.g. "
        f"`[\"sobel_x\", \"gaussian:sigma=2\", (\"disk\", {{\"radius\": 5.0}})]`; "
        f"got {_describe(item)}."
    )


def _refuse_dtype(arr: np.ndarray, name: str) -> None:
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(
            f"`{name}` is complex ({_describe(arr)}); this function works on real kernels "
            f"(analyze, lowrank, rank_for_error, exact_rank and the filters accept complex "
            f"ones): {_FIX_COMPLEX}."
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


def _as_kernel(
    kernel: KernelLike,
    *,
    name: str = "kernel",
    batch: bool = False,
    ndim: int = 2,
    complex_ok: bool = True,
) -> np.ndarray:
    """Coerce a kernel given as a name, an array-like or a result to float64 (or complex128).

    Parameters
    ----------
    kernel : str, (str, dict), array_like or result
        A catalogue name (see :func:`kernelfactor.list_kernels`), a spec
        string ``"gaussian:sigma=2,size=15"`` (:func:`parse_kernel_spec`), a
        ``(name, params)`` pair, an array of real numbers, or any object with
        a ``to_array()`` method (an analysis or low-rank result).
    name : str
        The parameter name used in error messages.
    batch : bool
        If True, accept stacks of shape ``(..., m, n)``; otherwise exactly 2-D.
    ndim : int
        The kernel's own dimension: 2 (default; with `batch` more axes are a
        stack), or ``d >= 3`` for one n-D kernel of exactly `d` axes.
    complex_ok : bool
        Complex kernels follow :data:`DTYPE_POLICY` (complex128) unless False
        (functions that model real layers refuse them).

    Returns
    -------
    ndarray
        A float64 array, complex128 for complex kernels (a copy when a
        conversion was needed), finite.

    Notes
    -----
    1-D input is refused: a 1-D filter is either a row or a column, and
    guessing would silently transpose results.  Use ``k[np.newaxis, :]`` for
    a row (1 x n) or ``k[:, np.newaxis]`` for a column (m x 1).
    """
    if kernel is None:
        raise TypeError(
            f"`{name}` is None; pass an array of real numbers, a catalogue name such as "
            "'sobel_x' (see `kernelfactor list`), or a spec string such as 'gaussian:sigma=2'."
        )
    if isinstance(kernel, str):
        spec_name, params = parse_kernel_spec(kernel, name=name)
        return get_kernel(spec_name, **params)
    if _is_name_params(kernel):
        return get_kernel(kernel[0], **dict(kernel[1]))
    if not isinstance(kernel, np.ndarray) and isinstance(kernel, SupportsToArray):
        kernel = kernel.to_array()  # (arrays first: a Protocol check costs microseconds)
    if isinstance(kernel, np.ndarray):
        arr = kernel
    else:
        try:
            arr = np.asarray(kernel)
        except (ValueError, TypeError) as exc:  # ragged nested lists
            ragged = "inhomogeneous" in str(exc) or "sequence" in str(exc)
            why = ("its rows have different lengths (a ragged list)" if ragged
                   else str(exc).split(".")[0])
            raise ValueError(
                f"`{name}` must be a rectangular array of real numbers; got {_describe(kernel)}: "
                f"{why}. Give every row the same number of values."
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
        missing = [i for i, v in enumerate(flat) if v is None]
        if missing:
            where = tuple(int(i) for i in np.unravel_index(missing[0], arr.shape))
            raise ValueError(
                f"`{name}` holds None (first at index {where}); every entry must be a real "
                "number. Fill the missing weights (e.g. with 0)."
            )
        try:
            arr = arr.astype(np.float64)
        except OverflowError:
            raise ValueError(
                f"`{name}` holds an integer too large for float64 (beyond about 1.8e308); "
                "numeric analysis needs floats: scale the kernel down, or use "
                "`kernelfactor.exact_rank` (--exact), which takes integers of any size."
            ) from None
        except (TypeError, ValueError):
            _refuse_dtype(arr, name)
        kind = "f"
    policy = DTYPE_POLICY.get(kind, {"kernel": None})
    if policy["kernel"] is None or (kind == "c" and not complex_ok):
        _refuse_dtype(arr, name)
    if ndim != 2:
        return _as_nd_kernel(arr, name, ndim, str(policy["kernel"]))
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
    out = np.asarray(arr, dtype=policy["kernel"])
    return _check_finite(out, name)


def _check_finite(out: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"`{name}` contains NaN or Inf (first at index {tuple(int(i) for i in bad)}); "
            "a separability verdict needs finite weights."
        )
    return out


def _as_nd_kernel(arr: np.ndarray, name: str, ndim: int, dtype: str) -> np.ndarray:
    """One n-D kernel of exactly `ndim` axes (issue 16)."""
    if isinstance(ndim, bool) or not isinstance(ndim, int) or ndim < 2:
        raise ValueError(f"`ndim` must be an integer >= 2; got {_describe(ndim)}.")
    if arr.ndim != ndim:
        raise ValueError(
            f"`{name}` must have {ndim} axes (ndim={ndim}); got shape {arr.shape}."
        )
    if 0 in arr.shape:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); every axis needs length >= 1.")
    return _check_finite(np.asarray(arr, dtype=dtype), name)


def _image_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a filtered image gets, by :data:`DTYPE_POLICY`."""
    policy = DTYPE_POLICY.get(dtype.kind, {"image": None})["image"]
    if policy is None:
        raise TypeError(f"images of dtype {dtype} are not supported")
    if policy == "same":
        if dtype.kind == "f" and dtype.itemsize < 4:
            return np.dtype(np.float32)  # float16: scipy.ndimage has no float16 loops
        return np.dtype(dtype.name)  # native byte order, as ndimage
    return np.dtype(policy)


def _as_image(image: ArrayLike, *, name: str = "image", min_ndim: int = 1) -> np.ndarray:
    """Coerce an image to an ndarray with a supported real dtype (not converted yet)."""
    arr = image if isinstance(image, np.ndarray) else np.asarray(image)
    if arr.dtype.kind == "c":
        raise TypeError(f"`{name}` is complex ({_describe(arr)}); {_FIX_COMPLEX}.")
    if DTYPE_POLICY.get(arr.dtype.kind, {"image": None})["image"] is None:
        raise TypeError(f"`{name}` must hold real numbers; got {_describe(arr)}.")
    if arr.ndim < min_ndim:
        raise ValueError(f"`{name}` must have at least {min_ndim} dimensions; got {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}).")
    return arr


#: Image dtypes the filters accept: scipy.ndimage's (bool, integers, float32,
#: float64, complex64, complex128, either byte order) and float16 (as float32).
_FILTER_KINDS = "biufc"


def _as_filter_input(image: ArrayLike, *, name: str = "input") -> np.ndarray:
    """An image for :func:`kernelfactor.correlate`: any dtype scipy.ndimage accepts, any size.

    Raises :class:`NdimageTypeError` (a ``TypeError`` and a ``RuntimeError``,
    ndimage's class) for the dtypes ndimage refuses, and
    :class:`NdimageRuntimeError` for fewer than 2 dimensions.
    """
    arr = image if isinstance(image, np.ndarray) else np.asarray(image)
    dt = arr.dtype
    if dt.kind not in _FILTER_KINDS or dt.itemsize > (16 if dt.kind == "c" else 8):
        raise NdimageTypeError(
            f"`{name}` must hold real numbers (or complex ones); got dtype {dt}, which "
            "scipy.ndimage does not support (array type not supported). Convert it, e.g. "
            "with `np.asarray(x, dtype=np.float64)`."
        )
    if arr.ndim < 2:
        raise NdimageRuntimeError(
            f"`{name}` must have at least 2 dimensions for a 2-D kernel; got shape {arr.shape} "
            "(scipy.ndimage: weights.ndim must match len(axes)). Add an axis, e.g. "
            f"`{name}[np.newaxis, :]`."
        )
    return arr
