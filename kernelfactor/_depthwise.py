"""Factorising conv-layer weights: depthwise-separable and spatially separable layers.

Weights have the deep-learning layout ``(C_out, C_in, K_h, K_w)``.  Feature
maps and input shapes are channels-last, ``(H, W, C)`` or ``(N, H, W, C)``,
everywhere in the package (the seed's ``12x12x3``, the cost functions,
TensorFlow, scikit-image's ``channel_axis=-1``); arrays in the PyTorch / ONNX
layout ``(C, H, W)`` / ``(N, C, H, W)`` are taken with ``channel_axis=-3``
and come back in that layout.  Layers compute a *cross-correlation*
(no kernel flip), as deep-learning frameworks do.  ``padding="same"`` follows
TensorFlow (the odd padding pixel at the bottom / right); output sizes are
those of :func:`kernelfactor.conv_output_shape`.

Depthwise-separable (:func:`depthwise_factor`)
    ``W[o, c] = sum_j P[o, c m + j] D[c m + j]``: a depthwise layer ``D`` of
    shape ``(C_in m, K_h, K_w)`` (grouped convolution, ``groups = C_in``,
    depthwise channel ``c m + j`` is input channel ``c``'s ``j``-th filter) and
    a pointwise layer ``P`` of shape ``(C_out, C_in m)``.  This holds exactly
    iff every input channel's slice ``W[:, c]`` reshaped to
    ``C_out x (K_h K_w)`` has rank ``<= m``.

Spatially separable (:func:`spatial_factor`)
    every ``W[o, c]`` of rank ``<= r``: ``W[o, c] = sum_t u_t v_t^T``, applied
    as a ``K_h x 1`` then a ``1 x K_w`` convolution.

Both best approximations are truncated SVDs of independent blocks, computed
with one batched :func:`numpy.linalg.svd` call.  Numerical ranks use the
tolerance ``max(rows, cols) * eps * sigma_1`` per block (numpy's
``matrix_rank`` default), reported in the results.

Costs of the factorised layers come from :mod:`kernelfactor._costmodel` (the
results' ``cost`` methods).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._coerce import (
    _as_image,
    _as_kernel,
)
from ._costmodel import (
    ConvCost,
    _conv_output_shape,
    _pair,
    conv_cost,
    depthwise_separable_cost,
    spatially_separable_cost,
)
from ._exact import exact_rank
from ._noise import NOISE_TEXT, rounding_level, shown_above, shown_where, significant
from ._results import Result
from ._svd import _fix_signs
from ._typing import ArrayLike, JSONDict, Pair, Shape
from ._validation import (
    _check_bool,
    _check_choice,
    _check_nonnegative,
    _check_positive_int,
    _check_rank_at_most,
    _describe,
)

__all__ = [
    "DepthwiseFactorization",
    "FactorAccuracy",
    "SpatialFactorization",
    "conv2d",
    "depthwise_factor",
    "depthwise_multiplier_for_error",
    "spatial_factor",
    "spatial_rank_for_error",
]

#: How the exact verdict is decided, sorted.
EXACT_METHODS: tuple[str, ...] = ("numeric", "rational")


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _as_weights(weights: ArrayLike, name: str = "weights") -> np.ndarray:
    """Finite float64 weights of shape ``(C_out, C_in, K_h, K_w)``."""
    if isinstance(weights, str):
        raise TypeError(
            f"`{name}` must be an array of shape (C_out, C_in, K_h, K_w); got the string "
            f"{weights!r}. Build the layer weights as a numpy array."
        )
    arr = np.asarray(weights) if not isinstance(weights, np.ndarray) else weights
    if arr.ndim != 4:
        raise ValueError(
            f"`{name}` must be 4-D with shape (C_out, C_in, K_h, K_w); got shape {arr.shape}. "
            "For one 2-D kernel use `weights[np.newaxis, np.newaxis]`."
        )
    if 0 in arr.shape:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); every dimension must be >= 1.")
    return _as_kernel(arr, name=name, batch=True, complex_ok=False)


def _spatial_input_shape(input_shape: Shape, c_in: int) -> tuple[int, int, int]:
    """``(H, W)`` or ``(H, W, C_in)`` -> ``(H, W, C_in)``, checking ``C_in``."""
    try:
        items = tuple(input_shape)
    except TypeError:
        items = ()
    if len(items) == 2:
        items = (*items, c_in)
    if len(items) != 3:
        raise ValueError(
            f"`input_shape` must be (H, W) or (H, W, C_in); got {_describe(input_shape)}."
        )
    if items[2] != c_in:
        raise ValueError(
            f"`input_shape` has {items[2]} channels but the weights have C_in = {c_in}; "
            f"pass (H, W) or (H, W, {c_in})."
        )
    return (items[0], items[1], items[2])


# ---------------------------------------------------------------------------
# applying layers
# ---------------------------------------------------------------------------


#: The channel axes a feature map may have: last (the package's convention) or
#: third from last (PyTorch / ONNX).
CHANNEL_AXES: tuple[int, ...] = (-1, -3)


def _channel_axis(
    arr: np.ndarray, c_in: int, channel_axis: int | None, *, stacklevel: int = 3
) -> int:
    """Where `arr` has its channels: -1 or -3 (checked, not yet matched to ``C_in``).

    ``channel_axis=None`` is the 0.2 transition: channels-last unless only the
    0.1 layout ``(C, H, W)`` fits ``C_in``, which is still read as channels-first
    with a DeprecationWarning (the fallback goes in 0.3).
    """
    if channel_axis is None:
        last, first = arr.shape[-1] == c_in, arr.shape[-3] == c_in
        axis = -3 if first and not last else -1
        if first:
            read = "channels-first (C, H, W)" if axis == -3 else "channels-last (H, W, C)"
            warnings.warn(
                f"`x` of shape {arr.shape} fits the weights' C_in = {c_in} as (C, H, W), "
                f"the 0.1 layout; it is read as {read}. Feature maps are channels-last "
                "(H, W, C) since 0.2.0: pass channel_axis=-1 for (H, W, C) or "
                "channel_axis=-3 for (C, H, W) to silence this (the 0.1 fallback goes in 0.3).",
                DeprecationWarning,
                stacklevel=stacklevel,
            )
        return axis
    if isinstance(channel_axis, bool) or not isinstance(channel_axis, (int, np.integer)):
        raise TypeError(
            "`channel_axis` must be an int, -1 (channels-last) or -3 (channels-first); "
            f"got {_describe(channel_axis)}."
        )
    axis = int(channel_axis) - arr.ndim if channel_axis >= 0 else int(channel_axis)
    if axis not in CHANNEL_AXES:
        raise ValueError(
            f"`channel_axis` must be -1 (channels-last, (H, W, C)) or -3 (channels-first, "
            f"(C, H, W)) for `x` of shape {arr.shape}; got {channel_axis!r}."
        )
    return axis


def _as_feature_map(x: ArrayLike, name: str = "x") -> np.ndarray:
    """Finite float64 ``(H, W, C)`` / ``(C, H, W)`` or batched 4-D feature map."""
    arr = _as_image(x, name=name, min_ndim=3)
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"`{name}` must have shape (H, W, C) or (N, H, W, C) (channels-last; (C, H, W) "
            f"with channel_axis=-3); got shape {arr.shape}."
        )
    xf = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(xf)):
        raise ValueError(f"`{name}` contains NaN or Inf; pass a finite feature map.")
    return xf


def _layer_input(x: ArrayLike, c_in: int, channel_axis: int | None) -> tuple[np.ndarray, int]:
    """A factorised layer's input and its channel axis, its channels matched to ``C_in``."""
    xf = _as_feature_map(x)
    axis = _channel_axis(xf, c_in, channel_axis, stacklevel=4)
    if xf.shape[axis] != c_in:
        layout = "(H, W, C)" if axis == -1 else "(C, H, W)"
        raise ValueError(
            f"`x` of shape {xf.shape} read as {layout} has {xf.shape[axis]} channels, but the "
            f"layer's weights have C_in = {c_in}. Feature maps are channels-last (H, W, C); "
            "pass channel_axis=-3 for (C, H, W)."
        )
    return xf, axis


def _restore(out: np.ndarray, axis: int) -> np.ndarray:
    """Channels back from axis -3 to where the input had them."""
    return np.moveaxis(out, -3, -1) if axis == -1 else out


def conv2d(
    x: ArrayLike,
    weights: ArrayLike,
    *,
    stride: Pair = 1,
    padding: str = "valid",
    dilation: Pair = 1,
    groups: int = 1,
    channel_axis: int | None = None,
) -> np.ndarray:
    """A 2-D convolution layer (cross-correlation, as in deep learning), numpy only.

    Parameters
    ----------
    x : array_like
        Feature map ``(H, W, C_in)`` or a batch ``(N, H, W, C_in)``
        (channels-last, as every shape in the package), or ``(C_in, H, W)`` /
        ``(N, C_in, H, W)`` with ``channel_axis=-3``.
    weights : array_like
        ``(C_out, C_in / groups, K_h, K_w)``.
    stride, dilation : int or pair of int
    padding : {"same", "valid"}
        ``"same"`` pads with zeros as TensorFlow does (output
        ``ceil(in / stride)``, the odd pixel at the bottom / right).
    groups : int
        Grouped convolution: input and output channels split into `groups`
        blocks convolved separately (``groups = C_in`` is depthwise).
    channel_axis : {-1, -3}, optional
        Where `x` has its channels; the output has them in the same place.
        Omitted, ``-1``, except that an `x` only the 0.1 layout ``(C, H, W)``
        fits is still read channels-first, with a DeprecationWarning.

    Returns
    -------
    ndarray
        ``(H_out, W_out, C_out)`` or ``(N, H_out, W_out, C_out)`` (channels
        where `x` had them), float64.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4, 1)
    >>> conv2d(x, np.ones((1, 1, 2, 2)))[..., 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    >>> conv2d(x.reshape(1, 4, 4), np.ones((1, 1, 2, 2)), channel_axis=-3).shape
    (1, 3, 3)
    """
    xf = _as_feature_map(x)
    w = _as_weights(weights)
    g = _check_positive_int(groups, "groups")
    c_out, c_per, kh, kw = w.shape
    axis = _channel_axis(xf, c_per * g, channel_axis)
    xc = np.moveaxis(xf, -1, -3) if axis == -1 else xf
    batched = xc.ndim == 4
    xb = xc if batched else xc[np.newaxis]
    n, c_in, h, wd = xb.shape
    if c_in % g or c_out % g:
        raise ValueError(
            f"`groups` = {g} must divide both C_in = {c_in} (from `x`) and C_out = {c_out} "
            "(from `weights`)."
        )
    if c_per * g != c_in:
        layout = "(H, W, C)" if axis == -1 else "(C, H, W)"
        raise ValueError(
            f"`weights` has shape {w.shape}: C_in / groups = {c_per}, but `x` of shape "
            f"{xf.shape} read as {layout} has {c_in} channels and groups = {g} (expected "
            f"weights.shape[1] == {c_in // g}). Feature maps are channels-last (H, W, C); "
            "pass channel_axis=-3 for (C, H, W)."
        )
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    (ho, wo), (ph, pw) = _conv_output_shape(
        (h, wd), (kh, kw), stride=s, padding=padding, dilation=d, input_name="x"
    )
    xp = np.pad(xb, ((0, 0), (0, 0), ph, pw)) if padding == "same" else xb
    eff = (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1)
    win = sliding_window_view(xp, eff, axis=(2, 3))[:, :, :: s[0], :: s[1], :: d[0], :: d[1]]
    win = win[:, :, :ho, :wo]
    # (n, g, positions, taps) @ (g, taps, outputs): one batched BLAS product
    cols = win.reshape(n, g, c_per, ho, wo, kh, kw).transpose(0, 1, 3, 4, 2, 5, 6)
    cols = cols.reshape(n, g, ho * wo, c_per * kh * kw)
    wg = w.reshape(g, c_out // g, c_per * kh * kw).transpose(0, 2, 1)
    out = np.matmul(cols, wg)  # (n, g, ho * wo, c_out // g)
    out = out.transpose(0, 1, 3, 2).reshape(n, c_out, ho, wo)
    return _restore(out if batched else out[0], axis)


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class FactorAccuracy(Result):
    """How close a factorisation is: the Frobenius error, absolute and relative to ``||W||_F``.

    Attributes
    ----------
    fro, fro_rel : float
        :math:`\\|W - W_k\\|_F` and the same over :math:`\\|W\\|_F` (raw floats).
    within_rounding : bool
        Every singular value dropped is at or below its block's tolerance: the
        error is rounding noise (its digits differ between LAPACK builds), so
        the ``repr`` says ``0 (below tol)`` and :meth:`to_dict` writes ``None``.
    """

    fro: float
    fro_rel: float
    within_rounding: bool = False

    def to_dict(self) -> JSONDict:
        """Documented fields under the noise policy; the floats under ``raw``."""
        noise = self.within_rounding
        return {
            "fro": None if noise else significant(self.fro),
            "fro_rel": None if noise else significant(self.fro_rel),
            "within_rounding": noise,
            "raw": {"fro": self.fro, "fro_rel": self.fro_rel},
        }

    def __repr__(self) -> str:
        return f"FactorAccuracy({_error_text(self)})"


def _with_raw(
    d: JSONDict, factors: tuple[str, ...], s: np.ndarray, tol: np.ndarray
) -> JSONDict:
    """The noise policy on a factorisation's dict: factors, tolerances and singular
    values move under ``raw``; documented singular values are None at or below the
    block's tolerance and 6 significant digits otherwise."""
    raw = {key: d.pop(key) for key in (*factors, "tolerances", "singular_values")}
    d["tolerances"] = shown_where(tol, False)
    d["singular_values"] = shown_above(s, tol[..., np.newaxis])
    d["raw"] = raw
    return d


def _error_text(error: FactorAccuracy) -> str:
    if error.within_rounding:
        return f"fro={NOISE_TEXT}"
    return f"fro={error.fro:.3g} (rel {error.fro_rel:.3g})"


def _accuracy(s: np.ndarray, keep: int, tol: np.ndarray) -> FactorAccuracy:
    """The error of keeping `keep` singular values per block (tolerances `tol` per block)."""
    fro = float(np.sqrt(max(float(np.sum(_tail_sq(s, keep))), 0.0)))
    norm = float(np.sqrt(np.sum(s**2)))
    noise = bool(np.all(s[..., keep:] <= tol[..., np.newaxis]))
    return FactorAccuracy(fro=fro, fro_rel=fro / norm if norm > 0 else 0.0,
                          within_rounding=noise)


def _numeric_ranks(s: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-block numerical ranks and tolerances ``max(rows, cols) * eps * sigma_1``."""
    tol = np.asarray(rounding_level(s[..., 0], (rows, cols)))
    ranks = np.sum(s > tol[..., np.newaxis], axis=-1)
    return ranks, tol


def _exact_ranks_rational(blocks: np.ndarray) -> np.ndarray:
    """Exact ranks of float blocks (every float is a dyadic rational)."""
    flat = blocks.reshape(-1, *blocks.shape[-2:])
    ranks = [int(exact_rank(b)) for b in flat]
    return np.array(ranks, dtype=int).reshape(blocks.shape[:-2])


class _FactorisedLayer(Result):
    """What the two factorised layers share: running them on a feature map."""

    @property
    def weights_shape(self) -> tuple[int, int, int, int]:
        """``(C_out, C_in, K_h, K_w)``."""
        raise NotImplementedError

    def _run(
        self, x: np.ndarray, stride: tuple[int, int], padding: str, dilation: tuple[int, int]
    ) -> np.ndarray:
        raise NotImplementedError

    def apply(
        self,
        x: ArrayLike,
        *,
        stride: Pair = 1,
        padding: str = "valid",
        dilation: Pair = 1,
        channel_axis: int | None = None,
    ) -> np.ndarray:
        """Run the factorised layer; with zero padding it equals :func:`conv2d` with the
        reconstructed weights.

        `x` and `channel_axis` as in :func:`conv2d`: channels-last ``(H, W, C_in)``
        or ``(N, H, W, C_in)``; the output has its channels where `x` had them.
        """
        xf, axis = _layer_input(x, self.weights_shape[1], channel_axis)
        xc = np.moveaxis(xf, -1, -3) if axis == -1 else xf
        out = self._run(xc, _pair(stride, "stride"), padding, _pair(dilation, "dilation"))
        return _restore(out, axis)


@dataclass(frozen=True, eq=False)
class DepthwiseFactorization(_FactorisedLayer):
    """A conv layer written as depthwise then pointwise: ``W[o, c] = sum_j P[o, cm+j] D[cm+j]``.

    Attributes
    ----------
    depthwise : ndarray, shape (C_in * m, K_h, K_w)
        Channel ``c * m + j`` is input channel ``c``'s ``j``-th filter (unit
        Frobenius norm, right singular vectors).
    pointwise : ndarray, shape (C_out, C_in * m)
        Carries the singular values.
    multiplier : int
    error : FactorAccuracy
        ``||W - reconstruct()||_F`` from the discarded singular values.
    exact : bool
        Every input channel's ``C_out x (K_h K_w)`` slice has rank ``<= m``
        (numerically within `tolerances`, or exactly for ``method="rational"``).
    ranks : tuple of int
        Rank of each input channel's slice.
    tolerances : tuple of float
        Per-channel numerical-rank tolerance ``max(C_out, K_h K_w) eps sigma_1``.
    singular_values : ndarray, shape (C_in, min(C_out, K_h K_w))
    method : str
        ``"numeric"`` or ``"rational"``.
    """

    depthwise: np.ndarray
    pointwise: np.ndarray
    multiplier: int
    error: FactorAccuracy
    exact: bool
    ranks: tuple[int, ...]
    tolerances: tuple[float, ...]
    singular_values: np.ndarray
    method: str = "numeric"

    @property
    def weights_shape(self) -> tuple[int, int, int, int]:
        """``(C_out, C_in, K_h, K_w)`` of the factorised layer."""
        c_out = self.pointwise.shape[0]
        c_in = self.depthwise.shape[0] // self.multiplier
        return (c_out, c_in, self.depthwise.shape[1], self.depthwise.shape[2])

    def reconstruct(self) -> np.ndarray:
        """The weights ``(C_out, C_in, K_h, K_w)`` the factors represent."""
        c_out, c_in, kh, kw = self.weights_shape
        p = self.pointwise.reshape(c_out, c_in, self.multiplier)
        d = self.depthwise.reshape(c_in, self.multiplier, kh, kw)
        return np.einsum("ocj,cjhw->ochw", p, d)

    def to_array(self) -> np.ndarray:
        """Alias of :meth:`reconstruct`."""
        return self.reconstruct()

    def _run(
        self, x: np.ndarray, stride: tuple[int, int], padding: str, dilation: tuple[int, int]
    ) -> np.ndarray:
        """Depthwise (groups = C_in) then pointwise 1x1, on channels-first `x`."""
        y = conv2d(x, self.depthwise[:, np.newaxis], stride=stride, padding=padding,
                   dilation=dilation, groups=self.weights_shape[1], channel_axis=-3)
        return conv2d(y, self.pointwise[:, :, np.newaxis, np.newaxis], channel_axis=-3)

    def cost(
        self, input_shape: Shape, *, stride: Pair = 1, padding: str = "valid", dilation: Pair = 1
    ) -> ConvCost:
        """Counts of this layer on an input ``(H, W)`` or ``(H, W, C_in)``.

        See :func:`kernelfactor.depthwise_separable_cost`; compare with
        :meth:`standard_cost`.
        """
        c_out, c_in, kh, kw = self.weights_shape
        shape = _spatial_input_shape(input_shape, c_in)
        return depthwise_separable_cost(
            shape,
            (kh, kw),
            c_out,
            multiplier=self.multiplier,
            stride=stride,
            padding=padding,
            dilation=dilation,
        )

    def standard_cost(
        self, input_shape: Shape, *, stride: Pair = 1, padding: str = "valid", dilation: Pair = 1
    ) -> ConvCost:
        """Counts of the unfactorised layer on the same input."""
        c_out, c_in, kh, kw = self.weights_shape
        shape = _spatial_input_shape(input_shape, c_in)
        return conv_cost(
            shape, (kh, kw), c_out, stride=stride, padding=padding, dilation=dilation
        )

    def to_dict(self) -> JSONDict:
        """JSON-ready plain Python; factors and unrounded floats under ``raw``."""
        d = _with_raw(super().to_dict(), ("depthwise", "pointwise"), self.singular_values,
                      np.asarray(self.tolerances))
        d["weights_shape"] = list(self.weights_shape)
        return d

    def __repr__(self) -> str:
        return (
            f"DepthwiseFactorization(weights {self.weights_shape}, multiplier={self.multiplier}, "
            f"exact={self.exact}, channel ranks={list(self.ranks)}, "
            f"error {_error_text(self.error)})"
        )


@dataclass(frozen=True, eq=False)
class SpatialFactorization(_FactorisedLayer):
    """Every ``W[o, c]`` written as ``sum_t columns[o, c, t] rows[o, c, t]^T``.

    Attributes
    ----------
    columns : ndarray, shape (C_out, C_in, r, K_h)
        Left singular vectors (the ``K_h x 1`` stage).
    rows : ndarray, shape (C_out, C_in, r, K_w)
        Right singular vectors times the singular values (the ``1 x K_w`` stage).
    rank : int
    error : FactorAccuracy
    exact : bool
        Every ``W[o, c]`` has rank ``<= r`` (numerically within `tolerances`,
        or exactly for ``method="rational"``).
    ranks : ndarray of int, shape (C_out, C_in)
    tolerances : ndarray, shape (C_out, C_in)
        ``max(K_h, K_w) eps sigma_1`` per kernel.
    singular_values : ndarray, shape (C_out, C_in, min(K_h, K_w))
    method : str
    """

    columns: np.ndarray
    rows: np.ndarray
    rank: int
    error: FactorAccuracy
    exact: bool
    ranks: np.ndarray
    tolerances: np.ndarray
    singular_values: np.ndarray
    method: str = "numeric"

    @property
    def weights_shape(self) -> tuple[int, int, int, int]:
        """``(C_out, C_in, K_h, K_w)``."""
        c_out, c_in, _, kh = self.columns.shape
        return (c_out, c_in, kh, self.rows.shape[-1])

    def reconstruct(self) -> np.ndarray:
        """The weights ``(C_out, C_in, K_h, K_w)`` the factors represent."""
        return np.einsum("octh,octw->ochw", self.columns, self.rows)

    def to_array(self) -> np.ndarray:
        """Alias of :meth:`reconstruct`."""
        return self.reconstruct()

    def _run(
        self, x: np.ndarray, stride: tuple[int, int], padding: str, dilation: tuple[int, int]
    ) -> np.ndarray:
        """``K_h x 1`` (groups = C_in) then ``1 x K_w`` (groups = C_out), on channels-first `x`.

        Vertical stride, padding and dilation go to the first stage,
        horizontal ones to the second; with zero padding this equals the 2-D
        layer with the reconstructed weights.
        """
        c_out, c_in, kh, kw = self.weights_shape
        r = self.rank
        s, d = stride, dilation
        w1 = self.columns.transpose(1, 0, 2, 3).reshape(c_in * c_out * r, 1, kh, 1)
        y = conv2d(x, w1, stride=(s[0], 1), padding=padding, dilation=(d[0], 1), groups=c_in,
                   channel_axis=-3)
        batched = y.ndim == 4
        yb = y if batched else y[np.newaxis]
        n, _, ho, wd = yb.shape
        # (c, o, t) channel order -> (o, c, t) so that each output's terms are one group
        yb = yb.reshape(n, c_in, c_out, r, ho, wd).transpose(0, 2, 1, 3, 4, 5)
        yb = yb.reshape(n, c_out * c_in * r, ho, wd)
        w2 = self.rows.reshape(c_out, c_in * r, 1, kw)
        out = conv2d(yb, w2, stride=(1, s[1]), padding=padding, dilation=(1, d[1]), groups=c_out,
                     channel_axis=-3)
        return out if batched else out[0]

    def cost(
        self, input_shape: Shape, *, stride: Pair = 1, padding: str = "valid", dilation: Pair = 1
    ) -> ConvCost:
        """Counts of this layer on an input ``(H, W)`` or ``(H, W, C_in)``.

        See :func:`kernelfactor.spatially_separable_cost`.
        """
        c_out, c_in, kh, kw = self.weights_shape
        shape = _spatial_input_shape(input_shape, c_in)
        return spatially_separable_cost(
            shape,
            (kh, kw),
            c_out,
            rank=self.rank,
            stride=stride,
            padding=padding,
            dilation=dilation,
        )

    def to_dict(self) -> JSONDict:
        """JSON-ready plain Python; factors and unrounded floats under ``raw``."""
        d = _with_raw(super().to_dict(), ("columns", "rows"), self.singular_values,
                      self.tolerances)
        d["weights_shape"] = list(self.weights_shape)
        return d

    def __repr__(self) -> str:
        return (
            f"SpatialFactorization(weights {self.weights_shape}, rank={self.rank}, "
            f"exact={self.exact}, max kernel rank={int(self.ranks.max())}, "
            f"error {_error_text(self.error)})"
        )


# ---------------------------------------------------------------------------
# factorisations
# ---------------------------------------------------------------------------


def _sign_fix(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic signs (the project's rule, :func:`._svd._fix_signs`) on the right vectors."""
    vt, ut = _fix_signs(vt, np.swapaxes(u, -1, -2))
    return np.swapaxes(ut, -1, -2), vt


def _channel_slices(w: np.ndarray) -> np.ndarray:
    """``(C_in, C_out, K_h K_w)``: input channel ``c``'s slice of the weights."""
    c_out, c_in, kh, kw = w.shape
    return w.transpose(1, 0, 2, 3).reshape(c_in, c_out, kh * kw)


def _tail_sq(s: np.ndarray, keep: int) -> np.ndarray:
    """Squared singular values discarded when keeping `keep` per block."""
    return np.sum(s[..., keep:] ** 2, axis=-1)


def depthwise_factor(
    weights: ArrayLike, multiplier: int = 1, *, method: str = "numeric"
) -> DepthwiseFactorization:
    r"""Best depthwise-separable approximation of conv weights, with its exact error.

    Parameters
    ----------
    weights : array_like, shape (C_out, C_in, K_h, K_w)
    multiplier : int
        Depth multiplier ``m`` (filters per input channel).
    method : {"numeric", "rational"}
        How `exact` is decided: numerical ranks with the tolerance
        ``max(C_out, K_h K_w) * eps * sigma_1`` per channel, or exact ranks of
        the float entries as rationals (needs ``kernelfactor._exact``).  The
        factors are floating point either way.

    Returns
    -------
    DepthwiseFactorization

    Notes
    -----
    A depthwise-separable layer with multiplier ``m`` has
    ``W[o, c] = \sum_j P[o, cm + j] D[cm + j]``, i.e. the slice
    :math:`S_c \in \mathbb{R}^{C_{out} \times K_h K_w}` of input channel ``c``
    equals :math:`P_c D_c` with rank at most ``m``, and the blocks of
    different channels share no parameters.  Hence

    .. math::

        \|W - \hat W\|_F^2 = \sum_c \|S_c - P_c D_c\|_F^2,

    a sum of independent terms, each minimised by the rank-``m`` truncated SVD
    of :math:`S_c` (Eckart-Young), so the per-channel truncations are jointly
    optimal and the error is
    :math:`\big(\sum_c \sum_{j > m} \sigma_{c,j}^2\big)^{1/2}`.  If ``m``
    exceeds a slice's size the extra filters are zero.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> D, P = rng.normal(size=(3, 5, 5)), rng.normal(size=(8, 3))
    >>> W = np.einsum("oc,chw->ochw", P, D)  # depthwise-separable, m = 1
    >>> f = depthwise_factor(W)
    >>> f.exact, f.depthwise.shape, f.pointwise.shape
    (True, (3, 5, 5), (8, 3))
    >>> bool(np.allclose(f.reconstruct(), W))
    True
    """
    w = _as_weights(weights)
    c_out, c_in, kh, kw = w.shape
    m = _check_rank_at_most(multiplier, min(c_out, kh * kw), "multiplier",
                            f"min(C_out, K_h * K_w) for weights of shape {w.shape}")
    method = _check_choice(method, EXACT_METHODS, "method")
    slices = _channel_slices(w)
    u, s, vt = np.linalg.svd(slices, full_matrices=False)
    u, vt = _sign_fix(u, vt)
    keep = min(m, s.shape[-1])
    pointwise = np.zeros((c_out, c_in, m))
    depthwise = np.zeros((c_in, m, kh * kw))
    pointwise[:, :, :keep] = (u[:, :, :keep] * s[:, np.newaxis, :keep]).transpose(1, 0, 2)
    depthwise[:, :keep] = vt[:, :keep]
    ranks, tol = _numeric_ranks(s, c_out, kh * kw)
    if method == "rational":
        ranks = _exact_ranks_rational(slices)
    return DepthwiseFactorization(
        depthwise=depthwise.reshape(c_in * m, kh, kw),
        pointwise=pointwise.reshape(c_out, c_in * m),
        multiplier=m,
        error=_accuracy(s, keep, tol),
        exact=bool(np.all(ranks <= m)),
        ranks=tuple(int(r) for r in ranks),
        tolerances=tuple(float(t) for t in tol),
        singular_values=s,
        method=method,
    )


def _smallest_for_error(
    s: np.ndarray, max_error: object, relative: bool, tol: np.ndarray, name: str = "max_error"
) -> int:
    """Smallest ``k >= 1`` keeping ``k`` singular values per block within the error target.

    An error that is rounding noise counts as the noise level (the tolerances'
    root sum of squares times the number of values dropped), so the answer
    never depends on the noise's digits.
    """
    target = _check_nonnegative(max_error, name)
    norm = float(np.sqrt(np.sum(s**2)))
    for k in range(1, s.shape[-1] + 1):
        err = _accuracy(s, k, tol)
        value = err.fro
        if err.within_rounding and k < s.shape[-1]:
            level = float(np.sqrt(np.sum(tol**2) * (s.shape[-1] - k)))
            value = max(value, level)
        if relative:
            value = value / norm if norm > 0 else 0.0
        if value <= target:
            return k
    return s.shape[-1]  # pragma: no cover - the full rank has error 0


def depthwise_multiplier_for_error(
    weights: ArrayLike, max_error: float, *, relative: bool = False
) -> int:
    """The smallest depth multiplier whose best approximation meets an error target.

    Parameters
    ----------
    weights : array_like, shape (C_out, C_in, K_h, K_w)
    max_error : float
        Target for ``||W - W_m||_F`` (or ``||W - W_m||_F / ||W||_F`` when
        `relative`), ``>= 0``.
    relative : bool

    Returns
    -------
    int
        ``m >= 1``; ``depthwise_factor(weights, m).error`` meets the target and
        ``m - 1`` does not (for ``m > 1``).  At most ``min(C_out, K_h K_w)``,
        where the error is zero.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> W = rng.normal(size=(8, 3, 3, 3))
    >>> depthwise_multiplier_for_error(W, 0.0)
    8
    >>> depthwise_multiplier_for_error(W, 0.6, relative=True)
    3
    """
    w = _as_weights(weights)
    c_out, _, kh, kw = w.shape
    s = np.linalg.svd(_channel_slices(w), compute_uv=False)
    _, tol = _numeric_ranks(s, c_out, kh * kw)
    return _smallest_for_error(s, max_error, _check_bool(relative, "relative"), tol)


def spatial_factor(
    weights: ArrayLike, rank: int = 1, *, method: str = "numeric"
) -> SpatialFactorization:
    r"""Best spatially separable approximation: every ``W[o, c]`` of rank ``<= rank``.

    Parameters
    ----------
    weights : array_like, shape (C_out, C_in, K_h, K_w)
    rank : int
        Rank-1 terms per kernel ``W[o, c]``.
    method : {"numeric", "rational"}
        How `exact` is decided (see :func:`depthwise_factor`); tolerance
        ``max(K_h, K_w) * eps * sigma_1`` per kernel.

    Returns
    -------
    SpatialFactorization

    Notes
    -----
    The kernels ``W[o, c]`` are independent blocks, so as in
    :func:`depthwise_factor` the squared error is a sum of independent terms
    and per-kernel truncated SVDs (one batched call) are jointly optimal:

    .. math::

        \|W - \hat W\|_F = \Big(\sum_{o, c} \sum_{t > r} \sigma_{oc, t}^2\Big)^{1/2}.

    Examples
    --------
    >>> sobel = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> f = spatial_factor(np.stack([sobel, sobel.T])[:, np.newaxis])
    >>> f.exact, f.columns.shape, f.rows.shape
    (True, (2, 1, 1, 3), (2, 1, 1, 3))
    """
    w = _as_weights(weights)
    c_out, c_in, kh, kw = w.shape
    r = _check_rank_at_most(rank, min(kh, kw), "rank", f"min(K_h, K_w) for {kh} x {kw} kernels")
    method = _check_choice(method, EXACT_METHODS, "method")
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    u, vt = _sign_fix(u, vt)
    keep = min(r, s.shape[-1])
    columns = np.zeros((c_out, c_in, r, kh))
    rows = np.zeros((c_out, c_in, r, kw))
    columns[:, :, :keep] = np.swapaxes(u[..., :keep], -1, -2)
    rows[:, :, :keep] = vt[..., :keep, :] * s[..., :keep, np.newaxis]
    ranks, tol = _numeric_ranks(s, kh, kw)
    if method == "rational":
        ranks = _exact_ranks_rational(w)
    return SpatialFactorization(
        columns=columns,
        rows=rows,
        rank=r,
        error=_accuracy(s, keep, tol),
        exact=bool(np.all(ranks <= r)),
        ranks=np.asarray(ranks, dtype=int),
        tolerances=tol,
        singular_values=s,
        method=method,
    )


def spatial_rank_for_error(weights: ArrayLike, max_error: float, *, relative: bool = False) -> int:
    """The smallest per-kernel rank whose best spatially separable approximation meets a target.

    Same conventions as :func:`depthwise_multiplier_for_error`; at most
    ``min(K_h, K_w)``.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> spatial_rank_for_error(rng.normal(size=(4, 2, 3, 3)), 0.0)
    3
    """
    w = _as_weights(weights)
    s = np.linalg.svd(w, compute_uv=False)
    _, tol = _numeric_ranks(s, *w.shape[-2:])
    return _smallest_for_error(s, max_error, _check_bool(relative, "relative"), tol)
