"""The compiled loops of :mod:`kernelfactor._compiled` (numba; imported only from there).

Every function filters output rows ``y0 .. y1`` of planes ``b0 .. b1`` of a
C-ordered ``(B, H, W)`` image, passed flat (``x.reshape(-1)``), into a flat
output of the same layout, and reads the image's border through index maps
(no padded copy of the image):

* ``rowmap[e]`` is the image row of extended row ``e`` (output row ``y`` reads
  extended rows ``y .. y + m - 1``), or -1 for ``cval``;
* ``colmap[p]`` likewise for extended column ``p`` (output column ``k`` reads
  ``k .. k + n - 1``).

The loops run taps in the outer loop and pixels in the inner one, on blocks
that stay in L1, so that the pixel loop vectorises.  Inner loops index flat
arrays with unsigned offsets (``np.uint64``): no negative-index wrap-around
to test, and no array views, whose reference counts cost an atomic operation
each.  The separable loops allow FMA contraction and nothing else of
``fastmath``; the direct loop allows none (its sums are ndimage's, bit for
bit).  Every sum is formed in the order written, so an output's value does not
depend on which thread or strip computed it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["basis_rows", "direct_rows", "integer_top", "nonfinite", "separable_rows"]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _taps(dst, db, src, so, table, row, weights, term, sym, nb, acc):
    """dst[db + k] (+= when acc) sum_j c[j] * src[so + b[j] + k], for k < nb.

    ``c = weights[term]``, ``b = table[row]``; offsets are uint64.  Folded
    when ``sym`` is 1 (``c`` symmetric: taps ``j`` and ``L - 1 - j`` share
    ``c[j]``) or -1 (antisymmetric): half the multiplications.  Four taps (or
    pairs) per sweep over the block, so that ``dst`` is read and written once
    per four.  (One loop per case, on purpose: each one vectorises.)
    """
    c = weights[term]
    bases = table[row]
    size = c.size
    if sym != 0:
        h = size // 2
        ch = c[h]
        pc = so + bases[h]
        j = 0
        if h >= 3:
            p1, q1, p2 = so + bases[0], so + bases[size - 1], so + bases[1]
            q2, p3, q3 = so + bases[size - 2], so + bases[2], so + bases[size - 3]
            c1, c2, c3 = c[0], c[1], c[2]
            if sym > 0 and acc:
                for k in range(nb):
                    dst[db + k] = (((dst[db + k] + ch * src[pc + k])
                                    + c1 * (src[p1 + k] + src[q1 + k]))
                                   + c2 * (src[p2 + k] + src[q2 + k])) + c3 * (src[p3 + k]
                                                                               + src[q3 + k])
            elif sym > 0:
                for k in range(nb):
                    dst[db + k] = ((ch * src[pc + k] + c1 * (src[p1 + k] + src[q1 + k]))
                                   + c2 * (src[p2 + k] + src[q2 + k])) + c3 * (src[p3 + k]
                                                                               + src[q3 + k])
            elif acc:
                for k in range(nb):
                    dst[db + k] = (((dst[db + k] + ch * src[pc + k])
                                    + c1 * (src[p1 + k] - src[q1 + k]))
                                   + c2 * (src[p2 + k] - src[q2 + k])) + c3 * (src[p3 + k]
                                                                               - src[q3 + k])
            else:
                for k in range(nb):
                    dst[db + k] = ((ch * src[pc + k] + c1 * (src[p1 + k] - src[q1 + k]))
                                   + c2 * (src[p2 + k] - src[q2 + k])) + c3 * (src[p3 + k]
                                                                               - src[q3 + k])
            j = 3
        elif acc:
            for k in range(nb):
                dst[db + k] = dst[db + k] + ch * src[pc + k]
        else:
            for k in range(nb):
                dst[db + k] = ch * src[pc + k]
        while j + 3 < h:
            p1, q1 = so + bases[j], so + bases[size - 1 - j]
            p2, q2 = so + bases[j + 1], so + bases[size - 2 - j]
            p3, q3 = so + bases[j + 2], so + bases[size - 3 - j]
            p4, q4 = so + bases[j + 3], so + bases[size - 4 - j]
            c1, c2, c3, c4 = c[j], c[j + 1], c[j + 2], c[j + 3]
            if sym > 0:
                for k in range(nb):
                    dst[db + k] = (((dst[db + k] + c1 * (src[p1 + k] + src[q1 + k]))
                                    + c2 * (src[p2 + k] + src[q2 + k]))
                                   + c3 * (src[p3 + k] + src[q3 + k])) + c4 * (src[p4 + k]
                                                                               + src[q4 + k])
            else:
                for k in range(nb):
                    dst[db + k] = (((dst[db + k] + c1 * (src[p1 + k] - src[q1 + k]))
                                    + c2 * (src[p2 + k] - src[q2 + k]))
                                   + c3 * (src[p3 + k] - src[q3 + k])) + c4 * (src[p4 + k]
                                                                               - src[q4 + k])
            j += 4
        while j < h:
            p1, q1, c1 = so + bases[j], so + bases[size - 1 - j], c[j]
            if sym > 0:
                for k in range(nb):
                    dst[db + k] = dst[db + k] + c1 * (src[p1 + k] + src[q1 + k])
            else:
                for k in range(nb):
                    dst[db + k] = dst[db + k] + c1 * (src[p1 + k] - src[q1 + k])
            j += 1
        return
    j = 0
    if size >= 4:
        p1, p2, p3, p4 = so + bases[0], so + bases[1], so + bases[2], so + bases[3]
        c1, c2, c3, c4 = c[0], c[1], c[2], c[3]
        if acc:
            for k in range(nb):
                dst[db + k] = (((dst[db + k] + c1 * src[p1 + k]) + c2 * src[p2 + k])
                               + c3 * src[p3 + k]) + c4 * src[p4 + k]
        else:
            for k in range(nb):
                dst[db + k] = ((c1 * src[p1 + k] + c2 * src[p2 + k]) + c3 * src[p3 + k]) + (
                    c4 * src[p4 + k])
        j = 4
    elif not acc:
        p1, c1 = so + bases[0], c[0]
        for k in range(nb):
            dst[db + k] = c1 * src[p1 + k]
        j = 1
    while j + 3 < size:
        p1, p2, p3, p4 = so + bases[j], so + bases[j + 1], so + bases[j + 2], so + bases[j + 3]
        c1, c2, c3, c4 = c[j], c[j + 1], c[j + 2], c[j + 3]
        for k in range(nb):
            dst[db + k] = (((dst[db + k] + c1 * src[p1 + k]) + c2 * src[p2 + k])
                           + c3 * src[p3 + k]) + c4 * src[p4 + k]
        j += 4
    while j < size:
        p1, c1 = so + bases[j], c[j]
        for k in range(nb):
            dst[db + k] = dst[db + k] + c1 * src[p1 + k]
        j += 1


@njit(cache=True, nogil=True)
def nonfinite(a, start, count):
    """1 if a[start : start + count] holds NaN or Inf, else 0 (uint64 offsets)."""
    bad = 0
    for k in range(count):
        v = a[start + k]
        bad |= (v - v) != 0  # NaN for NaN and +-Inf, 0 for every finite v
    return bad


@njit(cache=True, nogil=True)
def integer_top(x, bits, magnitude, block):
    """(1 if every value of the flat float array `x` is an integer, else 0; the largest
    ``bits & magnitude``), `bits` being `x` viewed as unsigned integers.

    ``bits & magnitude`` (the sign bit cleared) is ``|x|``, and the bits of
    non-negative floats order as the floats do: an integer maximum, which
    vectorises as a float one would not without ``fastmath``.  NaN is not an
    integer; Inf is (and is the largest).  Stops after the first `block` that
    holds a fraction.
    """
    top = bits[0] & magnitude
    n = np.uint64(x.size)
    start = np.uint64(0)
    while start < n:
        count = min(np.uint64(block), n - start)
        bad = 0
        for k in range(count):
            v = x[start + k]
            bad |= np.int64(v != np.rint(v))
            top = max(bits[start + k] & magnitude, top)
        if bad:
            return 0, top
        start += count
    return 1, top


@njit(cache=True, nogil=True)
def _gather_row(x, row, width, colmap, off, first, count, cval, dst):
    """dst[p] = image row `row` (flat offset) at extended column first + p; cval off the image.

    The columns inside the image are one contiguous copy, the others go
    through `colmap`.
    """
    a = min(max(off - first, 0), count)  # dst[a:z] lies inside the image
    z = max(min(width + off - first, count), a)
    for p in range(a):
        s = colmap[first + p]
        dst[p] = x[row + s] if s >= 0 else cval
    start = np.uint64(row + first + a - off)
    base = np.uint64(a)
    for k in range(np.uint64(z - a)):
        dst[base + k] = x[start + k]
    for p in range(z, count):
        s = colmap[first + p]
        dst[p] = x[row + s] if s >= 0 else cval


def _float_image(x):  # pragma: no cover - typed by its overload below
    """True for a float image, whose rows the loops read in place; False for an integer
    one, whose rows they read widened to float64 (so that their sweeps are the
    float64 image's, compiled once)."""


@overload(_float_image, inline="always")
def _float_image_typed(x):
    floating = isinstance(x.dtype, types.Float)
    return lambda x: floating


def _in_place_source(x, buffer):  # pragma: no cover - typed by its overload below
    """The array the loops read image rows from in place: the image itself when it is a
    float one; else `buffer` (float64), which no row of an integer image is read from
    in place (so that no sweep over the integer dtype is compiled)."""


@overload(_in_place_source, inline="always")
def _in_place_source_typed(x, buffer):
    if isinstance(x.dtype, types.Float):
        return lambda x, buffer: x
    return lambda x, buffer: buffer


@njit(cache=True, nogil=True, fastmath={"contract"})
def separable_rows(x, out, height, width, cols, rows, csym, rsym, rowmap, colmap, off, crow,
                   ring, ebuf, hb, vb, guard, b0, b1, y0, y1, primed):
    """Fused separable correlation: out = sum_t (cols[t] along H) (rows[t] along W) x.

    Every extended row the strip reads is filtered along W once per term
    (``rows[t]``) into a ring of ``m`` rows per term, which stays in L2;
    extended row ``e`` sits in slot ``e % m``.  Each output row sums its
    ``m`` ring rows along H (``cols[t]``), the terms adding up in the output
    row.  Image rows are read in place; the few outputs at either end that
    read border columns read a copy extended through `colmap` (`ebuf`), rows
    of ``cval`` are `crow`.  An integer image's rows are widened whole into
    `ebuf` (float64) instead, each once.  With `primed` (one plane) the ring
    already holds extended rows ``y0 .. y0 + m - 2``: the strip continues the
    one that ended at `y0`.  Returns 1 when `guard` is set and an output is
    NaN or Inf.
    """
    terms, m = cols.shape
    n = rows.shape[1]
    stride = ring.size // (terms * m)  # a ring row and padding (rows of 4 KiB would share L1 sets)
    bad = 0
    nb = np.uint64(width)
    # Output columns [0, a) and [z, W) read border columns, [a, z) only the image.
    a = min(off, width)
    z = max(a, min(width, width - n + 1 + off))
    for j in range(n):
        hb[0, j] = np.uint64(j)
    src = _in_place_source(x, ebuf)
    whole = not _float_image(x)
    for b in range(b0, b1):
        plane = b * height
        first = y0 + m - 1 if primed else y0
        slot = first % m  # the ring slot of extended row e
        for e in range(first, y1 + m - 1):
            s = rowmap[e]
            if whole and s >= 0:  # an integer image's row, widened once for every term
                _gather_row(x, (plane + s) * width, width, colmap, off, 0, width + n - 1,
                            crow[0], ebuf)
            for t in range(terms):
                dst = np.uint64((t * m + slot) * stride)
                if s < 0:
                    _taps(ring, dst, crow, np.uint64(0), hb, 0, rows, t, rsym[t], nb, False)
                    continue
                if whole:
                    _taps(ring, dst, ebuf, np.uint64(0), hb, 0, rows, t, rsym[t], nb, False)
                    continue
                row = (plane + s) * width
                if a > 0:
                    _gather_row(x, row, width, colmap, off, 0, a + n - 1, crow[0], ebuf)
                    _taps(ring, dst, ebuf, np.uint64(0), hb, 0, rows, t, rsym[t],
                          np.uint64(a), False)
                if z > a:
                    _taps(ring, dst + np.uint64(a), src, np.uint64(row + a - off), hb, 0, rows,
                          t, rsym[t], np.uint64(z - a), False)
                if z < width:
                    _gather_row(x, row, width, colmap, off, z, width - z + n - 1, crow[0], ebuf)
                    _taps(ring, dst + np.uint64(z), ebuf, np.uint64(0), hb, 0, rows, t, rsym[t],
                          np.uint64(width - z), False)
            slot = slot + 1 if slot + 1 < m else 0
            y = e - (m - 1)  # the output row this extended row completes
            if y < y0:
                continue
            for t in range(terms):
                sl = slot  # the slot of extended row y (ring rows y .. y + m - 1)
                for i in range(m):
                    vb[t, i] = np.uint64((t * m + sl) * stride)
                    sl = sl + 1 if sl + 1 < m else 0
            ob = np.uint64((plane + y) * width)
            for t in range(terms):
                _taps(out, ob, ring, np.uint64(0), vb, t, cols, t, csym[t], nb, t > 0)
            if guard:
                bad |= nonfinite(out, ob, nb)
    return bad


@njit(cache=True, nogil=True)
def _extend_row(x, row, w, colmap, off, cval, dst, db):
    """dst[db + p] = image row `row` (flat offset; -1: a row of cval) at extended column p."""
    count = colmap.size
    if row < 0:
        for p in range(count):
            dst[db + p] = cval
        return
    start = np.uint64(row)
    mid = np.uint64(db + off)
    for k in range(np.uint64(w)):
        dst[mid + k] = x[start + k]
    for p in range(off):
        c = colmap[p]
        dst[db + p] = x[row + c] if c >= 0 else cval
    for p in range(off + w, count):
        c = colmap[p]
        dst[db + p] = x[row + c] if c >= 0 else cval


@njit(cache=True, nogil=True)
def _sweep(dst, db, acc, ring, tb, tw, t, cnt, w, zero):
    """dst[db + k] = acc[k] + tw[t] * ring[tb[t] + k] + ... (`cnt` <= 8 taps, in order).

    Double sums, no contraction (ndimage's roundings); `dst` is `acc` itself
    or the output row (cast to its dtype).  With `zero` (the first sweep) the
    sums start at a literal 0.0, as ndimage's do, instead of reading a row of
    zeros: LLVM moves the test out of the loop (8% of a float64 3x3).  One
    loop per tap count, so that each one vectorises.
    """
    p1, w1 = tb[t], tw[t]
    if cnt == 1:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = a0 + w1 * ring[p1 + k]
        return
    p2, w2 = tb[t + 1], tw[t + 1]
    if cnt == 2:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = (a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k]
        return
    p3, w3 = tb[t + 2], tw[t + 2]
    if cnt == 3:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = ((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k]) + w3 * ring[p3 + k]
        return
    p4, w4 = tb[t + 3], tw[t + 3]
    if cnt == 4:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = (((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k])
                           + w3 * ring[p3 + k]) + w4 * ring[p4 + k]
        return
    p5, w5 = tb[t + 4], tw[t + 4]
    if cnt == 5:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = ((((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k])
                            + w3 * ring[p3 + k]) + w4 * ring[p4 + k]) + w5 * ring[p5 + k]
        return
    p6, w6 = tb[t + 5], tw[t + 5]
    if cnt == 6:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = (((((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k])
                             + w3 * ring[p3 + k]) + w4 * ring[p4 + k]) + w5 * ring[p5 + k]
                           ) + w6 * ring[p6 + k]
        return
    p7, w7 = tb[t + 6], tw[t + 6]
    if cnt == 7:
        for k in range(w):
            a0 = 0.0 if zero else acc[k]
            dst[db + k] = ((((((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k])
                              + w3 * ring[p3 + k]) + w4 * ring[p4 + k]) + w5 * ring[p5 + k]
                            ) + w6 * ring[p6 + k]) + w7 * ring[p7 + k]
        return
    p8, w8 = tb[t + 7], tw[t + 7]
    for k in range(w):
        a0 = 0.0 if zero else acc[k]
        dst[db + k] = (((((((a0 + w1 * ring[p1 + k]) + w2 * ring[p2 + k])
                           + w3 * ring[p3 + k]) + w4 * ring[p4 + k]) + w5 * ring[p5 + k]
                         ) + w6 * ring[p6 + k]) + w7 * ring[p7 + k]) + w8 * ring[p8 + k]


def _put(out, i, v, lo, hi):  # pragma: no cover - typed by its overload below
    """out[i] = v; for an integer `out`, 1 unless lo < v < hi (NaN included), where the
    C cast is undefined (0 is stored there instead), else 0."""


@overload(_put, inline="always")
def _put_typed(out, i, v, lo, hi):
    if isinstance(out.dtype, types.Integer):
        def put_integer(out, i, v, lo, hi):
            ok = lo < v < hi
            out[i] = v if ok else 0.0
            return np.int64(not ok)
        return put_integer

    def put(out, i, v, lo, hi):
        out[i] = v
        return np.int64(0)
    return put


def _last_sweep(out, ob, acc, start, prev, src, tb, tw, t, n, lo, hi):  # pragma: no cover
    """The last sweep of :func:`_taps_segment` (taps ``t ..``): into `out` from
    ``ob``, or for an integer `out` into ``acc[start:start + n]``, then stored
    through :func:`_put` (its flag returned).  Typed by its overload below, so that
    an integer output compiles no sweep into it."""


@overload(_last_sweep, inline="always")
def _last_sweep_typed(out, ob, acc, start, prev, src, tb, tw, t, n, lo, hi):
    if isinstance(out.dtype, types.Integer):
        def through_acc(out, ob, acc, start, prev, src, tb, tw, t, n, lo, hi):
            _sweep(acc, start, prev, src, tb, tw, t, tw.size - t, n, t == 0)
            bad = np.int64(0)
            for k in range(n):
                bad |= _put(out, ob + k, acc[start + k], lo, hi)
            return bad
        return through_acc

    def into_out(out, ob, acc, start, prev, src, tb, tw, t, n, lo, hi):
        _sweep(out, ob, prev, src, tb, tw, t, tw.size - t, n, t == 0)
        return np.int64(0)
    return into_out


@njit(cache=True, nogil=True)
def _taps_segment(out, ob, acc, width, k0, k1, src, tb, tw, lo, hi):
    """out[ob + k] = 0.0 + tw[0] * src[tb[0] + k - k0] + ... for k0 <= k < k1 (every tap).

    `tb` points at column `k0`.  Sweeps of up to eight taps, the first one
    starting at 0.0 as ndimage's sums do; the partial sums ping-pong between
    the two halves of ``acc`` (``2 W`` doubles).  The last sweep writes `out`
    (an integer `out` through a half of ``acc``: :func:`_last_sweep`); returns
    its flag.
    """
    n = np.uint64(k1 - k0)
    if n == 0:
        return np.int64(0)
    nt = tw.size
    prev = acc[k0:k1]  # not read by the first sweep, which writes the other half
    half = 1
    t = 0
    while t + 8 < nt:
        nxt = acc[half * width + k0:half * width + k1]
        _sweep(nxt, np.uint64(0), prev, src, tb, tw, t, 8, n, t == 0)
        prev = nxt
        half = 1 - half
        t += 8
    return _last_sweep(out, ob + np.uint64(k0), acc, np.uint64(half * width + k0), prev, src,
                       tb, tw, t, n, lo, hi)


@njit(cache=True, nogil=True)
def _border_sums(x, out, ob, plane, y, width, ti, tj, tw, rowmap, colmap, cval, k0, k1,
                 lo, hi):
    """out[ob + k] for k0 <= k < k1: ndimage's sum, tap by tap, of output row `y`, whose
    rows all lie in the image (columns through `colmap`; -1: cval), stored through
    :func:`_put` (its flag returned)."""
    bad = np.int64(0)
    for k in range(k0, k1):
        v = 0.0
        for t in range(tw.size):
            c = colmap[k + tj[t]]
            v += tw[t] * (x[(plane + rowmap[y + ti[t]]) * width + c] if c >= 0 else cval)
        bad |= _put(out, ob + k, v, lo, hi)
    return bad


@njit(cache=True, nogil=True)
def direct_rows(x, out, height, width, ti, tj, tw, rowmap, colmap, off, cval, ring, acc, tb,
                lo, hi, b0, b1, y0, y1):
    """Direct correlation with the taps (ti, tj, tw) in scipy.ndimage's order.

    Every output is ``0.0 + tw[0] * x[...] + tw[1] * x[...] + ...`` in double
    precision, summed in the taps' order, as ``ndimage.correlate`` sums it
    (bit for bit), then cast to the output's dtype.  Up to eight taps per
    sweep (:func:`_taps_segment`); the last sweep writes the output.

    A float `out`: ``lo == hi``.  An integer one: every output lying in the
    open interval ``(lo, hi)`` is truncated toward zero, as C casts it; the
    function returns 1 as soon as an output row holds one that is not (NaN, or
    out of the type's range: a C cast undefined, platform-dependent), else 0.

    Outputs whose taps all read image columns ``[a, z)`` read the rows of a
    float image in place; the few border outputs of such a row are summed one
    by one, reading their columns through `colmap` (the same sums, in the same
    order).  An output row that reads a row of cval (constant modes, at the
    top and bottom), and every row of an integer image, reads whole extended
    rows kept in `ring` (``m`` rows of ``W + n - 1`` values, float64 for an
    integer image), filled on demand: each image row once per strip.
    """
    m = ring.size // colmap.size
    stride = colmap.size
    n = stride - width + 1
    nt = tw.size
    w = np.uint64(width)
    a = min(off, width)  # outputs [a, z) read only image columns
    z = max(a, min(width, width - n + 1 + off))
    full = np.zeros(m, np.uint8)  # ring rows filled (a ring row is filled on first use)
    src = _in_place_source(x, ring)
    in_place = z > a and _float_image(x)
    bad = 0
    for b in range(b0, b1):
        plane = b * height
        full[:] = 0
        for y in range(y0, y1):
            full[(y + m - 1) % m] = 0  # the slot of the row this output row reads last
            ob = np.uint64((plane + y) * width)
            if nt == 0:
                for k in range(w):
                    out[ob + k] = 0.0
                continue
            inplace = in_place
            for t in range(nt):
                if rowmap[y + ti[t]] < 0:
                    inplace = False
            if inplace:
                for t in range(nt):
                    tb[t] = np.uint64((plane + rowmap[y + ti[t]]) * width + a + tj[t] - off)
                bad |= _taps_segment(out, ob, acc, width, a, z, src, tb, tw, lo, hi)
                bad |= _border_sums(x, out, ob, plane, y, width, ti, tj, tw, rowmap, colmap,
                                    cval, 0, a, lo, hi)
                bad |= _border_sums(x, out, ob, plane, y, width, ti, tj, tw, rowmap, colmap,
                                    cval, z, width, lo, hi)
                if bad:
                    return bad  # `out` is written again through float64
                continue
            for t in range(nt):
                sl = (y + ti[t]) % m
                if full[sl] == 0:
                    r = rowmap[y + ti[t]]
                    _extend_row(x, (plane + r) * width if r >= 0 else -1, width, colmap, off,
                                cval, ring, sl * stride)
                    full[sl] = 1
                tb[t] = np.uint64(sl * stride + tj[t])
            bad |= _taps_segment(out, ob, acc, width, 0, width, ring, tb, tw, lo, hi)
            if bad:
                return bad
    return bad


# ---------------------------------------------------------------------------
# filter banks over shared separable filters (kernelfactor._banks)
# ---------------------------------------------------------------------------

#: Columns per block: a block of the accumulator and of the row buffer stay in L1.
BLOCK = 2048


@njit(cache=True, nogil=True)
def _row(x, b, s, crow):
    """Image row `s` of plane `b`, or the row of cval (s == -1)."""
    return x[b, s] if s >= 0 else crow


@njit(cache=True, nogil=True, fastmath={"contract"})
def _vertical(x, b, y, c, sym, rowmap, crow, vv):
    """vv[:] = sum_i c[i] * (extended row y + i), folded when (anti)symmetric.

    Inner loops index every array with the loop counter only (slices made
    outside them), so that LLVM vectorises them.
    """
    m = c.size
    w = vv.size
    for k0 in range(0, w, BLOCK):
        k1 = min(w, k0 + BLOCK)
        nb = k1 - k0
        o = vv[k0:k1]
        if sym != 0:
            h = m // 2
            a = _row(x, b, rowmap[y + h], crow)[k0:k1]
            ch = c[h]
            for k in range(nb):
                o[k] = ch * a[k]
            i = 0
            while i + 1 < h:  # two folded pairs per sweep over the block
                a1 = _row(x, b, rowmap[y + i], crow)[k0:k1]
                a2 = _row(x, b, rowmap[y + m - 1 - i], crow)[k0:k1]
                a3 = _row(x, b, rowmap[y + i + 1], crow)[k0:k1]
                a4 = _row(x, b, rowmap[y + m - 2 - i], crow)[k0:k1]
                c1, c2 = c[i], c[i + 1]
                if sym > 0:
                    for k in range(nb):
                        o[k] = (o[k] + c1 * (a1[k] + a2[k])) + c2 * (a3[k] + a4[k])
                else:
                    for k in range(nb):
                        o[k] = (o[k] + c1 * (a1[k] - a2[k])) + c2 * (a3[k] - a4[k])
                i += 2
            if i < h:
                a1 = _row(x, b, rowmap[y + i], crow)[k0:k1]
                a2 = _row(x, b, rowmap[y + m - 1 - i], crow)[k0:k1]
                c1 = c[i]
                if sym > 0:
                    for k in range(nb):
                        o[k] = o[k] + c1 * (a1[k] + a2[k])
                else:
                    for k in range(nb):
                        o[k] = o[k] + c1 * (a1[k] - a2[k])
        else:
            a = _row(x, b, rowmap[y], crow)[k0:k1]
            c0 = c[0]
            for k in range(nb):
                o[k] = c0 * a[k]
            i = 1
            while i + 1 < m:
                a1 = _row(x, b, rowmap[y + i], crow)[k0:k1]
                a2 = _row(x, b, rowmap[y + i + 1], crow)[k0:k1]
                c1, c2 = c[i], c[i + 1]
                for k in range(nb):
                    o[k] = (o[k] + c1 * a1[k]) + c2 * a2[k]
                i += 2
            if i < m:
                a1 = _row(x, b, rowmap[y + i], crow)[k0:k1]
                c1 = c[i]
                for k in range(nb):
                    o[k] = o[k] + c1 * a1[k]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _horizontal(v, r, sym, out_row, first):
    """out_row[k] (+)= sum_j r[j] * v[k + j], folded when (anti)symmetric."""
    n = r.size
    w = out_row.size
    for k0 in range(0, w, BLOCK):
        k1 = min(w, k0 + BLOCK)
        nb = k1 - k0
        o = out_row[k0:k1]
        if sym != 0:
            h = n // 2
            rh = r[h]
            vh = v[k0 + h:k1 + h]
            if first:
                for k in range(nb):
                    o[k] = rh * vh[k]
            else:
                for k in range(nb):
                    o[k] = o[k] + rh * vh[k]
            j = 0
            while j + 1 < h:
                r1, r2 = r[j], r[j + 1]
                v1 = v[k0 + j:k1 + j]
                v2 = v[k0 + n - 1 - j:k1 + n - 1 - j]
                v3 = v[k0 + j + 1:k1 + j + 1]
                v4 = v[k0 + n - 2 - j:k1 + n - 2 - j]
                if sym > 0:
                    for k in range(nb):
                        o[k] = (o[k] + r1 * (v1[k] + v2[k])) + r2 * (v3[k] + v4[k])
                else:
                    for k in range(nb):
                        o[k] = (o[k] + r1 * (v1[k] - v2[k])) + r2 * (v3[k] - v4[k])
                j += 2
            if j < h:
                r1 = r[j]
                v1 = v[k0 + j:k1 + j]
                v2 = v[k0 + n - 1 - j:k1 + n - 1 - j]
                if sym > 0:
                    for k in range(nb):
                        o[k] = o[k] + r1 * (v1[k] + v2[k])
                else:
                    for k in range(nb):
                        o[k] = o[k] + r1 * (v1[k] - v2[k])
        else:
            j = 0
            if first:
                r1 = r[0]
                v1 = v[k0:k1]
                for k in range(nb):
                    o[k] = r1 * v1[k]
                j = 1
            while j + 1 < n:
                r1, r2 = r[j], r[j + 1]
                v1 = v[k0 + j:k1 + j]
                v2 = v[k0 + j + 1:k1 + j + 1]
                for k in range(nb):
                    o[k] = (o[k] + r1 * v1[k]) + r2 * v2[k]
                j += 2
            if j < n:
                r1 = r[j]
                v1 = v[k0 + j:k1 + j]
                for k in range(nb):
                    o[k] = o[k] + r1 * v1[k]


@njit(cache=True, nogil=True, fastmath={"contract"})
def _term_row(x, b, y, c, csym, r, rsym, rowmap, colmap, off, cv, crow, v, o, first):
    """Output row `y` of one rank-1 term: (=, or += unless `first`) into `o`.

    The vertical taps are summed into the row buffer `v` (length
    ``W + n - 1``, image column 0 at ``v[off]``), its border columns filled
    through `colmap` (`cv`: the vertical pass of ``cval``), then the
    horizontal taps go into `o`.
    """
    n = r.size
    w = x.shape[2]
    _vertical(x, b, y, c, csym, rowmap, crow, v[off:off + w])
    for p in range(off):
        s = colmap[p]
        v[p] = v[off + s] if s >= 0 else cv
    for p in range(off + w, w + n - 1):
        s = colmap[p]
        v[p] = v[off + s] if s >= 0 else cv
    _horizontal(v, r, rsym, o, first)


@njit(cache=True, nogil=True, fastmath={"contract"})
def basis_rows(x, out, cols, rows, csym, rsym, rowmap, colmap, off, cvert, crow, v, p,
               start, index, coef, y0, y1):
    """A filter bank through shared separable filters: ``out[f] = sum_t A[f, t] (c_t r_t) x``.

    For each output row, every basis filter ``t`` is filtered as
    :func:`separable_rows` filters one term, into its own row ``p[t]`` (the
    ``M`` rows stay in cache); then each output ``f`` is the sum of its
    non-zero coefficients times those rows: ``coef[start[f]:start[f + 1]]``
    at ``index[...]`` (the coefficients in compressed sparse rows).  `x` is
    ``(1, H, W)``, `out` ``(N, H, W)``.
    """
    w = x.shape[2]
    for y in range(y0, y1):
        for t in range(cols.shape[0]):
            _term_row(x, 0, y, cols[t], csym[t], rows[t], rsym[t], rowmap, colmap, off,
                      cvert[t], crow, v, p[t], True)
        for f in range(out.shape[0]):
            o = out[f, y]
            for k in range(w):
                o[k] = 0.0
            for e in range(start[f], start[f + 1]):
                a = coef[e]
                pt = p[index[e]]
                for k in range(w):
                    o[k] = o[k] + a * pt[k]
