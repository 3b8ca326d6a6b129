"""Filtering images larger than memory: dask arrays, chunk by chunk.

:func:`kernelfactor.correlate` and :func:`kernelfactor.convolve` hand a dask
array to :func:`dask_filter`, which returns a lazy dask array equal to the
in-memory result.  Each chunk is filtered by kernelfactor's own in-memory
code (so ``method=`` is honoured: a separable kernel runs as 1-D passes in
every chunk), with ``dask.array.map_overlap`` supplying the halo each chunk
needs from its neighbours.

How the boundary is made exact
------------------------------
For a filter of length :math:`k` with ndimage origin :math:`o` along an axis,
``scipy.ndimage.correlate`` computes

.. math::

    y_i = \\sum_{j=0}^{k-1} w_j \\, x_{i + j - \\lfloor k/2 \\rfloor - o},

so output :math:`i` reads inputs :math:`i - l, \\dots, i + r` with
:math:`l = \\lfloor k/2 \\rfloor + o` and :math:`r = \\lfloor (k-1)/2 \\rfloor - o`
(both :math:`\\ge 0` by ndimage's origin rule).  ``convolve`` is ``correlate``
with the weights reversed and the origin :math:`-o`, minus one more for even
:math:`k` (ndimage's rule), which gives its :math:`(l, r)`.  The code does
not rely on this algebra: :func:`_reach` measures :math:`(l, r)` on the
in-memory filter itself, so the halo follows its conventions for `axes` and
`origin` by construction (the tests check both agree).

* Between chunks, ``map_overlap`` shares exactly :math:`l` cells from the
  left neighbour and :math:`r` from the right one (``boundary='none'``), and
  trims them afterwards, so every kept output reads real neighbours.
* At the image border, the chunk is filtered with the user's own ``mode`` and
  ``cval``: the extension ndimage builds for a chunk that starts at the
  border reads only the first :math:`l + 1` cells of that chunk, which are the
  first cells of the image, so the result is the in-memory one.  Every chunk
  along a filtered axis is made at least :math:`\\max(l, r) + 1` long
  (rechunking when needed) so that this holds.
* ``'wrap'`` / ``'grid-wrap'`` read the far side of the image: there
  ``map_overlap`` uses ``boundary='periodic'`` with the symmetric depth
  :math:`\\max(l, r)`.
* An axis held in one chunk needs no halo at all: the chunk is the whole axis.

No value is ever padded by hand, so ``cval`` is applied by ndimage exactly as
in memory, and the image dtype is untouched until the chunk is filtered.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import _as_kernel, _describe

__all__ = ["dask_filter"]

_WRAP_MODES = ("grid-wrap", "wrap")


def _reach(
    kernel_shape: tuple[int, ...],
    *,
    ndim: int,
    axes: tuple[int, int],
    origin: Any,
    convolve: bool,
) -> dict[int, tuple[int, int]]:
    """Cells read before and after each output, ``{axis: (left, right)}``.

    Measured on the in-memory filter itself (so it holds whatever the
    conventions for `axes` and `origin`): a delta filtered with an all-ones
    kernel of the same shape lights up exactly the outputs that read it, and
    output :math:`i` reads input :math:`c` iff :math:`c - r \\le i \\le c + l`.

    Examples
    --------
    >>> _reach((5, 4), ndim=2, axes=(0, 1), origin=(0, 1), convolve=False)
    {0: (2, 2), 1: (3, 0)}
    >>> _reach((5, 4), ndim=2, axes=(0, 1), origin=0, convolve=True)
    {0: (2, 2), 1: (1, 2)}
    """
    ones = np.ones(kernel_shape)
    n = 2 * max(kernel_shape) + 3  # every output that reads the centre fits
    centre = n // 2
    reach = {}
    for axis in axes:
        shape = [1] * ndim
        shape[axis] = n
        delta = np.zeros(shape)
        delta.reshape(-1)[centre] = 1.0
        out = _in_memory(
            delta,
            ones,
            convolve=convolve,
            mode="constant",
            cval=0.0,
            origin=origin,
            method="direct",
            axes=axes,
        )
        hit = np.flatnonzero(out.reshape(-1) > 0.5)
        reach[axis] = (int(hit.max()) - centre, centre - int(hit.min()))
    return reach


def _axis_chunks(chunks: tuple[int, ...], minimum: int) -> tuple[int, ...]:
    """Merge chunks so that each is at least `minimum` long (one chunk if too short)."""
    if min(chunks) >= minimum:
        return chunks
    total = sum(chunks)
    if total <= minimum:
        return (total,)
    from dask.array.overlap import ensure_minimum_chunksize

    return tuple(int(c) for c in ensure_minimum_chunksize(minimum, chunks))


def _in_memory(
    image: np.ndarray,
    kernel: Any,
    *,
    convolve: bool,
    mode: str,
    cval: float,
    origin: Any,
    method: str,
    axes: Any,
) -> np.ndarray:
    """kernelfactor's in-memory filter (what every chunk runs)."""
    from . import _apply

    fn = _apply.convolve if convolve else _apply.correlate
    # dask already runs chunks in parallel: one thread per chunk avoids
    # oversubscribing the cores.
    return np.asarray(
        fn(
            image,
            kernel,
            mode=mode,
            cval=cval,
            origin=origin,
            method=method,
            axes=axes,
            workers=1,
        )
    )


def dask_filter(
    image: Any,
    kernel: Any,
    *,
    convolve: bool = False,
    mode: str = "reflect",
    cval: float = 0.0,
    origin: int | Sequence[int] = 0,
    method: str = "auto",
    axes: Sequence[int] = (-2, -1),
) -> Any:
    """Correlate or convolve a dask array lazily, chunk by chunk.

    The result equals ``kernelfactor.correlate(np.asarray(image), kernel, ...)``
    (or ``convolve``) with the same arguments: every chunk is filtered by the
    in-memory code with the halo it needs from its neighbours (see the module
    notes), so the sums are the same sums, term for term.  Nothing is computed
    until the result is computed or stored.

    Parameters
    ----------
    image : dask.array.Array
        The image, of any chunking; (H, W), (H, W, C) and batches are
        filtered along `axes`.
    kernel : str, array_like or result
        As for :func:`kernelfactor.correlate`.  The object itself is passed
        to every chunk, so a low-rank kernel's factors are reused.
    convolve : bool
        Convolve (flip the kernel) instead of correlating.
    mode, cval, origin, method, axes
        As for :func:`kernelfactor.correlate` (scipy.ndimage semantics).

    Returns
    -------
    dask.array.Array
        Lazy; same shape and chunks as `image` (after any rechunking that
        chunks smaller than the kernel's halo needed), dtype as
        :func:`kernelfactor.correlate` gives it (scipy.ndimage's: the input's,
        complex for complex weights).

    A chunk is filtered by the method `method` picks for that chunk: with
    ``'direct'`` or ``'separable'`` the result is bit-identical to the
    in-memory one; ``'fft'`` (and ``'auto'`` where it picks the FFT) agrees to
    rounding.  ``method='fft'`` on an image holding NaN or Inf fails at
    compute time, in the chunk that holds it.

    Raises
    ------
    TypeError
        If `image` is not a dask array, or an argument has the wrong type.
    ValueError
        If an argument is invalid (checked now, not at compute time), or the
        chunk sizes along `axes` are unknown.

    Notes
    -----
    Along each filtered axis, output :math:`i` reads inputs
    :math:`i - l, \\dots, i + r` with

    .. math::

        l = \\lfloor k/2 \\rfloor + o, \\qquad r = \\lfloor (k-1)/2 \\rfloor - o

    for a correlation with a filter of length :math:`k` and origin :math:`o`.
    Neighbouring chunks share exactly these cells; chunks along a filtered
    axis shorter than :math:`\\max(l, r) + 1` are merged first.  Peak memory
    is a few chunks per worker thread, whatever the image size.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from kernelfactor._large import dask_filter
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((40, 50))
    >>> k = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> y = dask_filter(da.from_array(x, chunks=(16, 20)), k, mode="mirror")
    >>> y.chunks
    ((16, 16, 8), (20, 20, 10))
    >>> from scipy import ndimage
    >>> np.allclose(y.compute(), ndimage.correlate(x, k, mode="mirror"), rtol=1e-12)
    True
    """
    import dask.array as da

    if not isinstance(image, da.Array):
        raise TypeError(
            f"`image` must be a dask array for dask_filter; got {_describe(image)}. "
            "Use kernelfactor.correlate / convolve for in-memory images."
        )
    if not isinstance(convolve, bool):
        raise TypeError(f"`convolve` must be True or False; got {_describe(convolve)}.")
    if image.ndim < 2:
        raise ValueError(
            f"`image` must have at least 2 dimensions for a 2-D kernel; got shape {image.shape}."
        )
    # Check every argument now, with the in-memory function's own messages,
    # on a tiny image of the same dtype and rank: errors must not wait for
    # compute time.
    probe = _in_memory(
        np.zeros((1,) * image.ndim, dtype=image.dtype),
        kernel,
        convolve=convolve,
        mode=mode,
        cval=cval,
        origin=origin,
        method=method,
        axes=axes,
    )
    out_dtype = probe.dtype
    # the probe checked the kernel; only its shape matters here (complex weights too)
    shape = (
        _as_kernel(kernel).shape
        if isinstance(kernel, str) or hasattr(kernel, "to_array")
        else np.shape(kernel)
    )
    ax = (int(axes[0]) % image.ndim, int(axes[1]) % image.ndim)  # checked by the probe

    chunks = list(image.chunks)
    depth: dict[int, int | tuple[int, int]] = {}
    boundary: dict[int, str] = {}
    reach = _reach(shape, ndim=image.ndim, axes=ax, origin=origin, convolve=convolve)
    for axis, (left, right) in reach.items():
        axis_chunks = chunks[axis]
        if any(not isinstance(c, numbers.Integral) for c in axis_chunks):  # NaN: unknown
            raise ValueError(
                f"the chunk sizes of `image` along axis {axis} are unknown; call "
                "`image.compute_chunk_sizes()` first."
            )
        axis_chunks = _axis_chunks(tuple(int(c) for c in axis_chunks), max(left, right) + 1)
        chunks[axis] = axis_chunks
        if len(axis_chunks) == 1 or left == right == 0:
            continue  # the chunk is the whole axis (or the filter is pointwise)
        if mode in _WRAP_MODES:
            depth[axis] = max(left, right)
            boundary[axis] = "periodic"
        else:
            depth[axis] = (left, right)
            boundary[axis] = "none"
    x = image.rechunk(tuple(chunks)) if tuple(chunks) != image.chunks else image

    block = functools.partial(
        _in_memory,
        kernel=kernel,
        convolve=convolve,
        mode=mode,
        cval=cval,
        origin=origin,
        method=method,
        axes=ax,
    )
    meta = np.empty((0,) * image.ndim, dtype=out_dtype)
    if not depth:
        return da.map_blocks(block, x, dtype=out_dtype, meta=meta)
    return da.map_overlap(
        block,
        x,
        depth=depth,
        boundary=boundary,
        trim=True,
        allow_rechunk=False,
        dtype=out_dtype,
        meta=meta,
    )
