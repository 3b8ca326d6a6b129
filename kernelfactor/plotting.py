"""Paper-ready figures from precomputed results.

Every function takes results computed elsewhere (:func:`kernelfactor.analyze`,
:func:`kernelfactor.lowrank`, and the survey functions of :mod:`kernelfactor.paper`:
``error_curve``, ``tradeoff``, ``residual_comparison``, ``depthwise_cost_grid``,
``bank_curve``),
draws them, and returns ``(fig, ax)``; nothing is analysed or filtered here.
Pass ``ax=`` (or ``fig=`` for the multi-panel figures) to draw into your own
figure; without it a new figure sized for a single column (3.5 in) or a double
column (7 in) is made with :mod:`matplotlib.pyplot`, which is imported only
then (``import kernelfactor.plotting`` does not import pyplot).

Colours are the Okabe-Ito palette (distinguishable with the common forms of
colour blindness), every series also has its own marker or line style, and
fonts are 7-8 pt, readable at both widths.  :data:`STYLE` holds the rcParams
used; wrap your own figures in ``matplotlib.rc_context(STYLE)`` to match.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import kernelfactor as kf
>>> from kernelfactor import plotting
>>> fig, ax = plotting.plot_spectrum(kf.analyze("disk"))
>>> ax.get_yscale()
'log'
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from ._noise import NOISE_TEXT, significant
from ._validation import _check_choice, _describe

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.typing import RcKeyType

    from ._lowrank import LowRankKernel
    from ._svd import Analysis

__all__ = [
    "DOUBLE_COLUMN",
    "OKABE_ITO",
    "SINGLE_COLUMN",
    "STYLE",
    "plot_bank_basis",
    "plot_depthwise_cost",
    "plot_error_vs_rank",
    "plot_factors",
    "plot_layer_tradeoff",
    "plot_network_tradeoff",
    "plot_residual",
    "plot_spectrum",
    "plot_tradeoff",
]

#: The Okabe-Ito colour-blind-safe palette, in the order used (yellow last:
#: it is faint on white).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))

#: Figure widths in inches.
SINGLE_COLUMN: float = 3.5
DOUBLE_COLUMN: float = 7.0

#: rcParams for paper figures (fonts readable at 3.5 in and 7 in widths).
STYLE: dict[RcKeyType, bool | float | str] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "cividis",
}

_CMAP_SIGNED = "RdBu_r"  # diverging, red/blue: safe for red-green colour blindness


# ---------------------------------------------------------------------------
# What the functions read of the survey results
# ---------------------------------------------------------------------------
# The results of kernelfactor.paper (ErrorCurve, TradeoffPoint, ...) live in a
# higher layer than this module, which therefore names only the fields it
# draws (read-only, so the frozen dataclasses match); `_need` checks them at
# run time.


class _ErrorCurve(Protocol):
    """What :func:`plot_error_vs_rank` reads of a ``paper.ErrorCurve``."""

    @property
    def label(self) -> str: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def ranks(self) -> Sequence[int]: ...
    @property
    def fro_rel(self) -> Sequence[float]: ...
    @property
    def spectral_rel(self) -> Sequence[float]: ...
    @property
    def l1_rel(self) -> Sequence[float]: ...
    @property
    def freq_rel(self) -> Sequence[float]: ...
    @property
    def rank(self) -> int: ...
    @property
    def rounding(self) -> float: ...


class _TradeoffPoint(Protocol):
    """What :func:`plot_tradeoff` reads of a ``paper.TradeoffPoint``."""

    @property
    def label(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def rank(self) -> int | None: ...
    @property
    def error(self) -> float: ...
    @property
    def rounding(self) -> float: ...
    @property
    def multiplications(self) -> float: ...
    @property
    def seconds(self) -> float | None: ...
    @property
    def pareto(self) -> bool: ...
    @property
    def pareto_seconds(self) -> bool | None: ...
    @property
    def image_shape(self) -> tuple[int, int] | None: ...


class _BankCurve(Protocol):
    """What :func:`plot_bank_basis` reads of a ``paper.BankCurve``."""

    @property
    def label(self) -> str: ...
    @property
    def shape(self) -> tuple[int, int, int]: ...
    @property
    def sizes(self) -> Sequence[int]: ...
    @property
    def errors(self) -> Sequence[float]: ...
    @property
    def lower_bounds(self) -> Sequence[float]: ...
    @property
    def multiplications(self) -> Sequence[float]: ...
    @property
    def direct(self) -> float: ...
    @property
    def degenerate(self) -> Sequence[bool]: ...
    @property
    def exact_size(self) -> int | None: ...
    @property
    def rounding(self) -> float: ...


class _ResidualComparison(Protocol):
    """What :func:`plot_residual` reads of a ``paper.ResidualComparison``."""

    @property
    def label(self) -> str: ...
    @property
    def rank(self) -> int: ...
    @property
    def image(self) -> NDArray[np.float64]: ...
    @property
    def exact(self) -> NDArray[np.float64]: ...
    @property
    def approx(self) -> NDArray[np.float64]: ...
    @property
    def difference(self) -> NDArray[np.float64]: ...
    @property
    def max_abs_difference(self) -> float: ...
    @property
    def bound(self) -> float: ...


class _DepthwiseCostGrid(Protocol):
    """What :func:`plot_depthwise_cost` reads of a ``paper.DepthwiseCostGrid``."""

    @property
    def kernel_sizes(self) -> Sequence[int]: ...
    @property
    def out_channels(self) -> Sequence[int]: ...
    @property
    def standard(self) -> Sequence[Sequence[int]]: ...
    @property
    def depthwise(self) -> Sequence[Sequence[int]]: ...
    @property
    def seed(self) -> Mapping[str, float]: ...


class _LayerCurve(Protocol):
    """What :func:`plot_layer_tradeoff` reads of a ``paper.LayerCurve``."""

    @property
    def kernel(self) -> tuple[int, int]: ...
    @property
    def multiplications(self) -> int | None: ...
    @property
    def ranks(self) -> Sequence[int]: ...
    @property
    def rank_multiplications(self) -> Sequence[int | None]: ...
    @property
    def errors(self) -> Sequence[float | None]: ...


class _NetworkTradeoff(Protocol):
    """What the network plots read of a ``paper.NetworkTradeoff``."""

    @property
    def layers(self) -> Sequence[_LayerCurve]: ...
    @property
    def multiplications(self) -> int: ...
    @property
    def ranks(self) -> Sequence[int]: ...
    @property
    def rank_multiplications(self) -> Sequence[int]: ...
    @property
    def metric_name(self) -> str: ...
    @property
    def metric(self) -> Sequence[float]: ...
    @property
    def reference_metric(self) -> float: ...


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """Apply :data:`STYLE` while drawing, keeping pyplot's interactive state.

    ``rc_context`` restores every rcParam on exit, ``interactive`` included: if
    pyplot first resolves its backend (e.g. Jupyter's inline backend, which
    switches interactive mode on) inside the context, leaving it would switch
    interactive mode off again and later figures would not display.
    """
    import matplotlib

    with matplotlib.rc_context(STYLE):
        try:
            yield
        finally:
            interactive = matplotlib.is_interactive()
    matplotlib.interactive(interactive)


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure | SubFigure, Axes]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, new = plt.subplots(figsize=size, layout="constrained")
    return fig, new


def _new_figure(fig: Figure | SubFigure | None, size: tuple[float, float]) -> Figure | SubFigure:
    if fig is not None:
        if fig.axes:
            raise ValueError(
                f"`fig` must be an empty figure (it is filled with a grid of panels); "
                f"got one with {len(fig.axes)} axes. Pass `plt.figure()` or None."
            )
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size, layout="constrained")


def _axes_row(
    ax: Axes | Sequence[Axes] | NDArray[np.object_] | None, n: int, name: str
) -> tuple[Figure | SubFigure, list[Axes]]:
    """The panels of a figure with one panel per entry of the parameter `name`.

    New ones side by side (sharing the y axis) when `ax` is None, else the
    caller's: one Axes for one panel, a sequence of `n` Axes for several.
    """
    if ax is None:
        if n == 1:
            fig, axes = _new_axes(None, (SINGLE_COLUMN, 2.8))
            return fig, [axes]
        import matplotlib.pyplot as plt

        fig, arr = plt.subplots(1, n, figsize=(DOUBLE_COLUMN, 3.0), layout="constrained",
                                sharey=True)
        return fig, list(np.ravel(arr))
    if isinstance(ax, (Sequence, np.ndarray)):
        axes_list = list(np.ravel(np.asarray(ax, dtype=object)))
    else:
        axes_list = [ax]
    if len(axes_list) != n:
        raise ValueError(
            f"`ax` must hold one Axes per `{name}` entry ({n}); got {len(axes_list)}."
        )
    return axes_list[0].figure, axes_list


def _ticks(ax: Axes) -> None:
    ax.tick_params(labelsize=STYLE["xtick.labelsize"], width=0.6, length=3)


def _integer_ticks(ax: Axes) -> None:
    """Integer x ticks (ranks, sizes), where the x axis has matplotlib's default locator."""
    from matplotlib.ticker import MaxNLocator

    locator = ax.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
        locator.set_params(integer=True)


def _floor(values: np.ndarray, floor: float) -> np.ndarray:
    """Values below `floor` (zeros included) drawn at `floor` on a log axis."""
    return np.maximum(np.asarray(values, dtype=np.float64), floor)


def _need(obj: object, attrs: Sequence[str], name: str, what: str) -> None:
    missing = [a for a in attrs if not hasattr(obj, a)]
    if missing:
        raise TypeError(
            f"`{name}` must be {what}; got {_describe(obj)} (no {', '.join(missing)})."
        )


# ---------------------------------------------------------------------------
# Singular spectra
# ---------------------------------------------------------------------------


def plot_spectrum(
    analyses: Analysis | Mapping[str, Analysis] | Sequence[Analysis],
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> tuple[Figure | SubFigure, Axes]:
    """Normalised singular values on a log scale, with the tolerance and the rank.

    Parameters
    ----------
    analyses : Analysis, mapping or sequence of Analysis
        :func:`kernelfactor.analyze` results; a mapping ``{label: Analysis}``
        or a sequence with `labels` draws several kernels on one axes.
    labels : sequence of str, optional
        Legend labels for a sequence.
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Notes
    -----
    Plotted: :math:`\\sigma_i / \\sigma_1` against :math:`i`; counted values
    (:math:`\\sigma_i > \\mathrm{tol}`) filled, dropped ones hollow.  Values
    at or below the noise floor (the tolerance, at least
    :math:`\\max(m, n)\\,\\varepsilon\\,\\sigma_1`) are rounding noise: their
    digits differ between LAPACK builds, so they are drawn as downward
    triangles on a labelled "0 (below tol)" row below an axis break, never
    at their values.  The kernels' relative tolerances are one grey band; the
    numerical rank is in the legend and, for one kernel, a vertical line.
    """
    if isinstance(analyses, Mapping):
        items = [(str(k), v) for k, v in analyses.items()]
    elif isinstance(analyses, Sequence) and not isinstance(analyses, (str, bytes)):
        names = list(labels) if labels is not None else [f"kernel {i + 1}" for i in
                                                          range(len(analyses))]
        if len(names) != len(analyses):
            raise ValueError(
                f"`labels` must have one entry per analysis ({len(analyses)}); got {len(names)}."
            )
        items = list(zip(names, analyses, strict=True))
    else:
        items = [(labels[0] if labels else "", analyses)]
    if not items:
        raise ValueError("`analyses` is empty; pass at least one analysis.")
    for _, a in items:
        _need(a, ("singular_values", "tol", "rank"), "analyses", "an Analysis (kf.analyze)")
    with _style():
        fig, ax = _new_axes(ax, (SINGLE_COLUMN, 3.4))
        rel_tols = [_noise_floor(a) / a.singular_values[0] for _, a in items
                    if a.singular_values[0] > 0]
        lo, hi = (min(rel_tols), max(rel_tols)) if rel_tols else (1e-16, 1e-16)
        floor = 10.0 ** (np.floor(np.log10(lo)) - 2)
        kmax = 1
        for i, (label, a) in enumerate(items):
            color, marker = OKABE_ITO[i % len(OKABE_ITO)], _MARKERS[i % len(_MARKERS)]
            s = np.asarray(a.singular_values, dtype=np.float64)
            s1 = s[0] if s[0] > 0 else 1.0
            noise = s <= _noise_floor(a)
            y = np.where(noise, floor, [significant(v) for v in s / s1])
            idx = np.arange(1, s.size + 1)
            kmax = max(kmax, s.size)
            name = f"{label}: rank {a.rank}" if label else f"rank {a.rank}"
            ax.plot(idx, y, color=color, lw=0.8, alpha=0.6)
            kept = idx <= a.rank
            ax.plot(idx[kept & ~noise], y[kept & ~noise], ls="none", marker=marker, color=color,
                    label=name)
            ax.plot(idx[~kept & ~noise], y[~kept & ~noise], ls="none", marker=marker,
                    mfc="white", color=color)
            ax.plot(idx[noise], y[noise], ls="none", marker="v", mfc="white", color=color)
            if len(items) == 1:
                ax.axvline(a.rank + 0.5, color="0.4", ls=":", lw=0.8)
                ax.annotate(f"numerical rank {a.rank}", xy=(a.rank + 0.5, 1.0),
                            xytext=(3, -2), textcoords="offset points", va="top",
                            fontsize=STYLE["legend.fontsize"], color="0.3")
        one = bool(np.isclose(lo, hi, atol=0.0))
        band = f"{_short(lo)}" if one else f"{_short(lo)} to {_short(hi)}"
        ax.axhspan(lo, hi * 1.3 if one else hi, color="0.75", lw=0, zorder=0)
        ax.plot([], [], color="0.75", lw=4,
                label=f"tolerance / $\\sigma_1$ ({band})")
        ax.plot([], [], color="0.3", ls="none", marker="v", mfc="white",
                label="below tol: rounding noise")
        ax.set_yscale("log")
        ax.set_ylim(floor / 3, 3.0)
        _floor_row(ax, floor, lo)
        ax.set_xlim(0.5, kmax + 0.5)
        _integer_ticks(ax)
        ax.set_xlabel("index $i$")
        ax.set_ylabel(r"$\sigma_i / \sigma_1$")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        _ticks(ax)
    return fig, ax


def _noise_floor(analysis: Analysis) -> float:
    """The analysis' noise floor (its tolerance for objects without one)."""
    return float(getattr(analysis, "noise_floor", analysis.tol))


def _short(value: float) -> str:
    """``3e-16``-style text for a tolerance (two significant digits)."""
    mant, _, exp = f"{value:.1e}".partition("e")
    return f"{mant}e{int(exp)}"


def _floor_row(ax: Axes, floor: float, top: float, text: str = NOISE_TEXT) -> None:
    """Label the y position `floor` as `text` and mark the axis break above it.

    Ticks are the decades from just above `top` up to 1 (every other decade
    when there are many), plus the floor row; a break mark sits on the y axis
    between the floor row and the lowest decade.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    first = int(np.floor(np.log10(top))) + 1
    decades = list(range(first, 1))
    step = 1 if len(decades) <= 6 else 2 if len(decades) <= 12 else 4
    ticks = [10.0**e for e in decades[::-1][::step]]
    ax.yaxis.set_major_locator(FixedLocator([floor, *ticks]))
    ax.yaxis.set_minor_locator(NullLocator())

    def label(y: float, _pos: int) -> str:
        if np.isclose(y, floor, rtol=1e-6, atol=0.0):
            return text
        return f"$10^{{{round(np.log10(y))}}}$"

    ax.yaxis.set_major_formatter(FuncFormatter(label))
    cut = float(np.sqrt(floor * min(top, 10.0 ** (first - 1))))
    ax.plot([0.0], [cut], transform=ax.get_yaxis_transform(), marker=[(-1, -0.5), (1, 0.5)],
            markersize=7, ls="none", color="k", mew=0.8, clip_on=False, zorder=5,
            gid="axis-break")


# ---------------------------------------------------------------------------
# Errors against rank
# ---------------------------------------------------------------------------


def plot_error_vs_rank(
    curve: _ErrorCurve, *, ax: Axes | None = None, legend: bool = True
) -> tuple[Figure | SubFigure, Axes]:
    """Relative Frobenius, spectral and l1 errors against rank, with the output-error bounds.

    Parameters
    ----------
    curve : ErrorCurve
        From :func:`kernelfactor.paper.error_curve`.
    ax : matplotlib Axes, optional
    legend : bool
        Draw the legend below the axes (pass False for all but one panel of
        a grid of curves, or use ``fig.legend`` once).

    Returns
    -------
    fig, ax

    Notes
    -----
    Four series against :math:`k`: :math:`\\|K - K_k\\|_F / \\|K\\|_F`,
    :math:`\\|K - K_k\\|_2 / \\|K\\|_2` (Eckart-Young), the relative l1 error,
    which is the (attained) bound on :math:`\\|(K - K_k) \\star x\\|_\\infty`
    relative to :math:`\\|K\\|_1 \\|x\\|_\\infty`, and the frequency-response
    bound on the l2 output error.  Errors at ranks at or above the numerical
    rank are rounding noise (stored as 0 by :func:`kernelfactor.paper.error_curve`)
    and are drawn on a labelled "0 (below tol)" row below an axis break.
    """
    _need(curve, ("ranks", "fro_rel", "spectral_rel", "l1_rel", "freq_rel", "rounding"),
          "curve", "an ErrorCurve (kernelfactor.paper.error_curve)")
    series = (
        ("fro_rel", "Frobenius (kernel)"),
        ("spectral_rel", "spectral (kernel)"),
        ("l1_rel", r"$\ell_1$ = bound on $\|\cdot\|_\infty$ output error"),
        ("freq_rel", r"frequency bound on $\|\cdot\|_2$ output error"),
    )
    with _style():
        fig, ax = _new_axes(ax, (SINGLE_COLUMN, 3.4))
        floor = 10.0 ** (np.floor(np.log10(curve.rounding)) - 1)
        ranks = np.asarray(curve.ranks)
        for i, (key, label) in enumerate(series):
            values = np.asarray(getattr(curve, key), dtype=np.float64)
            ax.plot(ranks, np.where(values <= curve.rounding, floor, values),
                    color=OKABE_ITO[i], marker=_MARKERS[i], ls=_LINESTYLES[i], label=label)
        ax.axhspan(floor * 2, curve.rounding, color="0.88", lw=0, zorder=0)
        ax.text(ranks[-1], curve.rounding, "rounding level", va="bottom", ha="right",
                fontsize=STYLE["legend.fontsize"], color="0.35")
        ax.axvline(curve.rank, color="0.4", ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(floor / 3, 3.0)
        _floor_row(ax, floor, curve.rounding)
        _integer_ticks(ax)
        ax.set_xlabel("rank $k$")
        ax.set_ylabel("relative error")
        ax.set_title(f"{curve.label} ({curve.shape[0]}$\\times${curve.shape[1]}), "
                     f"numerical rank {curve.rank}")
        if legend:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
        _ticks(ax)
    return fig, ax


# ---------------------------------------------------------------------------
# Error against cost
# ---------------------------------------------------------------------------

_COST_AXES = {
    "multiplications": ("multiplications", "multiplications per pixel (counted)"),
    "seconds": ("seconds", "time per image (s; measured, one thread{size})"),
}
_METHOD_MARKERS = {"separable": "o", "direct": "s", "fft": "^"}


def plot_tradeoff(
    points: Sequence[_TradeoffPoint],
    *,
    cost: str | Sequence[str] = "multiplications",
    ax: Axes | Sequence[Axes] | NDArray[np.object_] | None = None,
) -> tuple[Figure | SubFigure, Axes | NDArray[np.object_]]:
    """Error against cost across kernels and ranks, with each kernel's Pareto front.

    Parameters
    ----------
    points : sequence of TradeoffPoint
        From :func:`kernelfactor.paper.tradeoff` (pass ``timings=`` there for the
        measured-time panel).
    cost : {"multiplications", "seconds"} or a sequence of them
        The x axis: counted multiplications per pixel or measured seconds.
        A sequence (e.g. ``("multiplications", "seconds")``) draws one panel
        per entry side by side.
    ax : Axes, or a sequence of Axes (one per `cost` entry), optional

    Returns
    -------
    fig, ax
        ``ax`` is one Axes for a single `cost`, else an array of Axes.

    Notes
    -----
    Colours tell kernels apart, markers methods (circles: separable at rank
    :math:`k`, labelled; squares: direct; triangles: FFT).  Points on the
    kernel's Pareto front (no other way is both cheaper and more accurate;
    errors at rounding level count as 0) are filled and joined by a step
    line; dominated points are hollow.  Exact ways (error 0, or at the
    rounding level: rounding noise) sit on their own row labelled "exact",
    below an axis break.  The legends sit below the panels, off the data; the
    measured-time axis states the image size of the timings.
    """
    costs = [cost] if isinstance(cost, str) else list(cost)
    for c in costs:
        _check_choice(c, tuple(_COST_AXES), "cost")
    pts = list(points)
    if not pts:
        raise ValueError(
            "`points` is empty; pass the result of `kernelfactor.paper.tradeoff(...)`."
        )
    for p in pts:
        _need(p, ("label", "method", "error", "multiplications", "pareto"), "points",
              "a sequence of TradeoffPoint (kernelfactor.paper.tradeoff)")
    if "seconds" in costs and all(p.seconds is None for p in pts):
        raise ValueError(
            "`cost='seconds'` needs measured times; none of the `points` has one. Pass "
            "`timings=` to `kernelfactor.paper.tradeoff` (e.g. the stored benchmark file)."
        )
    with _style():
        fig, axes_list = _axes_row(ax, len(costs), "cost")
        labels = list(dict.fromkeys(p.label for p in pts))
        inexact = [p.error for p in pts if p.error > p.rounding]
        lowest = min(inexact) if inexact else 1.0
        floor = 10.0 ** (np.floor(np.log10(lowest)) - 1)

        def y(p: _TradeoffPoint) -> float:
            return floor if p.error <= p.rounding else float(p.error)

        shapes = {tuple(s) for p in pts if (s := getattr(p, "image_shape", None))}
        for axis, c in zip(axes_list, costs, strict=True):
            attr, xlabel = _COST_AXES[c]
            if len(shapes) == 1:
                ((h, w),) = shapes
                xlabel = xlabel.format(size=f", {h}$\\times${w}")
            else:
                xlabel = xlabel.format(size="")
            flag = "pareto" if c == "multiplications" else "pareto_seconds"
            for i, label in enumerate(labels):
                color = OKABE_ITO[i % len(OKABE_ITO)]
                mine = [p for p in pts if p.label == label and getattr(p, attr) is not None]
                if not mine:
                    continue
                front = sorted((p for p in mine if getattr(p, flag)),
                               key=lambda p: (getattr(p, attr), p.error))
                if front:
                    axis.plot([getattr(p, attr) for p in front], [y(p) for p in front],
                              color=color, lw=0.9, drawstyle="steps-post", alpha=0.8)
                sep = [p for p in mine if p.method == "separable"]
                axis.plot([getattr(p, attr) for p in sep], [y(p) for p in sep],
                          color=color, lw=0.5, ls=":", alpha=0.8)
                for p in mine:
                    on = bool(getattr(p, flag))
                    axis.plot(getattr(p, attr), y(p), ls="none",
                              marker=_METHOD_MARKERS.get(p.method, "o"), color=color,
                              mfc=color if on else "white", ms=4.5)
                    if p.method == "separable" and p.error > p.rounding:
                        axis.annotate(f"{p.rank}", (getattr(p, attr), p.error),
                                      xytext=(2, 2), textcoords="offset points",
                                      fontsize=5.5, color=color)
                if axis is axes_list[0]:
                    axis.plot([], [], color=color, lw=2, label=label)
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_ylim(floor / 2, max([p.error for p in pts] + [floor * 10]) * 2)
            _floor_row(axis, floor, floor * 10 ** 0.5, text="exact")
            axis.set_xlabel(xlabel)
            axis.set_ylabel(r"relative error $\|K - K_k\|_F / \|K\|_F$")
            _ticks(axis)
        first, last = axes_list[0], axes_list[-1]
        handles = []
        for method, marker in _METHOD_MARKERS.items():
            name = "separable (rank $k$)" if method == "separable" else method
            handles += last.plot([], [], ls="none", marker=marker, color="0.3", label=name)
        handles += last.plot([], [], ls="none", marker="o", mfc="white", color="0.3",
                             label="dominated (hollow)")
        if last is first:
            first.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
        else:
            first.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
            last.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig, (axes_list[0] if len(costs) == 1 else np.asarray(axes_list, dtype=object))


# ---------------------------------------------------------------------------
# Filter banks: shared separable bases
# ---------------------------------------------------------------------------

_BANK_AXES = {
    "size": ("sizes", "shared separable filters $M$"),
    "multiplications": ("multiplications", "multiplications per pixel (counted)"),
}
_NEED_BANK = (
    ("label", "shape", "sizes", "errors", "lower_bounds", "multiplications", "direct",
     "degenerate", "exact_size", "rounding"),
    "a BankCurve or a sequence of them (kernelfactor.paper.bank_curve)",
)


def plot_bank_basis(
    curves: _BankCurve | Iterable[_BankCurve],
    *,
    x: str | Sequence[str] = ("size", "multiplications"),
    ax: Axes | Sequence[Axes] | NDArray[np.object_] | None = None,
) -> tuple[Figure | SubFigure, Axes | NDArray[np.object_]]:
    """A filter bank's error through a shared separable basis, against its size and its cost.

    Parameters
    ----------
    curves : BankCurve or sequence of BankCurve
        From :func:`kernelfactor.paper.bank_curve`.
    x : {"size", "multiplications"} or a sequence of them
        The x axis: the number :math:`M` of shared separable filters, or the
        counted multiplications per pixel :math:`M (h + w) + N M`.  A sequence
        draws one panel per entry side by side (default both).
    ax : Axes, or a sequence of Axes, optional
        One per entry of `x`; without it a new figure (7 in wide for two panels).

    Returns
    -------
    fig, ax
        The figure and its Axes: an array of them when there are several panels.

    Notes
    -----
    One colour per bank: the achieved relative Frobenius error over the bank
    (solid line, filled markers) and the certified lower bound on the error
    of *every* basis of that size (dashed line, hollow markers); the best
    basis lies between them.  Errors at the rounding level (the bank is exact
    over the basis) are rounding noise and sit on a labelled "0 (below tol)"
    row below an axis break.  On the cost axis a dotted line marks filtering
    with each kernel directly (:math:`N h w` per pixel); a degenerate fit (no
    best basis of that size exists) is crossed out.  The legend gives each
    bank's shape and the size at which it is exact.
    """
    items = list(curves) if isinstance(curves, Iterable) else [curves]
    if not items:
        raise ValueError("`curves` is empty; pass kernelfactor.paper.bank_curve(...) results.")
    for c in items:
        _need(c, _NEED_BANK[0], "curves", _NEED_BANK[1])
    panels = [x] if isinstance(x, str) else list(x)
    for p in panels:
        _check_choice(p, tuple(_BANK_AXES), "x")
    with _style():
        fig, axes_list = _axes_row(ax, len(panels), "x")
        shown = [float(v) for c in items for v in (*c.errors, *c.lower_bounds)
                 if v > c.rounding]
        lowest = min(shown) if shown else 1.0
        floor = 10.0 ** (np.floor(np.log10(lowest)) - 1)
        for axis, panel in zip(axes_list, panels, strict=True):
            attr, xlabel = _BANK_AXES[panel]
            for i, c in enumerate(items):
                color, marker = OKABE_ITO[i % len(OKABE_ITO)], _MARKERS[i % len(_MARKERS)]
                xs = [significant(v) for v in getattr(c, attr)]
                err = [floor if v <= c.rounding else float(v) for v in c.errors]
                low = [floor if v <= c.rounding else float(v) for v in c.lower_bounds]
                axis.plot(xs, low, color=color, marker=marker, mfc="white", ls="--", lw=0.8)
                axis.plot(xs, err, color=color, marker=marker, ls="-")
                for xv, yv, bad in zip(xs, err, c.degenerate, strict=True):
                    if bad:
                        axis.plot(xv, yv, ls="none", marker="x", color="black", ms=6, zorder=5)
            if panel == "multiplications":
                for direct in sorted({significant(c.direct) for c in items}):
                    axis.axvline(direct, color="0.4", ls=":", lw=0.8)
                    axis.annotate(f"direct: $N h w$ = {direct:,.0f}", (direct, 1.0),
                                  xytext=(-3, 0), textcoords="offset points", ha="right",
                                  va="top", fontsize=STYLE["legend.fontsize"], color="0.3")
                axis.set_xscale("log")
            else:
                _integer_ticks(axis)
            axis.set_yscale("log")
            axis.set_ylim(floor / 3, 2.0)
            _floor_row(axis, floor, lowest)
            axis.set_xlabel(xlabel)
            _ticks(axis)
        axes_list[0].set_ylabel("relative error over the bank")
        first, last = axes_list[0], axes_list[-1]
        for i, c in enumerate(items):
            n, h, w = c.shape
            exact = "" if c.exact_size is None else f", exact at $M$ = {c.exact_size}"
            first.plot([], [], color=OKABE_ITO[i % len(OKABE_ITO)], lw=2,
                       label=f"{c.label}: {n} of {h}$\\times${w}{exact}")
        styles = last if last is not first else first
        styles.plot([], [], color="0.3", marker="o", label="achieved (CP fit)")
        styles.plot([], [], color="0.3", marker="o", mfc="white", ls="--", lw=0.8,
                    label="certified lower bound")
        if any(any(c.degenerate) for c in items):
            styles.plot([], [], ls="none", marker="x", color="black", label="degenerate fit")
        first.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
        if last is not first:
            last.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    return fig, (axes_list[0] if len(panels) == 1 else np.asarray(axes_list, dtype=object))


# ---------------------------------------------------------------------------
# Kernel and its rank-1 terms
# ---------------------------------------------------------------------------


def plot_factors(
    approximation: LowRankKernel, *, max_terms: int = 4, label: str = "",
    fig: Figure | SubFigure | None = None,
) -> tuple[Figure | SubFigure, NDArray[np.object_]]:
    """The kernel as a heat map beside its rank-1 terms as stem plots.

    Parameters
    ----------
    approximation : LowRankKernel
        One kernel's :func:`kernelfactor.lowrank` result; the heat map shows
        the kernel itself (the approximation plus its residual), the stems the
        first `max_terms` terms :math:`c_i r_i^T`.
    max_terms : int
        At most this many terms are drawn.
    label : str
        The kernel's name, for the title.
    fig : matplotlib Figure, optional
        An empty figure to fill (a grid of ``2 x (1 + terms)`` panels); a new
        7 in wide figure if None.

    Returns
    -------
    fig, axes
        ``axes`` is an array: the heat map, then per term its column stems
        and its row stems.
    """
    _need(approximation, ("columns", "rows", "residual", "to_array"), "approximation",
          "a LowRankKernel (kf.lowrank)")
    if np.ndim(approximation.columns) != 2:
        raise ValueError("`approximation` must be one kernel's result, not a stack.")
    kernel = approximation.to_array() + approximation.residual
    cols = np.asarray(approximation.columns)[:max_terms]
    rows = np.asarray(approximation.rows)[:max_terms]
    n_terms = cols.shape[0]
    sv = np.asarray(approximation.singular_values)
    with _style():
        fig = _new_figure(fig, (DOUBLE_COLUMN, 2.6))
        grid = fig.add_gridspec(2, 1 + max(n_terms, 1), width_ratios=[1.6] + [1] * max(n_terms, 1))
        heat = fig.add_subplot(grid[:, 0])
        top = float(np.max(np.abs(kernel))) or 1.0
        image = heat.imshow(kernel, cmap=_CMAP_SIGNED, vmin=-top, vmax=top,
                            interpolation="nearest")
        fig.colorbar(image, ax=heat, shrink=0.8)
        m, n = kernel.shape
        heat.set_title(f"{label} {m}$\\times${n}".strip())
        heat.set_xlabel("column $q$")
        heat.set_ylabel("row $p$")
        axes = [heat]
        for i in range(n_terms):
            for j, (vec, which, color) in enumerate(
                ((cols[i], "column $c", OKABE_ITO[0]), (rows[i], "row $r", OKABE_ITO[1]))
            ):
                ax = fig.add_subplot(grid[j, 1 + i])
                lines = ax.stem(np.arange(vec.size), vec, basefmt=" ")
                lines.markerline.set_color(color)
                lines.markerline.set_markersize(3)
                lines.stemlines.set_color(color)
                ax.axhline(0.0, color="0.5", lw=0.5)
                ax.set_xlabel(f"{which}_{{{i + 1}}}$", labelpad=1)
                if j == 0:
                    ax.set_title(f"term {i + 1}: $\\sigma_{{{i + 1}}}$ = {sv[i]:.3g}")
                _ticks(ax)
                axes.append(ax)
        _ticks(heat)
    return fig, np.asarray(axes, dtype=object)


# ---------------------------------------------------------------------------
# A photograph filtered exactly and approximately
# ---------------------------------------------------------------------------


def plot_residual(
    result: _ResidualComparison, *, fig: Figure | SubFigure | None = None
) -> tuple[Figure | SubFigure, NDArray[np.object_]]:
    """A photograph, filtered exactly and at rank k, their difference and its bound.

    Parameters
    ----------
    result : ResidualComparison
        From :func:`kernelfactor.paper.residual_comparison` (the filtering is done
        there).
    fig : matplotlib Figure, optional
        An empty figure to fill with four panels in a row; a new 7 in wide
        figure if None.

    Returns
    -------
    fig, axes
        The four Axes: input, exact, rank-k, difference.

    Notes
    -----
    The difference panel is annotated with the measured
    :math:`\\|(K - K_k) \\star x\\|_\\infty` and the guaranteed bound
    :math:`\\|K - K_k\\|_1 \\|x\\|_\\infty`.
    """
    _need(result, ("image", "exact", "approx", "difference", "bound", "max_abs_difference"),
          "result", "a ResidualComparison (kernelfactor.paper.residual_comparison)")
    with _style():
        fig = _new_figure(fig, (DOUBLE_COLUMN, 2.5))
        axes = fig.subplots(1, 4)
        lo = float(min(result.exact.min(), result.approx.min()))
        hi = float(max(result.exact.max(), result.approx.max()))
        panels = (  # the input on its own grey scale, both filtered images on one
            (result.image, "input $x$", None, None),
            (result.exact, f"exact: {result.label}", lo, hi),
            (result.approx, f"rank {result.rank}", lo, hi),
        )
        for ax, (img, title, vmin, vmax) in zip(axes[:3], panels, strict=True):
            ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(title)
        span = float(np.max(np.abs(result.difference))) or 1.0
        diff = axes[3].imshow(result.difference, cmap=_CMAP_SIGNED, vmin=-span, vmax=span,
                              interpolation="nearest")
        fig.colorbar(diff, ax=axes[3], shrink=0.8)
        axes[3].set_title("difference")
        axes[3].text(
            0.5, -0.04,
            f"max |difference| = {result.max_abs_difference:.3g}\n"
            f"bound $\\|K - K_k\\|_1 \\|x\\|_\\infty$ = {result.bound:.3g}",
            transform=axes[3].transAxes, ha="center", va="top",
            fontsize=STYLE["legend.fontsize"],
        )
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
    return fig, axes


# ---------------------------------------------------------------------------
# CNN layers
# ---------------------------------------------------------------------------


def plot_depthwise_cost(
    grid: _DepthwiseCostGrid, *, ax: Axes | None = None
) -> tuple[Figure | SubFigure, Axes]:
    """Depthwise-separable over standard layer multiplications across ``K`` and ``N``.

    Parameters
    ----------
    grid : DepthwiseCostGrid
        From :func:`kernelfactor.paper.depthwise_cost_grid`.
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Notes
    -----
    One line per kernel size :math:`K` against the output channels :math:`N`
    (log-log), each with its asymptote :math:`1/K^2` dotted; the ratio is
    :math:`1/N + 1/K^2`.  The seed example is marked with a star.
    """
    _need(grid, ("kernel_sizes", "out_channels", "standard", "depthwise", "seed"), "grid",
          "a DepthwiseCostGrid (kernelfactor.paper.depthwise_cost_grid)")
    std = np.asarray(grid.standard, dtype=np.float64)
    dw = np.asarray(grid.depthwise, dtype=np.float64)
    ns = np.asarray(grid.out_channels)
    with _style():
        fig, ax = _new_axes(ax, (SINGLE_COLUMN, 2.6))
        for i, k in enumerate(grid.kernel_sizes):
            color = OKABE_ITO[i % len(OKABE_ITO)]
            ax.plot(ns, dw[i] / std[i], color=color, marker=_MARKERS[i % len(_MARKERS)],
                    ms=3, label=f"$K = {k}$")
            ax.axhline(1.0 / k**2, color=color, ls=":", lw=0.7)
        seed = grid.seed
        ax.plot(seed["N"], seed["ratio"], ls="none", marker="*", ms=10, color="black",
                mfc="#F0E442", zorder=5, label="seed example")
        ax.annotate(
            f"seed: $K$={seed['K']:g}, $N$={seed['N']:g}\n"
            f"{seed['depthwise']:,.0f} / {seed['standard']:,.0f} = {seed['ratio']:.4f}",
            (seed["N"], seed["ratio"]), xytext=(0.98, 0.74), textcoords="axes fraction",
            ha="right", va="bottom", fontsize=STYLE["legend.fontsize"],
            arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.6},
        )
        ax.axhline(1.0, color="0.5", lw=0.6)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("output channels $N$")
        ax.set_ylabel("depthwise-separable / standard\nmultiplications")
        ax.legend(loc="lower left", ncol=2)
        _ticks(ax)
    return fig, ax


# ---------------------------------------------------------------------------
# Networks: depthwise layers at spatial rank k
# ---------------------------------------------------------------------------

_NEED_NETWORK = (
    ("layers", "multiplications", "ranks", "rank_multiplications", "metric", "metric_name",
     "reference_metric"),
    "a NetworkTradeoff (kernelfactor.paper.network_tradeoff or example_network_tradeoff)",
)


def _share(part: int | None, whole: int | None) -> float:
    """``part / whole`` to 6 significant digits; NaN (not drawn) where a cost is unknown."""
    return np.nan if part is None or not whole else significant(part / whole)


def plot_layer_tradeoff(
    result: _NetworkTradeoff, *, ax: Axes | None = None
) -> tuple[Figure | SubFigure, Axes]:
    """Each depthwise layer's kernel error against its multiplications at ranks ``1 .. K - 1``.

    Parameters
    ----------
    result : NetworkTradeoff
        From :func:`kernelfactor.paper.network_tradeoff` or
        :func:`kernelfactor.paper.example_network_tradeoff`.
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Notes
    -----
    One thin line per layer through its ranks, coloured by kernel size; the
    marker tells the rank.  The x axis is the layer's multiplications at rank
    :math:`k` over the layer's as it is (the dotted line at 1: to the right,
    factorising costs more than it saves); the y axis the relative Frobenius
    error :math:`\\|W - W_k\\|_F / \\|W\\|_F` of the layer's weights.  Errors at
    rounding level (the kernels are exactly of rank :math:`\\le k`) sit on a row
    labelled "exact" below an axis break.
    """
    _need(result, _NEED_NETWORK[0], "result", _NEED_NETWORK[1])
    curves = [c for c in result.layers if c.multiplications]
    if not curves:
        raise ValueError("`result` has no depthwise layer with a known cost to draw.")
    with _style():
        fig, ax = _new_axes(ax, (SINGLE_COLUMN, 2.8))
        errors = [e for c in curves for e in c.errors if e is not None]
        floor = 10.0 ** (np.floor(np.log10(min(errors))) - 1) if errors else 1e-3
        sizes = sorted({tuple(c.kernel) for c in curves})
        colors = {k: OKABE_ITO[i % len(OKABE_ITO)] for i, k in enumerate(sizes)}
        ranks = sorted({k for c in curves for k in c.ranks})
        for c in curves:
            color = colors[tuple(c.kernel)]
            xs = [_share(m, c.multiplications) for m in c.rank_multiplications]
            ys = [floor if e is None else e for e in c.errors]
            ax.plot(xs, ys, color=color, lw=0.6, alpha=0.6)
            for k, x, y in zip(c.ranks, xs, ys, strict=True):
                ax.plot(x, y, ls="none", marker=_MARKERS[(k - 1) % len(_MARKERS)], color=color,
                        mfc="white" if y == floor else color, ms=3.5, alpha=0.9)
        ax.axvline(1.0, color="0.4", ls=":", lw=0.8)
        for (kh, kw), color in colors.items():
            ax.plot([], [], color=color, lw=2, label=f"{kh}$\\times${kw} kernels")
        for k in ranks:
            ax.plot([], [], ls="none", marker=_MARKERS[(k - 1) % len(_MARKERS)], color="0.3",
                    label=f"rank {k}")
        ax.set_yscale("log")
        top = max(errors) if errors else 1.0
        if any(e is None for c in curves for e in c.errors):
            ax.set_ylim(floor / 2, max(top * 2, floor * 10))
            _floor_row(ax, floor, min(errors) if errors else 1.0, text="exact")
        else:
            ax.set_ylim(min(errors) / 2, top * 2)
        ax.set_xlabel("layer multiplications at rank $k$ / as is")
        ax.set_ylabel(r"relative error $\|W - W_k\|_F / \|W\|_F$")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
        _ticks(ax)
    return fig, ax


def plot_network_tradeoff(
    result: _NetworkTradeoff, *, ax: Axes | None = None
) -> tuple[Figure | SubFigure, Axes]:
    """The end-to-end metric against the network's total multiplications, rank by rank.

    Parameters
    ----------
    result : NetworkTradeoff
        From :func:`kernelfactor.paper.network_tradeoff` or
        :func:`kernelfactor.paper.example_network_tradeoff`.
    ax : matplotlib Axes, optional

    Returns
    -------
    fig, ax

    Notes
    -----
    One point per rank :math:`k` (every depthwise layer with kernels larger
    than :math:`k` at spatial rank :math:`k`), labelled, joined in rank order,
    and the network as it is as a star.  Multiplications are those of all the
    conv layers, in millions; the metric is drawn to the 3 significant digits
    it is stored with.
    """
    _need(result, _NEED_NETWORK[0], "result", _NEED_NETWORK[1])
    if not result.ranks:
        raise ValueError("`result` has no rank to draw.")
    with _style():
        fig, ax = _new_axes(ax, (SINGLE_COLUMN, 2.8))
        base = result.multiplications / 1e6
        xs = [significant(m / 1e6) for m in result.rank_multiplications]
        ys = [float(v) for v in result.metric]
        ax.plot(xs, ys, color=OKABE_ITO[0], marker="o", lw=0.9, label="depthwise at rank $k$")
        for k, x, y in zip(result.ranks, xs, ys, strict=True):
            ax.annotate(f"$k$={k}", (x, y), xytext=(3, 3), textcoords="offset points",
                        fontsize=STYLE["legend.fontsize"], color=OKABE_ITO[0])
        ax.plot(significant(base), result.reference_metric, ls="none", marker="*", ms=9,
                color="black", mfc="#F0E442", zorder=5, label="as is")
        ax.axvline(significant(base), color="0.5", lw=0.6, ls=":")
        ax.set_xlabel("total multiplications (millions, counted)")
        ax.set_ylabel(result.metric_name)
        ax.legend(loc="best")
        _ticks(ax)
    return fig, ax
