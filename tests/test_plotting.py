"""Tests for kernelfactor.plotting: every figure renders with Agg and shows what it should."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import kernelfactor as kf
from kernelfactor import paper, plotting
from kernelfactor.paper import timing_key


@pytest.fixture(autouse=True)
def _agg():
    """Agg backend for the pyplot figures, and every figure closed afterwards."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _axes() -> object:
    return Figure(figsize=(3.5, 2.6)).add_subplot()


def _render(fig) -> None:
    fig.canvas.draw()  # raises on any drawing error


def _points(ax) -> list:
    """The single-point marker artists (not lines, not legend proxies)."""
    return [ln for ln in ax.lines if ln.get_linestyle() == "None" and len(ln.get_xdata()) == 1
            and ln.get_gid() != "axis-break"]


def _ytick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def _texts(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts)


def test_importing_plotting_does_not_import_pyplot():
    code = (
        "import sys, kernelfactor, kernelfactor.plotting; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_palette_is_okabe_ito():
    assert len(set(plotting.OKABE_ITO)) == 8
    assert plotting.OKABE_ITO[0] == "#0072B2"


# --- spectrum ------------------------------------------------------------------------


def test_plot_spectrum_one_kernel():
    a = kf.analyze("log")
    fig, ax = plotting.plot_spectrum(a, ax=_axes())
    _render(fig)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "index $i$"
    assert "sigma_i" in ax.get_ylabel()
    assert "numerical rank 2" in _texts(ax)
    # the tolerance band covers tol / sigma_1
    s = a.singular_values
    bands = [(p.get_y(), p.get_y() + p.get_height()) for p in ax.patches]
    t = a.tol / s[0]
    assert any(lo * (1 - 1e-12) <= t <= hi * (1 + 1e-12) for lo, hi in bands)
    # filled markers: exactly the counted singular values
    filled = [ln for ln in ax.lines if ln.get_label() == "rank 2"]
    assert len(filled) == 1 and len(filled[0].get_xdata()) == 2
    # values at or below the noise floor sit on the labelled floor row, not at their digits
    noise = [ln for ln in ax.lines if ln.get_marker() == "v" and len(ln.get_xdata())]
    (row,) = noise
    assert len(set(row.get_ydata())) == 1 and len(row.get_xdata()) == np.sum(s <= a.noise_floor)
    assert "0 (below tol)" in _ytick_labels(ax)


def test_plot_spectrum_several_kernels_and_new_figure():
    analyses = {"sobel_x": kf.analyze("sobel_x"), "disk": kf.analyze("disk")}
    fig, ax = plotting.plot_spectrum(analyses)
    _render(fig)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["sobel_x: rank 1", "disk: rank 5"]
    assert any(t.startswith("tolerance") for t in legend)
    assert fig.get_size_inches()[0] == pytest.approx(plotting.SINGLE_COLUMN)
    colours = {to_hex(ln.get_color()) for ln in ax.lines if ln.get_label().endswith("rank 5")}
    assert colours == {plotting.OKABE_ITO[1].lower()}


def test_plot_spectrum_errors():
    with pytest.raises(TypeError, match="`analyses` must be an Analysis"):
        plotting.plot_spectrum(np.eye(3))
    with pytest.raises(ValueError, match="`labels` must have one entry"):
        plotting.plot_spectrum([kf.analyze("box")], labels=["a", "b"])


# --- error against rank --------------------------------------------------------------


def test_plot_error_vs_rank():
    curve = paper.error_curve("disk")
    fig, ax = plotting.plot_error_vs_rank(curve, ax=_axes())
    _render(fig)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "rank $k$" and ax.get_ylabel() == "relative error"
    series = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert len(series) == 4
    labels = " ".join(ln.get_label() for ln in series)
    assert "Frobenius" in labels and "spectral" in labels and "output error" in labels
    np.testing.assert_allclose(series[0].get_ydata()[:5], curve.fro_rel[:5])
    assert "rounding level" in _texts(ax)
    assert "numerical rank 5" in ax.get_title()


def test_plot_error_vs_rank_rejects_other_results():
    with pytest.raises(TypeError, match="ErrorCurve"):
        plotting.plot_error_vs_rank(kf.lowrank("disk", 1))


# --- trade-off -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def points():
    timings = {timing_key("sobel_x", "direct", None): 0.01,
               timing_key("sobel_x", "separable", 1): 0.02,
               timing_key("log", "separable", 1): 0.03,
               timing_key("log", "direct", None): 0.2}
    return paper.tradeoff(["sobel_x", "log"], timings=timings)


def test_plot_tradeoff_counted(points):
    fig, ax = plotting.plot_tradeoff(points, ax=_axes())
    _render(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "multiplications" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["sobel_x", "log"]
    assert {"direct", "fft", "dominated (hollow)"} <= set(legend)
    markers = _points(ax)
    assert len(markers) == len(points)
    hollow = [ln for ln in markers if to_hex(ln.get_markerfacecolor()) == "#ffffff"]
    assert len(hollow) == sum(not p.pareto for p in points)
    assert "exact" in _ytick_labels(ax)


def test_plot_tradeoff_both_panels(points):
    fig, axes = plotting.plot_tradeoff(points, cost=("multiplications", "seconds"))
    _render(fig)
    assert len(axes) == 2
    assert "measured" in axes[1].get_xlabel()
    timed = [p for p in points if p.seconds is not None]
    markers = _points(axes[1])
    assert sorted(float(m.get_xdata()[0]) for m in markers) == sorted(p.seconds for p in timed)
    assert fig.get_size_inches()[0] == pytest.approx(plotting.DOUBLE_COLUMN)


def test_plot_tradeoff_errors(points):
    untimed = paper.tradeoff(["sobel_x"])
    with pytest.raises(ValueError, match="needs measured times"):
        plotting.plot_tradeoff(untimed, cost="seconds")
    with pytest.raises(ValueError, match="`cost` must be one of"):
        plotting.plot_tradeoff(points, cost="flops")
    with pytest.raises(ValueError, match="one Axes per `cost`"):
        plotting.plot_tradeoff(points, cost=("multiplications", "seconds"), ax=[_axes()])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_tradeoff([])


# --- factors -------------------------------------------------------------------------


def test_plot_factors():
    lr = kf.lowrank("log")
    fig, axes = plotting.plot_factors(lr, label="log", fig=Figure(figsize=(7, 2.6)))
    _render(fig)
    assert len(axes) == 1 + 2 * lr.rank
    heat = axes[0]
    assert len(heat.images) == 1
    np.testing.assert_allclose(heat.images[0].get_array(), kf.get_kernel("log"), atol=1e-15)
    assert heat.get_title() == "log 9$\\times$9"
    assert axes[1].get_title().startswith("term 1")
    assert axes[1].get_xlabel() == "column $c_{1}$" and axes[2].get_xlabel() == "row $r_{1}$"
    stems = axes[3].containers
    assert len(stems) == 1
    np.testing.assert_allclose(stems[0].markerline.get_ydata(), lr.columns[1])


def test_plot_factors_limits_terms_and_refuses_full_figures():
    fig, axes = plotting.plot_factors(kf.lowrank("disk"), max_terms=2)
    assert len(axes) == 5
    with pytest.raises(ValueError, match="`fig` must be an empty figure"):
        plotting.plot_factors(kf.lowrank("disk"), fig=fig)


# --- residual ------------------------------------------------------------------------


def test_plot_residual(rng):
    result = paper.residual_comparison(rng.random((24, 30)), "disk", 2)
    fig, axes = plotting.plot_residual(result, fig=Figure(figsize=(7, 2.5)))
    _render(fig)
    assert len(axes) == 4
    assert [len(ax.images) for ax in axes] == [1, 1, 1, 1]
    np.testing.assert_array_equal(axes[3].images[0].get_array(), result.difference)
    note = _texts(axes[3])
    assert f"{result.max_abs_difference:.3g}" in note and f"{result.bound:.3g}" in note
    assert "bound" in note
    assert axes[2].get_title() == "rank 2"
    # exact and rank-k panels share one grey scale
    assert axes[1].images[0].get_clim() == axes[2].images[0].get_clim()


# --- depthwise -----------------------------------------------------------------------


def test_plot_depthwise_cost():
    grid = paper.depthwise_cost_grid((3, 5), (1, 4, 16, 256))
    fig, ax = plotting.plot_depthwise_cost(grid, ax=_axes())
    _render(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "output channels $N$"
    curves = [ln for ln in ax.lines if ln.get_label().startswith("$K")]
    assert len(curves) == 2
    np.testing.assert_allclose(curves[1].get_ydata(), grid.ratio[1])
    assert "0.0439" in _texts(ax)
    seed = [ln for ln in ax.lines if ln.get_label() == "seed example"]
    assert seed[0].get_xdata()[0] == 256


def test_plotting_does_not_compute(monkeypatch, points, bank_curves):
    """No SVD happens inside the plot functions: they only read results."""
    def boom(*args, **kwargs):
        raise AssertionError("plotting called an SVD")

    curve = paper.error_curve("dog")
    analysis = kf.analyze("dog")
    lr = kf.lowrank("dog")
    monkeypatch.setattr(np.linalg, "svd", boom)
    plotting.plot_spectrum(analysis)
    plotting.plot_error_vs_rank(curve)
    plotting.plot_tradeoff(points)
    plotting.plot_factors(lr)
    plotting.plot_bank_basis(bank_curves)


def test_style_context_keeps_interactive_mode_set_while_drawing():
    import matplotlib

    from kernelfactor.plotting import _style

    before = matplotlib.is_interactive()
    try:
        with _style():
            matplotlib.interactive(True)  # as Jupyter's inline backend does on first use
        assert matplotlib.is_interactive()
    finally:
        matplotlib.interactive(before)


@pytest.fixture(scope="module")
def network() -> paper.NetworkTradeoff:
    return paper.example_network_tradeoff(ranks=(1, 2))


def test_plot_layer_tradeoff(network):
    fig, ax = plotting.plot_layer_tradeoff(network, ax=_axes())
    _render(fig)
    assert ax.get_yscale() == "log"
    # one line per depthwise layer, through its ranks 1 .. K - 1
    curves = [ln for ln in ax.lines if len(ln.get_xdata()) > 1 and ln.get_linestyle() == "-"]
    assert [len(ln.get_xdata()) for ln in curves] == [len(c.ranks) for c in network.layers]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["3$\\times$3 kernels", "5$\\times$5 kernels"]
    assert "rank 4" in labels  # the 5x5 layers go up to rank 4


def test_plot_layer_tradeoff_draws_exact_errors_on_a_row(network):
    from dataclasses import replace

    exact = replace(network.layers[0], errors=(network.layers[0].errors[0], None))
    result = replace(network, layers=(exact, *network.layers[1:]))
    fig, ax = plotting.plot_layer_tradeoff(result, ax=_axes())
    _render(fig)
    assert any(t.get_text() == "exact" for t in ax.get_yticklabels())


def test_plot_network_tradeoff(network):
    fig, ax = plotting.plot_network_tradeoff(network, ax=_axes())
    _render(fig)
    (line,) = [ln for ln in ax.lines if ln.get_label() == "depthwise at rank $k$"]
    assert list(line.get_ydata()) == list(network.metric)
    np.testing.assert_allclose(line.get_xdata(),
                               [m / 1e6 for m in network.rank_multiplications], rtol=1e-5)
    assert ax.get_ylabel() == network.metric_name
    assert [t.get_text() for t in ax.texts] == ["$k$=1", "$k$=2"]


def test_plot_network_tradeoff_refuses_other_results(points):
    with pytest.raises(TypeError, match="NetworkTradeoff"):
        plotting.plot_network_tradeoff(points)
    with pytest.raises(TypeError, match="NetworkTradeoff"):
        plotting.plot_layer_tradeoff(kf.analyze("disk"))


# --- filter banks ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bank_curves():
    return [paper.bank_curve(kf.steerable_bank(1, 8), "first"),
            paper.bank_curve(kf.steerable_bank(2, 8), "second")]


def test_plot_bank_basis_both_panels(bank_curves):
    fig, axes = plotting.plot_bank_basis(bank_curves)
    _render(fig)
    assert len(axes) == 2 and fig.get_size_inches()[0] == pytest.approx(plotting.DOUBLE_COLUMN)
    size, cost = axes
    assert "$M$" in size.get_xlabel() and "multiplications" in cost.get_xlabel()
    assert cost.get_xscale() == "log" and size.get_yscale() == "log"
    series = [ln for ln in size.lines if len(ln.get_xdata()) > 1]
    assert len(series) == 4  # achieved and lower bound per bank
    second = bank_curves[1]
    achieved = next(ln for ln in series if list(ln.get_ydata()[:2]) == list(second.errors[:2]))
    assert list(achieved.get_xdata()) == list(second.sizes)
    assert list(series[2].get_xdata()) == list(second.sizes)
    # the exact size sits on the labelled noise row, not at its rounding digits
    floor = achieved.get_ydata()[-1]
    assert floor < min(second.errors[:-1]) / 10
    assert "0 (below tol)" in _ytick_labels(size)
    legend = [t.get_text() for t in size.get_legend().get_texts()]
    assert legend == ["first: 8 of 13$\\times$13, exact at $M$ = 2",
                      "second: 8 of 13$\\times$13, exact at $M$ = 3"]
    assert [t.get_text() for t in cost.get_legend().get_texts()] == [
        "achieved (CP fit)", "certified lower bound"]
    assert "direct: $N h w$ = 1,352" in _texts(cost)
    assert list(next(ln for ln in cost.lines if len(ln.get_xdata()) > 1).get_xdata()) == [
        33.0, 66.0]  # M (13 + 13) + the non-zero coefficients: G_y is orthogonal to G_x


def test_plot_bank_basis_one_panel_and_errors(bank_curves):
    fig, ax = plotting.plot_bank_basis(bank_curves[0], x="size", ax=_axes())
    _render(fig)
    assert ax.get_xscale() == "linear"
    with pytest.raises(ValueError, match="`x` must be one of"):
        plotting.plot_bank_basis(bank_curves, x="time")
    with pytest.raises(ValueError, match="one Axes per `x`"):
        plotting.plot_bank_basis(bank_curves, ax=[_axes()])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_bank_basis([])
    with pytest.raises(TypeError, match="BankCurve"):
        plotting.plot_bank_basis([paper.error_curve("dog")])
    with pytest.raises(TypeError, match="must be a BankCurve"):  # one other result, not a list
        plotting.plot_bank_basis(paper.error_curve("dog"))


def test_integer_rank_ticks_keep_the_callers_tick_locator():
    """Integer rank ticks come from matplotlib's default locator; one the caller set stays."""
    from matplotlib.ticker import FixedLocator

    ax = _axes()
    ax.xaxis.set_major_locator(FixedLocator([0, 2, 4]))
    fig, _ = plotting.plot_error_vs_rank(paper.error_curve("dog"), ax=ax)
    _render(fig)
    assert list(ax.get_xticks()) == [0, 2, 4]
