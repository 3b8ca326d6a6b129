"""A network's depthwise layers at spatial rank k: kernel errors, multiplications, end to end.

:func:`network_tradeoff` gathers, from a :class:`kernelfactor.networks.NetworkReport`
and end-to-end metric values the caller measured (e.g. with
:func:`kernelfactor.networks.evaluate`), what :func:`kernelfactor.plotting.plot_layer_tradeoff`
and :func:`kernelfactor.plotting.plot_network_tradeoff` draw.

:func:`example_network_tradeoff` does the whole study on a small MobileNet-style
network held as numpy arrays and run with :func:`kernelfactor.conv2d`: no
``onnx``, no ``onnxruntime``, the same numbers on every machine (the paper
figure ``network_tradeoff``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._depthwise import conv2d, spatial_factor
from .._noise import NOISE_TEXT, significant
from .._results import Result
from .._validation import _check_positive_int, _describe
from ..networks import ConvLayer, NetworkReport, _layer_report, choose_ranks

__all__ = [
    "LayerCurve",
    "NetworkTradeoff",
    "example_network_tradeoff",
    "network_tradeoff",
]

#: Significant digits of the end-to-end metric (onnxruntime and BLAS builds differ in last bits).
METRIC_DIGITS = 3


@dataclass(frozen=True, repr=False)
class LayerCurve(Result):
    """One depthwise layer's kernel error and multiplications at spatial ranks ``1 .. K - 1``.

    Attributes
    ----------
    name : str
    kernel : tuple of int
        ``(K_h, K_w)``.
    multiplications : int or None
        Of the layer as it is.
    ranks : tuple of int
    rank_multiplications : tuple of int or None
    errors : tuple of float or None
        ``||W - W_k||_F / ||W||_F`` to 6 significant digits; None where it is
        rounding noise (the kernels are exactly of rank ``<= k``).
    """

    name: str
    kernel: tuple[int, int]
    multiplications: int | None
    ranks: tuple[int, ...]
    rank_multiplications: tuple[int | None, ...]
    errors: tuple[float | None, ...]

    def __repr__(self) -> str:
        errs = ", ".join(NOISE_TEXT if e is None else f"{e:.3g}" for e in self.errors)
        return (
            f"LayerCurve({self.name}: {self.kernel[0]}x{self.kernel[1]}, ranks "
            f"{list(self.ranks)}, errors [{errs}], mults {self.multiplications} -> "
            f"{list(self.rank_multiplications)})"
        )


@dataclass(frozen=True, repr=False)
class NetworkTradeoff(Result):
    """Per-layer and end-to-end trade-off of a network's depthwise layers at rank k.

    Attributes
    ----------
    source : str
        The network (a path, or a short description).
    layers : tuple of LayerCurve
        The depthwise layers with kernels of at least 2 x 2.
    multiplications : int
        Of all conv layers as they are.
    ranks : tuple of int
        Every depthwise layer whose kernels are larger than ``k`` at rank ``k``.
    rank_multiplications : tuple of int
        Of all conv layers, for each rank.
    metric_name : str
    metric : tuple of float
        The end-to-end metric for each rank, to 3 significant digits.
    reference_metric : float
        The metric of the network as it is (0 for an error, 1 for an IoU).
    """

    source: str
    layers: tuple[LayerCurve, ...]
    multiplications: int
    ranks: tuple[int, ...]
    rank_multiplications: tuple[int, ...]
    metric_name: str
    metric: tuple[float, ...]
    reference_metric: float

    def __repr__(self) -> str:
        pts = ", ".join(
            f"rank {k}: {m:,} mults, {v:g}"
            for k, m, v in zip(self.ranks, self.rank_multiplications, self.metric, strict=True)
        )
        return (
            f"NetworkTradeoff({self.source}: {len(self.layers)} depthwise layers, "
            f"{self.multiplications:,} mults as is; {self.metric_name}: {pts})"
        )


def _known(multiplications: int | None) -> int:
    """A count of the report's multiplications: known once its input shape is."""
    if multiplications is None:
        raise ValueError(
            "`report` has layers of unknown cost (no input shape); pass `input_shape` to "
            "analyze_network."
        )
    return multiplications


def network_tradeoff(
    report: NetworkReport,
    metric: Mapping[int, float],
    *,
    metric_name: str = "relative L2 error of the output",
    reference_metric: float = 0.0,
) -> NetworkTradeoff:
    """The trade-off of a network's depthwise layers from its report and measured metrics.

    Parameters
    ----------
    report : kernelfactor.networks.NetworkReport
        From :func:`kernelfactor.networks.analyze_network` (costs need a known
        input shape).
    metric : mapping of int to float
        The end-to-end metric of the network with every depthwise layer at
        spatial rank ``k`` (:func:`kernelfactor.networks.choose_ranks` with
        ``rank=k``), for each rank ``k`` drawn; rounded to 3 significant
        digits.
    metric_name : str
        Axis label of the metric.
    reference_metric : float
        The metric of the network as it is.

    Returns
    -------
    NetworkTradeoff

    Examples
    --------
    >>> from kernelfactor import networks
    >>> report = networks.analyze_network(networks.example_model(), input_shape=(1, 3, 32, 32))
    >>> t = network_tradeoff(report, {1: 0.123456}, metric_name="my error")
    >>> [c.name for c in t.layers], t.metric, t.multiplications > t.rank_multiplications[0]
    (['dw'], (0.123,), True)
    """

    if not isinstance(report, NetworkReport):
        raise TypeError(
            "`report` must be a NetworkReport from kernelfactor.networks.analyze_network; got "
            f"{_describe(report)}."
        )
    if not isinstance(metric, Mapping) or not metric:
        raise TypeError(
            f"`metric` must be a non-empty mapping of rank to value; got {_describe(metric)}."
        )
    total = _known(report.multiplications)
    ranks = tuple(sorted(_check_positive_int(k, "metric") for k in metric))
    curves = []
    for rep in report.layers:
        if rep.layer.kind != "depthwise" or not rep.spatial_errors:
            continue
        curves.append(LayerCurve(
            name=rep.layer.name,
            kernel=rep.layer.kernel,
            multiplications=rep.multiplications,
            ranks=tuple(range(1, len(rep.spatial_errors) + 1)),
            rank_multiplications=tuple(rep.spatial_multiplications),
            errors=tuple(None if e.within_rounding else significant(e.fro_rel)
                         for e in rep.spatial_errors),
        ))
    mults = tuple(_known(choose_ranks(report, rank=k).multiplications_after) for k in ranks)
    values = tuple(significant(float(metric[k]), METRIC_DIGITS) for k in ranks)
    return NetworkTradeoff(
        source=report.source, layers=tuple(curves), multiplications=int(total), ranks=ranks,
        rank_multiplications=mults, metric_name=str(metric_name), metric=values,
        reference_metric=float(reference_metric),
    )


# ---------------------------------------------------------------------------
# the built-in numpy network
# ---------------------------------------------------------------------------

#: (name, kind, C_out, K, stride) of the example network; input 3 channels, ReLU between
#: layers, a sigmoid after the last.
_EXAMPLE_LAYERS: tuple[tuple[str, str, int, int, int], ...] = (
    ("stem", "standard", 8, 3, 1),
    ("dw1", "depthwise", 8, 3, 1),
    ("pw1", "pointwise", 16, 1, 1),
    ("dw2", "depthwise", 16, 5, 1),
    ("pw2", "pointwise", 16, 1, 1),
    ("dw3", "depthwise", 16, 5, 2),
    ("pw3", "pointwise", 16, 1, 1),
    ("dw4", "depthwise", 16, 3, 1),
    ("head", "pointwise", 1, 1, 1),
)


def _example_weights(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases; depthwise kernels have decaying singular values, as trained ones."""
    rng = np.random.default_rng(seed)
    out = []
    c_in = 3
    for _, kind, c_out, k, _ in _EXAMPLE_LAYERS:
        if kind == "depthwise":
            decay = 0.3 ** np.arange(k)
            u = rng.normal(size=(c_out, k, k))
            v = rng.normal(size=(c_out, k, k))
            w = np.einsum("t,cit,cjt->cij", decay, u, v)[:, np.newaxis]
        else:
            w = rng.normal(size=(c_out, c_in, k, k))
        w = w / np.sqrt(np.sum(w**2, axis=(1, 2, 3), keepdims=True))
        out.append((w.astype(np.float32), (0.1 * rng.normal(size=c_out)).astype(np.float32)))
        c_in = c_out
    return out


def _example_image(size: int, seed: int) -> np.ndarray:
    """A text-like test image ``(1, 3, size, size)``: dark 'words' of strokes on a light page."""
    rng = np.random.default_rng(seed + 1)
    page = np.full((size, size), 0.9)
    row = 4
    while row + 6 < size:
        col = 3 + int(rng.integers(0, 4))
        height = int(rng.integers(4, 7))
        while col + 4 < size - 3:
            width = int(rng.integers(3, 12))
            for stroke in range(col, min(col + width, size - 3)):
                if rng.random() < 0.6:
                    page[row:row + height, stroke] = 0.1
            col += width + 3
        row += height + 4
    rgb = np.stack([page, 0.95 * page, 0.9 * page])[np.newaxis]
    return (rgb - 0.5) / 0.25


def _example_report(weights: list[tuple[np.ndarray, np.ndarray]], size: int) -> NetworkReport:

    layers = []
    c_in, h = 3, size
    for i, ((name, kind, c_out, k, stride), (w, _)) in enumerate(
        zip(_EXAMPLE_LAYERS, weights, strict=True)
    ):
        groups = c_in if kind == "depthwise" else 1
        p = k // 2
        out = (h + 2 * p - k) // stride + 1
        layers.append(ConvLayer(
            name=name, index=i, kind=kind, weights_shape=(c_out, w.shape[1], k, k),
            in_channels=c_in, out_channels=c_out, groups=groups, stride=(stride, stride),
            dilation=(1, 1), pads=(p, p, p, p), bias=True, weights_source="numpy",
            input_shape=(1, c_in, h, h), output_shape=(1, c_out, out, out), _weights=w,
            _weights_name=f"{name}_w",
        ))
        c_in, h = c_out, out
    reports = tuple(_layer_report(layer, None, None) for layer in layers)
    return NetworkReport(
        source="example network (numpy)", input_shape=(1, 3, size, size),
        assumed_input_shape=False, layers=reports,
    )


def _forward(x: np.ndarray, weights: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    for i, ((_, kind, _, k, stride), (w, b)) in enumerate(
        zip(_EXAMPLE_LAYERS, weights, strict=True)
    ):
        p = k // 2
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        groups = x.shape[1] if kind == "depthwise" else 1
        x = conv2d(xp, w, stride=stride, groups=groups, channel_axis=-3)
        x = x + b.astype(np.float64)[:, None, None]
        x = np.maximum(x, 0.0) if i + 1 < len(_EXAMPLE_LAYERS) else 1.0 / (1.0 + np.exp(-x))
    return x


def example_network_tradeoff(
    ranks: Sequence[int] = (1, 2, 3, 4), *, size: int = 64, seed: int = 0
) -> NetworkTradeoff:
    """The trade-off study on a small built-in network, with numpy only.

    A MobileNet-style stack (a 3x3 stem; depthwise 3x3 and 5x5 layers, one of
    stride 2, each followed by a pointwise layer; a sigmoid head) with seeded
    weights whose depthwise kernels have decaying singular values, run with
    :func:`kernelfactor.conv2d` on a text-like image of `size` x `size`.  The
    metric is the relative L2 error of the output map with every depthwise
    layer at rank ``k`` (kernels of ``k x k`` or smaller kept), to 3
    significant digits.

    Examples
    --------
    >>> t = example_network_tradeoff(ranks=(1, 2))
    >>> [(c.name, c.kernel, c.ranks) for c in t.layers][:2]
    [('dw1', (3, 3), (1, 2)), ('dw2', (5, 5), (1, 2, 3, 4))]
    >>> t.metric[0] > t.metric[1] > 0
    True
    """
    ks = tuple(_check_positive_int(k, "ranks") for k in ranks)
    n = _check_positive_int(size, "size")
    weights = _example_weights(seed)
    report = _example_report(weights, n)
    x = _example_image(n, seed)
    y = _forward(x, weights)
    norm = float(np.linalg.norm(y))
    metric = {}
    for k in ks:
        approx = [
            (spatial_factor(w.astype(np.float64), k).reconstruct()
             if kind == "depthwise" and k < kk else w, b)
            for (_, kind, _, kk, _), (w, b) in zip(_EXAMPLE_LAYERS, weights, strict=True)
        ]
        metric[k] = float(np.linalg.norm(_forward(x, approx) - y)) / norm
    return network_tradeoff(report, metric)
