"""kernelfactor: does this convolution kernel factorise?

Exact, symbolic and numeric separability verdicts, best rank-k approximations
with error bounds, fast filtering with scipy.ndimage's semantics, and cost
accounting for image filters and CNN layers.

The public API is the explicit list below.  ``kernelfactor.plotting`` is a
public submodule imported on demand (it imports matplotlib.pyplot); importing
``kernelfactor`` itself imports neither pyplot nor sympy.
"""

from __future__ import annotations

__version__ = "0.1.0"

# --- catalogue (issue 2) ---
from ._catalogue import (
    KernelInfo,
    catalogue_params,
    get_kernel,
    kernel_info,
    list_kernels,
)

# isort: split
# --- end catalogue ---

# --- svd / lowrank / bounds (issue 2) ---
from ._bounds import eckart_young, frequency_bound, l1_norm, worst_case_image
from ._lowrank import NORMS, ApproximationError, LowRankKernel, lowrank, rank_for_error
from ._svd import Analysis, BatchAnalysis, Margin, analyze, tolerance
from ._validation import DTYPE_POLICY, MODES
# --- end svd ---

# --- exact (issue 3) ---
from ._exact import (
    ExactFactorization,
    FactorTerm,
    FunctionRank,
    SeparabilityConditions,
    exact_factor,
    exact_rank,
    function_rank,
    separability_conditions,
)

# isort: split
# --- end exact ---

# --- apply (issue 4) ---
# --- end apply ---

# --- cost / depthwise (issue 5) ---
# isort: split
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

# isort: split
# --- end cost ---

__all__ = [
    "__version__",
    # --- all: catalogue ---
    "KernelInfo",
    "catalogue_params",
    "get_kernel",
    "kernel_info",
    "list_kernels",
    # --- all: svd ---
    "DTYPE_POLICY",
    "MODES",
    "NORMS",
    "Analysis",
    "ApproximationError",
    "BatchAnalysis",
    "LowRankKernel",
    "Margin",
    "analyze",
    "eckart_young",
    "frequency_bound",
    "l1_norm",
    "lowrank",
    "rank_for_error",
    "tolerance",
    "worst_case_image",
    # --- all: exact ---
    "ExactFactorization",
    "FactorTerm",
    "FunctionRank",
    "SeparabilityConditions",
    "exact_factor",
    "exact_rank",
    "function_rank",
    "separability_conditions",
    # --- all: apply ---
    # --- all: cost ---
    "ConvCost",
    "DepthwiseFactorization",
    "FactorError",
    "FilterCost",
    "LayerCosts",
    "SpatialFactorization",
    "conv2d",
    "conv_cost",
    "conv_output_shape",
    "depthwise_factor",
    "depthwise_multiplier_for_error",
    "depthwise_separable_cost",
    "fft_crossover",
    "filter_cost",
    "layer_costs",
    "low_rank_channel_cost",
    "rank_crossover",
    "seed_example",
    "separable_crossover",
    "spatial_factor",
    "spatial_rank_for_error",
    "spatially_separable_cost",
]
