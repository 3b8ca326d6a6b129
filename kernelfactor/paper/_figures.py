"""Regenerate every figure and table in ``figures/`` with one call, byte-identically.

:func:`regenerate_figures` computes every result through the public numeric
API, draws it with :mod:`kernelfactor.plotting` and writes each figure in each
format with everything that would change between runs pinned down:

* no pyplot: figures are :class:`matplotlib.figure.Figure` objects rendered
  by the Agg / PDF / SVG canvases, so the global backend is never touched;
* ``svg.hashsalt`` fixed, no dates in the metadata (PDF ``CreationDate``,
  PNG ``Software``, SVG ``Date``) and a fixed producer string;
* measured times come from the stored benchmark file
  ``kernelfactor/data/timings.json`` (written by
  ``python benchmarks/bench_tradeoff.py --write kernelfactor/data/timings.json``),
  never timed live;
* the photograph is matplotlib's bundled ``grace_hopper.jpg``; no downloads;
* the bank figure fits shared separable bases (CP, TensorLy) from a
  deterministic start and draws their errors to 3 significant digits;
* the network figure runs a small built-in network with numpy
  (:func:`kernelfactor.paper.example_network_tradeoff`): no ``onnx``, no
  onnxruntime, nothing timed.
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from .. import plotting
from .._banks import gabor_bank, steerable_bank
from .._catalogue import get_kernel
from .._coerce import format_kernel_spec
from .._lowrank import lowrank
from .._report import format_table
from .._svd import Analysis, analyze
from .._typing import PathLike
from .._validation import _check_choice, _describe
from ._network import example_network_tradeoff
from ._survey import (
    KernelSpec,
    _specs,
    bank_curve,
    depthwise_cost_grid,
    error_curve,
    kernel_label,
    residual_comparison,
    survey,
    tradeoff,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "DEFAULT_TRADEOFF_KERNELS",
    "FIGURES",
    "FIGURE_FORMATS",
    "FIGURE_NAMES",
    "TIMINGS_PATH",
    "FigureSpec",
    "load_timings",
    "regenerate_figures",
]

#: Output formats, sorted.
FIGURE_FORMATS: tuple[str, ...] = ("pdf", "png", "svg")

#: The stored benchmark file read for the measured-time panel.
TIMINGS_PATH = pathlib.Path(__file__).parent.parent / "data" / "timings.json"

#: Kernels of the spectrum and trade-off figures (name, params).
DEFAULT_TRADEOFF_KERNELS: tuple[tuple[str, dict[str, float]], ...] = (
    ("sobel_x", {}),
    ("gaussian", {"sigma": 2.0}),
    ("log", {"sigma": 2.0}),
    ("disk", {"radius": 5.0}),
    ("gabor", {"theta": round(math.pi / 6, 6)}),
    ("motion_blur", {"angle": 30.0}),
)

_ERROR_KERNEL = ("disk", {"radius": 5.0})
_FACTORS_KERNEL = ("log", {"sigma": 2.0})
_RESIDUAL_KERNEL = ("disk", {"radius": 5.0})
_RESIDUAL_RANK = 2
_DPI = 200
_PRODUCER = "kernelfactor"
_METADATA: dict[str, dict[str, str | None]] = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": _PRODUCER, "Creator": _PRODUCER},
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": _PRODUCER},
}
_RC: dict[RcKeyType, bool | float | str] = {
    "svg.hashsalt": "kernelfactor", "svg.fonttype": "path", "pdf.fonttype": 42,
    "path.simplify": True,
}
_COMMAND = "kernelfactor figures"


class _Timings(TypedDict):
    """The stored benchmark file: the keys read here (it holds more)."""

    image_shape: list[int]
    timings: dict[str, float]


def load_timings(path: PathLike | None = None) -> _Timings:
    """Read the stored benchmark file (default :data:`TIMINGS_PATH`).

    Returns
    -------
    dict
        ``{"image_shape": [H, W], "timings": {key: seconds}, ...}``, keys as
        :func:`kernelfactor._survey.timing_key`; ``timings`` empty when the
        file does not exist.
    """
    p = TIMINGS_PATH if path is None else pathlib.Path(path)
    if not p.exists():
        return {"image_shape": [512, 512], "timings": {}}
    with p.open(encoding="utf-8") as f:
        data = json.load(f)  # checked for the mapping read here, then returned as it is
    timings = data.get("timings") if isinstance(data, dict) else None
    if not isinstance(timings, dict):
        raise ValueError(
            f"`path` {str(p)!r} is not a timings file (a JSON object with a 'timings' mapping); "
            "rewrite it with `python benchmarks/bench_tradeoff.py --write PATH`."
        )
    return data


def _photo() -> np.ndarray:
    """matplotlib's bundled photograph as grey levels in [0, 1], 2x2-averaged to 256 x 300."""
    import matplotlib.cbook as cbook
    import matplotlib.image as mimage

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    rgb = np.asarray(mimage.imread(str(path)), dtype=np.float64)[..., :3] / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma
    h, w = (grey.shape[0] // 2) * 2, (grey.shape[1] // 2) * 2
    return grey[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def _figure(size: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def _save(fig: Figure, out: pathlib.Path, stem: str, formats: Sequence[str]) -> list[pathlib.Path]:
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=_DPI, metadata=_METADATA[fmt])
        paths.append(path)
    return paths


@dataclass(frozen=True)
class _Inputs:
    """What every figure may read: the kernels of the multi-kernel figures and the timings."""

    kernels: Sequence[tuple[str, dict[str, object]]]
    timings: _Timings


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the paper set: what it shows, and how it is computed and drawn.

    Attributes
    ----------
    name : str
        The file stem (``<name>.<format>``).
    description : str
        One line for ``figures/README.md``.
    size : tuple of float
        Width and height in inches.
    draw : callable
        ``draw(inputs, fig)``: computes the results through the numeric API
        (the survey functions) and draws them with :mod:`kernelfactor.plotting`.
    """

    name: str
    description: str
    size: tuple[float, float]
    draw: Callable[[_Inputs, Figure], None]


def _analysis(kernel: np.ndarray) -> Analysis:
    a = analyze(kernel)
    assert isinstance(a, Analysis)  # catalogue kernels are 2-D
    return a


def _draw_spectra(inputs: _Inputs, fig: Figure) -> None:
    analyses = {kernel_label(n, p): _analysis(get_kernel(n, **p)) for n, p in inputs.kernels}
    plotting.plot_spectrum(analyses, ax=fig.add_subplot())


def _draw_error_vs_rank(inputs: _Inputs, fig: Figure) -> None:
    plotting.plot_error_vs_rank(error_curve(_ERROR_KERNEL), ax=fig.add_subplot())


def _draw_tradeoff(inputs: _Inputs, fig: Figure) -> None:
    h, w = inputs.timings.get("image_shape", (512, 512))
    points = tradeoff(inputs.kernels, image_shape=(h, w), timings=inputs.timings["timings"])
    timed = any(p.seconds is not None for p in points)
    costs = ("multiplications", "seconds") if timed else ("multiplications",)
    axes = fig.subplots(1, len(costs), sharey=True, squeeze=False)[0]
    plotting.plot_tradeoff(points, cost=costs, ax=axes if len(costs) > 1 else axes[0])


def _draw_factors(inputs: _Inputs, fig: Figure) -> None:
    n, p = _FACTORS_KERNEL
    plotting.plot_factors(lowrank(get_kernel(n, **p)), label=kernel_label(n, p), fig=fig)


def _draw_residual(inputs: _Inputs, fig: Figure) -> None:
    plotting.plot_residual(residual_comparison(_photo(), _RESIDUAL_KERNEL, _RESIDUAL_RANK),
                           fig=fig)


def _draw_depthwise_cost(inputs: _Inputs, fig: Figure) -> None:
    plotting.plot_depthwise_cost(depthwise_cost_grid(), ax=fig.add_subplot())


def _draw_network_tradeoff(inputs: _Inputs, fig: Figure) -> None:
    result = example_network_tradeoff()
    left, right = fig.subplots(1, 2)
    plotting.plot_layer_tradeoff(result, ax=left)
    plotting.plot_network_tradeoff(result, ax=right)


def _draw_banks(inputs: _Inputs, fig: Figure) -> None:
    # 8 orientations of 13 x 13 each (the same direct cost): the 11 CP fits, one per basis
    # size, take about two seconds
    curves = [
        bank_curve(gabor_bank(8, (2.0,)), "Gabor ($\\sigma$ = 2)"),
        bank_curve(steerable_bank(2, 8), "steerable 2nd derivatives"),
    ]
    plotting.plot_bank_basis(curves, ax=fig.subplots(1, 2, sharey=True))


_SINGLE, _DOUBLE = 3.5, 7.0  # plotting.SINGLE_COLUMN and DOUBLE_COLUMN, in inches

#: Every figure of the paper set, in order: adding a figure is one entry here.
FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec(
            "spectra",
            "Normalised singular values of the trade-off kernels, the tolerance band, the "
            "numerical rank, and rounding noise on its own row.",
            (_SINGLE, 3.4), _draw_spectra,
        ),
        FigureSpec(
            "error_vs_rank",
            "Relative Frobenius, spectral and l1 errors against rank, with the output-error "
            "bounds (anti-aliased disk, radius 5).",
            (_SINGLE, 3.4), _draw_error_vs_rank,
        ),
        FigureSpec(
            "tradeoff",
            "Relative error against counted multiplications per pixel and measured time "
            "(from kernelfactor/data/timings.json), with each kernel's Pareto front.",
            (_DOUBLE, 3.0), _draw_tradeoff,
        ),
        FigureSpec(
            "factors",
            "LoG (sigma 2) as a heat map beside its rank-1 terms as stem plots.",
            (_DOUBLE, 2.6), _draw_factors,
        ),
        FigureSpec(
            "residual",
            "A photograph (matplotlib's grace_hopper.jpg) filtered with the disk (radius 5) "
            "exactly and at rank 2, their difference, and the inf-norm bound.",
            (_DOUBLE, 2.5), _draw_residual,
        ),
        FigureSpec(
            "depthwise_cost",
            "Depthwise-separable over standard layer multiplications across K and N, with the "
            "seed example.",
            (_SINGLE, 2.8), _draw_depthwise_cost,
        ),
        FigureSpec(
            "banks",
            "Filter banks over shared separable filters: relative error against the basis "
            "size M and against multiplications per pixel, achieved (CP) and the certified "
            "lower bound, for a Gabor bank and a steerable bank (8 orientations of 13x13 each).",
            (_DOUBLE, 3.0), _draw_banks,
        ),
        FigureSpec(
            "network_tradeoff",
            "A small MobileNet-style network (numpy, kernelfactor.conv2d) with its depthwise "
            "layers at spatial rank k: each layer's kernel error against its multiplications, "
            "and the output's relative L2 error against the network's total multiplications.",
            (_DOUBLE, 3.0), _draw_network_tradeoff,
        ),
    )
}

#: The figures made by :func:`regenerate_figures`, in order (the keys of :data:`FIGURES`).
FIGURE_NAMES: tuple[str, ...] = tuple(FIGURES)


def _readme(files: dict[str, list[str]], command: str) -> str:
    lines = [
        "# Figures and tables",
        "",
        "Generated by one command; every file below is byte-identical on every run",
        "(fixed seeds and `svg.hashsalt`, no dates in the metadata, measured times read",
        "from `kernelfactor/data/timings.json`, not timed live).",
        "",
        "**Across machines.** The numbers are the same on every machine whatever LAPACK",
        "and BLAS kernels its CPU selects: rounding noise (a singular value, error or ratio",
        "at or below the verdict's tolerance, whose last digits differ between builds) is",
        "never drawn or written as digits: it is `0 (below tol)` in the tables and a",
        "marker on a labelled row below an axis break in the figures, and every other",
        "value is rounded to 6 significant digits first (3 in the tables).",
        "`tests/test_noise.py` checks this by simulating another LAPACK build.",
        "The image files themselves (PNG pixels, PDF and SVG text) depend on the",
        "matplotlib version, its bundled fonts and FreeType: with another matplotlib",
        "the tables stay byte-identical and the figures show the same data but may",
        "differ in bytes.",
        "",
        "```",
        command,
        "```",
        "",
        "The measured times were written by",
        "`python benchmarks/bench_tradeoff.py --write kernelfactor/data/timings.json`.",
        "",
        "| File | Contents | Command |",
        "| :--- | :--- | :--- |",
    ]
    for stem, names in files.items():
        desc = FIGURES[stem].description if stem in FIGURES else ""
        if stem == "table":
            desc = "The catalogue table: one row per kernel (markdown, LaTeX booktabs, CSV)."
            cmd = "`kernelfactor table --format markdown` (likewise `latex`, `csv`)"
        else:
            cmd = f"`{command}`"
        lines.append(f"| {', '.join(f'`{n}`' for n in names)} | {desc} | {cmd} |")
    return "\n".join(lines) + "\n"


def regenerate_figures(
    out_dir: PathLike = "figures",
    formats: Sequence[str] = ("pdf", "png", "svg"),
    kernels: Iterable[KernelSpec] | None = None,
    progress: Callable[[str, int, int, float], None] | None = None,
    *,
    only: Sequence[str] | None = None,
    timings_path: PathLike | None = None,
) -> list[pathlib.Path]:
    """Compute, draw and write every figure and table, deterministically.

    Parameters
    ----------
    out_dir : str or path
        Created if needed.  Receives ``<figure>.<format>`` for each figure of
        :data:`FIGURE_NAMES`, ``table.md``, ``table.tex``, ``table.csv`` and
        ``README.md`` (the list of files and the command that made them).
    formats : sequence of {"pdf", "png", "svg"}
    kernels : list of str or (str, dict), optional
        Kernels of the spectrum and trade-off figures (default
        :data:`DEFAULT_TRADEOFF_KERNELS`; names or ``(name, params)``).  The
        table always covers the whole catalogue.
    progress : callable, optional
        Called after each item as ``progress(name, i, n, seconds)``
        (``i`` from 1 to ``n``).
    only : sequence of str, optional
        Make only these figures (names from :data:`FIGURE_NAMES`, or
        ``"table"``); the README is then not rewritten.
    timings_path : str or path, optional
        The stored benchmark file (default :data:`TIMINGS_PATH`).

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = regenerate_figures(d, formats=("png",), only=("depthwise_cost",))
    ...     [p.name for p in paths]
    ['depthwise_cost.png']
    """
    import matplotlib


    fmts = list(dict.fromkeys(formats))
    if isinstance(formats, str) or not fmts:
        raise ValueError(
            f"`formats` must be a non-empty sequence from {list(FIGURE_FORMATS)}; "
            f"got {_describe(formats)}."
        )
    for fmt in fmts:
        _check_choice(fmt, FIGURE_FORMATS, "formats")
    names = [*FIGURE_NAMES, "table"]
    if only is not None:
        if isinstance(only, str):
            only = [only]
        for item in only:
            _check_choice(item, tuple(sorted(names)), "only")
        names = [n for n in names if n in set(only)]
    specs = _specs(DEFAULT_TRADEOFF_KERNELS if kernels is None else kernels)
    timings = load_timings(timings_path)
    inputs = _Inputs(specs, timings)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []
    files: dict[str, list[str]] = {}

    with matplotlib.rc_context({**plotting.STYLE, **_RC}):
        for i, name in enumerate(names, start=1):
            start = time.perf_counter()
            if name == "table":
                rows = survey()
                paths = []
                for fmt, ext in (("markdown", "md"), ("latex", "tex"), ("csv", "csv")):
                    path = out / f"table.{ext}"
                    path.write_text(format_table(rows, fmt), encoding="utf-8")
                    paths.append(path)
            else:
                spec = FIGURES[name]
                fig = _figure(spec.size)
                spec.draw(inputs, fig)
                paths = _save(fig, out, name, fmts)
            written += paths
            files[name] = [p.name for p in paths]
            if progress is not None:
                progress(name, i, len(names), time.perf_counter() - start)
    if only is None:
        command = _COMMAND
        if kernels is not None:
            command += " --kernels " + " ".join(format_kernel_spec(n, p) for n, p in specs)
        if tuple(fmts) != FIGURE_FORMATS:
            command += " --format " + " ".join(fmts)
        readme = out / "README.md"
        readme.write_text(_readme(files, command), encoding="utf-8")
        written.append(readme)
    return written
