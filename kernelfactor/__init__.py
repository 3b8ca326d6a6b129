"""kernelfactor: does this convolution kernel factorise?

Exact, symbolic and numeric separability verdicts, best rank-k approximations
with error bounds, fast filtering with scipy.ndimage's semantics, and cost
accounting for image filters and CNN layers.

The public API is the explicit list below.  ``kernelfactor.plotting`` is a
public submodule imported on demand (it imports pyplot only to draw); importing
``kernelfactor`` itself imports neither pyplot nor sympy.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._apply import (
    ApplyInfo,
    convolve,
    correlate,
)
from ._bounds import (
    eckart_young,
    frequency_bound,
    l1_norm,
    worst_case_image,
)
from ._calibrate import (
    Calibration,
    Crossover,
    calibrate,
    measure_crossover,
)
from ._catalogue import (
    KernelInfo,
    catalogue_params,
    get_kernel,
    kernel_info,
    list_kernels,
)
from ._cost import (
    ConvCost,
    FilterCost,
    LayerCosts,
    conv_cost,
    conv_output_shape,
    depthwise_separable_cost,
    fft_crossover,
    filter_cost,
    layer_costs,
    low_rank_channel_cost,
    rank_crossover,
    seed_example,
    separable_crossover,
    spatially_separable_cost,
)
from ._depthwise import (
    DepthwiseFactorization,
    FactorError,
    SpatialFactorization,
    conv2d,
    depthwise_factor,
    depthwise_multiplier_for_error,
    spatial_factor,
    spatial_rank_for_error,
)
from ._exact import (
    DEFAULT_TIME_LIMIT,
    ExactFactorization,
    ExactRank,
    FactorTerm,
    FunctionRank,
    SeparabilityConditions,
    exact_factor,
    exact_rank,
    function_rank,
    parse_expression,
    separability_conditions,
)
from ._figures import (
    regenerate_figures,
)
from ._lowrank import (
    NORMS,
    ApproximationError,
    LowRankKernel,
    lowrank,
    rank_for_error,
)
from ._report import (
    format_table,
)
from ._survey import (
    DepthwiseCostGrid,
    ErrorCurve,
    KernelSurvey,
    ResidualComparison,
    TradeoffPoint,
    depthwise_cost_grid,
    error_curve,
    residual_comparison,
    survey,
    tradeoff,
)
from ._svd import (
    Analysis,
    BatchAnalysis,
    Margin,
    analyze,
    tolerance,
)
from ._validation import (
    DTYPE_POLICY,
    MODES,
)

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "DTYPE_POLICY",
    "MODES",
    "NORMS",
    "Analysis",
    "ApplyInfo",
    "ApproximationError",
    "BatchAnalysis",
    "Calibration",
    "ConvCost",
    "Crossover",
    "DepthwiseCostGrid",
    "DepthwiseFactorization",
    "ErrorCurve",
    "ExactFactorization",
    "ExactRank",
    "FactorError",
    "FactorTerm",
    "FilterCost",
    "FunctionRank",
    "KernelInfo",
    "KernelSurvey",
    "LayerCosts",
    "LowRankKernel",
    "Margin",
    "ResidualComparison",
    "SeparabilityConditions",
    "SpatialFactorization",
    "TradeoffPoint",
    "__version__",
    "analyze",
    "calibrate",
    "catalogue_params",
    "conv2d",
    "conv_cost",
    "conv_output_shape",
    "convolve",
    "correlate",
    "depthwise_cost_grid",
    "depthwise_factor",
    "depthwise_multiplier_for_error",
    "depthwise_separable_cost",
    "eckart_young",
    "error_curve",
    "exact_factor",
    "exact_rank",
    "fft_crossover",
    "filter_cost",
    "format_table",
    "frequency_bound",
    "function_rank",
    "get_kernel",
    "kernel_info",
    "l1_norm",
    "layer_costs",
    "list_kernels",
    "low_rank_channel_cost",
    "lowrank",
    "measure_crossover",
    "parse_expression",
    "rank_crossover",
    "rank_for_error",
    "regenerate_figures",
    "residual_comparison",
    "seed_example",
    "separability_conditions",
    "separable_crossover",
    "spatial_factor",
    "spatial_rank_for_error",
    "spatially_separable_cost",
    "survey",
    "tolerance",
    "tradeoff",
    "worst_case_image",
]
