"""Paper machinery: catalogue surveys, tables and the regeneration of every figure.

A public submodule imported on demand (``from kernelfactor import paper``), as
:mod:`kernelfactor.plotting` is; ``import kernelfactor`` does not import it.
The numbers come from the top-level numeric API (:func:`kernelfactor.analyze`,
:func:`kernelfactor.lowrank`, the cost functions); this module only gathers
them into results (:func:`survey`, :func:`tradeoff`, :func:`error_curve`,
:func:`residual_comparison`, :func:`depthwise_cost_grid`, :func:`bank_curve`,
:func:`network_tradeoff`,
:func:`example_network_tradeoff`), formats tables
(:func:`format_table`) and regenerates ``figures/`` (:func:`regenerate_figures`,
one entry of :data:`FIGURES` per figure).

Examples
--------
>>> from kernelfactor import paper
>>> row, = paper.survey(["laplacian4"])
>>> row.rank, row.separable_mults
(2, 12.0)
"""

from __future__ import annotations

from .._report import (
    SURVEY_COLUMNS,
    TABLE_FORMATS,
    Column,
    format_table,
    latex_escape,
    text_table,
)
from ._figures import (
    DEFAULT_TRADEOFF_KERNELS,
    FIGURE_FORMATS,
    FIGURE_NAMES,
    FIGURES,
    TIMINGS_PATH,
    FigureSpec,
    load_timings,
    regenerate_figures,
)
from ._network import (
    LayerCurve,
    NetworkTradeoff,
    example_network_tradeoff,
    network_tradeoff,
)
from ._survey import (
    BankCurve,
    DepthwiseCostGrid,
    ErrorCurve,
    KernelSurvey,
    ResidualComparison,
    TradeoffPoint,
    bank_curve,
    depthwise_cost_grid,
    error_curve,
    kernel_label,
    pareto_mask,
    residual_comparison,
    survey,
    timing_key,
    tradeoff,
)

__all__ = [
    "DEFAULT_TRADEOFF_KERNELS",
    "FIGURES",
    "FIGURE_FORMATS",
    "FIGURE_NAMES",
    "SURVEY_COLUMNS",
    "TABLE_FORMATS",
    "TIMINGS_PATH",
    "BankCurve",
    "Column",
    "DepthwiseCostGrid",
    "ErrorCurve",
    "FigureSpec",
    "KernelSurvey",
    "LayerCurve",
    "NetworkTradeoff",
    "ResidualComparison",
    "TradeoffPoint",
    "bank_curve",
    "depthwise_cost_grid",
    "error_curve",
    "example_network_tradeoff",
    "format_table",
    "kernel_label",
    "latex_escape",
    "load_timings",
    "network_tradeoff",
    "pareto_mask",
    "regenerate_figures",
    "residual_comparison",
    "survey",
    "text_table",
    "timing_key",
    "tradeoff",
]
