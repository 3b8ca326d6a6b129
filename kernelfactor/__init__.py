"""kernelfactor: does this convolution kernel factorise?

Exact, symbolic and numeric separability verdicts, best rank-k approximations
with error bounds, fast filtering with scipy.ndimage's semantics, and cost
accounting for image filters and CNN layers.

The public API is the explicit list below.  Three public submodules are
imported on demand: ``kernelfactor.plotting`` (it imports pyplot only to
draw), ``kernelfactor.paper`` (surveys, tables, figure regeneration) and
``kernelfactor.networks`` (the conv layers of ONNX models; needs ``onnx``);
importing ``kernelfactor`` itself imports none of pyplot, sympy or onnx.

Layers (one module per concept; an import, at module level or inside a
function, may only point to a lower line; ``tests/test_layers.py`` holds it)::

    cli                                   the command line: arguments, printing
    paper                                 surveys, figure registry
    _calibrate  plotting  networks _banks  constants; drawing; ONNX; filter banks
    _apply  _depthwise                    public filtering; conv-layer factors
    _large                                the dask backend
    _engine                               in-memory filter engines, one table
    _lowrank  _compiled                   best rank-k approximations; numba glue
    _tensor                               n-D kernels: CP approximations (TensorLy)
    _svd  _bounds  _costmodel             numeric verdicts; norms; what it costs
    _coerce                               kernels/images as given -> arrays
    _catalogue  _exact                    named kernels; exact/symbolic rank
    _docstrings  _report                  shared parameter docs; tables (md, LaTeX, CSV)
    _validation _noise _results _io _compiled_kernels
                                          checks, noise, results, files, loops
    _typing                               type aliases (annotations only)
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._apply import (
    ApplyInfo,
    convolve,
    correlate,
)
from ._banks import (
    BankBasis,
    SeparableBasis,
    gabor_bank,
    separable_basis,
    separable_basis_for_error,
    steerable_bank,
    svd_basis,
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
    VOLUME_KERNELS,
    KernelInfo,
    VolumeKernel,
    catalogue_params,
    get_kernel,
    kernel_info,
    list_kernels,
    volume_kernel,
)
from ._costmodel import (
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
    FactorAccuracy,
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
    ExactTensorFactorization,
    FactorTerm,
    FunctionRank,
    SeparabilityConditions,
    TensorFactorTerm,
    exact_factor,
    exact_rank,
    function_rank,
    parse_expression,
    separability_conditions,
)
from ._lowrank import (
    NORMS,
    ApproximationAccuracy,
    LowRankKernel,
    lowrank,
    rank_for_error,
)
from ._svd import (
    TOLERANCE_POLICIES,
    Analysis,
    BatchAnalysis,
    Margin,
    TensorAnalysis,
    analyze,
    tolerance,
)
from ._tensor import CPRank, TensorLowRank, unfolding_lower_bound
from ._validation import (
    DTYPE_POLICY,
    MODES,
    NdimageRuntimeError,
    NdimageTypeError,
    NdimageValueError,
)

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "DTYPE_POLICY",
    "MODES",
    "NORMS",
    "TOLERANCE_POLICIES",
    "VOLUME_KERNELS",
    "Analysis",
    "ApplyInfo",
    "ApproximationAccuracy",
    "BankBasis",
    "BatchAnalysis",
    "CPRank",
    "Calibration",
    "ConvCost",
    "Crossover",
    "DepthwiseFactorization",
    "ExactFactorization",
    "ExactRank",
    "ExactTensorFactorization",
    "FactorAccuracy",
    "FactorTerm",
    "FilterCost",
    "FunctionRank",
    "KernelInfo",
    "LayerCosts",
    "LowRankKernel",
    "Margin",
    "NdimageRuntimeError",
    "NdimageTypeError",
    "NdimageValueError",
    "SeparabilityConditions",
    "SeparableBasis",
    "SpatialFactorization",
    "TensorAnalysis",
    "TensorFactorTerm",
    "TensorLowRank",
    "VolumeKernel",
    "__version__",
    "analyze",
    "calibrate",
    "catalogue_params",
    "conv2d",
    "conv_cost",
    "conv_output_shape",
    "convolve",
    "correlate",
    "depthwise_factor",
    "depthwise_multiplier_for_error",
    "depthwise_separable_cost",
    "eckart_young",
    "exact_factor",
    "exact_rank",
    "fft_crossover",
    "filter_cost",
    "frequency_bound",
    "function_rank",
    "gabor_bank",
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
    "seed_example",
    "separability_conditions",
    "separable_basis",
    "separable_basis_for_error",
    "separable_crossover",
    "spatial_factor",
    "spatial_rank_for_error",
    "spatially_separable_cost",
    "steerable_bank",
    "svd_basis",
    "tolerance",
    "unfolding_lower_bound",
    "volume_kernel",
    "worst_case_image",
]


#: Names that moved to :mod:`kernelfactor.paper` in 0.2.0 (importable here for one release).
_MOVED_TO_PAPER = frozenset({
    "DepthwiseCostGrid", "ErrorCurve", "KernelSurvey", "ResidualComparison", "TradeoffPoint",
    "depthwise_cost_grid", "error_curve", "format_table", "regenerate_figures",
    "residual_comparison", "survey", "tradeoff",
})  # fmt: skip


#: Result classes renamed in 0.2.0 (their old names read like exceptions).
_RENAMED = {"ApproximationError": "ApproximationAccuracy", "FactorError": "FactorAccuracy"}


def __getattr__(name: str) -> object:
    if name in _RENAMED:
        import warnings

        warnings.warn(
            f"kernelfactor.{name} is now kernelfactor.{_RENAMED[name]} (0.2.0).",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_RENAMED[name]]
    if name in _MOVED_TO_PAPER:
        import warnings

        from . import paper

        warnings.warn(
            f"kernelfactor.{name} moved to kernelfactor.paper.{name} in 0.2.0; "
            f"use `from kernelfactor import paper` and `paper.{name}`.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(paper, name)
    raise AttributeError(f"module 'kernelfactor' has no attribute {name!r}")
