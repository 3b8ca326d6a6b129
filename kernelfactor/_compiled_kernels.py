"""The compiled loops of :mod:`kernelfactor._compiled` (numba; imported only from there).

Every function filters output rows ``y0 .. y1`` of planes ``b0 .. b1`` of a
C-contiguous ``(B, H, W)`` image into a C-contiguous ``(B, H, W)`` output and
reads the image's border through index maps (no padded copy of the image):

* ``rowmap[e]`` is the image row of extended row ``e`` (output row ``y`` reads
  extended rows ``y .. y + m - 1``), or -1 for ``cval``;
* ``colmap[p]`` likewise for extended column ``p`` (output column ``k`` reads
  ``k .. k + n - 1``).

The loops run taps in the outer loop and pixels in the inner one, on column
blocks that stay in cache, so that the pixel loop vectorises.  The separable
loops allow FMA contraction and nothing else of ``fastmath``; the direct loop
allows none (its sums are ndimage's, bit for bit).  Every sum is formed in the
order written, so a row's result does not depend on which thread or strip
computed it.
"""

from __future__ import annotations

from numba import njit

__all__ = ["basis_rows", "direct_rows", "separable_rows"]

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
def separable_rows(x, out, cols, rows, csym, rsym, rowmap, colmap, off, cvert, crow, v,
                   b0, b1, y0, y1):
    """Fused separable correlation: out = sum_t (cols[t] along H) (rows[t] along W) x.

    Each output row accumulates its terms (:func:`_term_row`) and stays in cache.
    """
    for b in range(b0, b1):
        for y in range(y0, y1):
            o = out[b, y]
            for t in range(cols.shape[0]):
                _term_row(x, b, y, cols[t], csym[t], rows[t], rsym[t], rowmap, colmap, off,
                          cvert[t], crow, v, o, t == 0)


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


@njit(cache=True, nogil=True)
def _extend_row(x, b, s, colmap, off, cval, dst):
    """dst[p] = image row s at extended column p (cval where colmap is -1 or s is -1)."""
    w = x.shape[2]
    if s < 0:
        for p in range(dst.size):
            dst[p] = cval
        return
    src = x[b, s]
    mid = dst[off:off + w]
    for k in range(w):
        mid[k] = src[k]
    for p in range(off):
        c = colmap[p]
        dst[p] = src[c] if c >= 0 else cval
    for p in range(off + w, dst.size):
        c = colmap[p]
        dst[p] = src[c] if c >= 0 else cval


@njit(cache=True, nogil=True)
def direct_rows(x, out, ti, tj, tw, rowmap, colmap, off, cval, ring, acc,
                b0, b1, y0, y1):
    """Direct correlation with the taps (ti, tj, tw) in scipy.ndimage's order.

    Every output is ``0.0 + tw[0] * x[...] + tw[1] * x[...] + ...`` in double
    precision, summed in the taps' order, as ``ndimage.correlate`` sums it
    (bit for bit), then cast to the output's dtype.  The extended rows live in
    `ring` (``m`` rows of ``W + n - 1``): each image row is extended once.
    """
    m = ring.shape[0]
    w = x.shape[2]
    nt = tw.size
    for b in range(b0, b1):
        for e in range(y0, min(y0 + m - 1, rowmap.size)):
            _extend_row(x, b, rowmap[e], colmap, off, cval, ring[e % m])
        for y in range(y0, y1):
            e = y + m - 1
            _extend_row(x, b, rowmap[e], colmap, off, cval, ring[e % m])
            o = out[b, y]
            for k0 in range(0, w, BLOCK):
                k1 = min(w, k0 + BLOCK)
                nb = k1 - k0
                a = acc[:nb]
                if nt == 0:
                    for k in range(nb):
                        a[k] = 0.0
                t = 0
                while t + 3 < nt:
                    r1 = ring[(y + ti[t]) % m, k0 + tj[t]:k1 + tj[t]]
                    r2 = ring[(y + ti[t + 1]) % m, k0 + tj[t + 1]:k1 + tj[t + 1]]
                    r3 = ring[(y + ti[t + 2]) % m, k0 + tj[t + 2]:k1 + tj[t + 2]]
                    r4 = ring[(y + ti[t + 3]) % m, k0 + tj[t + 3]:k1 + tj[t + 3]]
                    w1, w2, w3, w4 = tw[t], tw[t + 1], tw[t + 2], tw[t + 3]
                    if t == 0:  # ndimage starts every sum at 0.0 (-0.0 + 0.0 is 0.0)
                        for k in range(nb):
                            a[k] = (((0.0 + w1 * r1[k]) + w2 * r2[k]) + w3 * r3[k]) + w4 * r4[k]
                    else:
                        for k in range(nb):
                            a[k] = (((a[k] + w1 * r1[k]) + w2 * r2[k]) + w3 * r3[k]) + w4 * r4[k]
                    t += 4
                while t < nt:
                    r1 = ring[(y + ti[t]) % m, k0 + tj[t]:k1 + tj[t]]
                    w1 = tw[t]
                    if t == 0:
                        for k in range(nb):
                            a[k] = 0.0 + w1 * r1[k]
                    else:
                        for k in range(nb):
                            a[k] = a[k] + w1 * r1[k]
                    t += 1
                ob = o[k0:k1]
                for k in range(nb):
                    ob[k] = a[k]
