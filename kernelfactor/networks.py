"""Real networks: the conv layers of an ONNX model, analysed, factorised and measured.

A public submodule imported on demand (``from kernelfactor import networks``),
as :mod:`kernelfactor.paper` is; ``import kernelfactor`` imports neither
``onnx`` nor ``onnxruntime``.  It needs the ``onnx`` package (``pip install
"kernelfactor[onnx]"``) and, for :func:`evaluate`, ``onnxruntime``
(``pip install "kernelfactor[onnxruntime]"``).

The numbers come from the public numeric API: numerical ranks from
:func:`kernelfactor.analyze` (its tolerance policy, `rtol` / `atol`), errors
from :func:`kernelfactor.spatial_factor` and :func:`kernelfactor.depthwise_factor`
(best approximations, exact Frobenius errors) and multiplications from the cost
model (:func:`kernelfactor.conv_cost`, :func:`kernelfactor.spatially_separable_cost`,
:func:`kernelfactor.depthwise_separable_cost`).  This module reads the graph,
gathers those numbers per layer, chooses ranks, writes new graphs and runs them.

The workflow:

1. :func:`find_convs` / :func:`analyze_network`: every ``Conv`` node with its
   weights (an initializer or a ``Constant`` node), groups, strides, pads and
   dilations, classified ``standard`` / ``depthwise`` / ``pointwise`` /
   ``grouped``; per layer the rank histogram of its ``K_h x K_w`` kernels,
   rank-k errors and multiplications (:class:`NetworkReport`).
2. :func:`choose_ranks`: a :class:`FactorPlan` -- a fixed spatial rank for the
   depthwise layers, or the fewest multiplications within an error bound per
   layer or for the whole network.
3. :func:`export_approximated` (same graph, approximated weights) and
   :func:`export_factorised` (a rank-r depthwise ``K x K`` conv becomes a
   ``K x 1`` conv with channel multiplier r and a ``1 x K`` conv summing each
   group's r channels; a standard conv becomes depthwise then pointwise).
4. :func:`evaluate`: run the models with onnxruntime on the same inputs;
   output differences, thresholded-map IoU, a metric of your own, and
   best-of-n run times side by side.

Examples
--------
>>> import numpy as np
>>> from kernelfactor import networks
>>> model = networks.example_model()
>>> report = networks.analyze_network(model)
>>> [(layer.name, layer.kind) for layer in report.layers]
[('stem', 'standard'), ('dw', 'depthwise'), ('pw', 'pointwise')]
>>> report.layers[1].rank_histogram
{1: 1, 3: 7}
>>> plan = networks.choose_ranks(report, rank=1)
>>> [(c.name, c.method, c.rank) for c in plan.choices]
[('stem', 'keep', None), ('dw', 'spatial', 1), ('pw', 'keep', None)]
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ._costmodel import conv_cost, depthwise_separable_cost, spatially_separable_cost
from ._depthwise import (
    DepthwiseFactorization,
    FactorAccuracy,
    SpatialFactorization,
    depthwise_factor,
    spatial_factor,
)
from ._noise import NOISE_TEXT, significant
from ._report import Column, format_table, latex_escape
from ._results import Result, plain
from ._svd import analyze
from ._typing import ArrayLike, JSONDict, ModelLike, PathLike, Shape
from ._validation import _check_choice, _check_nonnegative, _check_positive_int, _describe

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    import onnx

__all__ = [
    "DEFAULT_SPATIAL_SIZE",
    "SCOPES",
    "ConvLayer",
    "Evaluation",
    "FactorPlan",
    "LayerChoice",
    "LayerReport",
    "ModelRun",
    "NetworkReport",
    "add_arguments",
    "analyze_network",
    "choose_ranks",
    "evaluate",
    "example_model",
    "export_approximated",
    "export_factorised",
    "find_convs",
    "image_input",
    "ppocr_detector_path",
    "run",
]

#: Spatial size given to dynamic height / width dimensions when no `input_shape` is passed.
DEFAULT_SPATIAL_SIZE = 640

#: Values of `scope` accepted by :func:`choose_ranks`, sorted.
SCOPES: tuple[str, ...] = ("layer", "network")

_KINDS = ("depthwise", "grouped", "pointwise", "standard")


# ---------------------------------------------------------------------------
# optional dependencies
# ---------------------------------------------------------------------------


def _onnx() -> ModuleType:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "kernelfactor.networks needs the `onnx` package; install it with "
            "`pip install \"kernelfactor[onnx]\"`."
        ) from None
    return onnx


def _ort() -> ModuleType:
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(
            "running models needs the `onnxruntime` package; install it with "
            "`pip install \"kernelfactor[onnxruntime]\"`."
        ) from None
    return onnxruntime


def _load(model: object, name: str = "model") -> onnx.ModelProto:
    """An ``onnx.ModelProto`` from a path or a model (the model itself, not a copy)."""
    onnx = _onnx()
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise ValueError(f"`{name}`: no file {path!r}; pass the path of an .onnx file.")
        try:
            return onnx.load(path)
        except Exception as exc:  # protobuf's DecodeError and friends
            raise ValueError(
                f"`{name}`: {path!r} is not a readable ONNX model ({type(exc).__name__}: "
                f"{exc}); pass a file written by onnx.save or an exporter."
            ) from None
    raise TypeError(
        f"`{name}` must be a path to an .onnx file or an onnx.ModelProto; got "
        f"{_describe(model)}."
    )


def ppocr_detector_path() -> str:
    """The path of PP-OCRv4's text detector shipped in the ``rapidocr-onnxruntime`` wheel.

    The package is located without importing it (its imports need OpenCV);
    ``pip install --no-deps rapidocr-onnxruntime==1.4.4`` is enough.

    Raises
    ------
    FileNotFoundError
        When the wheel is not installed, saying how to install it.
    """
    import importlib.util

    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "models", "ch_PP-OCRv4_det_infer.onnx")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "PP-OCRv4's detector comes with the rapidocr-onnxruntime wheel, which is not "
        "installed; `pip install --no-deps rapidocr-onnxruntime==1.4.4` installs it "
        "(model files only, no OpenCV)."
    )


# ---------------------------------------------------------------------------
# reading the graph
# ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class ConvLayer(Result):
    """One ``Conv`` node of a model and its stored weights.

    Attributes
    ----------
    name : str
        The node's name (``conv<i>`` when it has none).
    index : int
        Position of the node in the graph.
    kind : str
        ``"pointwise"`` (1x1, one group), ``"depthwise"`` (one input channel per
        group, ``groups > 1``), ``"grouped"`` (other ``groups > 1``) or
        ``"standard"``.
    weights_shape : tuple of int
        ``(C_out, C_in / groups, K_h, K_w)``.
    in_channels, out_channels, groups : int
    stride, dilation : tuple of int
        ``(height, width)``.
    pads : tuple of int
        ``(top, left, bottom, right)`` (ONNX's order); ``auto_pad="SAME_*"``
        resolved from the input shape, or None when that shape is unknown.
    bias : bool
    weights_source : str
        ``"initializer"`` or ``"constant"``.
    input_shape, output_shape : tuple of int or None
        ``(N, C, H, W)`` from ONNX shape inference, None when not inferred.
    weights : ndarray
        The weights as stored (not in :meth:`to_dict`).
    """

    name: str
    index: int
    kind: str
    weights_shape: tuple[int, int, int, int]
    in_channels: int
    out_channels: int
    groups: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int] | None
    bias: bool
    weights_source: str
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    _weights: np.ndarray = field(repr=False)
    _weights_name: str = field(repr=False, default="")

    @property
    def weights(self) -> np.ndarray:
        """The stored weights ``(C_out, C_in / groups, K_h, K_w)``."""
        return self._weights

    @property
    def kernel(self) -> tuple[int, int]:
        """``(K_h, K_w)``."""
        return (self.weights_shape[2], self.weights_shape[3])

    @property
    def kernels(self) -> int:
        """Number of 2-D kernels: ``C_out * C_in / groups``."""
        return self.weights_shape[0] * self.weights_shape[1]

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.weights_shape))
        return (
            f"ConvLayer({self.name}: {self.kind}, weights {shape}, groups={self.groups}, "
            f"stride={self.stride}, pads={self.pads}, {self.weights_source})"
        )


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """The node's attributes (their values as onnx.helper gives them: untyped)."""
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _fix_input_shape(model: onnx.ModelProto, input_shape: Shape | None) -> tuple[int, ...] | None:
    """Set the first graph input's dims; returns them (None when it has no tensor shape)."""
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if not inputs:
        return None
    tensor = inputs[0].type.tensor_type
    if not tensor.HasField("shape"):
        return None
    dims = tensor.shape.dim
    if input_shape is None:
        shape = tuple(
            d.dim_value if d.dim_value > 0 else (1 if i == 0 else DEFAULT_SPATIAL_SIZE)
            for i, d in enumerate(dims)
        )
    else:
        try:
            shape = tuple(int(v) for v in input_shape)
            ok = len(shape) == len(dims) and all(v >= 1 for v in shape) and all(
                int(v) == v for v in input_shape
            )
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"`input_shape` must be {len(dims)} positive integers (the model input "
                f"{inputs[0].name!r} has {len(dims)} dimensions, e.g. (1, 3, 640, 640)); got "
                f"{_describe(input_shape)}."
            )
        for i, (d, v) in enumerate(zip(dims, shape, strict=True)):
            if d.dim_value > 0 and d.dim_value != v:
                raise ValueError(
                    f"`input_shape` {shape}: dimension {i} of the model input is fixed at "
                    f"{d.dim_value}; got {v}."
                )
    for d, v in zip(dims, shape, strict=True):
        d.Clear()
        d.dim_value = v
    return shape


def _inferred_shapes(model: onnx.ModelProto, input_shape: Shape | None) -> tuple[
    dict[str, tuple[int, ...]], tuple[int, ...] | None
]:
    onnx = _onnx()
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    fixed = _fix_input_shape(copy, input_shape)
    try:
        inferred = onnx.shape_inference.infer_shapes(copy)
    except Exception:  # inference is best effort: costs are then unknown
        return {}, fixed
    shapes: dict[str, tuple[int, ...]] = {}
    g = inferred.graph
    for vi in (*g.input, *g.value_info, *g.output):
        t = vi.type.tensor_type
        if t.HasField("shape") and all(d.dim_value > 0 for d in t.shape.dim):
            shapes[vi.name] = tuple(d.dim_value for d in t.shape.dim)
    return shapes, fixed


def _resolved_pads(
    node_name: str, attrs: Mapping[str, Any], kernel: tuple[int, int], stride: tuple[int, int],
    dilation: tuple[int, int], in_shape: tuple[int, ...] | None,
) -> tuple[int, int, int, int] | None:
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("NOTSET", ""):
        pads = tuple(int(p) for p in attrs.get("pads", (0, 0, 0, 0)))
        if len(pads) != 4:
            raise ValueError(f"Conv node {node_name!r}: `pads` {pads} must have 4 entries.")
        return (pads[0], pads[1], pads[2], pads[3])
    if auto == "VALID":
        return (0, 0, 0, 0)
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(f"Conv node {node_name!r}: unknown auto_pad {auto!r}.")
    if in_shape is None:
        return None
    begin, end = [], []
    for axis in range(2):
        size = in_shape[2 + axis]
        eff = dilation[axis] * (kernel[axis] - 1) + 1
        out = -(-size // stride[axis])
        total = max((out - 1) * stride[axis] + eff - size, 0)
        small, large = total // 2, total - total // 2
        begin.append(small if auto == "SAME_UPPER" else large)
        end.append(large if auto == "SAME_UPPER" else small)
    return (begin[0], begin[1], end[0], end[1])


def _conv_layers(
    model: onnx.ModelProto, input_shape: Shape | None
) -> tuple[tuple[ConvLayer, ...], tuple[int, ...] | None]:
    onnx = _onnx()
    from onnx import numpy_helper

    graph = model.graph
    if any(
        i.data_location == onnx.TensorProto.EXTERNAL for i in graph.initializer
    ):
        raise ValueError(
            "`model` stores weights in external data files; load it with "
            "`onnx.load(path, load_external_data=True)` and pass the ModelProto."
        )
    inits = {i.name: i for i in graph.initializer}
    consts = {
        n.output[0]: n for n in graph.node if n.op_type == "Constant" and len(n.output) == 1
    }
    shapes, fixed = _inferred_shapes(model, input_shape)
    layers = []
    for index, node in enumerate(graph.node):
        if node.op_type != "Conv" or node.domain not in ("", "ai.onnx"):
            continue
        name = node.name or f"conv{index}"
        if len(node.input) < 2:
            raise ValueError(f"Conv node {name!r} has no weights input; the model is malformed.")
        w_name = node.input[1]
        if w_name in inits:
            weights, source = numpy_helper.to_array(inits[w_name]), "initializer"
        elif w_name in consts:
            attr = {a.name: a for a in consts[w_name].attribute}
            if "value" not in attr:
                raise ValueError(
                    f"Conv node {name!r}: its weights come from a Constant node without a "
                    "tensor `value`; kernelfactor reads only stored tensors."
                )
            weights, source = numpy_helper.to_array(attr["value"].t), "constant"
        else:
            raise ValueError(
                f"Conv node {name!r}: its weights {w_name!r} are computed at run time (neither "
                "an initializer nor a Constant node); kernelfactor analyses stored weights "
                "only. Fold constants first (e.g. onnxruntime's offline optimisation)."
            )
        if weights.ndim != 4:
            raise ValueError(
                f"Conv node {name!r} has weights of shape {weights.shape}; only 2-D "
                "convolutions (4-D weights) are supported."
            )
        if not np.issubdtype(weights.dtype, np.floating):
            raise ValueError(
                f"Conv node {name!r} has {weights.dtype} weights; only floating-point "
                "weights are supported (not quantised models)."
            )
        attrs = _attributes(node)
        groups = int(attrs.get("group", 1))
        c_out, c_per, kh, kw = (int(v) for v in weights.shape)
        if groups < 1 or c_out % groups:
            raise ValueError(
                f"Conv node {name!r}: group={groups} does not divide C_out={c_out}."
            )
        stride = tuple(int(v) for v in attrs.get("strides", (1, 1)))
        dilation = tuple(int(v) for v in attrs.get("dilations", (1, 1)))
        if len(stride) != 2 or len(dilation) != 2:
            raise ValueError(f"Conv node {name!r}: strides/dilations must have 2 entries.")
        in_shape = shapes.get(node.input[0])
        out_shape = shapes.get(node.output[0])
        pads = _resolved_pads(
            name, attrs, (kh, kw), (stride[0], stride[1]), (dilation[0], dilation[1]), in_shape
        )
        if groups == 1:
            kind = "pointwise" if (kh, kw) == (1, 1) else "standard"
        else:
            kind = "depthwise" if c_per == 1 else "grouped"
        layers.append(
            ConvLayer(
                name=name, index=index, kind=kind, weights_shape=(c_out, c_per, kh, kw),
                in_channels=c_per * groups, out_channels=c_out, groups=groups,
                stride=(stride[0], stride[1]), dilation=(dilation[0], dilation[1]), pads=pads,
                bias=len(node.input) > 2 and bool(node.input[2]), weights_source=source,
                input_shape=in_shape, output_shape=out_shape, _weights=weights,
                _weights_name=w_name,
            )
        )
    if not layers:
        raise ValueError("`model` has no Conv node; there is nothing to analyse.")
    return tuple(layers), fixed


def find_convs(model: ModelLike, *, input_shape: Shape | None = None) -> tuple[ConvLayer, ...]:
    """Every ``Conv`` node of an ONNX model, with its weights and attributes.

    Parameters
    ----------
    model : str, path-like or onnx.ModelProto
    input_shape : sequence of int, optional
        Shape of the model's (first) input for shape inference.  Default: its
        fixed dimensions, with dynamic ones set to 1 (batch) and
        :data:`DEFAULT_SPATIAL_SIZE` (the others).

    Returns
    -------
    tuple of ConvLayer
        In graph order.

    Raises
    ------
    ValueError
        For a model without Conv nodes, weights computed at run time,
        non-2-D or non-float weights, or inconsistent attributes.

    Examples
    --------
    >>> convs = find_convs(example_model())
    >>> convs[1]
    ConvLayer(dw: depthwise, weights 8x1x3x3, groups=8, stride=(1, 1), pads=(1, 1, 1, 1), constant)
    """
    layers, _ = _conv_layers(_load(model), input_shape)
    return layers


# ---------------------------------------------------------------------------
# costs of one layer (grouped convs: groups x the cost of one group)
# ---------------------------------------------------------------------------


def _padded_hw(layer: ConvLayer) -> tuple[int, int] | None:
    if layer.input_shape is None or layer.pads is None or len(layer.input_shape) != 4:
        return None
    t, left, b, r = layer.pads
    return (layer.input_shape[2] + t + b, layer.input_shape[3] + left + r)


def _costs(layer: ConvLayer, method: str, rank: int = 1) -> int | None:
    """Multiplications of `layer` kept, spatially separable (rank) or depthwise separable.

    Padding is written as a larger input with ``padding="valid"``: the cost
    model counts taps on the zero padding, and ONNX pads need not be "same".
    """
    hw = _padded_hw(layer)
    if hw is None:
        return None
    c_out, c_per, kh, kw = layer.weights_shape
    g = layer.groups
    shape = (hw[0], hw[1], c_per)
    s, d = layer.stride, layer.dilation
    if method == "keep":
        cost = conv_cost(shape, (kh, kw), c_out // g, stride=s, dilation=d)
    elif method == "spatial":
        cost = spatially_separable_cost(shape, (kh, kw), c_out // g, rank=rank, stride=s,
                                        dilation=d)
    else:
        cost = depthwise_separable_cost(shape, (kh, kw), c_out // g, multiplier=rank,
                                        stride=s, dilation=d)
    return g * cost.multiplications


# ---------------------------------------------------------------------------
# per-layer report
# ---------------------------------------------------------------------------


def _err_shown(error: FactorAccuracy | None) -> float | None:
    if error is None or error.within_rounding:
        return None
    return significant(error.fro_rel)


def _err_text(value: float | None, noise: bool = False) -> str:
    if noise:
        return NOISE_TEXT
    return "-" if value is None else f"{value:.3g}"


@dataclass(frozen=True, repr=False, eq=False)
class LayerReport(Result):
    """What the kernels of one conv layer are, and what factorising them costs and saves.

    Attributes
    ----------
    layer : ConvLayer
    rank_histogram : dict of int to int
        Number of ``K_h x K_w`` kernels of each numerical rank
        (:func:`kernelfactor.analyze`'s tolerance policy); ``{1: kernels}``
        for 1x1 layers.
    spatial_errors : tuple of FactorAccuracy
        Entry ``k - 1``: the error of the best spatially separable rank-``k``
        approximation of the layer (:func:`kernelfactor.spatial_factor`), for
        ``k = 1 .. min(K_h, K_w) - 1``; empty for 1-D and 1x1 kernels.
    median_kernel_errors : tuple of float
        Entry ``k - 1``: the median over kernels of ``||K - K_k||_F / ||K||_F``
        (zero kernels count as 0).
    multiplications : int or None
        Of the layer as it is, for the inferred input shape (None when unknown).
    spatial_multiplications : tuple of int or None
        Entry ``k - 1``: with every kernel at rank ``k``
        (:func:`kernelfactor.spatially_separable_cost`, per group).
    depthwise_errors, depthwise_multiplications : tuple
        Standard layers only: depthwise-separable factorisation
        (:func:`kernelfactor.depthwise_factor`) with multiplier ``m = 1, 2, ...``
        for as long as it needs fewer multiplications than the layer.
    """

    layer: ConvLayer
    rank_histogram: dict[int, int]
    spatial_errors: tuple[FactorAccuracy, ...]
    median_kernel_errors: tuple[float, ...]
    multiplications: int | None
    spatial_multiplications: tuple[int | None, ...]
    depthwise_errors: tuple[FactorAccuracy, ...] = ()
    depthwise_multiplications: tuple[int | None, ...] = ()

    @property
    def name(self) -> str:
        """The layer's name."""
        return self.layer.name

    @property
    def kind(self) -> str:
        """The layer's kind (see :class:`ConvLayer`)."""
        return self.layer.kind

    def to_dict(self) -> JSONDict:
        """Documented fields under the noise policy (errors None at rounding level)."""
        d = self.layer.to_dict()
        d["weights_source"] = self.layer.weights_source
        d.update(
            kernels=self.layer.kernels,
            rank_histogram={str(k): v for k, v in self.rank_histogram.items()},
            multiplications=self.multiplications,
            spatial=[
                {"rank": k + 1, "error": _err_shown(e), "within_rounding": e.within_rounding,
                 "median_kernel_error": significant(m), "multiplications": c}
                for k, (e, m, c) in enumerate(zip(
                    self.spatial_errors, self.median_kernel_errors,
                    self.spatial_multiplications, strict=True))
            ],
            depthwise_separable=[
                {"multiplier": k + 1, "error": _err_shown(e),
                 "within_rounding": e.within_rounding, "multiplications": c}
                for k, (e, c) in enumerate(zip(
                    self.depthwise_errors, self.depthwise_multiplications, strict=True))
            ],
            raw={
                "spatial_errors": [e.fro_rel for e in self.spatial_errors],
                "depthwise_errors": [e.fro_rel for e in self.depthwise_errors],
                "median_kernel_errors": list(self.median_kernel_errors),
            },
        )
        return d

    def row(self) -> dict[str, str | int]:
        """One table row (text-ready values; rounding noise as ``0 (below tol)``)."""
        layer = self.layer
        e1 = self.spatial_errors[0] if self.spatial_errors else None
        m1 = self.spatial_multiplications[0] if self.spatial_multiplications else None
        d1 = self.depthwise_errors[0] if self.depthwise_errors else None
        dm1 = self.depthwise_multiplications[0] if self.depthwise_multiplications else None
        base = self.multiplications
        hist = " ".join(f"{k}:{v}" for k, v in sorted(self.rank_histogram.items()))
        return {
            "layer": layer.name,
            "kind": layer.kind,
            "weights": "x".join(map(str, layer.weights_shape)),
            "stride": f"{layer.stride[0]}x{layer.stride[1]}",
            "kernels": layer.kernels,
            "ranks": hist,
            "rank1_error": _err_text(_err_shown(e1), bool(e1 and e1.within_rounding)),
            "median_rank1_error": _err_text(
                significant(self.median_kernel_errors[0]) if self.median_kernel_errors else None
            ),
            "mults": "-" if base is None else f"{base:,}",
            "rank1_mults": _ratio_text(m1, base),
            "dwsep_error": _err_text(_err_shown(d1), bool(d1 and d1.within_rounding)),
            "dwsep_mults": _ratio_text(dm1, base),
        }

    def __repr__(self) -> str:
        r = self.row()
        return (
            f"LayerReport({r['layer']}: {r['kind']} {r['weights']}, ranks {r['ranks']}, "
            f"rank-1 error {r['rank1_error']}, mults {r['mults']})"
        )


def _ratio_text(value: int | None, base: int | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


_TABLE_COLUMNS = (
    ("layer", "Layer", "l"), ("kind", "Kind", "l"), ("weights", "Weights", "l"),
    ("stride", "Stride", "l"), ("kernels", "Kernels", "r"), ("ranks", "Rank: count", "l"),
    ("rank1_error", "Rank-1 rel. error", "r"), ("median_rank1_error", "Median kernel", "r"),
    ("mults", "Mults", "r"), ("rank1_mults", "Rank-1 mults", "r"),
    ("dwsep_error", "Dw-sep m=1 error", "r"), ("dwsep_mults", "Dw-sep mults", "r"),
)


def _layer_report(layer: ConvLayer, rtol: float | None, atol: float | None) -> LayerReport:
    w = np.asarray(layer.weights, dtype=np.float64)
    c_out, c_per, kh, kw = w.shape
    base = _costs(layer, "keep")
    spatial_errors: list[FactorAccuracy] = []
    medians: list[float] = []
    spatial_mults: list[int | None] = []
    if min(kh, kw) >= 2:
        batch = analyze(w.reshape(-1, kh, kw), rtol=rtol, atol=atol)
        ranks, counts = np.unique(np.asarray(batch.rank), return_counts=True)
        histogram = {int(r): int(c) for r, c in zip(ranks, counts, strict=True)}
        s = np.asarray(batch.singular_values)
        norms = np.sqrt(np.sum(s**2, axis=-1))
        for k in range(1, min(kh, kw)):
            spatial_errors.append(spatial_factor(w, k).error)
            tail = np.sqrt(np.sum(s[:, k:] ** 2, axis=-1))
            rel = np.divide(tail, norms, out=np.zeros_like(tail), where=norms > 0)
            medians.append(float(np.median(rel)))
            spatial_mults.append(_costs(layer, "spatial", k))
    else:
        nonzero = int(np.count_nonzero(np.any(w.reshape(c_out * c_per, -1) != 0, axis=-1)))
        histogram = {r: c for r, c in ((0, c_out * c_per - nonzero), (1, nonzero)) if c}
    dw_errors: list[FactorAccuracy] = []
    dw_mults: list[int | None] = []
    if layer.kind == "standard" and kh * kw > 1:
        for m in range(1, min(c_out, kh * kw)):
            cost = _costs(layer, "depthwise_separable", m)
            if cost is not None and base is not None and cost >= base:
                break
            dw_errors.append(depthwise_factor(w, m).error)
            dw_mults.append(cost)
            if cost is None and m >= 1:
                break
    return LayerReport(
        layer=layer, rank_histogram=histogram, spatial_errors=tuple(spatial_errors),
        median_kernel_errors=tuple(medians), multiplications=base,
        spatial_multiplications=tuple(spatial_mults), depthwise_errors=tuple(dw_errors),
        depthwise_multiplications=tuple(dw_mults),
    )


@dataclass(frozen=True, repr=False, eq=False)
class NetworkReport(Result):
    """The conv layers of a model, analysed (see :func:`analyze_network`).

    Attributes
    ----------
    source : str
        The model's path, or ``"<ModelProto>"``.
    input_shape : tuple of int or None
        The input shape used for shape inference and costs.
    assumed_input_shape : bool
        Some dimensions were dynamic and got the defaults (1 and
        :data:`DEFAULT_SPATIAL_SIZE`).
    layers : tuple of LayerReport
    rtol, atol : float or None
        The rank tolerance passed to :func:`kernelfactor.analyze`.
    """

    source: str
    input_shape: tuple[int, ...] | None
    assumed_input_shape: bool
    layers: tuple[LayerReport, ...]
    rtol: float | None = None
    atol: float | None = None

    @property
    def multiplications(self) -> int | None:
        """Total multiplications of the conv layers (None when a shape is unknown)."""
        values = [r.multiplications for r in self.layers]
        return None if any(v is None for v in values) else sum(v for v in values if v)

    def counts(self) -> dict[str, int]:
        """Number of layers of each kind."""
        out = dict.fromkeys(_KINDS, 0)
        for r in self.layers:
            out[r.layer.kind] += 1
        return {k: v for k, v in out.items() if v}

    def kernel_histogram(self, kind: str | None = None) -> dict[tuple[int, int], dict[int, int]]:
        """Rank histograms summed over layers, per kernel size (optionally of one `kind`)."""
        out: dict[tuple[int, int], dict[int, int]] = {}
        for r in self.layers:
            if kind is not None and r.layer.kind != kind:
                continue
            h = out.setdefault(r.layer.kernel, {})
            for k, v in r.rank_histogram.items():
                h[k] = h.get(k, 0) + v
        return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}

    def rows(self) -> list[dict[str, str | int]]:
        """The per-layer table rows (text-ready)."""
        return [r.row() for r in self.layers]

    def table(self, fmt: str = "markdown") -> str:
        """The per-layer table: ``"markdown"``, ``"latex"`` or ``"csv"``
        (:func:`kernelfactor.paper.format_table`), or ``"text"`` (aligned plain text)."""
        fmt = _check_choice(fmt, ("csv", "latex", "markdown", "text"), "fmt")
        if fmt == "text":
            return _text_table(self.rows(), _TABLE_COLUMNS)

        cols = [Column(k, h, latex_escape(h), a, "text") for k, h, a in _TABLE_COLUMNS]
        return format_table(self.rows(), fmt, columns=cols)

    def summary(self) -> str:
        """Header lines: model, input shape, layer kinds, kernel rank histograms."""
        shape = "unknown" if self.input_shape is None else "x".join(map(str, self.input_shape))
        if self.assumed_input_shape:
            shape += f" (dynamic dims set to 1 / {DEFAULT_SPATIAL_SIZE}; pass input_shape)"
        kinds = ", ".join(f"{v} {k}" for k, v in self.counts().items())
        total = self.multiplications
        lines = [
            f"model: {self.source}",
            f"input: {shape}",
            (f"conv layers: {len(self.layers)} ({kinds}); "
             f"multiplications: {'unknown' if total is None else f'{total:,}'}"),
        ]
        for kind in ("depthwise", "standard", "grouped"):
            for (kh, kw), hist in self.kernel_histogram(kind).items():
                if min(kh, kw) < 2:
                    continue
                text = ", ".join(f"rank {k}: {v}" for k, v in hist.items())
                median = self.median_kernel_error(kind, (kh, kw))
                lines.append(
                    f"{kind} {kh}x{kw} kernels: {sum(hist.values()):,} ({text}); median "
                    f"rank-1 relative error {median:.3g}"
                )
        return "\n".join(lines)

    def median_kernel_error(self, kind: str, kernel: tuple[int, int], rank: int = 1) -> float:
        """Median of ``||K - K_rank||_F / ||K||_F`` over the `kind` layers' `kernel`-sized kernels.

        Examples
        --------
        >>> report = analyze_network(example_model())
        >>> round(report.median_kernel_error("depthwise", (3, 3)), 3)
        0.523
        """
        errors = []
        for r in self.layers:
            if r.layer.kind == kind and r.layer.kernel == tuple(kernel):
                w = np.asarray(r.layer.weights, dtype=np.float64)
                s = np.asarray(analyze(w.reshape(-1, *w.shape[2:])).singular_values)
                norms = np.sqrt(np.sum(s**2, axis=-1))
                tail = np.sqrt(np.sum(s[:, rank:] ** 2, axis=-1))
                errors.append(np.divide(tail, norms, out=np.zeros_like(tail), where=norms > 0))
        if not errors:
            raise ValueError(
                f"the report has no {kind} layer with {kernel[0]}x{kernel[1]} kernels; see "
                "kernel_histogram() for the kinds and sizes present."
            )
        return float(np.median(np.concatenate(errors)))

    def text(self) -> str:
        """:meth:`summary` then the plain-text table."""
        return self.summary() + "\n\n" + self.table("text")

    def __str__(self) -> str:
        return self.text()

    def to_dict(self) -> JSONDict:
        """JSON-ready: the summary numbers and one dict per layer."""
        return {
            "source": self.source,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "assumed_input_shape": self.assumed_input_shape,
            "rtol": self.rtol,
            "atol": self.atol,
            "counts": plain(self.counts()),
            "multiplications": self.multiplications,
            "kernel_histograms": {
                kind: {f"{k[0]}x{k[1]}": {str(r): c for r, c in h.items()}
                       for k, h in self.kernel_histogram(kind).items()}
                for kind in self.counts()
            },
            "layers": [r.to_dict() for r in self.layers],
        }

    def __repr__(self) -> str:
        kinds = ", ".join(f"{v} {k}" for k, v in self.counts().items())
        shape = "?" if self.input_shape is None else "x".join(map(str, self.input_shape))
        return f"NetworkReport({self.source}: {len(self.layers)} convs ({kinds}), input {shape})"


def _text_table(
    rows: Sequence[Mapping[str, object]], columns: Sequence[tuple[str, str, str]]
) -> str:
    cells = [[h for _, h, _ in columns]] + [[str(r[k]) for k, _, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for row in cells:
        parts = [
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, (_, _, a) in zip(row, widths, columns, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def analyze_network(
    model: ModelLike,
    *,
    input_shape: Shape | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> NetworkReport:
    """Analyse every conv layer of an ONNX model: ranks, rank-k errors, savings.

    Parameters
    ----------
    model : str, path-like or onnx.ModelProto
    input_shape : sequence of int, optional
        The model input's shape for the costs; see :func:`find_convs`.
    rtol, atol : float, optional
        The rank tolerance (:func:`kernelfactor.tolerance`'s policy); the
        default is the rounding level of a float64 SVD.  Weights stored in
        float32 carry rounding of relative size ``~6e-8``: pass e.g.
        ``rtol=1e-6`` to count kernels that are low-rank up to that storage
        rounding as low-rank.

    Returns
    -------
    NetworkReport
        ``str(report)`` / :meth:`NetworkReport.text` is the plain-text report,
        :meth:`NetworkReport.table` the markdown / LaTeX / CSV table and
        :meth:`NetworkReport.to_dict` the JSON.

    Examples
    --------
    >>> report = analyze_network(example_model())
    >>> print(report.table("text"), end="")  # doctest: +NORMALIZE_WHITESPACE
    Layer  Kind       Weights  Stride  Kernels  Rank: count  Rank-1 rel. error  Median kernel
          Mults  Rank-1 mults  Dw-sep m=1 error  Dw-sep mults
    stem   standard   8x3x3x3  1x1          24  3:24                   1.3e-08        8.7e-09
     88,473,600         0.67x             0.669         0.24x
    dw     depthwise  8x1x3x3  1x1           8  1:1 3:7                  0.498          0.523
     29,491,200         0.67x                 -             -
    pw     pointwise  4x8x1x1  1x1          32  1:32                         -              -
     13,107,200             -                 -             -

    The stem's kernels are rank-1 outer products stored in float32: their
    rounding (relative ``~1e-8``) makes them numerically rank 3 under the
    default float64 tolerance; a tolerance at float32's level counts them as
    rank 1:

    >>> analyze_network(example_model(), rtol=1e-6).layers[0].rank_histogram
    {1: 24}
    """
    onnx_model = _load(model)
    source = os.fspath(model) if isinstance(model, (str, os.PathLike)) else "<ModelProto>"
    if rtol is not None:
        rtol = _check_nonnegative(rtol, "rtol")
    if atol is not None:
        atol = _check_nonnegative(atol, "atol")
    layers, fixed = _conv_layers(onnx_model, input_shape)
    assumed = False
    if input_shape is None and fixed is not None:
        inits = {i.name for i in onnx_model.graph.initializer}
        first = next(i for i in onnx_model.graph.input if i.name not in inits)
        assumed = any(d.dim_value <= 0 for d in first.type.tensor_type.shape.dim)
    reports = tuple(_layer_report(layer, rtol, atol) for layer in layers)
    return NetworkReport(
        source=source, input_shape=fixed, assumed_input_shape=assumed, layers=reports,
        rtol=rtol, atol=atol,
    )


# ---------------------------------------------------------------------------
# choosing ranks
# ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class LayerChoice(Result):
    """What :func:`choose_ranks` does to one layer.

    Attributes
    ----------
    name : str
    method : str
        ``"keep"``, ``"spatial"`` (every kernel at rank `rank`) or
        ``"depthwise_separable"`` (multiplier `rank`).
    rank : int or None
    error : float
        ``||W - W_approx||_F / ||W||_F`` (raw; 0 for ``"keep"``).
    within_rounding : bool
        The error is rounding noise (shown as ``0 (below tol)`` / None).
    multiplications_before, multiplications_after : int or None
    """

    name: str
    method: str
    rank: int | None
    error: float
    within_rounding: bool
    multiplications_before: int | None
    multiplications_after: int | None

    def to_dict(self) -> JSONDict:
        d = super().to_dict()
        d["error"] = None if self.within_rounding else significant(self.error)
        d["raw"] = {"error": self.error}
        return d

    def __repr__(self) -> str:
        what = self.method if self.rank is None else f"{self.method} {self.rank}"
        err = NOISE_TEXT if self.within_rounding else f"{self.error:.3g}"
        return (
            f"LayerChoice({self.name}: {what}, error {err}, mults "
            f"{self.multiplications_before} -> {self.multiplications_after})"
        )


@dataclass(frozen=True, repr=False)
class FactorPlan(Result):
    """Per-layer factorisation choices (see :func:`choose_ranks`).

    Attributes
    ----------
    choices : tuple of LayerChoice
        One per conv layer, in graph order.
    rule : str
        How the choices were made, in words.
    rank, max_error : int or float or None
        The request.
    scope : str
        ``"layer"`` or ``"network"``.
    """

    choices: tuple[LayerChoice, ...]
    rule: str
    rank: int | None
    max_error: float | None
    scope: str

    @property
    def multiplications_before(self) -> int:
        return sum(c.multiplications_before or 0 for c in self.choices)

    @property
    def multiplications_after(self) -> int:
        return sum(c.multiplications_after or 0 for c in self.choices)

    @property
    def network_error(self) -> float:
        """Root sum of squares of the layers' relative errors."""
        return math.sqrt(sum(c.error**2 for c in self.choices))

    @property
    def factorised(self) -> tuple[LayerChoice, ...]:
        return tuple(c for c in self.choices if c.method != "keep")

    def to_dict(self) -> JSONDict:
        d = super().to_dict()
        d.update(
            multiplications_before=self.multiplications_before,
            multiplications_after=self.multiplications_after,
            network_error=significant(self.network_error),
        )
        return d

    def text(self) -> str:
        """The factorised layers and totals as plain text."""
        rows = [
            {"layer": c.name, "method": c.method, "rank": "-" if c.rank is None else c.rank,
             "error": NOISE_TEXT if c.within_rounding else f"{c.error:.3g}",
             "before": f"{c.multiplications_before:,}" if c.multiplications_before else "-",
             "after": f"{c.multiplications_after:,}" if c.multiplications_after else "-"}
            for c in self.factorised
        ]
        cols = (("layer", "Layer", "l"), ("method", "Method", "l"), ("rank", "Rank/m", "r"),
                ("error", "Rel. error", "r"), ("before", "Mults before", "r"),
                ("after", "Mults after", "r"))
        before, after = self.multiplications_before, self.multiplications_after
        head = (
            f"plan: {self.rule}\n{len(self.factorised)} of {len(self.choices)} layers "
            f"factorised; conv multiplications {before:,} -> {after:,} "
            f"({after / before:.3f}x); network error (RSS of layer errors) "
            f"{self.network_error:.3g}\n"
        )
        return head + ("\n" + _text_table(rows, cols) if rows else "")

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (
            f"FactorPlan({len(self.factorised)} of {len(self.choices)} layers factorised, "
            f"mults {self.multiplications_before:,} -> {self.multiplications_after:,}, "
            f"network error {self.network_error:.3g})"
        )


#: A layer's candidate: (method, rank, error, multiplications); see :func:`_options`.
_Option: TypeAlias = tuple[str, int | None, FactorAccuracy | None, int]


def _options(report: LayerReport) -> list[_Option]:
    """(method, rank, error, mults) of a layer, "keep" first; only exportable options."""
    base = report.multiplications
    if base is None:
        raise ValueError(
            f"layer {report.name!r}: its input shape is unknown, so its multiplications are; "
            "pass `input_shape` to analyze_network."
        )
    out: list[_Option] = [("keep", None, None, base)]
    if report.layer.kind == "depthwise":
        for k, (e, c) in enumerate(
            zip(report.spatial_errors, report.spatial_multiplications, strict=True), start=1
        ):
            if c is not None and c < base:
                out.append(("spatial", k, e, c))
    elif report.layer.kind == "standard":
        for m, (e, c) in enumerate(
            zip(report.depthwise_errors, report.depthwise_multiplications, strict=True), start=1
        ):
            if c is not None and c < base:
                out.append(("depthwise_separable", m, e, c))
    return out


def _choice(report: LayerReport, option: _Option) -> LayerChoice:
    method, rank, err, mults = option
    return LayerChoice(
        name=report.name, method=method, rank=rank,
        error=0.0 if err is None else err.fro_rel,
        within_rounding=err is None or err.within_rounding,
        multiplications_before=report.multiplications, multiplications_after=mults,
    )


def _err_value(err: FactorAccuracy | None) -> float:
    return 0.0 if err is None or err.within_rounding else err.fro_rel


def choose_ranks(
    report: NetworkReport,
    *,
    rank: int | None = None,
    max_error: float | None = None,
    scope: str = "layer",
) -> FactorPlan:
    r"""Choose a factorisation per layer: a fixed spatial rank, or the cheapest within an error.

    Parameters
    ----------
    report : NetworkReport
        From :func:`analyze_network`.
    rank : int, optional
        Every depthwise layer with kernels larger than `rank` in both
        directions becomes spatially separable of rank `rank` (whether or not
        that saves multiplications: rank 2 on 3x3 kernels costs more); other
        layers are kept.
    max_error : float, optional
        Bound on the relative Frobenius error ``||W - W_approx||_F / ||W||_F``.
        Exactly one of `rank` and `max_error`.
    scope : {"layer", "network"}
        With `max_error`: bound each layer's error, or the network's, defined
        as the root sum of squares of the layers' relative errors.

    Returns
    -------
    FactorPlan

    Notes
    -----
    The candidates of a layer are the factorisations the exporters can write
    and that need fewer multiplications than the layer: spatially separable
    rank ``k`` for depthwise layers, depthwise-separable multiplier ``m`` for
    standard layers (pointwise and grouped layers are kept; a standard
    layer's spatial factorisation needs ``C_in C_out r`` intermediate channels
    and is only reported).  An error at rounding level counts as 0.

    ``scope="layer"``: each layer independently takes its candidate with the
    fewest multiplications whose error is at most `max_error` (exactly the
    minimum; "keep" when none qualifies).

    ``scope="network"``: minimise the total multiplications subject to
    :math:`\sqrt{\sum_l e_l^2} \le` `max_error`.  A greedy on the Lagrangian:
    per layer, the candidates on the lower convex hull of (squared error,
    multiplications); starting from the unfactorised network, repeatedly
    take the step with the most multiplications saved per unit of added
    squared error that keeps the budget.  Its choices lie on the
    error/cost frontier of the relaxation; an exact minimum of this
    multiple-choice knapsack can occasionally save a little more.

    Examples
    --------
    >>> report = analyze_network(example_model())
    >>> plan = choose_ranks(report, max_error=0.6)
    >>> [(c.name, c.method, c.rank) for c in plan.factorised]
    [('stem', 'depthwise_separable', 2), ('dw', 'spatial', 1)]
    >>> plan.multiplications_before, plan.multiplications_after
    (131072000, 74577920)
    """
    if not isinstance(report, NetworkReport):
        raise TypeError(
            f"`report` must be a NetworkReport from analyze_network; got {_describe(report)}."
        )
    if (rank is None) == (max_error is None):
        raise ValueError(
            "pass exactly one of `rank` (a spatial rank for the depthwise layers) and "
            f"`max_error` (a relative error bound); got rank={rank!r}, max_error={max_error!r}."
        )
    scope = _check_choice(scope, SCOPES, "scope")
    if rank is not None:
        r = _check_positive_int(rank, "rank")
        choices = []
        for rep in report.layers:
            kh, kw = rep.layer.kernel
            if rep.layer.kind == "depthwise" and r < min(kh, kw):
                mults = rep.spatial_multiplications[r - 1]
                choices.append(_choice(rep, ("spatial", r, rep.spatial_errors[r - 1],
                                             mults if mults is not None else 0)))
            else:
                base = rep.multiplications or 0
                choices.append(_choice(rep, ("keep", None, None, base)))
        rule = f"every depthwise layer with kernels larger than {r} at spatial rank {r}"
        return FactorPlan(tuple(choices), rule, r, None, scope)
    bound = _check_nonnegative(max_error, "max_error")
    options = [_options(rep) for rep in report.layers]
    if scope == "layer":
        picked = [
            min((o for o in opts if _err_value(o[2]) <= bound), key=lambda o: (o[3], o[0]))
            for opts in options
        ]
        rule = f"per layer, fewest multiplications with relative error <= {bound:g}"
    else:
        picked = _greedy(options, bound)
        rule = (
            f"fewest multiplications (greedy) with network error sqrt(sum of squared layer "
            f"relative errors) <= {bound:g}"
        )
    choices = [_choice(rep, o) for rep, o in zip(report.layers, picked, strict=True)]
    return FactorPlan(tuple(choices), rule, None, bound, scope)


def _hull(opts: list[_Option]) -> list[_Option]:
    """Options on the lower convex hull of (squared error, mults), by increasing error."""
    pts = sorted(opts, key=lambda o: (_err_value(o[2]) ** 2, o[3]))
    hull: list[_Option] = []
    for p in pts:
        if hull and p[3] >= hull[-1][3]:
            continue  # not cheaper than a smaller-error option
        while len(hull) >= 2:
            (a, b) = hull[-2], hull[-1]
            xa, xb, xp = (_err_value(o[2]) ** 2 for o in (a, b, p))
            # b is above the segment a-p: drop it
            if (b[3] - a[3]) * (xp - xa) >= (p[3] - a[3]) * (xb - xa):
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def _greedy(options: list[list[_Option]], bound: float) -> list[_Option]:
    hulls = [_hull(opts) for opts in options]
    pos = [0] * len(hulls)
    budget = bound**2
    used = 0.0
    while True:
        best, best_rate = -1, -1.0
        for i, h in enumerate(hulls):
            if pos[i] + 1 >= len(h):
                continue
            a, b = h[pos[i]], h[pos[i] + 1]
            de = _err_value(b[2]) ** 2 - _err_value(a[2]) ** 2
            saved = a[3] - b[3]
            if used + de > budget * (1 + 1e-12):
                continue
            rate = math.inf if de <= 0 else saved / de
            if rate > best_rate:
                best, best_rate = i, rate
        if best < 0:
            break
        h = hulls[best]
        used += _err_value(h[pos[best] + 1][2]) ** 2 - _err_value(h[pos[best]][2]) ** 2
        pos[best] += 1
    return [h[p] for h, p in zip(hulls, pos, strict=True)]


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------


def _check_plan(model: onnx.ModelProto, plan: object) -> dict[str, tuple[LayerChoice, ConvLayer]]:
    if not isinstance(plan, FactorPlan):
        raise TypeError(
            f"`plan` must be a FactorPlan from choose_ranks; got {_describe(plan)}."
        )
    layers, _ = _conv_layers(model, None)
    by_name = {layer.name: layer for layer in layers}
    out = {}
    for c in plan.factorised:
        if c.name not in by_name:
            raise ValueError(
                f"`plan` names the layer {c.name!r}, which `model` does not have; make the "
                "plan from this model's report."
            )
        out[c.name] = (c, by_name[c.name])
    return out


def _factors(
    choice: LayerChoice, layer: ConvLayer
) -> SpatialFactorization | DepthwiseFactorization:
    w = np.asarray(layer.weights, dtype=np.float64)
    assert choice.rank is not None
    if choice.method == "spatial":
        return spatial_factor(w, choice.rank)
    return depthwise_factor(w, choice.rank)


def _tensor(array: np.ndarray, name: str, dtype: np.dtype) -> onnx.TensorProto:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.ascontiguousarray(array.astype(dtype)), name)


def _node_index(model: onnx.ModelProto, layer: ConvLayer) -> onnx.NodeProto:
    return model.graph.node[layer.index]


def _prune_constants(graph: onnx.GraphProto) -> None:
    used = {name for n in graph.node for name in n.input} | {o.name for o in graph.output}
    keep = [n for n in graph.node if n.op_type != "Constant" or any(o in used for o in n.output)]
    if len(keep) != len(graph.node):
        del graph.node[:]
        graph.node.extend(keep)


def _finish(model: onnx.ModelProto, path: PathLike | None) -> onnx.ModelProto:
    onnx = _onnx()
    _prune_constants(model.graph)
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    onnx = _onnx()
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def export_approximated(
    model: ModelLike, plan: FactorPlan, path: PathLike | None = None
) -> onnx.ModelProto:
    """The same graph with every planned layer's weights replaced by their approximation.

    Parameters
    ----------
    model : str, path-like or onnx.ModelProto
        The model `plan` was made for (not modified).
    plan : FactorPlan
    path : str or path-like, optional
        Where to save the result.

    Returns
    -------
    onnx.ModelProto
        Validated with ``onnx.checker.check_model``; new weights are
        initializers ``<layer>_kf_weights`` in the original dtype.

    Examples
    --------
    >>> model = example_model()
    >>> approx = export_approximated(model, choose_ranks(analyze_network(model), rank=1))
    >>> [n.op_type for n in approx.graph.node]
    ['Conv', 'Relu', 'Conv', 'Conv']
    """
    original = _load(model)
    planned = _check_plan(original, plan)
    out = _copy(original)
    for choice, layer in planned.values():
        approx = _factors(choice, layer).reconstruct()
        name = f"{layer.name}_kf_weights"
        out.graph.initializer.append(_tensor(approx, name, layer.weights.dtype))
        _node_index(out, layer).input[1] = name
    return _finish(out, path)


def _conv_node(
    name: str, inputs: list[str], output: str, *, kernel: tuple[int, int], group: int,
    stride: tuple[int, int], dilation: tuple[int, int], pads: Sequence[int] | str,
) -> onnx.NodeProto:
    """A Conv node; `pads` are explicit, or an ``auto_pad`` value (``"SAME_UPPER"``...)."""
    onnx = _onnx()
    padding: dict[str, str | list[int]] = (
        {"auto_pad": pads} if isinstance(pads, str) else {"pads": list(pads)}
    )
    return onnx.helper.make_node(
        "Conv", inputs, [output], name=name, kernel_shape=list(kernel), group=group,
        strides=list(stride), dilations=list(dilation), **padding,
    )


def _auto_pad(node: onnx.NodeProto) -> str | None:
    value = _attributes(node).get("auto_pad", b"NOTSET")
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text if text in ("SAME_UPPER", "SAME_LOWER") else None


def export_factorised(
    model: ModelLike, plan: FactorPlan, path: PathLike | None = None
) -> onnx.ModelProto:
    """A graph in which every planned layer is two convolutions, equal to the approximated one.

    A depthwise layer at spatial rank ``r`` (weights ``(C_in q, 1, K_h, K_w)``,
    ``groups = C_in``) becomes a ``K_h x 1`` conv with ``C_in q r`` outputs
    (``groups = C_in``: channel multiplier ``q r``; the vertical stride and
    dilation, and all the padding) followed by a ``1 x K_w`` conv with
    ``groups = C_in q`` that sums each group's ``r`` channels (horizontal
    stride and dilation, the bias).  A standard layer with depthwise
    multiplier ``m`` becomes a depthwise ``K_h x K_w`` conv (``groups =
    C_in``, ``C_in m`` outputs, the layer's stride, pads and dilation)
    followed by a 1x1 conv (the bias).  These are the stages the cost model
    counts (:func:`kernelfactor.spatially_separable_cost` per group,
    :func:`kernelfactor.depthwise_separable_cost`).

    Parameters and returns as in :func:`export_approximated`.

    Examples
    --------
    >>> model = example_model()
    >>> fact = export_factorised(model, choose_ranks(analyze_network(model), rank=1))
    >>> [(n.op_type, n.name) for n in fact.graph.node]  # doctest: +NORMALIZE_WHITESPACE
    [('Conv', 'stem'), ('Relu', 'relu'), ('Conv', 'dw_kf_col'), ('Conv', 'dw_kf_row'),
     ('Conv', 'pw')]
    """
    original = _load(model)
    planned = _check_plan(original, plan)
    out = _copy(original)
    replacements: dict[int, list[onnx.NodeProto]] = {}
    for choice, layer in planned.values():
        node = _node_index(out, layer)
        f = _factors(choice, layer)
        dtype = layer.weights.dtype
        c_out, _, kh, kw = layer.weights_shape
        mid = f"{layer.name}_kf_mid"
        bias = [node.input[2]] if layer.bias else []
        # "SAME" stays "SAME" on each stage (valid for every input size); explicit pads all go
        # to the first stage, as the cost model counts them
        auto = _auto_pad(node)
        pads1: Sequence[int] | str = auto or layer.pads or (0, 0, 0, 0)
        pads2: Sequence[int] | str = (0, 0, 0, 0)
        if isinstance(f, SpatialFactorization):  # choice.method == "spatial"
            rank = f.rank
            w1 = f.columns.reshape(c_out * rank, 1, kh, 1)  # (o, t) order
            w2 = f.rows.reshape(c_out, rank, 1, kw)
            first = _conv_node(
                f"{layer.name}_kf_col", [node.input[0], f"{layer.name}_kf_w1"], mid,
                kernel=(kh, 1), group=layer.groups, stride=(layer.stride[0], 1),
                dilation=(layer.dilation[0], 1), pads=pads1,
            )
            second = _conv_node(
                f"{layer.name}_kf_row", [mid, f"{layer.name}_kf_w2", *bias], node.output[0],
                kernel=(1, kw), group=c_out, stride=(1, layer.stride[1]),
                dilation=(1, layer.dilation[1]), pads=auto or pads2,
            )
        else:
            w1 = f.depthwise[:, np.newaxis]
            w2 = f.pointwise[:, :, np.newaxis, np.newaxis]
            first = _conv_node(
                f"{layer.name}_kf_dw", [node.input[0], f"{layer.name}_kf_w1"], mid,
                kernel=(kh, kw), group=layer.in_channels, stride=layer.stride,
                dilation=layer.dilation, pads=pads1,
            )
            second = _conv_node(
                f"{layer.name}_kf_pw", [mid, f"{layer.name}_kf_w2", *bias], node.output[0],
                kernel=(1, 1), group=1, stride=(1, 1), dilation=(1, 1), pads=pads2,
            )
        out.graph.initializer.append(_tensor(w1, f"{layer.name}_kf_w1", dtype))
        out.graph.initializer.append(_tensor(w2, f"{layer.name}_kf_w2", dtype))
        replacements[layer.index] = [first, second]
    nodes = []
    for i, node in enumerate(out.graph.node):
        nodes.extend(replacements.get(i, [node]))
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    return _finish(out, path)


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------


def image_input(
    image: PathLike | ArrayLike,
    *,
    multiple: int = 32,
    max_side: int | None = 960,
    mean: Sequence[float] = (0.485, 0.456, 0.406),
    std: Sequence[float] = (0.229, 0.224, 0.225),
) -> np.ndarray:
    """An image as a ``(1, 3, H, W)`` float32 network input.

    Parameters
    ----------
    image : str, path-like or array_like
        A file (read with Pillow) or an ``(H, W)`` / ``(H, W, 3)`` array with
        values in 0..255.
    multiple : int
        Height and width are resized to multiples of this (PP-OCR's detector
        needs 32).
    max_side : int or None
        The longer side is at most this (before rounding to `multiple`).
    mean, std : sequence of float
        Per-channel normalisation of values scaled to 0..1 (ImageNet's, as
        PP-OCR uses).

    Returns
    -------
    ndarray, shape (1, 3, H, W), float32

    Examples
    --------
    >>> image_input(np.full((50, 70, 3), 255.0)).shape
    (1, 3, 64, 64)
    """
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        with Image.open(os.fspath(image)) as im:
            pil = im.convert("RGB")
    else:
        arr = np.asarray(image)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., np.newaxis], 3, axis=-1)
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise ValueError(
                f"`image` must be a path or an (H, W) / (H, W, 3) array; got {_describe(image)}."
            )
        pil = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    step = _check_positive_int(multiple, "multiple")
    w, h = pil.size
    scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
    nh = max(step, round(h * scale / step) * step)
    nw = max(step, round(w * scale / step) * step)
    pil = pil.resize((nw, nh), Image.Resampling.BILINEAR)
    x: np.ndarray = np.asarray(pil, dtype=np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)


@dataclass(frozen=True, repr=False)
class ModelRun(Result):
    """One model's outputs against the reference's (see :func:`evaluate`).

    Attributes
    ----------
    name : str
    relative_l2 : float
        ``||y - y_ref||_2 / ||y_ref||_2`` over all inputs (first output).
    max_abs : float
        ``max |y - y_ref|``.
    iou : float or None
        IoU of the maps thresholded at `threshold` (1 when both are empty).
    metric : float or None
        The user's ``metric(y, y_ref)``, averaged over inputs.
    seconds : float
        Best-of-`repeats` wall time of one pass over all inputs.
    time_ratio : float
        ``seconds / reference seconds``.
    """

    name: str
    relative_l2: float
    max_abs: float
    iou: float | None
    metric: float | None
    seconds: float
    time_ratio: float

    def to_dict(self) -> JSONDict:
        d = super().to_dict()
        for key in ("relative_l2", "max_abs", "iou", "metric", "seconds", "time_ratio"):
            value = d[key]
            if isinstance(value, (int, float)):
                d[key] = significant(value)
        return d

    def __repr__(self) -> str:
        iou = "-" if self.iou is None else f"{self.iou:.4f}"
        return (
            f"ModelRun({self.name}: rel L2 {self.relative_l2:.3g}, max abs {self.max_abs:.3g}, "
            f"IoU {iou}, {self.seconds * 1e3:.1f} ms ({self.time_ratio:.2f}x))"
        )


@dataclass(frozen=True, repr=False)
class Evaluation(Result):
    """Models run side by side on the same inputs (see :func:`evaluate`).

    Attributes
    ----------
    reference : str
    runs : tuple of ModelRun
        The reference first (differences 0, ratio 1).
    threshold : float
    inputs : int
    repeats, threads : int
    """

    reference: str
    runs: tuple[ModelRun, ...]
    threshold: float
    inputs: int
    repeats: int
    threads: int

    def __getitem__(self, name: str) -> ModelRun:
        for r in self.runs:
            if r.name == name:
                return r
        raise KeyError(name)

    def text(self) -> str:
        rows = [
            {"model": r.name, "rel_l2": f"{r.relative_l2:.3g}", "max_abs": f"{r.max_abs:.3g}",
             "iou": "-" if r.iou is None else f"{r.iou:.4f}",
             "metric": "-" if r.metric is None else f"{r.metric:.4g}",
             "ms": f"{r.seconds * 1e3:.1f}", "ratio": f"{r.time_ratio:.2f}x"}
            for r in self.runs
        ]
        cols = (("model", "Model", "l"), ("rel_l2", "Rel. L2 vs ref", "r"),
                ("max_abs", "Max abs", "r"), ("iou", f"IoU@{self.threshold:g}", "r"),
                ("metric", "Metric", "r"), ("ms", "Best ms", "r"), ("ratio", "Time ratio", "r"))
        head = (
            f"reference: {self.reference}; {self.inputs} input(s); best of {self.repeats} "
            f"runs, {self.threads} thread(s)\n"
        )
        return head + _text_table(rows, cols)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return "Evaluation(" + "; ".join(repr(r)[9:-1] for r in self.runs) + ")"


def _session(model: onnx.ModelProto, threads: int) -> Any:
    """An onnxruntime InferenceSession (onnxruntime has no type annotations)."""
    ort = _ort()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def _as_inputs(inputs: object) -> list[np.ndarray]:
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError(
            f"`inputs` must be an array or a non-empty sequence of arrays (N, C, H, W); "
            f"got {_describe(inputs)}. Use image_input() for image files."
        )
    out = []
    for i, x in enumerate(inputs):
        arr = np.asarray(x)
        if arr.dtype.kind != "f":
            raise TypeError(f"`inputs`[{i}] must be a float array; got {_describe(x)}.")
        out.append(np.ascontiguousarray(arr))
    return out


def evaluate(
    models: Mapping[str, ModelLike],
    inputs: ArrayLike | Sequence[ArrayLike],
    *,
    reference: str | None = None,
    threshold: float = 0.3,
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None,
    repeats: int = 5,
    threads: int = 1,
) -> Evaluation:
    """Run models with onnxruntime on the same inputs: output change, IoU, metric, run time.

    Parameters
    ----------
    models : mapping of str to model
        Names to paths or ``onnx.ModelProto`` (e.g. ``{"original": ...,
        "rank 1": export_approximated(...)}``), all with one input of the same
        name and kind.
    inputs : array or sequence of arrays
        Values of the models' first input (e.g. from :func:`image_input`).
    reference : str, optional
        The model the others are compared with; default the first.
    threshold : float
        The first output is thresholded at this (``>``) for the IoU (PP-OCR's
        detector: 0.3 on its probability map).
    metric : callable, optional
        ``metric(output, reference_output) -> float``, averaged over inputs.
    repeats : int
        Timing: the best of this many passes over all inputs, after one
        warm-up pass; the models alternate within each repeat so that they
        see the same machine load.
    threads : int
        onnxruntime intra-op threads per session.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> model = example_model()
    >>> plan = choose_ranks(analyze_network(model), rank=1)
    >>> x = np.random.default_rng(0).normal(size=(1, 3, 16, 16)).astype(np.float32)
    >>> ev = evaluate({"approx": export_approximated(model, plan),
    ...                "factorised": export_factorised(model, plan)}, x, repeats=1)
    >>> ev["factorised"].relative_l2 < 1e-5, ev["factorised"].iou
    (True, 1.0)
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            f"`models` must be a non-empty mapping of names to models; got {_describe(models)}."
        )
    names = list(models)
    ref = names[0] if reference is None else reference
    if ref not in models:
        raise ValueError(f"`reference` {ref!r} is not one of the models {names}.")
    names.remove(ref)
    names.insert(0, ref)
    xs = _as_inputs(inputs)
    reps = _check_positive_int(repeats, "repeats")
    nthreads = _check_positive_int(threads, "threads")
    thr = float(threshold)
    sessions = {n: _session(_load(models[n], f"models[{n!r}]"), nthreads) for n in names}
    input_name = sessions[ref].get_inputs()[0].name
    outputs = {n: [s.run(None, {input_name: x})[0] for x in xs] for n, s in sessions.items()}
    best = dict.fromkeys(names, math.inf)
    for _ in range(reps):
        for n in names:
            s = sessions[n]
            t0 = time.perf_counter()
            for x in xs:
                s.run(None, {input_name: x})
            best[n] = min(best[n], time.perf_counter() - t0)
    ref_out = outputs[ref]
    runs = []
    for n in names:
        ys = outputs[n]
        diff = math.sqrt(sum(float(np.sum((y.astype(np.float64) - r) ** 2))
                             for y, r in zip(ys, ref_out, strict=True)))
        norm = math.sqrt(sum(float(np.sum(r.astype(np.float64) ** 2)) for r in ref_out))
        max_abs = max(float(np.max(np.abs(y.astype(np.float64) - r)))
                      for y, r in zip(ys, ref_out, strict=True))
        inter = sum(int(np.sum((y > thr) & (r > thr))) for y, r in zip(ys, ref_out, strict=True))
        union = sum(int(np.sum((y > thr) | (r > thr))) for y, r in zip(ys, ref_out, strict=True))
        value = None
        if metric is not None:
            value = statistics.fmean(float(metric(y, r)) for y, r in zip(ys, ref_out, strict=True))
        runs.append(ModelRun(
            name=n, relative_l2=diff / norm if norm > 0 else diff, max_abs=max_abs,
            iou=inter / union if union else 1.0, metric=value, seconds=best[n],
            time_ratio=best[n] / best[ref] if best[ref] > 0 else math.nan,
        ))
    return Evaluation(ref, tuple(runs), thr, len(xs), reps, nthreads)


# ---------------------------------------------------------------------------
# a tiny model (examples, tests)
# ---------------------------------------------------------------------------


def example_model(seed: int = 0) -> onnx.ModelProto:
    """A tiny CNN built in memory: standard 3x3 (initializer), ReLU, depthwise 3x3 (Constant), 1x1.

    Input ``x`` of shape ``(N, 3, H, W)`` with dynamic ``N``, ``H``, ``W``;
    output ``y`` with 4 channels.  The stem's kernels are rank 1 (outer
    products); the depthwise layer has one rank-1 kernel and seven random
    ones.

    Examples
    --------
    >>> m = example_model()
    >>> [n.op_type for n in m.graph.node]
    ['Conv', 'Relu', 'Constant', 'Conv', 'Conv']
    """
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    stem = np.einsum("oci,ocj->ocij", rng.normal(size=(8, 3, 3)), rng.normal(size=(8, 3, 3)))
    dw = rng.normal(size=(8, 1, 3, 3))
    dw[0, 0] = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    pw = rng.normal(size=(4, 8, 1, 1))
    f32 = np.float32
    inits = [
        numpy_helper.from_array(stem.astype(f32), "stem_w"),
        numpy_helper.from_array(rng.normal(size=8).astype(f32), "stem_b"),
        numpy_helper.from_array(rng.normal(size=8).astype(f32), "dw_b"),
        numpy_helper.from_array(pw.astype(f32), "pw_w"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "stem_w", "stem_b"], ["h1"], name="stem",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu"),
        helper.make_node("Constant", [], ["dw_w"], name="dw_const",
                         value=numpy_helper.from_array(dw.astype(f32), "dw_w")),
        helper.make_node("Conv", ["h2", "dw_w", "dw_b"], ["h3"], name="dw", group=8,
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["h3", "pw_w"], ["y"], name="pw"),
    ]
    graph = helper.make_graph(
        nodes, "kernelfactor_example",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, "H", "W"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------------------
# command line (wired into kernelfactor.cli as a subcommand)
# ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``model`` subcommand's arguments to an ``argparse`` parser."""
    parser.add_argument("model", help="path of an .onnx model")
    parser.add_argument("--input-shape", default=None, metavar="N,C,H,W",
                        help="input shape for costs (default: dynamic dims 1 and "
                             f"{DEFAULT_SPATIAL_SIZE})")
    parser.add_argument("--rtol", type=float, default=None, help="relative rank tolerance")
    parser.add_argument("--atol", type=float, default=None, help="absolute rank tolerance")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--rank", type=int, default=None,
                       help="spatial rank for every depthwise layer")
    group.add_argument("--max-error", type=float, default=None,
                       help="bound on each layer's relative kernel error (see --scope)")
    parser.add_argument("--scope", choices=SCOPES, default="layer",
                        help="--max-error bounds each layer or the network (RSS of layer errors)")
    parser.add_argument("--export-approx", "--export", dest="export_approx", default=None,
                        metavar="PATH", help="write the model with approximated weights")
    parser.add_argument("--export-factorised", default=None, metavar="PATH",
                        help="write the factorised model")
    parser.add_argument("--evaluate", nargs="+", default=None, metavar="IMAGE",
                        help="run original, approximated and factorised models on these images")
    parser.add_argument("--threshold", type=float, default=0.3,
                        help="threshold of the output map for the IoU (default 0.3)")
    parser.add_argument("--repeats", type=int, default=5, help="timing: best of this many runs")
    parser.add_argument("--format", dest="table_format", default="text",
                        choices=("text", "markdown", "latex", "csv"), help="table format")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _parse_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise ValueError(
            f"--input-shape: expected integers like 1,3,640,640; got {text!r}."
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run the ``model`` subcommand from parsed `args`; prints to stdout, returns 0."""
    import json

    report = analyze_network(args.model, input_shape=_parse_shape(args.input_shape),
                             rtol=args.rtol, atol=args.atol)
    out: dict[str, NetworkReport | FactorPlan | Evaluation] = {"report": report}
    plan = None
    wants_plan = args.rank is not None or args.max_error is not None
    if not wants_plan and (args.export_approx or args.export_factorised or args.evaluate):
        raise ValueError(
            "exporting or evaluating needs a plan: pass --rank K or --max-error E."
        )
    if wants_plan:
        plan = choose_ranks(report, rank=args.rank, max_error=args.max_error, scope=args.scope)
        out["plan"] = plan
    approx = factorised = None
    if plan is not None and (args.export_approx or args.evaluate):
        approx = export_approximated(args.model, plan, args.export_approx)
    if plan is not None and (args.export_factorised or args.evaluate):
        factorised = export_factorised(args.model, plan, args.export_factorised)
    if args.evaluate:
        assert approx is not None and factorised is not None  # a plan is required above
        xs = [image_input(path) for path in args.evaluate]
        out["evaluation"] = evaluate(
            {"original": args.model, "approximated": approx, "factorised": factorised},
            xs, threshold=args.threshold, repeats=args.repeats,
        )
    if args.json:
        print(json.dumps({k: v.to_dict() for k, v in out.items()}, indent=2))
        return 0
    if args.table_format == "text":
        print(report.text())
    else:
        print(report.summary() + "\n")
        print(report.table(args.table_format), end="")
    if plan is not None:
        print()
        print(plan.text(), end="")
    for key, path in (("approximated", args.export_approx),
                      ("factorised", args.export_factorised)):
        if path:
            print(f"wrote {key} model: {path}")
    if "evaluation" in out:
        print()
        print(out["evaluation"].text(), end="")
    return 0
