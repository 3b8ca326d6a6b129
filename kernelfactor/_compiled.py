r"""The compiled engine: fused separable and direct correlation, scipy.ndimage's semantics.

The ``separable`` and ``direct`` rows of :data:`kernelfactor._engine.METHODS`
run here when numba can be imported (:func:`available`), else on
scipy.ndimage (the fallback, always kept; ``KERNELFACTOR_ENGINE=scipy`` or
``kernelfactor._compiled.ENABLED = False`` forces it).  numba is imported on
the first filtering call, never by ``import kernelfactor``; its compiled
loops are cached on disk in ``<cache_dir>/numba``
(:func:`kernelfactor._costmodel.cache_dir`), not next to the package, which
may be read-only.

How it works (:mod:`kernelfactor._compiled_kernels` holds the loops)
-------------------------------------------------------------------
The two kernel axes are moved last (a view for C-ordered images, kernel
axes in either order: the weights are transposed instead), so that every
image row is contiguous; planes of other axes are a batch.  The border is
never padded into a copy of the image: index maps give, for every extended
row and column, the image row or column ndimage's mode reads there (built
with :func:`numpy.pad` on an ``arange``, the extension the FFT method uses;
-1 marks ``cval``).

``separable``
    One pass over the image for all ``r`` rank-1 terms.  Every extended row
    is filtered along the row once per term (its horizontal factor), into a
    ring of ``m`` filtered rows per term; each output row then sums its ``m``
    ring rows with the vertical factor, the terms adding up in the output
    row.  Image rows are read in place: only the few outputs at either end
    that read border columns use a copy extended through the column map, and
    rows of ``cval`` are one row of ``cval``.  The ring's rows are padded
    (:func:`ring_stride`): rows a multiple of 4 KiB apart share L1 sets, and
    the vertical sweep reads eight of them at once.  Symmetric and
    antisymmetric factors are folded (half the multiplications); taps run in
    the outer loop and pixels in the inner one, four taps (or pairs) per
    sweep, and the loops index flat arrays with unsigned offsets, so that
    LLVM vectorises them without wrap-around tests.  Sums are formed in the
    work dtype (float32 for float32 images and outputs, else float64), FMA
    contraction allowed.  With ``guard`` the pass reports a NaN or Inf in its
    output (``"auto"`` then looks at the image: see
    :func:`kernelfactor._engine.filter_into`).
``direct``
    The weights' footprint (``|w| > 2**-52``, as ndimage) in ndimage's
    order; each output is ``0.0 + w_0 x_0 + w_1 x_1 + ...`` in double
    precision in that order, which is how ``ndimage.correlate`` sums it, so
    the result is ndimage's bit for bit (no ``fastmath``: LLVM keeps the
    order and fuses nothing).  Outputs whose taps all fall inside the image
    read its rows in place; the few at either end are summed one by one
    through the column map, and rows near a row of ``cval`` read whole
    extended rows kept in a ring of ``m`` rows.  Up to eight taps per sweep
    over a row (a 3x3 kernel in one), the last sweep writing the output.

``workers`` threads (the caller's and daemon threads kept between calls) share
out whole planes when there are enough (:data:`PIECES_PER_WORKER` pieces
per thread, each thread taking the next when done), else the rows: one strip
per thread, claimed a chunk at a time, half of what is left, so that chunks
shorten towards the strip's end (:data:`CHUNK_ELEMENTS`).  A thread's next
chunk continues its last one, its ring already filled; a thread done with its
own strip takes the back half of the rows left in another's (work stealing),
so that a thread started late or slowed down by other work on the machine
does not hold up the call, and only a taken half filters its halo rows
again.  The loops release the GIL.  A
row's result does not depend on the thread or chunk that computed it, so any
number of workers gives the same bits.
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from ._costmodel import _EPS, Terms, _symmetry, cache_dir
from ._validation import BOUNDARY_MODES, _cast_bounds

__all__ = ["ENABLED", "ENGINE_ENV", "available", "basis_into", "correlate_into", "index_map"]

#: Environment variable choosing the engine: ``"scipy"`` never compiles;
#: ``"auto"`` (or unset) compiles when numba can be imported.
ENGINE_ENV = "KERNELFACTOR_ENGINE"

#: Module switch (tests flip it): False runs the scipy.ndimage fallback.
ENABLED: bool = True

_LOCK = threading.Lock()
_STATE: dict[str, ModuleType | None] = {}


def _configure_numba_cache() -> None:
    """Point numba's on-disk cache at kernelfactor's cache directory (unless the user chose one)."""
    target = str(cache_dir() / "numba")
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_CACHE_DIR", target)
        return
    from numba.core import config  # already imported by the user: set it there

    if not getattr(config, "CACHE_DIR", ""):
        os.environ.setdefault("NUMBA_CACHE_DIR", target)
        setattr(config, "CACHE_DIR", target)  # noqa: B010 - numba's config module


def _kernels() -> ModuleType | None:
    """The compiled loops' module (numba imported on first use), or None without numba."""
    with _LOCK:
        if "kernels" not in _STATE:
            try:
                _configure_numba_cache()
                from . import _compiled_kernels
            except ImportError:
                _STATE["kernels"] = None
            else:
                _STATE["kernels"] = _compiled_kernels
        return _STATE["kernels"]


def available() -> bool:
    """True when the compiled engine runs: numba importable, not switched off.

    Raises ValueError for an unknown value of ``$KERNELFACTOR_ENGINE``.
    """
    choice = os.environ.get(ENGINE_ENV, "").strip().lower()
    if choice not in ("", "auto", "scipy"):
        raise ValueError(
            f"`{ENGINE_ENV}` must be 'auto' or 'scipy' (the scipy.ndimage fallback); "
            f"got {choice!r}."
        )
    if not ENABLED or choice == "scipy":
        return False
    loaded = _STATE.get("kernels", False)  # after the first call, without the lock
    return (_kernels() if loaded is False else loaded) is not None


@functools.lru_cache(maxsize=64)
def index_map(length: int, halo: tuple[int, int], mode: str) -> np.ndarray:
    """For each cell of an axis extended by `halo`, the image cell ndimage reads (-1: cval).

    Read-only, and cached: a call's maps are the last call's when the image
    and kernel shapes repeat (filtering frames of a video).

    >>> index_map(3, (2, 1), "mirror").tolist()
    [2, 1, 0, 1, 2, 1]
    >>> index_map(3, (1, 2), "constant").tolist()
    [-1, 0, 1, 2, -1, -1]
    """
    idx = np.arange(length, dtype=np.int64)
    extension = BOUNDARY_MODES[mode]
    if extension.constant:
        out = np.pad(idx, halo, mode="constant", constant_values=-1)
    else:
        out = np.pad(idx, halo, mode=extension.pad)  # type: ignore[call-overload]
    out.flags.writeable = False
    return out


def _float_array(dt: np.dtype) -> bool:
    return dt.kind == "f" and dt.itemsize in (4, 8) and dt.isnative


#: Integer image dtypes the compiled loops read as they are, each row widened once to
#: float64 (as ndimage's loops widen each value): the usual pixel types.  Others are
#: converted to float64 first; each dtype read costs numba a (short) compilation.
PIXEL_INTEGERS = frozenset({np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16)})


def _direct_input(dt: np.dtype) -> bool:
    """The compiled ``direct`` reads images of this dtype as they are: native float32
    and float64, and :data:`PIXEL_INTEGERS`."""
    return _float_array(dt) or dt in PIXEL_INTEGERS


def _direct_output(image: np.dtype, dt: np.dtype) -> bool:
    """The compiled ``direct`` writes outputs of dtype `dt` from images of dtype `image`:
    native float32 and float64, and an image's own dtype among :data:`PIXEL_INTEGERS`
    (in-range values truncated; a run with another value reports it, see
    :func:`correlate_into`)."""
    return _float_array(dt) or (dt == image and dt in PIXEL_INTEGERS)


def _holds(dt: np.dtype, value: float) -> bool:
    """The float dtype `dt` holds `value` exactly (a row of it can be kept in `dt`).

    >>> _holds(np.dtype(np.float32), 0.1), _holds(np.dtype(np.float32), 0.5)
    (False, True)
    """
    with np.errstate(over="ignore"):
        # float(): NumPy 2 would compare a float32 with a Python float in float32
        return float(dt.type(value)) == value


def integer_top(img: np.ndarray, block: int) -> float | None:
    """max |x| of a native float32/64 image when every value is an integer, else None.

    One compiled pass over the image (:func:`kernelfactor._compiled_kernels.integer_top`),
    stopping after the first `block` of elements that holds a fraction or NaN.

    >>> integer_top(np.array([[3.0, -4.0], [0.0, 2.0]]), 2), integer_top(np.array([0.5]), 2)
    (4.0, None)
    """
    kernels = _kernels()
    assert kernels is not None
    flat = img.reshape(-1)  # a copy only for a non-contiguous image
    if flat.size == 0:
        return 0.0
    unsigned = np.dtype(f"u{flat.dtype.itemsize}")
    magnitude = unsigned.type(np.iinfo(unsigned).max >> 1)
    whole, top = kernels.integer_top(flat, flat.view(unsigned), magnitude, block)
    return float(np.array(top, unsigned).view(flat.dtype)) if whole else None


def _planes(x: np.ndarray, out: np.ndarray, p: int, q: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(B, H, W) C-ordered views (or copies) with axes p, q last; the view to copy back into."""
    last = (p, q) == (x.ndim - 2, x.ndim - 1)  # the usual case: no axes to move
    xv = x if last else np.moveaxis(x, (p, q), (-2, -1))
    h, w = xv.shape[-2:]
    x3 = np.ascontiguousarray(xv).reshape(-1, h, w)
    ov = out if last else np.moveaxis(out, (p, q), (-2, -1))
    if ov.flags.c_contiguous:
        return x3, ov.reshape(-1, h, w), None
    return x3, np.empty(ov.shape, out.dtype).reshape(-1, h, w), ov


Job = tuple[int, int, int, int]  # planes b0..b1, rows y0..y1
Run = Callable[[Job, bool], int]  # run(job, primed): a thread's loop over one piece of work

#: Pieces of whole planes per thread, when there are enough planes to share
#: out: threads take the next piece when done.
PIECES_PER_WORKER = 2

#: Rows a thread claims at a time from its strip, in image elements: half of
#: what is left of the strip, at least ``CHUNK_ELEMENTS[0]`` and at most
#: ``CHUNK_ELEMENTS[1]`` (32 and 512 rows of 2048).  A claim costs about 8 us
#: of Python and dispatch right after a large filter has flushed the caches,
#: so a 1024-row strip is claimed in 6 chunks (a quarter of what is left, as
#: first written, took 11); the last chunks are short, so that the thread
#: that finishes first waits little for the other's.  On 2048 x 2048 a 3x3
#: ``direct``, whose rows are cheap, scaled 1.71x at half the lower bound and
#: 1.75x at it (float64).
CHUNK_ELEMENTS = (1 << 16, 1 << 20)


def _jobs(shape: tuple[int, int, int], workers: int, min_elements: int, min_rows: int
          ) -> tuple[Job, ...]:
    """The work: pieces of whole planes when there are enough, else one strip of rows per thread.

    Planes: about :data:`PIECES_PER_WORKER` pieces per thread.  Strips: equal,
    each at least `min_rows` rows; :func:`_run_jobs` claims them a chunk at a
    time, and a thread done with its own takes half of what is left of
    another's.

    >>> _jobs((1, 2048, 2048), 2, 1, 64)
    ((0, 1, 0, 1024), (0, 1, 1024, 2048))
    >>> _jobs((3, 100, 100), 2, 1, 64)
    ((0, 1, 0, 100), (1, 2, 0, 100), (2, 3, 0, 100))
    """
    return _split(shape, workers, min_elements, min_rows, PIECES_PER_WORKER)


@functools.lru_cache(maxsize=64)
def _split(shape: tuple[int, int, int], workers: int, min_elements: int, min_rows: int,
           per_worker: int) -> tuple[Job, ...]:
    """:func:`_jobs`, `per_worker` pieces of planes per thread (cached: a shape is split once)."""
    planes, rows, width = shape
    if workers < 2 or planes * rows * width < min_elements:
        return ((0, planes, 0, rows),)
    if planes >= workers:
        cuts = np.linspace(0, planes, min(planes, per_worker * workers) + 1).round().astype(int)
        return tuple((int(a), int(b), 0, rows) for a, b in itertools.pairwise(cuts))
    strips = min(workers, max(1, rows // min_rows))
    cuts = np.linspace(0, rows, strips + 1).round().astype(int)
    return tuple((0, planes, int(a), int(b)) for a, b in itertools.pairwise(cuts))


_TASKS: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
_THREADS: list[threading.Thread] = []  # kept between calls: starting one costs more than a call


def _serve(tasks: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    """A kept thread: run the tasks of the queue it was started on; None ends it."""
    while (task := tasks.get()) is not None:
        task()


def _hand_out(tasks: list[Callable[[], None]]) -> None:
    """Run `tasks` on the kept threads, as many as there are tasks (started on first need).

    A plain queue, not :class:`concurrent.futures.ThreadPoolExecutor`: its
    submit costs 30-50 us when the caches are cold (after a large image),
    on the path of every call.
    """
    if len(_THREADS) < len(tasks):
        with _LOCK:
            while len(_THREADS) < len(tasks):
                thread = threading.Thread(target=_serve, args=(_TASKS,), daemon=True,
                                          name=f"kernelfactor-{len(_THREADS)}")
                thread.start()
                _THREADS.append(thread)
    for task in tasks:
        _TASKS.put(task)


def _after_fork() -> None:
    """A forked child has none of its parent's threads, and no owner for a lock held then."""
    global _TASKS, _LOCK
    _TASKS = queue.SimpleQueue()
    _LOCK = threading.Lock()
    _THREADS.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork)


class _Share:
    """Pieces of work shared out between the caller's thread and kept ones.

    Each thread claims its next piece under the lock until none is left
    (:meth:`_claim`).  The caller waits only for the threads that started:
    a thread that never got a core finds nothing left when it does start,
    because the others took its share.  An exception in any thread stops
    the others after their current piece and is raised in the caller.
    """

    def __init__(self, threads: int) -> None:
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.started = [False] * threads
        self.running = 0
        self.flag = 0
        self.pieces = 0
        self.error: BaseException | None = None
        # The call's scratch and arrays, reached through the runner: dropped when the call
        # returns, so that a task still queued behind another call's keeps none of them.
        self.runner: Callable[[], Run] | None = None

    def _claim(self, i: int) -> tuple[Job, bool] | None:  # pragma: no cover - abstract
        """Thread `i`'s next piece and whether it continues its last one (under the lock)."""
        raise NotImplementedError

    def _stop(self) -> None:  # pragma: no cover - abstract
        """Leave nothing more to claim (under the lock)."""
        raise NotImplementedError

    def _next(self, i: int) -> tuple[Job, bool] | None:
        """Thread `i`'s next piece, claimed and counted under the lock."""
        with self.lock:
            piece = self._claim(i)
            self.pieces += piece is not None
        return piece

    def serve(self, i: int) -> None:
        """Thread `i`'s loop: claim, run, until nothing is left (at once after the call)."""
        with self.lock:
            runner = self.runner
            if runner is None:
                return
            self.started[i] = True
            self.running += 1
        flag = 0
        try:
            run = None
            while (piece := self._next(i)) is not None:
                if run is None:
                    run = runner()
                flag |= run(*piece)
        except BaseException as exc:
            with self.lock:
                self._stop()
                self.error = self.error or exc
        finally:
            with self.lock:
                self.flag |= flag
                self.running -= 1
                if not self.running:
                    self.idle.notify_all()

    def run(self, runner: Callable[[], Run]) -> int:
        """Every piece, on the caller's thread and the kept ones: the OR of their results."""
        self.runner = runner
        _hand_out([functools.partial(self.serve, i) for i in range(1, len(self.started))])
        self.serve(0)
        with self.idle:
            while self.running:
                self.idle.wait()
            self.runner = None
        error, self.error = self.error, None  # no cycle through its traceback's frames
        if error is not None:
            raise error
        return self.flag


class _Planes(_Share):
    """Whole planes: each thread takes the next job when done with one."""

    def __init__(self, jobs: tuple[Job, ...], threads: int) -> None:
        super().__init__(threads)
        self.jobs = jobs
        self.next = 0

    def _claim(self, i: int) -> tuple[Job, bool] | None:
        if self.next >= len(self.jobs):
            return None
        self.next += 1
        return self.jobs[self.next - 1], False

    def _stop(self) -> None:
        self.next = len(self.jobs)


class _Strips(_Share):
    """Strips of rows, one per thread: each claims chunks of its own strip, front
    to back, then takes the back half of the strip with the most rows left
    (the whole strip of a thread that has not started).

    A thread's consecutive chunks continue one another (``primed``: its ring
    already holds the rows they share); a taken half starts afresh, its halo
    filtered again, so halves shorter than `steal` rows are left to their
    owner.
    """

    def __init__(self, strips: tuple[Job, ...], width: int, steal: int) -> None:
        super().__init__(len(strips))
        self.planes = strips[0][:2]
        self.front = [s[2] for s in strips]
        self.back = [s[3] for s in strips]
        self.end = [-1] * len(strips)  # where each thread's last chunk ended
        self.one_plane = self.planes[1] - self.planes[0] == 1
        self.least = max(1, CHUNK_ELEMENTS[0] // max(width, 1))
        self.most = max(self.least, CHUNK_ELEMENTS[1] // max(width, 1))
        self.steal = max(steal, self.least)

    def claim(self, i: int) -> tuple[int, int] | None:
        """Thread `i`'s next rows ``(y0, y1)``, or None: nothing left for it."""
        piece = self._next(i)
        return None if piece is None else piece[0][2:]

    def _claim(self, i: int) -> tuple[Job, bool] | None:
        front, back = self.front, self.back
        if front[i] >= back[i] and not self._take(i):
            return None
        left = back[i] - front[i]
        size = min(max(left // 2, self.least), self.most)
        if left - size < self.least:
            size = left
        y0 = front[i]
        front[i] += size
        primed = self.one_plane and y0 == self.end[i]
        self.end[i] = y0 + size
        return (*self.planes, y0, y0 + size), primed

    def _take(self, i: int) -> bool:
        """Make thread `i`'s strip rows taken from another's (under the lock); False: none."""
        front, back = self.front, self.back
        left = [b - f for f, b in zip(front, back, strict=True)]
        idle = [j for j, n in enumerate(left) if n > 0 and not self.started[j]]
        if idle:
            j, size = idle[0], left[idle[0]]
        else:
            j = max(range(len(left)), key=left.__getitem__)
            size = left[j] // 2
            if size < self.steal:
                return False
        front[i], back[i] = back[j] - size, back[j]
        back[j] = front[i]
        return True

    def _stop(self) -> None:
        self.front = list(self.back)


def _run_jobs(jobs: tuple[Job, ...], workers: int, runner: Callable[[], Run], *,
              width: int = 1, steal: int = 1) -> tuple[int, int]:
    """Run the jobs on `workers` threads (the caller's and kept ones): (OR of results, pieces).

    ``runner()`` gives a thread its own function of a piece of work (its
    scratch buffers).  Planes: each thread takes the next job when done with
    one (:class:`_Planes`).  Strips of rows (one per thread): claimed in
    chunks, see :class:`_Strips` (`width`: elements per row of a plane, a
    strip's rows spanning all planes; `steal`: the shortest half worth
    taking, in rows).
    """
    threads = min(workers, len(jobs))
    if threads == 1:
        run = runner()
        flag = 0
        for job in jobs:
            flag |= run(job, False)
        return flag, len(jobs)
    share: _Share
    if jobs[0][3] < jobs[-1][3]:  # strips of rows, of all planes at once
        share = _Strips(jobs, width * (jobs[0][1] - jobs[0][0]), steal)
    else:
        share = _Planes(jobs, threads)
    flag = share.run(runner)
    return flag, share.pieces


#: Where a scratch ring starts relative to the image, modulo 4 KiB (see :func:`_aligned_empty`).
RING_OFFSET = 1536


def _aligned_empty(size: int, dtype: np.dtype, near: int | None = None) -> np.ndarray:
    """An uninitialised 1-D array whose data start on a 64-byte cache line.

    NumPy's large arrays start 16 bytes into a line: every 64-byte vector
    access to them would straddle two lines.  With `near` (an address: the
    image's data) the array also starts :data:`RING_OFFSET` bytes after it
    modulo 4 KiB: a load whose address matches an earlier store's in its low
    12 bits waits for that store ("4K aliasing"), and a ring placed up to
    1 KiB before the image's rows in that sense costs 4-5% of a whole
    2048 x 2048 Gaussian, 10% of its loops alone (all 16 offsets of 256
    bytes: ``python benchmarks/bench_compiled.py --ring-sweep``).

    >>> _aligned_empty(1000, np.dtype(np.float32)).ctypes.data % 64
    0
    >>> _aligned_empty(1000, np.dtype(np.float64), near=4096).ctypes.data % 4096
    1536
    """
    spare = (4096 if near is not None else 64) // dtype.itemsize
    raw = np.empty(size + spare, dtype)
    target = 0 if near is None else (near + RING_OFFSET) % 4096 // 64 * 64
    modulus = 64 if near is None else 4096
    start = (target - raw.ctypes.data) % modulus // dtype.itemsize
    return raw[start:start + size]


def ring_stride(width: int, itemsize: int) -> int:
    """Elements per ring row: `width` rounded up to 64 bytes, plus 64 bytes unless odd lines.

    Rows a multiple of 4 KiB apart map to the same sets of an L1 cache (8
    ways): the ``m`` rows a vertical sweep reads at once would evict each
    other.  An odd number of 64-byte lines per row spreads them over the sets.

    >>> ring_stride(2048, 8), ring_stride(2048, 4), ring_stride(100, 8)
    (2056, 2064, 104)
    """
    per_line = 64 // itemsize
    lines = -(-width // per_line)
    return (lines + 1 - lines % 2) * per_line


#: Most scratch memory (bytes, all threads) a compiled run may take; beyond it the
#: scipy.ndimage path runs (its passes need only image-sized buffers).
SCRATCH_LIMIT = 256 * 2**20


def scratch_fits(method: str, width: int, itemsize: int, terms: Terms | None,
                 workers: int) -> bool:
    """Whether a compiled run's scratch (a ring of ``m`` filtered rows per term and
    thread for ``separable``) stays within :data:`SCRATCH_LIMIT`.

    >>> scratch_fits("separable", 20000, 8, [(np.ones(64), np.ones(64))] * 64, 1)
    False
    """
    if method != "separable" or not terms:
        return True
    m = max(len(c) for c, _ in terms)
    ring = len(terms) * m * ring_stride(width, itemsize) * itemsize
    return ring * max(1, workers) <= SCRATCH_LIMIT


def _factor_arrays(terms: Terms, kp: int, dt: np.dtype) -> tuple[np.ndarray, ...]:
    """(cols, rows, csym, rsym): the terms' factors along image axes p and q as
    ``(r, m)`` and ``(r, n)`` arrays in `dt`, and ndimage's symmetry class of each
    (cached for the last few kernels: their checks cost more than a small image)."""
    return _factors(dt.str, kp, *(np.asarray(v, np.float64).tobytes() for p in terms for v in p))


@functools.lru_cache(maxsize=32)
def _factors(dt: str, kp: int, *data: bytes) -> tuple[np.ndarray, ...]:
    """:func:`_factor_arrays` of the float64 factors in `data` (column, row, column, ...)."""
    pairs = [(np.frombuffer(c), np.frombuffer(r)) for c, r in zip(data[::2], data[1::2],
                                                                   strict=True)]
    cols = np.array([pair[kp] for pair in pairs], dtype=dt).reshape(len(pairs), -1)
    rows = np.array([pair[1 - kp] for pair in pairs], dtype=dt).reshape(len(pairs), -1)
    csym = np.array([_symmetry(c) for c in cols], dtype=np.int64)
    rsym = np.array([_symmetry(r) for r in rows], dtype=np.int64)
    out = (cols, rows, csym, rsym)
    for a in out:
        a.flags.writeable = False
    return out


def _direct_taps(weights: np.ndarray, kp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ti, tj, tw): ndimage's footprint of float64 `weights` (``|w| > eps``) in its
    order, C order with the kernel's axis `kp` first (see ``_engine._direct``), as
    row and column offsets and weights (cached for the last few kernels).

    >>> [a.tolist() for a in _direct_taps(np.array([[0.0, 1.0], [2.0, 3.0]]), 1)]
    [[0, 1, 1], [1, 0, 1], [2.0, 1.0, 3.0]]
    """
    return _taps(weights.shape, kp, np.asarray(weights, np.float64).tobytes())


@functools.lru_cache(maxsize=32)
def _taps(shape: tuple[int, int], kp: int, data: bytes
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_direct_taps` of the weights in `data`."""
    w = np.frombuffer(data).reshape(shape)
    if kp == 1:
        w = w.T
    ti, tj = np.nonzero(np.abs(w) > _EPS)  # C order, ndimage's footprint
    out = ti.astype(np.int64), tj.astype(np.int64), np.ascontiguousarray(w[ti, tj])
    for a in out:
        a.flags.writeable = False
    return out


def correlate_into(
    method: str,
    x: np.ndarray,
    out: np.ndarray,
    kern: Any,
    axes: tuple[int, int],
    mode: str,
    cval: float,
    terms: Terms | None,
    workers: int,
    *,
    min_elements: int,
    min_rows: int,
    guard: bool = False,
) -> tuple[int, int, bool]:
    """Correlate `x` with `kern` into `out`: (threads used, pieces of work, non-finite seen).

    ``separable``: `out` has the work dtype (float32 or float64), `x` the
    same or (float64 work) one of :data:`PIXEL_INTEGERS`, and `terms` are the
    rank-1 terms; with `guard`, the last value tells
    whether an output is NaN or Inf (which a non-finite image, or an
    overflow, leaves there).  ``direct``: `x` is float32, float64 or a pixel
    integer type (:func:`_direct_input`), `out` one that :func:`_direct_output`
    allows, sums in float64; the last value tells whether an integer `out` got
    a sum outside its type's range or NaN (where a C cast is undefined: `out`
    must then be written again, through float64).
    """
    kernels = _kernels()
    assert kernels is not None
    p, q = sorted(axes)
    kp = 0 if axes[0] == p else 1  # the kernel axis along image axis p
    kq = 1 - kp
    (before_p, after_p), (before_q, after_q) = kern.halo(kp), kern.halo(kq)
    x3, o3, back = _planes(x, out, p, q)
    _, height, width = x3.shape
    xf, of = x3.reshape(-1), o3.reshape(-1)
    rowmap = index_map(height, (before_p, after_p), mode)
    colmap = index_map(width, (before_q, after_q), mode)
    # Each strip filters its `before_p + after_p` halo rows again: at least 4 times that.
    jobs = _jobs(x3.shape, workers, min_elements, max(min_rows, 4 * (before_p + after_p), 1))
    runner: Callable[[], Run]
    if method == "separable":
        assert terms is not None
        dt = o3.dtype
        if not terms:
            out[...] = 0
            return 1, 1, False
        cols, rows, csym, rsym = _factor_arrays(terms, kp, dt)
        m, n = cols.shape[1], rows.shape[1]
        crow = np.full(width + n - 1, dt.type(cval), dtype=dt)

        def runner() -> Run:
            ring = _aligned_empty(len(terms) * m * ring_stride(width, dt.itemsize), dt,
                                  near=xf.ctypes.data)
            ebuf = np.empty(width + n - 1, dtype=dt)
            hb = np.empty((1, n), dtype=np.uint64)
            vb = np.empty((len(terms), m), dtype=np.uint64)

            def run(job: Job, primed: bool) -> int:
                return int(kernels.separable_rows(xf, of, height, width, cols, rows, csym, rsym,
                                                  rowmap, colmap, before_q, crow, ring, ebuf,
                                                  hb, vb, guard, *job, primed))
            return run
    elif method == "direct":
        ti, tj, tw = _direct_taps(kern.weights, kp)
        m = kern.weights.shape[kp]
        # Extended rows in a float image's dtype (each value widens exactly to the
        # double ndimage multiplies), unless it cannot hold cval; else in float64
        # (one compilation less per integer dtype).
        ring_dt = x3.dtype if _float_array(x3.dtype) and _holds(x3.dtype, cval) else np.dtype(
            np.float64)

        # the open range of sums whose C cast is defined; a float output: none to check
        lo, hi = _cast_bounds(of.dtype) if of.dtype.kind in "iu" else (0.0, 0.0)

        def runner() -> Run:
            ring = _aligned_empty(m * colmap.size, ring_dt, near=xf.ctypes.data)
            acc = _aligned_empty(2 * width, np.dtype(np.float64))
            tb = np.empty(tw.size, dtype=np.uint64)

            def run(job: Job, primed: bool) -> int:  # its ring is filled again: cheap
                return int(kernels.direct_rows(xf, of, height, width, ti, tj, tw, rowmap, colmap,
                                               before_q, float(cval), ring, acc, tb, lo, hi,
                                               *job))
            return run
    else:  # pragma: no cover - a development error
        raise ValueError(f"no compiled engine for method {method!r}")
    flag, pieces = _run_jobs(jobs, workers, runner, width=width, steal=before_p + after_p)
    if back is not None:
        back[...] = o3.reshape(back.shape)
    return min(workers, len(jobs)), pieces, bool(flag)


def basis_into(
    x: np.ndarray,
    out: np.ndarray,
    cols: np.ndarray,
    rows: np.ndarray,
    coef: np.ndarray,
    mode: str,
    cval: float,
    workers: int,
    *,
    min_elements: int,
    min_rows: int,
) -> None:
    """Correlate the float64 image `x` ``(H, W)`` with a bank over shared separable filters.

    ``out[f] = sum_t coef[f, t] * correlate(x, outer(cols[t], rows[t]))`` (origin 0),
    one fused pass (:func:`kernelfactor._compiled_kernels.basis_rows`); `out` is
    a C-ordered float64 ``(N, H, W)``.  The factors should be scaled into
    ``[1/2, 1)`` (the symmetry test is absolute, as ndimage's).
    """
    kernels = _kernels()
    assert kernels is not None
    h, w = cols.shape[1], rows.shape[1]
    height, width = x.shape
    rowmap = index_map(height, (h // 2, h - 1 - h // 2), mode)
    colmap = index_map(width, (w // 2, w - 1 - w // 2), mode)
    csym = np.array([_symmetry(c) for c in cols], dtype=np.int64)
    rsym = np.array([_symmetry(r) for r in rows], dtype=np.int64)
    cvert = np.array([np.sum(c * cval) for c in cols], dtype=np.float64)
    nonzero = coef != 0
    start = np.concatenate([[0], np.cumsum(np.count_nonzero(nonzero, axis=1))]).astype(np.int64)
    index = np.nonzero(nonzero)[1].astype(np.int64)
    values = np.ascontiguousarray(coef[nonzero], dtype=np.float64)
    x3 = np.ascontiguousarray(x, dtype=np.float64)[None]
    jobs = _jobs((1, height, width), workers, min_elements, max(min_rows, h))

    def runner() -> Run:
        crow = np.full(width, cval, dtype=np.float64)
        v = np.empty(width + w - 1, dtype=np.float64)
        p = np.empty((cols.shape[0], width), dtype=np.float64)

        def run(job: Job, primed: bool) -> int:  # no ring: rows need no priming
            kernels.basis_rows(x3, out, cols, rows, csym, rsym, rowmap, colmap, w // 2, cvert,
                               crow, v, p, start, index, values, job[2], job[3])
            return 0
        return run

    _run_jobs(jobs, workers, runner, width=width)
