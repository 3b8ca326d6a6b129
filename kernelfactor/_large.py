"""Filtering images larger than memory: dask arrays, chunk by chunk.

:func:`kernelfactor.correlate` and :func:`kernelfactor.convolve` check their
arguments and hand a dask array, with the prepared kernel, to
:func:`dask_filter`, which returns a lazy dask array equal to the in-memory
result.  Each chunk is filtered by the in-memory engine
(:func:`kernelfactor._engine.filter_into`, so ``method=`` is honoured: a
separable kernel runs as 1-D passes in every chunk), with
``dask.array.map_overlap`` supplying the halo each chunk needs from its
neighbours.

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
:math:`k` (ndimage's rule), which gives its :math:`(l, r)`.  The prepared kernel
holds the flipped weights and origins, and its ``halo`` is this
:math:`(l, r)` (the tests check it against what ndimage reads).

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

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._engine import AnyKernel, filter_into
from ._validation import BOUNDARY_MODES

if TYPE_CHECKING:  # pragma: no cover
    import dask.array as da  # optional and heavy: only type checkers import it here

__all__ = ["ChunkFilter", "dask_filter"]


def _axis_chunks(chunks: tuple[int, ...], minimum: int) -> tuple[int, ...]:
    """Merge chunks so that each is at least `minimum` long (one chunk if too short)."""
    if min(chunks) >= minimum:
        return chunks
    total = sum(chunks)
    if total <= minimum:
        return (total,)
    from dask.array.overlap import ensure_minimum_chunksize  # lazy: heavy

    return tuple(int(c) for c in ensure_minimum_chunksize(minimum, chunks))


@dataclass(frozen=True)
class ChunkFilter:
    """What every chunk runs: the in-memory engine with checked arguments, one thread.

    Attributes
    ----------
    kern : _Kernel or _NdKernel
        The prepared kernel, 2-D or d-D (flipped for convolve); its ``halo``
        gives the cells each chunk shares with its neighbours.  The same
        object serves every chunk, so a low-rank kernel's factors are reused.
    axes : tuple of int
        The image axes (increasing) the kernel's axes run along.
    mode, cval, method
        Checked, as :func:`kernelfactor.correlate` takes them.
    dtype : numpy.dtype
        The result's dtype (scipy.ndimage's: the input's, complex for
        complex weights).
    """

    kern: AnyKernel
    axes: tuple[int, ...]
    mode: str
    cval: float | complex
    method: str
    dtype: np.dtype

    def __call__(self, block: np.ndarray) -> np.ndarray:
        out = np.empty(block.shape, self.dtype)
        # dask already runs chunks in parallel: one thread per chunk avoids
        # oversubscribing the cores.
        filter_into(block, out, self.kern, self.axes, self.mode, self.cval, self.method, 1)
        return out


def dask_filter(image: da.Array, chunk: ChunkFilter) -> da.Array:
    """Filter a dask array lazily, chunk by chunk (the arguments already checked).

    :func:`kernelfactor.correlate` / :func:`kernelfactor.convolve` call this
    for a dask `image` after checking every argument (errors come at call
    time, not compute time).  The result equals the in-memory one: every chunk
    is filtered by the in-memory engine with the halo it needs from its
    neighbours (see the module notes), so the sums are the same sums, term for
    term.  Nothing is computed until the result is computed or stored.

    Parameters
    ----------
    image : dask.array.Array
        The image, of any chunking; (H, W), (H, W, C) and batches are
        filtered along ``chunk.axes``.
    chunk : ChunkFilter
        What every chunk runs (its kernel's halo sizes the overlaps).

    Returns
    -------
    dask.array.Array
        Lazy; same shape and chunks as `image` (after any rechunking that
        chunks smaller than the kernel's halo needed).

    A chunk is filtered by the method `method` picks for that chunk: with
    ``'direct'`` or ``'separable'`` the result is bit-identical to the
    in-memory one; ``'fft'`` (and ``'auto'`` where it picks the FFT) agrees to
    rounding.  ``method='fft'`` on an image holding NaN or Inf fails at
    compute time, in the chunk that holds it.

    Raises
    ------
    ValueError
        If the chunk sizes along `axes` are unknown.

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
    >>> import kernelfactor as kf
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((40, 50))
    >>> k = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> y = kf.correlate(da.from_array(x, chunks=(16, 20)), k, mode="mirror")
    >>> y.chunks
    ((16, 16, 8), (20, 20, 10))
    >>> from scipy import ndimage
    >>> np.allclose(y.compute(), ndimage.correlate(x, k, mode="mirror"), rtol=1e-12)
    True
    """
    import dask.array as da  # lazy: heavy

    chunks = list(image.chunks)
    dtype = chunk.dtype
    depth: dict[int, int | tuple[int, int]] = {}
    boundary: dict[int, str] = {}
    for k, axis in enumerate(chunk.axes):
        left, right = chunk.kern.halo(k)
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
        if BOUNDARY_MODES[chunk.mode].wraps:
            depth[axis] = max(left, right)
            boundary[axis] = "periodic"
        else:
            depth[axis] = (left, right)
            boundary[axis] = "none"
    x = image.rechunk(tuple(chunks)) if tuple(chunks) != image.chunks else image
    meta = np.empty((0,) * image.ndim, dtype=dtype)
    if not depth:
        return da.map_blocks(chunk, x, dtype=dtype, meta=meta)
    return da.map_overlap(
        chunk,
        x,
        depth=depth,
        boundary=boundary,
        trim=True,
        allow_rechunk=False,
        dtype=dtype,
        meta=meta,
    )
