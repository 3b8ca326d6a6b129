"""The ``kernelfactor`` command line.

No numerics here: every subcommand parses arguments, calls the public API and
formats what it returns.  Errors are one line on stderr; exit status 2 for
usage errors (bad flags, missing arguments, malformed ``name:key=value``
syntax), 1 for bad input (unknown kernel names, missing or malformed files,
bad parameter values, empty input, unreadable images, requests too large to
hold in memory), 0 on success.  ``--debug`` shows tracebacks.

Subcommands
-----------
``list``
    The kernel catalogue: names, parameters with defaults, known rank and a
    one-line definition.
``analyze KERNEL`` / ``analyze --expr "f(x, y)"``
    The separability verdict (numerical rank, singular values, tolerance,
    margin, factors); ``--exact`` adds the exact rank and factors, ``--rank``
    / ``--max-error`` a best approximation, ``--save`` writes the factors.
``approx KERNEL``
    A best rank-k approximation with its errors and output-error bounds.
``apply IMAGE_IN IMAGE_OUT --kernel KERNEL``
    Filter a PNG/TIFF image (8-bit, 16-bit, float; grayscale or colour).
``cost``
    The seed's CNN-layer table (standard vs depthwise-separable vs spatially
    separable), or image-filter costs with ``--image``.
``figures``
    The catalogue table, then every figure of the paper set.
``table``
    The catalogue survey as markdown, LaTeX or CSV.

Kernel arguments
----------------
``KERNEL`` is either a catalogue name with optional parameters,
``gaussian`` or ``gaussian:size=15,sigma=2`` (values are ints, floats,
``true``/``false``, ``none``, shapes such as ``box:shape=3x5``, or strings),
or a file:

* ``.npy``; ``.npz`` (choose the array with ``--key`` when there are several);
* ``.csv`` / ``.txt``: one kernel row per line, values separated by commas or
  by whitespace; ``#`` starts a comment; every row must have the same number
  of values;
* ``.json``: nested lists ``[[...], [...]]`` (or an object of such lists,
  chosen with ``--key``).

Kernels are limited to :data:`MAX_KERNEL_ELEMENTS` entries (the catalogue's own
limit) and text files to :data:`MAX_TEXT_BYTES`; larger requests are refused
before anything is allocated.

JSON output of ``analyze`` (schema ``kernelfactor.analyze/1``)
----------------------------------------------------------------
A single object; keys are always present (``null`` when not applicable)::

    schema           "kernelfactor.analyze/1"
    kernel           {"source": "catalogue" | "file" | "expression",
                      "spec": str, "name": str | null, "params": object | null,
                      "key": str | null}
    shape            [m, n] | null                      (null for --expr)
    rank             int | null   numerical separable rank; for --expr the
                                  function's separable rank (null: above
                                  --max-rank or undecided)
    is_separable     bool | null  rank <= 1
    singular_values  [float | null, ...] | null         (null for --expr)
                     6 significant digits; null: at or below noise_floor
                     (rounding noise, whose digits are not data)
    tol              float | null  singular values > tol count (null for --expr)
    noise_floor      float | null  max(tol, max(m, n) * eps * sigma_1): values
                                  at or below it are rounding noise
    policy           str | null    how tol was chosen
    margin           {"gap", "gap_at_least", "distance", "radius",
                      "above_tol", "below_tol", "dropped_is_noise",
                      "kept_is_noise"} | null
                     gap, distance and below_tol are null when sigma_r+1 is
                     rounding noise (dropped_is_noise); gap_at_least =
                     radius / noise_floor is then the reproducible bound
    factors          [[column, row] | null, ...]  the rank-1 terms, each scaled
                     by sqrt(sigma_i), 6 significant digits (entries at the
                     factor's rounding level are 0; null for a term whose
                     singular value is noise); strings [g(x), h(y)] for --expr
                     (null when not found)
    exact            null | {"rank": int | null, "decided": bool,
                      "agrees": bool, "note": str | null,
                      "terms": [{"scale", "column", "row"}, ...], ...}
                     (--exact; integers stay integers, fractions are strings
                     such as "1/16")
    approximation    null | {"rank": int, "norm": str | null,
                      "max_error": float | null, "relative": bool,
                      "columns": [[...]], "rows": [[...]],
                      "error": {"fro", "fro_rel", "spectral", "spectral_rel",
                                "l1", "freq_bound",
                                "rounding", "within_rounding", "raw"},
                      "raw": {"columns", "rows"}}
                     (errors null when within_rounding: rounding noise)
                     (--rank / --max-error)
    expression       null | {"input": str, "parsed": str, "decided": bool,
                      "max_rank": int, "lower_bound": int, "reason": str}
    raw              null | {"singular_values", "tol", "margin", "factors"}:
                     the unrounded floats.  Raw fields (this one, and "raw"
                     inside "approximation" and its "error") are the only
                     ones whose digits depend on the machine's LAPACK build.

Non-finite numbers (an infinite margin) are written as the strings ``"inf"``,
``"-inf"`` and ``"nan"``, so the output is strict JSON.  ``approx --json``
prints the same schema (``kernelfactor.approx/1``) with ``approximation``
filled in.

``--save FILE.npz`` (``analyze`` and ``approx``) writes ``columns`` (k, m),
``rows`` (k, n), ``singular_values``, ``tol``, ``rank`` and ``kernel``; with
``--rank`` / ``--max-error`` the columns and rows are the approximation's,
otherwise the numerical-rank factors, so that ``columns.T @ rows`` rebuilds
the (approximated) kernel.

Images (``apply``)
------------------
Read with Pillow: 8-bit (``L``, ``LA``, ``RGB``, ``RGBA``; palette and 1-bit
images are converted to 8-bit first), 16-bit grayscale (``I;16``), 32-bit
integer (``I``) and 32-bit float (``F``) images, or a ``.npy`` array.  Each
channel is filtered separately.  Output policy: integer images are rounded
to the nearest integer, clipped to the input's integer range (0-255 for 8-bit,
0-65535 for 16-bit) and saved in the same bit depth, and the number of
clipped values is reported; ``--float`` saves the unrounded result as a
32-bit float TIFF instead (grayscale only), and an output name ending in
``.npy`` saves the float64 result as an array (any number of channels).
Float images stay float (TIFF).
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._noise import NOISE_TEXT, shown_vector

__all__ = ["MAX_IMAGE_BYTES", "MAX_KERNEL_ELEMENTS", "MAX_TEXT_BYTES", "main"]

#: Largest kernel accepted, in entries: the catalogue's 4097 x 4097.
MAX_KERNEL_ELEMENTS = 4097 * 4097
#: Largest .csv / .txt / .json kernel file read.
MAX_TEXT_BYTES = 32 * 2**20
#: Largest image accepted, as the float64 working copy (height x width x channels x 8).
MAX_IMAGE_BYTES = 2**30
#: Largest kernel side for ``--exact`` (exact arithmetic grows fast).
MAX_EXACT_SIDE = 512

_KERNEL_SUFFIXES = (".csv", ".json", ".npy", ".npz", ".txt")
_TIFF_SUFFIXES = (".tif", ".tiff")

#: Default --time-limit, seconds (the exact entry points' own default).
DEFAULT_TIME_LIMIT = 10.0


class _UsageError(Exception):
    """A usage error found after parsing (exit status 2)."""


class _InputError(ValueError):
    """Bad input found by the command line itself (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


# ---------------------------------------------------------------------------
# Output helpers (CLI-only formatting)
# ---------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    """Plain JSON values; non-finite floats become the strings "inf", "-inf", "nan"."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(_jsonable(obj), indent=2, allow_nan=False))


def _num(value: Any, digits: int = 4) -> str:
    """A compact number: ints with thousands separators, floats to `digits` figures."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}g}"
    return str(value)


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """An aligned plain-text table; `align` holds one 'l' or 'r' per column."""
    cells = [[c if isinstance(c, str) else _num(c) for c in row] for row in rows]
    ncol = len(headers)
    align = (align or "l" + "r" * (ncol - 1)).ljust(ncol, "r")
    widths = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(ncol)]

    def line(items: Sequence[str]) -> str:
        parts = [
            s.ljust(w) if a == "l" else s.rjust(w)
            for s, w, a in zip(items, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _vector(values: Any, limit: int = 8) -> str:
    items = [v if isinstance(v, str) else f"{float(v):.4g}" for v in list(values)]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return "[" + ", ".join(items[:limit]) + more + "]"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# Argument parsing helpers
# ---------------------------------------------------------------------------


def _parse_value(text: str) -> Any:
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
    parts = low.split("x")
    if len(parts) > 1 and all(p.isdigit() for p in parts):  # a shape such as 3x5
        return tuple(int(p) for p in parts)
    return text


def _parse_kernel_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"gaussian:size=15,sigma=2"`` -> ``("gaussian", {"size": 15, "sigma": 2})``."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise _UsageError(
            f"kernel spec {spec!r} has no name; write `name` or `name:key=value,key=value`"
        )
    params: dict[str, Any] = {}
    for item in (p.strip() for p in rest.split(",")):
        if not item:
            if rest.strip():
                raise _UsageError(f"kernel spec {spec!r} has an empty parameter (two commas?)")
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise _UsageError(
                f"kernel parameters must look like `name:key=value,key=value`; got {item!r} "
                f"in {spec!r}"
            )
        if key in params:
            raise _UsageError(f"kernel parameter {key!r} is given twice in {spec!r}")
        params[key] = _parse_value(value)
    return name, params


def _shape_arg(text: str) -> tuple[int, ...]:
    """``"12x12x3"`` -> ``(12, 12, 3)`` (an argparse type: malformed text is a usage error)."""
    parts = text.lower().replace("\u00d7", "x").split("x")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes joined by 'x' such as 12x12x3 or 5x5; got {text!r}"
        ) from None


def _kernel_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape * 2 if len(shape) == 1 else shape


# ---------------------------------------------------------------------------
# Reading kernels
# ---------------------------------------------------------------------------


@dataclass
class _Kernel:
    array: np.ndarray
    source: str  # "catalogue" | "file"
    spec: str
    name: str | None = None
    params: dict[str, Any] | None = None
    key: str | None = None
    exact: Any = None  # the catalogue's exact rational form, when known
    given: Any = None  # the file's data as written (ints exact), for --exact
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "spec": self.spec,
            "name": self.name,
            "params": self.params,
            "key": self.key,
        }


def _is_file_spec(spec: str) -> bool:
    path = Path(spec)
    return (
        path.suffix.lower() in _KERNEL_SUFFIXES
        or "/" in spec
        or os.sep in spec
        or path.is_file()
        or ("." in spec and ":" not in spec)  # catalogue names have no dots
    )


def _too_large(shape: tuple[int, ...], what: str) -> None:
    size = math.prod(shape)
    if size > MAX_KERNEL_ELEMENTS:
        raise _InputError(
            f"{what} has shape {tuple(shape)} ({size:,} entries); kernels are limited to "
            f"{MAX_KERNEL_ELEMENTS:,} entries (4097 x 4097). Use a smaller kernel."
        )


def _npy_header(fp: Any, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp)
        else:
            shape, _, dtype = fmt.read_array_header_2_0(fp)
    except (ValueError, OSError, EOFError) as exc:
        raise _InputError(f"{what} is not a valid .npy array ({_one_line(str(exc))})") from None
    return tuple(int(s) for s in shape), np.dtype(dtype)


def _check_header(shape: tuple[int, ...], dtype: np.dtype, what: str) -> None:
    if dtype.hasobject:
        raise _InputError(
            f"{what} holds Python objects (dtype {dtype}), which are not loaded for safety; "
            "save a numeric array instead"
        )
    _too_large(shape, what)


def _load_npy(path: Path) -> np.ndarray:
    with path.open("rb") as fp:
        shape, dtype = _npy_header(fp, str(path))
    _check_header(shape, dtype, str(path))
    return np.asarray(np.load(path, allow_pickle=False))


def _choose_key(keys: Sequence[str], key: str | None, what: str) -> str:
    listed = ", ".join(repr(k) for k in sorted(keys)) or "none"
    if key is None:
        if len(keys) == 1:
            return keys[0]
        raise _InputError(f"{what} holds several arrays ({listed}); choose one with --key")
    if key not in keys:
        close = difflib.get_close_matches(key, list(keys), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise _InputError(f"--key {key!r} is not in {what}; it holds {listed}.{hint}")
    return key


def _load_npz(path: Path, key: str | None) -> tuple[np.ndarray, str]:
    with np.load(path, allow_pickle=False) as npz:
        keys = list(npz.files)
        if not keys:
            raise _InputError(f"{path} is empty (no arrays)")
        name = _choose_key(keys, key, str(path))
        with npz.zip.open(f"{name}.npy") as fp:
            shape, dtype = _npy_header(fp, f"{path}[{name!r}]")
        _check_header(shape, dtype, f"{path}[{name!r}]")
        return np.asarray(npz[name]), name


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise _InputError(
            f"{path} is {size:,} bytes; text kernel files are limited to {MAX_TEXT_BYTES:,} "
            "bytes. Save large kernels as .npy."
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _InputError(f"{path} is not a UTF-8 text file ({exc.reason})") from None


def _load_text(path: Path) -> np.ndarray:
    text = _read_text(path)
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise _InputError(f"{path} is empty: no numbers found")
    delimiter = "," if any("," in ln for ln in lines) else None
    counts = [len(ln.split(delimiter)) for ln in lines]
    for i, c in enumerate(counts):
        if c != counts[0]:
            raise _InputError(
                f"{path}: row {i + 1} has {c} values but row 1 has {counts[0]}; "
                "every row of a kernel needs the same number of values"
            )
    try:
        arr = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=delimiter, ndmin=2,
                         dtype=np.float64)
    except ValueError as exc:
        raise _InputError(f"{path}: {_one_line(str(exc))} (expected numbers only)") from None
    # integers as written (exact beyond 2**53, for --exact); other numbers as floats
    given = np.empty(arr.shape, dtype=object)
    given[:, :] = [[_text_number(v) for v in ln.split(delimiter)] for ln in lines]
    return given


def _text_number(token: str) -> int | float:
    token = token.strip()
    try:
        return int(token)
    except ValueError:
        return float(token)


def _load_json(path: Path, key: str | None) -> tuple[np.ndarray, str | None]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise _InputError(f"{path} is not valid JSON ({exc})") from None
    used = None
    if isinstance(data, dict):
        used = _choose_key(list(data), key, str(path))
        data = data[used]
    elif key is not None:
        raise _InputError(f"--key {key!r} given but {path} holds a list, not an object")
    if not isinstance(data, list) or not data:
        raise _InputError(
            f"{path} must hold a non-empty list of rows such as [[1, 2, 1], [2, 4, 2]]; "
            f"got {type(data).__name__}"
        )
    if not all(isinstance(row, list) for row in data):
        raise _InputError(f"{path} must hold a list of rows (lists of numbers), a 2-D kernel")
    for i, row in enumerate(data):
        if len(row) != len(data[0]):
            raise _InputError(
                f"{path}: row {i + 1} has {len(row)} values but row 1 has {len(data[0])}; "
                "every row of a kernel needs the same number of values"
            )
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise _InputError(
                    f"{path}: entry [{i}][{j}] is {json.dumps(v)}, not a number"
                )
    given = np.empty((len(data), len(data[0])), dtype=object)
    given[:, :] = data  # Python ints stay exact (beyond 2**53)
    return given, used


def _load_kernel_file(spec: str, key: str | None) -> _Kernel:
    path = Path(spec)
    if not path.exists():
        raise _InputError(f"kernel file {spec!r} does not exist")
    if not path.is_file():
        raise _InputError(f"kernel file {spec!r} is not a regular file")
    suffix = path.suffix.lower()
    used = None
    if suffix == ".npy":
        arr = _load_npy(path)
    elif suffix == ".npz":
        arr, used = _load_npz(path, key)
    elif suffix in (".csv", ".txt"):
        arr = _load_text(path)
    elif suffix == ".json":
        arr, used = _load_json(path, key)
    else:
        raise _InputError(
            f"kernel file {spec!r} has an unsupported extension {suffix!r}; use one of "
            + ", ".join(_KERNEL_SUFFIXES)
        )
    if key is not None and suffix not in (".npz", ".json"):
        raise _UsageError("--key applies to .npz and .json files only")
    if arr.size == 0:
        raise _InputError(f"{spec} holds an empty array (shape {arr.shape})")
    from ._coerce import _as_kernel

    try:
        array = _as_kernel(arr, name="kernel")
    except (ValueError, TypeError) as exc:
        raise _InputError(f"{spec}: {_one_line(str(exc))}") from None
    _too_large(array.shape, spec)
    return _Kernel(array, "file", spec, key=used, given=arr)


def _load_kernel(spec: str, key: str | None = None) -> _Kernel:
    """A kernel from a catalogue spec or a file (see the module docstring)."""
    if _is_file_spec(spec):
        return _load_kernel_file(spec, key)
    if key is not None:
        raise _UsageError("--key applies to .npz and .json kernel files only")
    import kernelfactor as kf

    name, params = _parse_kernel_spec(spec)
    try:
        info = kf.kernel_info(name, **params)
    except ValueError as exc:
        text = str(exc).replace("`kernelfactor.list_kernels()`", "`kernelfactor list`")
        raise _InputError(text) from None
    return _Kernel(
        info.to_array(),
        "catalogue",
        spec,
        name=name,
        params=dict(info.params),
        exact=info.exact,
    )


# ---------------------------------------------------------------------------
# Analytic kernels (--expr)
# ---------------------------------------------------------------------------


def _parse_expression(text: str) -> tuple[Any, Any, Any]:
    """Parse ``f(x, y)`` with :func:`kernelfactor.parse_expression` (nothing is eval'ed)."""
    import sympy as sp

    from ._exact import parse_expression

    x, y = sp.symbols("x y", real=True)
    try:
        expr = parse_expression(text, (x, y), name="--expr")
    except ValueError as exc:
        raise _InputError(_one_line(str(exc))) from None
    return expr, x, y


# ---------------------------------------------------------------------------
# list
# ---------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    entries: list[dict[str, Any]] = []
    for name in kf.list_kernels():
        info = kf.kernel_info(name)
        entries.append(
            {
                "name": name,
                "params": kf.catalogue_params(name),
                "shape": list(info.shape),
                "rank": info.rank,
                "definition": info.definition,
                "citation": info.citation,
                "tags": list(info.tags),
            }
        )
    if args.json:
        _print_json(entries)
        return 0
    rows = [
        (
            e["name"],
            ", ".join(f"{k}={v}" for k, v in e["params"].items()) or "-",
            "x".join(str(s) for s in e["shape"]),
            _num(e["rank"]),
            e["definition"],
        )
        for e in entries
    ]
    print(_text_table(["kernel", "parameters (defaults)", "size", "rank", "definition"],
                      rows, "llrrl"))
    print(f"\n{len(rows)} kernels; pass parameters as name:key=value,key=value, "
          "e.g. gaussian:sigma=2")
    return 0


# ---------------------------------------------------------------------------
# analyze / approx
# ---------------------------------------------------------------------------


def _approximation(kernel: np.ndarray, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    import kernelfactor as kf

    if args.max_error is not None:
        lr = kf.lowrank(kernel, max_error=args.max_error, norm=args.norm or "fro",
                        relative=args.relative)
    else:
        lr = kf.lowrank(kernel, args.rank)
    info = {
        "rank": lr.rank,
        "norm": (args.norm or "fro") if args.max_error is not None else None,
        "max_error": args.max_error,
        "relative": bool(args.relative),
        "columns": [shown_vector(c, lr.shape) for c in lr.columns],
        "rows": [shown_vector(r, lr.shape) for r in lr.rows],
        "error": lr.error.to_dict(),
        "raw": {"columns": lr.columns, "rows": lr.rows},
    }
    return lr, info


def _exact_block(kernel: _Kernel, analysis: Any, args: argparse.Namespace) -> dict[str, Any]:
    from . import exact_factor

    m, n = kernel.array.shape
    if max(m, n) > MAX_EXACT_SIDE:
        raise _InputError(
            f"--exact works on kernels up to {MAX_EXACT_SIDE} per side; this one is {m}x{n}"
        )
    exact_input = kernel.exact if kernel.exact is not None else _given(kernel)
    fac = exact_factor(exact_input, limit_denominator=args.limit_denominator,
                       time_limit=_time_limit(args))
    out = fac.to_dict()
    rank = out["rank"]
    out["agrees"] = rank == analysis.rank
    out["note"] = analysis.note
    out["input"] = (
        "the catalogue's exact rational form" if kernel.exact is not None
        else "the data as given: integers exactly, each float at its exact binary value"
        if args.limit_denominator is None
        else f"each float as the nearest fraction with denominator <= {args.limit_denominator}"
    )
    return out


def _time_limit(args: argparse.Namespace) -> float | None:
    """--time-limit: the default when absent, None (no limit) for 0."""
    if args.time_limit is None:
        return DEFAULT_TIME_LIMIT
    if not (args.time_limit >= 0 and math.isfinite(args.time_limit)):
        raise _UsageError(f"--time-limit must be a number of seconds >= 0; got {args.time_limit}")
    return None if args.time_limit == 0 else float(args.time_limit)


def _given(kernel: _Kernel) -> Any:
    return kernel.given if kernel.given is not None else kernel.array


def _analysis_document(kernel: _Kernel, analysis: Any, schema: str) -> dict[str, Any]:
    d = analysis.to_dict()
    return {
        "schema": schema,
        "kernel": kernel.describe(),
        "shape": d["shape"],
        "rank": d["rank"],
        "is_separable": d["is_separable"],
        "singular_values": d["singular_values"],
        "tol": d["tol"],
        "noise_floor": d["noise_floor"],
        "policy": d["policy"],
        "margin": d["margin"],
        "factors": d["factors"],
        "exact": None,
        "approximation": None,
        "expression": None,
        "raw": d["raw"],
    }


def _print_analysis(kernel: _Kernel, analysis: Any, limit: int = 10) -> None:
    m, n = analysis.shape
    verdict = "separable" if analysis.is_separable else "not separable"
    what = kernel.spec if kernel.source == "file" else f"{kernel.name}"
    params = ""
    if kernel.params:
        params = " (" + ", ".join(f"{k}={v}" for k, v in kernel.params.items()) + ")"
    print(f"kernel  {what}{params}, {m}x{n}")
    print(f"rank    {analysis.rank} ({verdict})")
    print(f"tol     {analysis.tol:.4g}  ({analysis.policy})")
    print(f"margin  {analysis.margin.describe()}")
    s = analysis.singular_values
    floor = analysis.noise_floor
    rows = []
    for i, v in enumerate(s[:limit]):
        noise = float(v) <= floor
        value = NOISE_TEXT if noise else f"{float(v):.4g}"
        rel = NOISE_TEXT if noise else f"{float(v / s[0]):.4g}"
        rows.append((str(i + 1), value, rel, "yes" if i < analysis.rank else "no"))
    print()
    print(_text_table(["i", "sigma_i", "sigma_i/sigma_1", "counted"], rows))
    if s.size > limit:
        print(f"... {s.size - limit} more singular values (use --json for all)")
    if analysis.factors:
        print("\nfactors: kernel = sum of column (x) row, each scaled by sqrt(sigma_i)")
        frows = [(str(i + 1), _vector(shown_vector(c, analysis.shape)),
                  _vector(shown_vector(r, analysis.shape)))
                 for i, (c, r) in enumerate(analysis.factors[:limit])]
        print(_text_table(["term", "column", "row"], frows, "rll"))


def _print_exact(exact: dict[str, Any]) -> None:
    rank = exact["rank"]
    shown = rank if rank is not None else f"undecided in {exact['rank_bounds']}"
    agree = "agrees with" if exact["agrees"] else "differs from"
    print(f"\nexact rank  {shown} ({agree} the numerical rank; {exact['input']})")
    if exact.get("note") and not exact["agrees"]:
        print(f"note        {_one_line(exact['note'])}")
    if exact["terms"]:
        rows = [
            (str(i + 1), str(t["scale"]), _vector([str(v) for v in t["column"]]),
             _vector([str(v) for v in t["row"]]))
            for i, t in enumerate(exact["terms"][:10])
        ]
        print(_text_table(["term", "scale", "column", "row"], rows, "rrll"))
        if len(exact["terms"]) > 10:
            print(f"... {len(exact['terms']) - 10} more terms (use --json for all)")


def _print_approximation(lr: Any, info: dict[str, Any]) -> None:
    e = lr.error
    how = f"rank {lr.rank} requested"
    if info["max_error"] is not None:
        rel = "relative " if info["relative"] else ""
        how = f"smallest rank with {rel}{info['norm']} error <= {info['max_error']:g}"
    exact = " (exact up to rounding)" if e.within_rounding else ""
    print(f"\napproximation  rank {lr.rank}{exact}: {how}")
    if e.within_rounding:
        print(f"errors         {NOISE_TEXT}: every error is at the rounding level "
              f"({e.rounding:.3g}), i.e. rounding noise")
    rows = [
        ("Frobenius ||K - K_k||_F", e.fro, e.fro_rel, "exact (Eckart-Young)"),
        ("spectral ||K - K_k||_2", e.spectral, e.spectral_rel, "exact (Eckart-Young)"),
        ("l1 sum |K - K_k|", e.l1, "-", "entrywise"),
        ("output, inf-norm", e.l1, "-",
         "||err||_inf <= this * max(||x||_inf, |cval|), every mode"),
        ("output, 2-norm (Young)", e.l1, "-", "||err||_2 <= this * ||x||_2, cval=0/wrap"),
        ("output, 2-norm (freq)", e.freq_bound, "-", "sharper; same modes"),
        ("rounding level", e.rounding, "-", "errors below this are rounding"),
    ]
    if e.within_rounding:
        rows = []
    else:
        print(_text_table(["error", "absolute", "relative", "meaning"], rows, "lrrl"))
    if lr.rank:
        print(f"\nterms: K_{lr.rank} = sum of column (x) row")
        trows = [(str(i + 1), _vector(shown_vector(c, lr.shape)),
                  _vector(shown_vector(r, lr.shape))) for i, (c, r) in enumerate(lr.terms[:10])]
        print(_text_table(["term", "column", "row"], trows, "rll"))


def _save_factors(path: str, kernel: np.ndarray, analysis: Any, lr: Any) -> str:
    if lr is not None:
        columns, rows, rank = lr.columns, lr.rows, lr.rank
    else:
        m, n = analysis.shape
        columns = np.array([c for c, _ in analysis.factors]).reshape(analysis.rank, m)
        rows = np.array([r for _, r in analysis.factors]).reshape(analysis.rank, n)
        rank = analysis.rank
    target = path if path.endswith(".npz") else path + ".npz"
    with open(target, "wb") as fp:
        np.savez(
            fp,
            columns=np.asarray(columns, dtype=np.float64),
            rows=np.asarray(rows, dtype=np.float64),
            singular_values=analysis.singular_values,
            tol=np.float64(analysis.tol),
            rank=np.int64(rank),
            kernel=kernel,
        )
    return target


def _check_approx_flags(args: argparse.Namespace, *, expr: bool = False) -> None:
    if args.max_error is None and (args.norm is not None or args.relative):
        raise _UsageError("--norm and --relative qualify --max-error; give --max-error too")
    if args.rank is not None and args.max_error is not None:
        raise _UsageError("--rank and --max-error are alternatives; give one of them")


def _cmd_analyze_expr(args: argparse.Namespace) -> int:
    numeric_only = {
        "--exact": args.exact, "--rank": args.rank is not None,
        "--max-error": args.max_error is not None, "--save": args.save is not None,
        "--rtol": args.rtol is not None, "--atol": args.atol is not None,
        "--key": args.key is not None,
        "--limit-denominator": args.limit_denominator is not None,
    }
    bad = sorted(k for k, v in numeric_only.items() if v)
    if bad:
        raise _UsageError(f"{', '.join(bad)} apply to array kernels, not to --expr")
    from . import function_rank

    expr, x, y = _parse_expression(args.expr)
    res = function_rank(expr, x, y, max_rank=args.max_rank, time_limit=_time_limit(args))
    d = res.to_dict()
    doc = {
        "schema": "kernelfactor.analyze/1",
        "kernel": {"source": "expression", "spec": args.expr, "name": None, "params": None,
                   "key": None},
        "shape": None,
        "rank": d["rank"],
        "is_separable": None if d["rank"] is None else d["rank"] <= 1,
        "singular_values": None,
        "tol": None,
        "noise_floor": None,
        "policy": None,
        "margin": None,
        "factors": d["factors"],
        "exact": None,
        "approximation": None,
        "expression": {
            "input": args.expr,
            "parsed": d["expression"],
            "decided": d["decided"],
            "max_rank": d["max_rank"],
            "lower_bound": d["lower_bound"],
            "reason": d["reason"],
            "limit": d["limit"],
        },
        "raw": None,
    }
    if args.json:
        _print_json(doc)
        return 0
    if res.exceeds_max_rank:
        rank = f"> {res.max_rank} (raise --max-rank to look further)"
    elif res.decided and res.rank is not None:
        rank = f"{res.rank} ({'separable' if res.rank <= 1 else 'not separable'})"
    else:
        rank = f"undecided (at least {res.lower_bound})"
    print(f"f(x, y)  {d['expression']}")
    print(f"rank     {rank}")
    print(f"how      {_one_line(d['reason'])}")
    if d["factors"]:
        rows = [(str(i + 1), g, h) for i, (g, h) in enumerate(d["factors"])]
        print()
        print(_text_table(["term", "g(x)", "h(y)"], rows, "rll"))
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    if (args.kernel is None) == (args.expr is None):
        raise _UsageError("give exactly one of KERNEL or --expr EXPRESSION")
    _check_approx_flags(args)
    if args.expr is not None:
        return _cmd_analyze_expr(args)
    if args.limit_denominator is not None and not args.exact:
        raise _UsageError("--limit-denominator qualifies --exact; give --exact too")
    kernel = _load_kernel(args.kernel, args.key)
    if args.time_limit is not None and not args.exact:
        raise _UsageError("--time-limit qualifies --exact or --expr; give one of them")
    analysis = kf.analyze(_given(kernel) if args.exact else kernel.array, rtol=args.rtol,
                          atol=args.atol, verify="exact" if args.exact else None)
    doc = _analysis_document(kernel, analysis, "kernelfactor.analyze/1")
    exact = None
    if args.exact:
        exact = _exact_block(kernel, analysis, args)
        doc["exact"] = exact
    lr = None
    if args.rank is not None or args.max_error is not None:
        lr, doc["approximation"] = _approximation(kernel.array, args)
    saved = None
    if args.save:
        saved = _save_factors(args.save, kernel.array, analysis, lr)
    if args.json:
        _print_json(doc)
    else:
        _print_analysis(kernel, analysis)
        if exact is not None:
            _print_exact(exact)
        if lr is not None:
            _print_approximation(lr, doc["approximation"])
    if saved and not args.json:
        print(f"saved factors to {saved}")
    return 0


def _cmd_approx(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    _check_approx_flags(args)
    kernel = _load_kernel(args.kernel, args.key)
    analysis = kf.analyze(kernel.array)
    doc = _analysis_document(kernel, analysis, "kernelfactor.approx/1")
    if args.rank is None and args.max_error is None:
        args.rank = analysis.rank
    lr, doc["approximation"] = _approximation(kernel.array, args)
    saved = None
    if args.save:
        saved = _save_factors(args.save, kernel.array, analysis, lr)
    if args.json:
        _print_json(doc)
    else:
        m, n = analysis.shape
        what = kernel.spec if kernel.source == "file" else kernel.name
        print(f"kernel  {what}, {m}x{n}, numerical rank {analysis.rank} "
              f"(tol {analysis.tol:.3g})")
        _print_approximation(lr, doc["approximation"])
    if saved and not args.json:
        print(f"saved factors to {saved}")
    return 0


# ---------------------------------------------------------------------------
# apply
# ---------------------------------------------------------------------------

_EIGHT_BIT = ("L", "LA", "RGB", "RGBA")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_IMAGE_MODES = (*_EIGHT_BIT, *_SIXTEEN_BIT, "1", "F", "I", "P", "PA")


def _check_image_size(shape: tuple[int, ...], what: str) -> None:
    need = math.prod(shape) * 8
    if need > MAX_IMAGE_BYTES:
        dims = "x".join(str(s) for s in shape)
        raise _InputError(
            f"{what} is {dims}: filtering it needs {need / 2**30:.1f} GiB of float64 working "
            f"memory, over the {MAX_IMAGE_BYTES / 2**30:.0f} GiB limit; crop or downsample it "
            "first (or filter it chunk by chunk with kernelfactor and dask)"
        )


def _read_image(path: str) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise _InputError(f"input image {path!r} does not exist")
    if p.suffix.lower() == ".npy":
        with p.open("rb") as fp:
            shape, dtype = _npy_header(fp, path)
        if dtype.hasobject:
            raise _InputError(f"{path} holds Python objects; save a numeric array")
        _check_image_size(shape, path)
        arr = np.load(p, allow_pickle=False)
        if arr.ndim not in (2, 3):
            raise _InputError(f"{path} has shape {arr.shape}; images are (H, W) or (H, W, C)")
        return arr

    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(p)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _InputError(
                f"{path} is too large to decode safely (Pillow's decompression-bomb limit)"
            ) from None
        except UnidentifiedImageError:
            raise _InputError(f"{path} is not an image Pillow can read") from None
    with img:
        if img.mode not in _IMAGE_MODES:
            raise _InputError(
                f"{path} has image mode {img.mode!r}, which is not supported; convert it to "
                "8-bit or 16-bit grayscale, RGB(A) or 32-bit float first"
            )
        bands = len(img.getbands())
        if img.mode == "P":
            bands = 4 if "transparency" in img.info else 3
        w, h = img.size
        _check_image_size((h, w, bands) if bands > 1 else (h, w), path)
        try:
            if img.mode == "1":
                arr = np.asarray(img.convert("L"))
            elif img.mode in ("P", "PA"):
                arr = np.asarray(img.convert("RGBA" if bands == 4 or img.mode == "PA" else "RGB"))
            else:
                arr = np.asarray(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise _InputError(f"{path} could not be decoded ({_one_line(str(exc))})") from None
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.size == 0:
        raise _InputError(f"{path} is an empty image")
    return arr


def _check_output_path(path: str, image: np.ndarray, as_float: bool) -> None:
    """Refuse an output the policy cannot write, before any filtering is done."""
    p = Path(path)
    suffix = p.suffix.lower()
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise _InputError(f"the folder of the output image {path!r} does not exist")
    if suffix == ".npy":
        return
    from PIL import Image

    if suffix not in Image.registered_extensions():
        raise _InputError(
            f"output {path!r} has no image extension Pillow can write; use .png, .tif "
            "or .npy"
        )
    if as_float or image.dtype.kind == "f":
        if suffix not in _TIFF_SUFFIXES:
            raise _InputError(f"float output needs a .tif/.tiff file (or .npy); got {path!r}")
        if image.ndim != 2:
            raise _InputError(
                "float TIFF output supports grayscale images only; write a .npy file to keep "
                "the float result of a colour image"
            )
    elif image.dtype.kind not in "ui":
        raise _InputError(f"images of dtype {image.dtype} cannot be written as {suffix}")
    elif image.ndim == 3 and image.shape[2] not in (2, 3, 4):
        raise _InputError(
            f"an image with {image.shape[2]} channels cannot be written as {suffix}; use .npy"
        )


def _write_image(path: str, result: np.ndarray, source_dtype: np.dtype,
                 as_float: bool) -> tuple[str, int]:
    """Write `result` by the output policy; returns (description, clipped count)."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        np.save(p, result)
        return f"float64 array {result.shape}", 0
    from PIL import Image

    if as_float or source_dtype.kind == "f":
        Image.fromarray(result.astype(np.float32)).save(p)
        return "32-bit float", 0
    info = np.iinfo(source_dtype)
    rounded = np.rint(result)
    clipped = int(np.count_nonzero((rounded < info.min) | (rounded > info.max)))
    out = np.clip(rounded, info.min, info.max).astype(source_dtype)
    Image.fromarray(out).save(p)
    return f"{info.bits}-bit", clipped


def _cmd_apply(args: argparse.Namespace) -> int:
    import kernelfactor as kf

    from . import convolve, correlate

    kernel = _load_kernel(args.kernel, args.key)
    weights: Any = kernel.array
    if args.rank is not None:
        weights = kf.lowrank(kernel.array, args.rank)
    out_suffix = Path(args.image_out).suffix.lower()
    if args.float and out_suffix not in (*_TIFF_SUFFIXES, ".npy"):
        raise _UsageError(f"--float writes a .tif/.tiff (or .npy) file; got {args.image_out!r}")
    image = _read_image(args.image_in)
    _check_output_path(args.image_out, image, args.float)
    func = convolve if args.convolve else correlate
    start = time.perf_counter()
    # Filter in floating point (float32 stays float32); _write_image clips and rounds.
    work = np.float32 if image.dtype.kind == "f" and image.dtype.itemsize <= 4 else np.float64
    result, info = func(image, weights, work, mode=args.mode, cval=args.cval,
                        method=args.method, axes=(0, 1), return_info=True)
    seconds = time.perf_counter() - start
    kind, clipped = _write_image(args.image_out, result, image.dtype, args.float)
    dims = "x".join(str(s) for s in image.shape)
    report = {
        "input": args.image_in,
        "output": args.image_out,
        "shape": list(image.shape),
        "input_dtype": str(image.dtype),
        "output_kind": kind,
        "clipped": clipped,
        "seconds": seconds,
        "kernel": kernel.describe(),
        "kernel_shape": list(kernel.array.shape),
        "rank": args.rank,
        "info": info.to_dict(),
    }
    if args.json:
        _print_json(report)
        return 0
    ran = info.method + (f" (rank {info.rank})" if info.method == "separable" else "")
    op = "convolved" if args.convolve else "correlated"
    print(f"{args.image_in} ({dims}, {image.dtype}) {op} with {kernel.spec} "
          f"{kernel.array.shape[0]}x{kernel.array.shape[1]}"
          + (f" at rank {args.rank}" if args.rank is not None else ""))
    print(f"method {ran}, mode {args.mode}, {seconds:.3g} s")
    note = f"; {clipped:,} values clipped to the input's range" if clipped else ""
    print(f"wrote {args.image_out} ({kind}){note}")
    return 0


# ---------------------------------------------------------------------------
# cost
# ---------------------------------------------------------------------------


def _cmd_cost_image(args: argparse.Namespace) -> int:
    from . import filter_cost

    if args.out_channels is not None or args.multiplier is not None:
        raise _UsageError("--out-channels and --multiplier describe CNN layers, not --image")
    hw = args.image
    kshape = _kernel_shape(args.kernel or (15, 15))
    rank = 1 if args.rank is None else args.rank
    costs = [
        filter_cost(hw, kshape, method="direct"),
        filter_cost(hw, kshape, method="separable", rank=rank),
        filter_cost(hw, kshape, method="fft"),
    ]
    if args.json:
        _print_json({"schema": "kernelfactor.cost-image/1",
                     "costs": [c.to_dict() for c in costs]})
        return 0
    direct = costs[0].multiplications
    rows = []
    for c in costs:
        name = c.method + (f" (rank {c.rank})" if c.rank is not None else "")
        mults = c.multiplications if c.exact else f"~{c.multiplications:,.0f}"
        adds = c.additions if c.exact else f"~{c.additions:,.0f}"
        rows.append((name, mults, adds, c.per_output_multiplications, c.passes,
                     f"{c.multiplications / direct:.4f}"))
    dims = "x".join(str(v) for v in hw)
    print(f"image {dims}, kernel {kshape[0]}x{kshape[1]}")
    print(_text_table(["method", "multiplications", "additions", "mults/pixel", "passes",
                       "ratio"], rows))
    print("(~: FFT figures are an estimate; see kernelfactor.filter_cost for its constants)")
    return 0


def _cmd_cost(args: argparse.Namespace) -> int:
    if args.image is not None:
        if args.input is not None:
            raise _UsageError("--input (a CNN layer) and --image (a filter) are alternatives")
        return _cmd_cost_image(args)
    from . import layer_costs

    if args.rank is not None:
        raise _UsageError("--rank goes with --image; for layers use --spatial-rank")
    costs = layer_costs(
        args.input if args.input is not None else (12, 12, 3),
        _kernel_shape(args.kernel or (5, 5)),
        256 if args.out_channels is None else args.out_channels,
        padding=args.padding,
        stride=args.stride,
        dilation=args.dilation,
        multiplier=1 if args.multiplier is None else args.multiplier,
        spatial_rank=args.spatial_rank,
        channel_rank=args.channel_rank,
    )
    if args.json:
        _print_json({"schema": "kernelfactor.cost-layer/1", **costs.to_dict()})
        return 0
    std = costs.standard
    dims = "x".join(str(v) for v in std.input_shape)
    k = "x".join(str(v) for v in std.kernel)
    print(f"input {dims}, kernel {k}, {std.output_shape[2]} output channels, "
          f"padding {std.padding}, stride {'x'.join(str(v) for v in std.stride)}")
    print(costs.table())
    ratio = costs.ratios["depthwise_separable"]["multiplications"]
    kh, kw = std.kernel
    print(f"\ndepthwise-separable / standard multiplications = {ratio:.4f} = "
          f"{costs.multiplier} x (1/{std.output_shape[2]} + 1/{kh * kw}) "
          f"= {costs.depthwise_separable_identity:.4f}")
    return 0


# ---------------------------------------------------------------------------
# table / figures
# ---------------------------------------------------------------------------


def _kernel_specs(items: Sequence[str] | None) -> list[tuple[str, dict[str, Any]]] | None:
    """``--kernels`` values (``name`` or ``name:key=value,...``) as (name, params) pairs."""
    if not items:
        return None
    return [_parse_kernel_spec(item) for item in items]


def _markdown_to_text(markdown: str) -> str:
    """Re-align a markdown pipe table (from ``format_table``) as a plain-text table."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in markdown.splitlines()
        if line.startswith("|")
    ]
    if len(rows) < 2:
        return markdown.rstrip()
    headers, rule, body = rows[0], rows[1], rows[2:]
    align = "".join("r" if cell.endswith(":") and not cell.startswith(":") else "l"
                    for cell in rule)
    return _text_table(headers, body, align)


def _cmd_table(args: argparse.Namespace) -> int:
    from .paper import format_table, survey

    rows = survey(_kernel_specs(args.kernels), max_rel_error=args.max_rel_error)
    text = format_table(rows, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({args.format}, {len(rows)} kernels)")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _progress_printer(tty: bool) -> Callable[[str, int, int, float], None]:
    def progress(name: str, i: int, n: int, seconds: float) -> None:
        text = f"[{i}/{n}] {name} ({seconds:.1f} s)"
        if tty:
            print("\r" + text.ljust(72), end="" if i < n else "\n", flush=True)
        else:
            print(text, flush=True)

    return progress


def _cmd_figures(args: argparse.Namespace) -> int:
    from .paper import format_table, regenerate_figures, survey

    start = time.perf_counter()
    kernels = _kernel_specs(args.kernels)
    print("catalogue analysis (the whole catalogue; also written as table.md/.tex/.csv)")
    print(_markdown_to_text(format_table(survey(), "markdown")))
    print(flush=True)
    paths = regenerate_figures(
        out_dir=args.out,
        formats=tuple(args.format),
        kernels=kernels,
        progress=_progress_printer(sys.stdout.isatty()),
    )
    total = time.perf_counter() - start
    print(f"wrote {len(paths)} files to {args.out} in {total:.1f} s")
    return 0


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------


def _schema_epilog() -> str:
    doc = __doc__ or ""
    start = doc.find("JSON output of ``analyze``")
    end = doc.find("Images (``apply``)")
    if start < 0 or end < 0:
        return ""
    return doc[start:end].replace("``", "").rstrip()


def _add_kernel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", help="array name inside an .npz file (or key of a JSON object)")


def _add_approx_options(p: argparse.ArgumentParser, norms: Sequence[str]) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--rank", type=int, metavar="K", help="best rank-K approximation")
    group.add_argument("--max-error", type=float, metavar="E",
                       help="smallest rank whose approximation error is <= E")
    p.add_argument("--norm", choices=sorted(norms), default=None,
                   help="norm of --max-error (default fro)")
    p.add_argument("--relative", action="store_true",
                   help="--max-error relative to the kernel's own norm")


def _build_parser() -> _Parser:
    from . import MODES, NORMS, __version__
    from ._apply import APPLY_METHODS

    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="kernelfactor",
        description="Does this convolution kernel factorise? Analyse, approximate, apply, cost.",
        epilog="Exit status: 0 ok, 1 bad input, 2 usage error. "
        "Run `kernelfactor COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"kernelfactor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", parents=[common], help="list the built-in kernel catalogue")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser(
        "analyze", parents=[common], formatter_class=raw,
        help="separability verdict for one kernel (name, file or --expr)",
        description="Numerical separable rank, singular values, tolerance, margin and factors "
        "of a kernel; KERNEL is a catalogue name with parameters (gaussian:size=15,sigma=2) "
        "or a .npy/.npz/.csv/.txt/.json file.",
        epilog=_schema_epilog(),
    )
    p.add_argument("kernel", nargs="?", metavar="KERNEL",
                   help="catalogue name[:key=value,...] or a kernel file")
    p.add_argument("--expr", metavar="F",
                   help='analytic kernel f(x, y), e.g. "exp(-(x**2 + y**2)/2)"')
    p.add_argument("--max-rank", type=int, default=4,
                   help="--expr: largest separable rank tried (default 4, at most 12)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", default=None,
                   help="--exact / --expr: give up (undecided) after this many seconds "
                   f"(default {DEFAULT_TIME_LIMIT:g}; 0 for no limit)")
    _add_kernel_options(p)
    p.add_argument("--exact", action="store_true",
                   help="also the exact rank and rational factors")
    p.add_argument("--limit-denominator", type=int, metavar="N",
                   help="--exact: read each float as the nearest fraction with "
                   "denominator <= N (the decimal you meant) instead of its binary value")
    _add_approx_options(p, NORMS)
    p.add_argument("--rtol", type=float, default=None, help="relative rank tolerance")
    p.add_argument("--atol", type=float, default=None, help="absolute rank tolerance")
    p.add_argument("--json", action="store_true", help="machine-readable output (schema below)")
    p.add_argument("--save", metavar="FILE.npz", help="write the factors to an .npz file")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser(
        "approx", parents=[common],
        help="best rank-k approximation with its errors and bounds",
        description="The truncated SVD of KERNEL at --rank K, or the smallest rank meeting "
        "--max-error E in --norm (default: the numerical rank), with its exact Frobenius and "
        "spectral errors and the bounds they imply on filtered images.",
    )
    p.add_argument("kernel", metavar="KERNEL", help="catalogue name[:key=value,...] or a file")
    _add_kernel_options(p)
    _add_approx_options(p, NORMS)
    p.add_argument("--json", action="store_true",
                   help="machine-readable output (the analyze schema, see `analyze --help`)")
    p.add_argument("--save", metavar="FILE.npz", help="write the factors to an .npz file")
    p.set_defaults(func=_cmd_approx)

    p = sub.add_parser(
        "apply", parents=[common], formatter_class=raw,
        help="filter a PNG/TIFF image with a kernel",
        description="Correlate (or --convolve) an image with a kernel, scipy.ndimage's "
        "numbers, by the fastest method.",
        epilog="Output policy: integer images (8-bit, 16-bit, 32-bit) are rounded to the\n"
        "nearest integer, clipped to the input's range (0-255, 0-65535, ...) and saved\n"
        "in the same bit depth; the number of clipped values is reported.  --float\n"
        "saves the unrounded result as a 32-bit float TIFF (grayscale only); an\n"
        "output ending in .npy keeps the float64 result of any image.  Float input\n"
        "stays float.  Colour images are filtered channel by channel.",
    )
    p.add_argument("image_in", metavar="IMAGE_IN", help="PNG/TIFF (or .npy) image")
    p.add_argument("image_out", metavar="IMAGE_OUT", help="output file (.png, .tif, .npy...)")
    p.add_argument("--kernel", required=True, metavar="KERNEL",
                   help="catalogue name[:key=value,...] or a kernel file")
    _add_kernel_options(p)
    p.add_argument("--method", choices=list(APPLY_METHODS), default="auto")
    p.add_argument("--mode", choices=list(MODES), default="reflect",
                   help="boundary mode (scipy.ndimage's names; default reflect)")
    p.add_argument("--cval", type=float, default=0.0, help="value outside for constant modes")
    p.add_argument("--rank", type=int, metavar="K",
                   help="apply the best rank-K approximation of the kernel")
    p.add_argument("--convolve", action="store_true", help="convolve instead of correlate")
    p.add_argument("--float", action="store_true",
                   help="save the unrounded result as a float32 TIFF")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=_cmd_apply)

    p = sub.add_parser(
        "cost", parents=[common],
        help="operation counts: CNN layers (the seed's table) or image filters",
        description="With --input: standard vs depthwise-separable vs spatially separable "
        "convolution layer (defaults: the seed example 12x12x3, 5x5, 256 outputs, valid). "
        "With --image: direct vs separable vs FFT filtering of one image.",
    )
    p.add_argument("--input", type=_shape_arg, metavar="HxWxC",
                   help="layer input, channels last (default 12x12x3)")
    p.add_argument("--image", type=_shape_arg, metavar="HxW", help="image size for filter costs")
    p.add_argument("--kernel", type=_shape_arg, metavar="KhxKw",
                   help="kernel size (default 5x5 for layers, 15x15 for images)")
    p.add_argument("--out-channels", type=int, metavar="N", help="output channels (default 256)")
    p.add_argument("--padding", choices=["same", "valid"], default="valid")
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--dilation", type=int, default=1)
    p.add_argument("--multiplier", type=int, metavar="M", help="depth multiplier (default 1)")
    p.add_argument("--spatial-rank", type=int, default=1,
                   help="rank of each spatially separable filter (default 1)")
    p.add_argument("--channel-rank", type=int, metavar="R",
                   help="also the low-rank channel scheme with R intermediate channels")
    p.add_argument("--rank", type=int, metavar="K", help="--image: separable rank (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_cost)

    p = sub.add_parser(
        "figures", parents=[common],
        help="print the catalogue table and regenerate every figure",
    )
    p.add_argument("--out", default="figures", help="output folder (default figures/)")
    p.add_argument("--format", nargs="+", choices=["pdf", "png", "svg"],
                   default=["pdf", "png", "svg"], help="file formats (default all three)")
    p.add_argument("--kernels", nargs="+", metavar="KERNEL",
                   help="catalogue kernels of the spectrum and trade-off figures "
                   "(name or name:key=value,...)")
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("table", parents=[common],
                       help="the catalogue survey as markdown, LaTeX or CSV")
    p.add_argument("--format", choices=["csv", "latex", "markdown"], default="markdown")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--max-rel-error", type=float, default=1e-3, metavar="E",
                   help="relative Frobenius error of the 'rank for error' columns "
                   "(default 1e-3)")
    p.add_argument("--kernels", nargs="+", metavar="KERNEL",
                   help="catalogue kernels to include (name or name:key=value,...)")
    p.set_defaults(func=_cmd_table)
    return parser


def _fail(message: str, status: int) -> int:
    print(f"error: {_one_line(message)}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 bad input, 2 usage).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 for bad input, 2 for a usage error.

    Examples
    --------
    >>> main(["--version"])
    kernelfactor ...
    0
    >>> main(["analyze", "sobel_x", "--json"]) == 0  # doctest: +ELLIPSIS
    {
      "schema": "kernelfactor.analyze/1",
    ...
    True
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = _build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args))
    except _UsageError as exc:
        if debug:
            raise
        return _fail(str(exc), 2)
    except BrokenPipeError:
        # the reader went away (`kernelfactor list | head`): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        return 1
    except (_InputError, ValueError, TypeError, OSError, KeyError, IndexError) as exc:
        if debug:
            raise
        text = str(exc) if not isinstance(exc, KeyError) else str(exc.args[0] if exc.args else "")
        return _fail(text or type(exc).__name__, 1)
    except MemoryError:
        if debug:
            raise
        return _fail("not enough memory for this request; ask for something smaller", 1)
    except ImportError as exc:
        if debug:
            raise
        return _fail(f"a required module is missing: {exc}", 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, the traceback on request
        if debug:
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug "
                     "for the traceback and please report it", 1)
