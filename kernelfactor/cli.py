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
``analyze KERNEL --ndim D`` / ``approx KERNEL --ndim D --rank K``
    One D-dimensional kernel (a volume catalogue kernel such as ``laplacian7``,
    or a ``.npy``/``.npz`` file): every unfolding's rank (the multilinear
    rank), ``--exact`` the tensor rank where the unfoldings prove it, and
    ``--rank K`` a CP approximation with its achieved error, a certified lower
    bound on the error of every rank-K approximation, and a flag where the
    fit diverges (no best approximation exists).
``bank BANK``
    A shared separable basis for a filter bank (``gabor``,
    ``steerable:order=2`` or a ``.npy`` stack ``(N, h, w)``): ``--size M`` or
    ``--max-error E``, the achieved and certified errors and the
    multiplications per pixel (``--image HxW`` for totals).
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

JSON output of ``analyze --ndim D`` (schema ``kernelfactor.analyze-nd/1``;
``approx --ndim D --rank K``: ``kernelfactor.approx-nd/1``)::

    schema, kernel   as above
    ndim             int
    shape            [n_0, ..., n_{D-1}]
    multilinear_rank [int, ...]   each unfolding's numerical rank
    rank_lower_bound int          their largest: a lower bound on the tensor rank
    is_separable     bool         every unfolding has rank <= 1
    singular_values  [[float | null, ...], ...]  per unfolding (null: noise)
    tol, policy      per-unfolding tolerances; how they were chosen
    factors          [[...], ...]  the D 1-D factors when separable, else []
    catalogue        null | {"rank", "border_rank", "factors", "scale",
                      "citation"}  what the volume catalogue knows a priori
    exact            null | {"rank": int | null, "decided": bool,
                      "bounds": [int, int], "note": str | null}  (--exact)
    approximation    null | {"shape", "rank", "fro", "fro_rel", "l1",
                      "freq_bound", "lower_bound", "degenerate", "note",
                      "terms": [[factor, ...], ...], "raw"}   (--rank K)
                     errors null when at the rounding level; lower_bound
                     certified (no rank-K tensor is closer), null when 0 up
                     to rounding
    raw              the unrounded singular values, tolerances and factors

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

JSON output of ``bank`` (schema ``kernelfactor.bank/1``)
--------------------------------------------------------
One object; keys are always present (``null`` when not applicable)::

    schema           "kernelfactor.bank/1"
    bank             {"source": "builder" | "file", "spec", "name", "params",
                      "key", "shape": [N, h, w]}
    request          {"size", "max_error", "relative", "max_size"}
    size             int   M, the number of shared separable filters
    fro, fro_rel     float | null  achieved Frobenius error over the bank,
                     absolute and relative (null: rounding noise)
    filter_errors    [float | null, ...]  each filter's relative error
    lower_bound      float | null  certified: every basis of M filters has
                     a Frobenius error >= this (null: 0 up to rounding)
    degenerate       bool  the fit diverged: no best basis of this size
    within_rounding  bool  the bank is exact over the basis up to rounding
    cost             {"image": [H, W], "direct", "basis", "speedup",
                      "direct_total", "basis_total"}: multiplications per
                     pixel (N h w directly, M (h + w) + the non-zero
                     coefficients through the basis) and for the whole image
    filter_ranks     [int, ...]  each kernel's numerical separable rank
    raw              the factors, coefficients and unrounded errors
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import math
import os
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

import numpy as np

from . import __version__, networks
from ._apply import APPLY_METHODS, convolve, correlate
from ._banks import gabor_bank, separable_basis, separable_basis_for_error, steerable_bank
from ._catalogue import (
    VOLUME_KERNELS,
    ExactMatrix,
    catalogue_params,
    kernel_info,
    list_kernels,
    volume_kernel,
)
from ._coerce import KernelSpecError, _as_kernel, parse_kernel_spec
from ._costmodel import filter_cost, layer_costs
from ._exact import (
    DEFAULT_TIME_LIMIT,
    exact_factor,
    function_rank,
    parse_expression,
)
from ._io import (
    MAX_IMAGE_BYTES,
    MAX_KERNEL_ELEMENTS,
    MAX_TEXT_BYTES,
    check_kernel_size,
    check_output_path,
    is_kernel_file,
    read_image,
    read_kernel_file,
    save_factors,
    write_image,
)
from ._lowrank import NORMS, LowRankKernel, lowrank
from ._noise import NOISE_TEXT, shown_vector
from ._svd import Analysis, TensorAnalysis, analyze
from ._tensor import TensorLowRank
from ._typing import JSONValue
from ._validation import MODES
from .paper import format_table, regenerate_figures, survey, text_table

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = ["MAX_IMAGE_BYTES", "MAX_KERNEL_ELEMENTS", "MAX_TEXT_BYTES", "main"]

#: Largest kernel side for ``--exact`` (exact arithmetic grows fast).
MAX_EXACT_SIDE = 512

_TIFF_SUFFIXES = (".tif", ".tiff")



_RAW = argparse.RawDescriptionHelpFormatter
_Subparsers: TypeAlias = "argparse._SubParsersAction[_Parser]"
#: A JSON document (or one block of it) as printed by --json.  Its values stay untyped:
#: the commands build these and read them back by key (each schema is in the module
#: docstring); as JSONValue, every read would need a check of what the command just wrote.
_Doc: TypeAlias = "dict[str, Any]"


class _UsageError(Exception):
    """A usage error found after parsing (exit status 2)."""


class _InputError(ValueError):
    """Bad input found by the command line itself (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


# ---------------------------------------------------------------------------
# Output helpers (CLI-only formatting)
# ---------------------------------------------------------------------------


def _jsonable(obj: object) -> JSONValue:
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
    if obj is None or isinstance(obj, bool | int | float | complex | str):
        return obj
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _print_json(obj: object) -> None:
    print(json.dumps(_jsonable(obj), indent=2, allow_nan=False))


def _vector(values: Iterable[object], limit: int = 8) -> str:
    """Numbers to 4 significant digits (strings as they are), at most `limit` of them."""
    items = [v if isinstance(v, str) else f"{v:.4g}" for v in values]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return "[" + ", ".join(items[:limit]) + more + "]"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# Argument parsing helpers
# ---------------------------------------------------------------------------


def _parse_kernel_spec(spec: str, name: str = "kernel") -> tuple[str, _Doc]:
    """``"gaussian:size=15,sigma=2"`` -> ``("gaussian", {"size": 15, "sigma": 2})``."""
    try:
        return parse_kernel_spec(spec, name=name)
    except KernelSpecError as exc:  # malformed syntax: a usage error
        raise _UsageError(_one_line(str(exc)).replace(f"`{name}` ", f"{name} ")) from None


def _doc_section(start: str, end: str | None) -> str:
    """The module docstring from the heading `start` up to `end` (help epilogs)."""
    doc = __doc__ or ""
    first = doc.find(start)
    last = len(doc) if end is None else doc.find(end)
    if first < 0 or last < 0:
        return ""
    return doc[first:last].replace("``", "").rstrip()


def _schema_epilog() -> str:
    return _doc_section("JSON output of ``analyze``", "Images (``apply``)")


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
    params: _Doc | None = None
    key: str | None = None
    exact: ExactMatrix | None = None  # the catalogue's exact rational form, when known
    given: np.ndarray | None = None  # the file's data as written (ints exact), for --exact
    extra: _Doc = field(default_factory=dict)

    def describe(self) -> _Doc:
        return {
            "source": self.source,
            "spec": self.spec,
            "name": self.name,
            "params": self.params,
            "key": self.key,
        }


#: File formats that keep an array's shape (text formats hold 2-D kernels only).
_ARRAY_SUFFIXES = (".npy", ".npz")


def _load_kernel_file(spec: str, key: str | None, ndim: int = 2) -> _Kernel:
    suffix = Path(spec).suffix.lower()
    if key is not None and suffix not in (".npz", ".json"):
        raise _UsageError("--key applies to .npz and .json files only")
    if ndim != 2 and suffix not in _ARRAY_SUFFIXES:
        raise _InputError(
            f"{spec}: .csv, .txt and .json files hold 2-D kernels; save a {ndim}-D kernel "
            "with np.save as .npy (or .npz) to read it with --ndim"
        )
    given, used = read_kernel_file(spec, key)
    shape = np.shape(given)
    if len(shape) >= 2 and len(shape) != ndim:
        fix = (f"pass --ndim {len(shape)} to read it as one {len(shape)}-D kernel"
               if len(shape) > 2 else "leave out --ndim to read it as a 2-D kernel")
        raise _InputError(f"{spec} holds an array of shape {shape}, not a {ndim}-D kernel; {fix}")
    if np.iscomplexobj(given):
        raise _InputError(
            f"{spec} holds a complex kernel; the command line reads real kernels: analyse it "
            "from Python (kernelfactor.analyze / lowrank / correlate accept complex kernels), "
            "or save its real and imaginary parts as two files"
        )
    try:
        array = _as_kernel(given, name="kernel", complex_ok=False, ndim=ndim)
    except (ValueError, TypeError) as exc:
        raise _InputError(f"{spec}: {_one_line(str(exc))}") from None
    check_kernel_size(array.shape, spec)
    return _Kernel(array, "file", spec, key=used, given=given)


def _load_volume(spec: str, name: str, params: _Doc, ndim: int) -> _Kernel:
    """A 3-D catalogue kernel (:func:`kernelfactor.volume_kernel`) for ``--ndim 3``."""
    if name not in VOLUME_KERNELS:
        raise _InputError(
            f"KERNEL {name!r} is not a volume kernel; with --ndim {ndim} give one of "
            f"{', '.join(VOLUME_KERNELS)} or a .npy file holding a {ndim}-D array"
        )
    try:
        volume = volume_kernel(name, **params)
    except (ValueError, TypeError) as exc:
        raise _InputError(f"KERNEL {spec}: {_one_line(str(exc))}") from None
    if volume.array.ndim != ndim:
        raise _InputError(f"KERNEL {name!r} is {volume.array.ndim}-D; pass "
                          f"--ndim {volume.array.ndim}")
    info = volume.to_dict()
    return _Kernel(volume.to_array(), "catalogue", spec, name=name, params=dict(params),
                   extra={"catalogue": {k: info[k] for k in
                                        ("rank", "border_rank", "factors", "scale", "citation")}})


def _load_kernel(spec: str, key: str | None = None, ndim: int = 2) -> _Kernel:
    """A kernel from a catalogue spec or a file (see the module docstring)."""
    if is_kernel_file(spec):
        return _load_kernel_file(spec, key, ndim)
    if key is not None:
        raise _UsageError("--key applies to .npz and .json kernel files only")
    name, params = _parse_kernel_spec(spec)
    if ndim != 2:
        return _load_volume(spec, name, params, ndim)
    if name in VOLUME_KERNELS:
        raise _InputError(f"KERNEL {name!r} is a 3-D (volume) kernel; add --ndim 3")
    try:
        info = kernel_info(name, **params)
    except ValueError as exc:
        text = str(exc).replace("`kernelfactor.list_kernels()`", "`kernelfactor list`")
        if text.startswith("`name` "):  # the catalogue's parameter is the user's KERNEL
            text = "KERNEL " + text[len("`name` "):]
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


def _parse_expression(text: str) -> tuple[sympy.Expr, sympy.Symbol, sympy.Symbol]:
    """Parse ``f(x, y)`` with :func:`kernelfactor.parse_expression` (nothing is eval'ed)."""
    import sympy as sp


    x, y = sp.symbols("x y", real=True)
    try:
        expr = parse_expression(text, (x, y), name="--expr")
    except ValueError as exc:
        raise _InputError(_one_line(str(exc))) from None
    return expr, x, y


# ---------------------------------------------------------------------------
# list
# ---------------------------------------------------------------------------


def _list_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `list` subcommand's arguments (its handler follows)."""
    p = sub.add_parser("list", parents=[common], help="list the built-in kernel catalogue")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)


#: API parameter names in messages -> the options a user of the command line typed.
_CLI_NAMES = {
    "`input_shape`": "--input", "`kernel_shape`": "--kernel", "`out_channels`": "--out-channels",
    "`channel_rank`": "--channel-rank", "`spatial_rank`": "--spatial-rank",
    "`multiplier`": "--multiplier", "`stride`": "--stride", "`dilation`": "--dilation",
    "`padding`": "--padding", "`image_shape`": "--image", "`origin`": "--origin",
    "`cval`": "--cval", "`rank`": "--rank", "`max_error`": "--max-error",
    "kernelfactor.list_kernels()": "kernelfactor list",
}


def _cli_names(text: str) -> str:
    """A library message in the command line's vocabulary (option names, not parameters)."""
    for api, option in _CLI_NAMES.items():
        text = text.replace(api, option)
    return text


def _list_blocks(rows: list[tuple[str, str, str, int | None, str]], width: int) -> str:
    """The catalogue for a narrow terminal: one block per kernel, wrapped to `width`."""
    out: list[str] = []
    for name, params, size, rank, definition in rows:
        head = f"{name}  {size}  rank {rank if rank is not None else '-'}  ({params})"
        out.extend(textwrap.wrap(head, width, subsequent_indent="    ") or [head])
        out.extend(textwrap.wrap(str(definition), width, initial_indent="    ",
                                 subsequent_indent="    "))
    return "\n".join(out)


def _cmd_list(args: argparse.Namespace) -> int:
    entries: list[_Doc] = []
    for name in list_kernels():
        info = kernel_info(name)
        entries.append(
            {
                "name": name,
                "params": catalogue_params(name),
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
            e["rank"],
            e["definition"],
        )
        for e in entries
    ]
    table = text_table(["kernel", "parameters (defaults)", "size", "rank", "definition"],
                       rows, "llrrl")
    # wrap to the terminal (or $COLUMNS); a pipe or a file gets the whole table
    terminal = sys.stdout.isatty() or "COLUMNS" in os.environ
    width = shutil.get_terminal_size((100, 24)).columns
    fits = not terminal or max(len(line) for line in table.splitlines()) <= width
    print(table if fits else _list_blocks(rows, width))
    print(f"\n{len(rows)} kernels; pass parameters as name:key=value,key=value, "
          "e.g. gaussian:sigma=2")
    return 0


# ---------------------------------------------------------------------------
# analyze / approx
# ---------------------------------------------------------------------------


def _approximation(
    kernel: np.ndarray, args: argparse.Namespace
) -> tuple[LowRankKernel, _Doc]:
    if args.max_error is not None:
        lr = lowrank(kernel, max_error=args.max_error, norm=args.norm or "fro",
                        relative=args.relative)
    else:
        lr = lowrank(kernel, args.rank)
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


def _exact_block(kernel: _Kernel, analysis: Analysis, args: argparse.Namespace) -> _Doc:
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


def _given(kernel: _Kernel) -> np.ndarray:
    return kernel.given if kernel.given is not None else kernel.array


def _analysis_document(kernel: _Kernel, analysis: Analysis, schema: str) -> _Doc:
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


def _print_analysis(kernel: _Kernel, analysis: Analysis, limit: int = 10) -> None:
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
    print(text_table(["i", "sigma_i", "sigma_i/sigma_1", "counted"], rows))
    if s.size > limit:
        print(f"... {s.size - limit} more singular values (use --json for all)")
    if analysis.factors:
        print("\nfactors: kernel = sum of column (x) row, each scaled by sqrt(sigma_i)")
        frows = [(str(i + 1), _vector(shown_vector(c, analysis.shape)),
                  _vector(shown_vector(r, analysis.shape)))
                 for i, (c, r) in enumerate(analysis.factors[:limit])]
        print(text_table(["term", "column", "row"], frows, "rll"))


def _print_exact(exact: _Doc) -> None:
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
        print(text_table(["term", "scale", "column", "row"], rows, "rrll"))
        if len(exact["terms"]) > 10:
            print(f"... {len(exact['terms']) - 10} more terms (use --json for all)")


def _print_approximation(lr: LowRankKernel, info: _Doc) -> None:
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
        print(text_table(["error", "absolute", "relative", "meaning"], rows, "lrrl"))
    if lr.rank:
        print(f"\nterms: K_{lr.rank} = sum of column (x) row")
        trows = [(str(i + 1), _vector(shown_vector(c, lr.shape)),
                  _vector(shown_vector(r, lr.shape))) for i, (c, r) in enumerate(lr.terms[:10])]
        print(text_table(["term", "column", "row"], trows, "rll"))


def _save(path: str, kernel: np.ndarray, analysis: Analysis, lr: LowRankKernel | None) -> str:
    """--save: the approximation's factors, or the numerical-rank factors."""
    columns: object
    rows: object
    if lr is not None:
        columns, rows, rank = lr.columns, lr.rows, lr.rank
    else:
        columns = [c for c, _ in analysis.factors]
        rows = [r for _, r in analysis.factors]
        rank = analysis.rank
    return save_factors(path, columns=columns, rows=rows, singular_values=analysis.singular_values,
                        tol=analysis.tol, rank=rank, kernel=kernel)


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
        "--ndim": args.ndim != 2,
    }
    bad = sorted(k for k, v in numeric_only.items() if v)
    if bad:
        raise _UsageError(f"{', '.join(bad)} apply to array kernels, not to --expr")
    expr, x, y = _parse_expression(args.expr)
    max_rank = 4 if args.max_rank is None else args.max_rank
    res = function_rank(expr, x, y, max_rank=max_rank, time_limit=_time_limit(args))
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
        print(text_table(["term", "g(x)", "h(y)"], rows, "rll"))
    return 0


def _analyze_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `analyze` subcommand's arguments (its handler follows)."""
    p = sub.add_parser(
        "analyze", parents=[common], formatter_class=_RAW,
        help="separability verdict for one kernel (name, file or --expr)",
        description="Numerical separable rank, singular values, tolerance, margin and factors "
        "of a kernel; KERNEL is a catalogue name with parameters (gaussian:size=15,sigma=2) "
        "or a .npy/.npz/.csv/.txt/.json file.",
        epilog=_schema_epilog(),
    )
    p.add_argument("kernel", nargs="?", metavar="KERNEL",
                   help="catalogue name[:key=value,...] or a kernel file")
    p.add_argument("--expr", metavar="F",
                   help='analytic kernel f(x, y), e.g. "exp(-(x**2 + y**2)/2)"; a formula '
                   'starting with "-" works too (--expr "-x*y" or --expr=-x*y)')
    p.add_argument("--max-rank", type=int, default=None,
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
    _add_ndim_option(p)
    p.add_argument("--rtol", type=float, default=None, help="relative rank tolerance")
    p.add_argument("--atol", type=float, default=None, help="absolute rank tolerance")
    p.add_argument("--json", action="store_true", help="machine-readable output (schema below)")
    p.add_argument("--save", metavar="FILE.npz", help="write the factors to an .npz file")
    p.set_defaults(func=_cmd_analyze)


def _cmd_analyze(args: argparse.Namespace) -> int:
    if (args.kernel is None) == (args.expr is None):
        raise _UsageError("give exactly one of KERNEL or --expr EXPRESSION")
    _check_approx_flags(args)
    if args.expr is not None:
        return _cmd_analyze_expr(args)
    if args.limit_denominator is not None and not args.exact:
        raise _UsageError("--limit-denominator qualifies --exact; give --exact too")
    if args.max_rank is not None:
        raise _UsageError("--max-rank qualifies --expr; give --expr too (for array kernels "
                          "use --rank or --max-error)")
    if args.time_limit is not None and not args.exact:
        raise _UsageError("--time-limit qualifies --exact or --expr; give one of them")
    if args.ndim != 2:
        return _cmd_nd(args, "kernelfactor.analyze-nd/1")
    kernel = _load_kernel(args.kernel, args.key)
    m, n = kernel.array.shape
    with _progress(f"analysing a {m}x{n} kernel", _svd_seconds(m, n)):
        analysis = analyze(_given(kernel) if args.exact else kernel.array, rtol=args.rtol,
                           atol=args.atol, verify="exact" if args.exact else None)
    assert isinstance(analysis, Analysis)  # files and the catalogue hold one 2-D kernel
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
        saved = _save(args.save, kernel.array, analysis, lr)
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


def _approx_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `approx` subcommand's arguments (its handler follows)."""
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
    _add_ndim_option(p)
    p.add_argument("--rtol", type=float, default=None,
                   help="relative rank tolerance (the default rank: see `analyze --help`)")
    p.add_argument("--atol", type=float, default=None, help="absolute rank tolerance")
    p.add_argument("--json", action="store_true",
                   help="machine-readable output (the analyze schema, see `analyze --help`)")
    p.add_argument("--save", metavar="FILE.npz", help="write the factors to an .npz file")
    p.set_defaults(func=_cmd_approx)


def _cmd_approx(args: argparse.Namespace) -> int:
    _check_approx_flags(args)
    if args.ndim != 2:
        if args.rank is None and args.max_error is None:
            raise _UsageError(f"--ndim {args.ndim} needs --rank K: the tensor rank of an n-D "
                              "kernel is not computable in general")
        return _cmd_nd(args, "kernelfactor.approx-nd/1")
    kernel = _load_kernel(args.kernel, args.key)
    analysis = analyze(kernel.array, rtol=args.rtol, atol=args.atol)
    assert isinstance(analysis, Analysis)  # one 2-D kernel
    doc = _analysis_document(kernel, analysis, "kernelfactor.approx/1")
    if args.rank is None and args.max_error is None:
        args.rank = analysis.rank
    lr, doc["approximation"] = _approximation(kernel.array, args)
    saved = None
    if args.save:
        saved = _save(args.save, kernel.array, analysis, lr)
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
# n-D kernels (analyze / approx --ndim D)
# ---------------------------------------------------------------------------


def _add_ndim_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ndim", type=int, default=2, metavar="D",
                   help="the kernel's dimension (default 2); D >= 3 reads one D-dimensional "
                   f"kernel (a volume: {', '.join(VOLUME_KERNELS)}, or a .npy/.npz file) and "
                   "reports every unfolding's rank; --rank K gives a CP approximation with a "
                   "certified lower bound on the error of every rank-K approximation")


def _check_ndim_flags(args: argparse.Namespace) -> None:
    if args.ndim < 2:
        raise _UsageError(f"--ndim must be 2 or more (the kernel's number of axes); got "
                          f"{args.ndim}")
    two_d = {"--max-error": args.max_error is not None, "--save": args.save is not None}
    bad = [k for k, v in two_d.items() if v]
    if bad:
        verb = "work" if len(bad) > 1 else "works"
        raise _UsageError(f"{' and '.join(bad)} {verb} on 2-D kernels; with --ndim {args.ndim} "
                          "approximate with --rank K")


def _nd_document(kernel: _Kernel, analysis: TensorAnalysis, schema: str) -> _Doc:
    d = analysis.to_dict()
    return {
        "schema": schema,
        "kernel": kernel.describe(),
        "ndim": analysis.ndim,
        "shape": d["shape"],
        "multilinear_rank": d["multilinear_rank"],
        "rank_lower_bound": analysis.rank_lower_bound,
        "is_separable": d["is_separable"],
        "singular_values": d["singular_values"],
        "tol": d["tol"],
        "policy": d["policy"],
        "factors": d["factors"],
        "catalogue": kernel.extra.get("catalogue"),
        "exact": None,
        "approximation": None,
        "raw": d["raw"],
    }


def _exact_nd(kernel: _Kernel, args: argparse.Namespace) -> _Doc:
    """``--exact --ndim D``: the tensor rank where it is proven, else undecided with bounds."""
    if kernel.array.size > MAX_EXACT_SIDE**2:
        raise _InputError(f"--exact works on kernels of up to {MAX_EXACT_SIDE**2:,} entries; "
                          f"this one has {kernel.array.size:,}")
    fac = exact_factor(_given(kernel), ndim=args.ndim, limit_denominator=args.limit_denominator,
                       time_limit=_time_limit(args))
    bounds = [int(v) for v in fac.rank_bounds]
    if fac.decided:
        return {"rank": fac.rank, "decided": True, "bounds": bounds, "note": None}
    why = f" ({fac.limit})" if fac.limit else ""
    note = (f"the tensor rank lies in {bounds}{why}: {len(fac.terms)} exact terms were found, "
            f"and the unfoldings' ranks prove only the lower bound; --rank K approximates it "
            "by K terms")
    return {"rank": None, "decided": False, "bounds": bounds, "note": note}


def _approximation_nd(
    kernel: _Kernel, args: argparse.Namespace
) -> tuple[TensorLowRank, _Doc]:
    try:
        lr = lowrank(kernel.array, args.rank, ndim=args.ndim)
    except (ValueError, TypeError) as exc:
        raise type(exc)(_cli_names(str(exc))) from None
    assert isinstance(lr, TensorLowRank)
    info = lr.to_dict()
    info["terms"] = [[shown_vector(f, lr.shape) for f in term] for term in lr.terms]
    return lr, info


def _cmd_nd(args: argparse.Namespace, schema: str) -> int:
    _check_ndim_flags(args)
    kernel = _load_kernel(args.kernel, args.key, args.ndim)
    analysis = analyze(kernel.array, rtol=args.rtol, atol=args.atol, ndim=args.ndim)
    assert isinstance(analysis, TensorAnalysis)
    doc = _nd_document(kernel, analysis, schema)
    if getattr(args, "exact", False):
        doc["exact"] = _exact_nd(kernel, args)
    lr = None
    if args.rank is not None:
        lr, doc["approximation"] = _approximation_nd(kernel, args)
    if args.json:
        _print_json(doc)
        return 0
    _print_nd(kernel, analysis, doc)
    if lr is not None:
        _print_approximation_nd(lr, doc["approximation"])
    return 0


def _shown(value: float | None) -> float | str:
    """A documented value for text: NOISE_TEXT for None (rounding noise)."""
    return NOISE_TEXT if value is None else value


def _print_nd(kernel: _Kernel, analysis: TensorAnalysis, doc: _Doc) -> None:
    shape = "x".join(str(n) for n in analysis.shape)
    what = kernel.spec if kernel.source == "file" else f"{kernel.name}"
    if kernel.params:
        what += " (" + ", ".join(f"{k}={v}" for k, v in kernel.params.items()) + ")"
    verdict = ("separable" if analysis.is_separable
               else f"not separable: tensor rank >= {analysis.rank_lower_bound}")
    print(f"kernel  {what}, {shape} ({analysis.ndim}-D)")
    print(f"rank    multilinear {analysis.multilinear_rank} ({verdict})")
    print(f"tol     {analysis.policy}")
    rows = [(str(k), r, f"{t:.4g}", _vector([_shown(v) for v in values], limit=6))
            for k, (r, t, values) in enumerate(zip(analysis.multilinear_rank, analysis.tol,
                                                   doc["singular_values"], strict=True))]
    print()
    print(text_table(["unfolding", "rank", "tol", "singular values"], rows, "rrrl"))
    if doc["factors"]:
        print("\nfactors: kernel = f_0 (x) f_1 (x) ... (each scaled to the same norm)")
        print(text_table(["axis", "factor"],
                         [(str(k), _vector(f)) for k, f in enumerate(doc["factors"])], "rl"))
    cat = doc["catalogue"]
    if cat:
        print(f"\ncatalogue  tensor rank {cat['rank']}, border rank {cat['border_rank']}")
        if cat["factors"]:
            factors = " (x) ".join(_vector([str(v) for v in f]) for f in cat["factors"])
            print(f"           = {cat['scale']} * {factors} exactly")
        print(f"           {cat['citation']}")
    exact = doc["exact"]
    if exact is not None:
        shown = f"{exact['rank']} (proven)" if exact["decided"] else f"undecided: {exact['note']}"
        print(f"\nexact rank  {shown}")


def _print_approximation_nd(lr: TensorLowRank, info: _Doc) -> None:
    terms = "outer product" if lr.rank == 1 else "outer products"
    print(f"\napproximation  rank {lr.rank}: {lr.rank} {terms} of {lr.ndim} 1-D factors "
          "(CP, alternating least squares)")
    if lr.degenerate:
        print(f"DEGENERATE     {_one_line(lr.note)}")
    if lr.within_rounding:
        print(f"errors         {NOISE_TEXT}: every error is at the rounding level, i.e. "
              "rounding noise")
    else:
        rows = [
            ("Frobenius ||K - K_r||_F", info["fro"], info["fro_rel"],
             "achieved (exact, from the residual)"),
            ("lower bound", _shown(info["lower_bound"]), "-",
             f"certified: every rank-{lr.rank} approximation has a larger Frobenius error"),
            ("l1 sum |K - K_r|", info["l1"], "-",
             "||err||_inf <= this * max(||x||_inf, |cval|), every mode"),
            ("output, 2-norm (freq)", info["freq_bound"], "-",
             "||err||_2 <= this * ||x||_2, cval=0/wrap"),
        ]
        print(text_table(["error", "absolute", "relative", "meaning"], rows, "lrrl"))
    if lr.rank:
        heads = ["term", *(f"factor {k}" for k in range(lr.ndim))]
        trows = [(str(i + 1), *(_vector(f) for f in term))
                 for i, term in enumerate(info["terms"][:10])]
        print(text_table(heads, trows, "r" + "l" * lr.ndim))


# ---------------------------------------------------------------------------
# bank: a shared separable basis for a filter bank
# ---------------------------------------------------------------------------

#: The bank builders of ``kernelfactor bank BANK``: name -> the public function.
_BANK_BUILDERS: dict[str, Callable[..., np.ndarray]] = {
    "gabor": gabor_bank,
    "steerable": steerable_bank,
}


_BANK_DESCRIPTION = (
    "Write every kernel of a bank as a combination of M shared separable filters (a rank-M "
    "CP of the bank), with the achieved error, the certified lower bound on the error of "
    "every basis of that size, and the multiplications per pixel against filtering with "
    "each kernel directly."
)


def _bank_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `bank` subcommand's arguments (its handler follows)."""
    epilog = _doc_section("JSON output of ``bank``", None)
    p = sub.add_parser("bank", parents=[common], formatter_class=_RAW, epilog=epilog,
                       description=_BANK_DESCRIPTION,
                       help="a shared separable basis for a filter bank: errors, bound, cost")
    p.add_argument("bank", metavar="BANK",
                   help="a builder, gabor[:key=value,...] (orientations, scales such as 2x3, "
                   "cycles, size) or steerable[:key=value,...] (order 1 or 2, orientations, "
                   "sigma, size), or a .npy/.npz file holding a stack of kernels (N, h, w)")
    p.add_argument("--key", help="array name inside an .npz file")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--size", type=int, metavar="M", help="the number of shared filters")
    group.add_argument("--max-error", type=float, metavar="E",
                       help="the smallest basis whose Frobenius error over the bank, relative "
                       "to the bank's norm, is <= E (see --absolute)")
    p.add_argument("--absolute", action="store_true",
                   help="--max-error in the bank's own units instead of relative")
    p.add_argument("--max-size", type=int, metavar="M", default=None,
                   help="--max-error: the largest basis tried (default 32)")
    p.add_argument("--image", type=_shape_arg, metavar="HxW", default=(512, 512),
                   help="image size of the total counts (default 512x512)")
    p.add_argument("--json", action="store_true", help="machine-readable output (schema below)")
    p.set_defaults(func=_cmd_bank)


def _bank_scales(value: object) -> tuple[object, ...]:
    """``scales=2``, ``scales=2x3`` (the spec's shape syntax) or ``scales=1.5x2.5``."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value,)
    try:
        return tuple(float(v) for v in str(value).split("x"))
    except ValueError:
        raise _InputError(f"BANK scales={value}: give the Gaussian sigmas joined by 'x', "
                          "e.g. scales=2x3 or scales=1.5x2.5") from None


def _load_bank(spec: str, key: str | None) -> tuple[np.ndarray, _Doc]:
    """A bank from a builder spec or a file: ``(array, description)``."""
    if is_kernel_file(spec):
        suffix = Path(spec).suffix.lower()
        if key is not None and suffix != ".npz":
            raise _UsageError("--key applies to .npz bank files only")
        if suffix not in _ARRAY_SUFFIXES:
            raise _InputError(f"{spec}: a bank is a stack of kernels (N, h, w), which .csv, "
                              ".txt and .json files do not hold; save it with "
                              "np.save('bank.npy', np.stack(kernels))")
        given, used = read_kernel_file(spec, key)
        if given.ndim != 3:
            raise _InputError(f"{spec} holds an array of shape {given.shape}; a bank is a "
                              "stack of N kernels of one size, shape (N, h, w): "
                              "np.stack(kernels)")
        check_kernel_size(given.shape, spec)
        return given, {"source": "file", "spec": spec, "name": None, "params": None,
                       "key": used}
    if key is not None:
        raise _UsageError("--key applies to .npz bank files only")
    name, params = _parse_kernel_spec(spec, "BANK")
    builder = _BANK_BUILDERS.get(name)
    if builder is None:
        raise _InputError(f"BANK {name!r} is not a bank builder; use one of "
                          f"{', '.join(_BANK_BUILDERS)} (e.g. steerable:order=2) or a .npy "
                          "file holding a stack of kernels (N, h, w)")
    allowed = list(inspect.signature(builder).parameters)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _InputError(f"BANK parameter {unknown[0]!r} is not one of {name}'s: "
                          f"{', '.join(allowed)}")
    if "scales" in params:
        params["scales"] = _bank_scales(params["scales"])
    for what in ("orientations", "size"):  # refuse before anything is allocated
        value = params.get(what)
        if isinstance(value, int) and value > MAX_KERNEL_ELEMENTS**0.5:
            raise _InputError(f"BANK {what}={value} is too large: at most "
                              f"{int(MAX_KERNEL_ELEMENTS**0.5)}")
    try:
        bank = builder(**params)
    except (ValueError, TypeError) as exc:
        raise _InputError(f"BANK {spec}: {_one_line(str(exc))}") from None
    check_kernel_size(bank.shape, f"BANK {spec}")
    return bank, {"source": "builder", "spec": spec, "name": name, "params": params,
                  "key": None}


#: The basis functions' parameters -> the options of `kernelfactor bank`.
_BANK_NAMES = {"`bank`": "BANK", "`size`": "--size", "`max_size`": "--max-size",
               "`max_error`": "--max-error"}


def _cmd_bank(args: argparse.Namespace) -> int:
    if args.size is None and args.max_error is None:
        raise _UsageError("give --size M (a basis of M filters) or --max-error E (the "
                          "smallest basis meeting E)")
    if args.max_error is None and (args.absolute or args.max_size is not None):
        raise _UsageError("--absolute and --max-size qualify --max-error; give --max-error too")
    if len(args.image) != 2 or min(args.image) < 1:
        raise _InputError(f"--image must be two sizes >= 1 such as 512x512; got "
                          f"{'x'.join(str(v) for v in args.image)}")
    bank, source = _load_bank(args.bank, args.key)
    n, h, w = bank.shape
    top = n * min(h, w)  # every bank is exact over its filters' own SVD terms
    for option, value in (("--size", args.size), ("--max-size", args.max_size)):
        if value is not None and value > top:
            raise _InputError(f"{option} {value} is above N x min(h, w) = {top}, a size at "
                              "which every bank of this shape is exact; ask for at most that")
    try:
        if args.size is not None:
            basis = separable_basis(bank, args.size)
        else:
            basis = separable_basis_for_error(
                bank, args.max_error, relative=not args.absolute,
                max_size=32 if args.max_size is None else args.max_size)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        for api, option in _BANK_NAMES.items():
            text = text.replace(api, option)
        raise type(exc)(text) from None
    d = basis.to_dict()
    cost = basis.cost(tuple(args.image))
    doc = {
        "schema": "kernelfactor.bank/1",
        "bank": {**source, "shape": [n, h, w]},
        "request": {"size": args.size, "max_error": args.max_error,
                    "relative": None if args.max_error is None else not args.absolute,
                    "max_size": None if args.max_error is None else (args.max_size or 32)},
        **d,
        "cost": {"image": list(args.image), **cost},
    }
    if args.json:
        _print_json(doc)
        return 0
    _print_bank(doc, basis.degenerate)
    return 0


def _print_bank(doc: _Doc, degenerate: bool) -> None:
    bank, req, cost = doc["bank"], doc["request"], doc["cost"]
    n, h, w = bank["shape"]
    what = bank["spec"] if bank["source"] == "file" else bank["name"]
    if bank["params"]:
        what += " (" + ", ".join(f"{k}={v}" for k, v in bank["params"].items()) + ")"
    m = doc["size"]
    if req["size"] is not None:
        how = f" (--size {m})"
    else:
        rel = "relative " if req["relative"] else ""
        how = (f": the smallest with {rel}Frobenius error <= {req['max_error']:g} "
               f"(sizes up to {req['max_size']} tried)")
    print(f"bank    {what}: {n} filters of {h}x{w}")
    print(f"basis   {m} shared separable filters{how}")
    if degenerate:
        print("DEGENERATE  the fit diverged (terms cancel): no best basis of this size exists")
    if doc["within_rounding"]:
        print(f"error   {NOISE_TEXT}: the bank is exact over this basis, up to rounding")
    rows = [
        ("Frobenius over the bank", _shown(doc["fro"]), _shown(doc["fro_rel"]),
         "achieved (exact, from the residual)"),
        ("lower bound", _shown(doc["lower_bound"]), "-",
         f"certified: every basis of {m} filters has a larger Frobenius error"),
    ]
    print()
    print(text_table(["error", "absolute", "relative", "meaning"], rows, "lrrl"))
    print(f"\nper filter (relative)  {_vector([_shown(v) for v in doc['filter_errors']])}")
    image = "x".join(str(v) for v in cost["image"])
    crows = [
        ("direct (N h w)", cost["direct"], cost["direct_total"]),
        ("through the basis (M (h + w) + nnz)", cost["basis"], cost["basis_total"]),
    ]
    print()
    print(text_table(["filtering", "mults/pixel", f"multiplications ({image})"],
                     [(a, f"{b:,.0f}", f"{c:,.0f}") for a, b, c in crows], "lrr"))
    print(f"speed-up  {cost['speedup']:.4g} (direct / through the basis, counted)")


# ---------------------------------------------------------------------------
# apply
# ---------------------------------------------------------------------------

def _apply_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `apply` subcommand's arguments (its handler follows)."""
    p = sub.add_parser(
        "apply", parents=[common], formatter_class=_RAW,
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
    p.add_argument("--method", choices=list(APPLY_METHODS), default="auto",
                   help="auto (default: the fastest by the cost model among those giving "
                   "ndimage's numbers), direct (ndimage's sums), separable (rank-1 passes) "
                   "or fft")
    p.add_argument("--mode", choices=list(MODES), default="reflect",
                   help="boundary mode (scipy.ndimage's names; default reflect)")
    p.add_argument("--origin", type=int, nargs="+", default=[0], metavar="O",
                   help="scipy.ndimage's origin: one shift for both axes or two (rows, "
                   "columns); default 0")
    p.add_argument("--overwrite", action="store_true",
                   help="allow IMAGE_OUT to be IMAGE_IN (refused otherwise)")
    p.add_argument("--cval", type=float, default=0.0, help="value outside for constant modes")
    p.add_argument("--rank", type=int, metavar="K",
                   help="apply the best rank-K approximation of the kernel")
    p.add_argument("--convolve", action="store_true", help="convolve instead of correlate")
    p.add_argument("--float", action="store_true",
                   help="save the unrounded result as a float32 TIFF")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=_cmd_apply)


def _cmd_apply(args: argparse.Namespace) -> int:
    kernel = _load_kernel(args.kernel, args.key)
    weights: np.ndarray | LowRankKernel = kernel.array
    if args.rank is not None:
        weights = lowrank(kernel.array, args.rank)
    out_suffix = Path(args.image_out).suffix.lower()
    if args.float and out_suffix not in (*_TIFF_SUFFIXES, ".npy"):
        raise _UsageError(f"--float writes a .tif/.tiff (or .npy) file; got {args.image_out!r}")
    if len(args.origin) > 2:
        raise _UsageError(f"--origin takes one or two integers; got {len(args.origin)}")
    same = Path(args.image_in).resolve() == Path(args.image_out).resolve()
    if same and not args.overwrite:
        raise _UsageError(f"IMAGE_OUT {args.image_out!r} is the input image; choose another "
                          "output file, or pass --overwrite to replace the input")
    image = read_image(args.image_in)
    check_output_path(args.image_out, image, args.float)
    func = convolve if args.convolve else correlate
    start = time.perf_counter()
    # Filter in floating point (float32 stays float32); _write_image clips and rounds.
    work = np.float32 if image.dtype.kind == "f" and image.dtype.itemsize <= 4 else np.float64
    origin = args.origin[0] if len(args.origin) == 1 else tuple(args.origin)
    try:
        result, info = func(image, weights, work, mode=args.mode, cval=args.cval,
                            origin=origin, method=args.method, axes=(0, 1), return_info=True)
    except ValueError as exc:
        raise ValueError(_cli_names(str(exc))) from None
    seconds = time.perf_counter() - start
    kind, clipped = write_image(args.image_out, result, image.dtype, args.float)
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
    print(text_table(["method", "multiplications", "additions", "mults/pixel", "passes",
                       "ratio"], rows))
    print("(~: FFT figures are an estimate; see kernelfactor.filter_cost for its constants)")
    return 0


def _cost_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `cost` subcommand's arguments (its handler follows)."""
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
    p.add_argument("--padding", choices=["same", "valid"], default="valid",
                   help="valid (default: no padding, the output shrinks) or same (zero "
                   "padding keeps H x W at stride 1)")
    p.add_argument("--stride", type=int, default=1,
                   help="step between outputs, both axes (default 1)")
    p.add_argument("--dilation", type=int, default=1,
                   help="spacing between kernel taps, both axes (default 1)")
    p.add_argument("--multiplier", type=int, metavar="M", help="depth multiplier (default 1)")
    p.add_argument("--spatial-rank", type=int, default=1,
                   help="rank of each spatially separable filter (default 1)")
    p.add_argument("--channel-rank", type=int, metavar="R",
                   help="also the low-rank channel scheme with R intermediate channels")
    p.add_argument("--rank", type=int, metavar="K", help="--image: separable rank (default 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_cost)


def _cmd_cost(args: argparse.Namespace) -> int:
    if args.image is not None:
        if args.input is not None:
            raise _UsageError("--input (a CNN layer) and --image (a filter) are alternatives")
        try:
            return _cmd_cost_image(args)
        except (ValueError, TypeError) as exc:
            raise type(exc)(_cli_names(str(exc))) from None
    if args.rank is not None:
        raise _UsageError("--rank goes with --image; for layers use --spatial-rank")
    try:
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
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if "`rank`" in text:  # layer_costs passes each rank on as `rank`
            which = "--channel-rank" if "out_channels" in text else "--spatial-rank"
            text = text.replace("`rank`", which)
        raise type(exc)(_cli_names(text)) from None
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
# model (ONNX networks)
# ---------------------------------------------------------------------------


def _model_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `model` subcommand's arguments: declared by :mod:`kernelfactor.networks`."""
    p = sub.add_parser(
        "model", parents=[common],
        help="analyse and factorise the conv layers of an ONNX model",
        description="Per-layer separability of an ONNX model's Conv kernels, what spatial "
        "and depthwise-separable factorisation would save, a rank plan under an error "
        "bound, exports and an end-to-end evaluation (needs the onnx extra).",
    )
    networks.add_arguments(p)
    p.set_defaults(func=_cmd_model)


def _cmd_model(args: argparse.Namespace) -> int:
    return networks.run(args)


# ---------------------------------------------------------------------------
# table / figures
# ---------------------------------------------------------------------------


def _kernel_specs(items: Sequence[str] | None) -> list[tuple[str, _Doc]] | None:
    """``--kernels`` values (``name`` or ``name:key=value,...``) as (name, params) pairs."""
    if not items:
        return None
    return [_parse_kernel_spec(item) for item in items]


def _table_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `table` subcommand's arguments (its handler follows)."""
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


def _cmd_table(args: argparse.Namespace) -> int:
    rows = survey(_kernel_specs(args.kernels), max_rel_error=args.max_rel_error)
    text = format_table(rows, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({args.format}, {len(rows)} kernels)")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _svd_seconds(m: int, n: int) -> float:
    """A rough estimate of an m x n SVD's time (about 10 s for 3000 x 3000 here)."""
    return 10.0 * m * n * min(m, n) / 3000**3


@contextlib.contextmanager
def _progress(what: str, expected_seconds: float, *, every: float = 1.0) -> Iterator[None]:
    """Elapsed seconds on stderr while long work runs; silent when stderr is not a
    terminal or the work should take under a second."""
    if expected_seconds < 1.0 or not sys.stderr.isatty():
        yield
        return
    stop = threading.Event()
    start = time.perf_counter()

    def tick() -> None:
        while not stop.wait(every):
            print(f"\r{what}: {time.perf_counter() - start:.0f} s "
                  f"(about {expected_seconds:.0f} s expected)", end="", file=sys.stderr,
                  flush=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        print("\r" + " " * 72 + "\r", end="", file=sys.stderr, flush=True)


def _progress_printer(tty: bool) -> Callable[[str, int, int, float], None]:
    def progress(name: str, i: int, n: int, seconds: float) -> None:
        text = f"[{i}/{n}] {name} ({seconds:.1f} s)"
        if tty:
            print("\r" + text.ljust(72), end="" if i < n else "\n", flush=True)
        else:
            print(text, flush=True)

    return progress


def _figures_arguments(sub: _Subparsers, common: _Parser) -> None:
    """The `figures` subcommand's arguments (its handler follows)."""
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


def _cmd_figures(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {args.out!r} is a file; --out names a folder for the figures")
    start = time.perf_counter()
    kernels = _kernel_specs(args.kernels)
    print("catalogue analysis (the whole catalogue; also written as table.md/.tex/.csv)")
    print(format_table(survey(), "text"), end="")
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


#: The subcommands, in the order of `kernelfactor --help`: each is one function that
#: declares its arguments, written just above its handler.
_SUBCOMMANDS = (
    _list_arguments,
    _analyze_arguments,
    _approx_arguments,
    _bank_arguments,
    _apply_arguments,
    _cost_arguments,
    _figures_arguments,
    _table_arguments,
    _model_arguments,
)


def _build_parser() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser = _Parser(
        prog="kernelfactor",
        description="Does this convolution kernel factorise? Analyse, approximate, apply, cost.",
        epilog="Exit status: 0 ok, 1 bad input, 2 usage error. "
        "Run `kernelfactor COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"kernelfactor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add_arguments in _SUBCOMMANDS:
        add_arguments(sub, common)
    return parser


def _fail(message: str, status: int) -> int:
    print(f"error: {_one_line(message)}", file=sys.stderr)
    return status


#: Options whose value may start with "-" (a formula such as "-x*y").
_FORMULA_OPTIONS = ("--expr",)


def _join_option_values(argv: list[str]) -> list[str]:
    """``--expr -x*y`` -> ``--expr=-x*y``: argparse would read "-x*y" as an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _FORMULA_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") \
                and argv[i + 1] not in ("-h", "--help") and not argv[i + 1].startswith("--"):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


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
    argv = _join_option_values(list(sys.argv[1:] if argv is None else argv))
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
