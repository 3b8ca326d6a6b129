"""Measuring the cost model's constants on this machine, and measured crossovers.

:func:`calibrate` times small runs of each method of
:func:`kernelfactor.correlate`, fits the constants of the timing model
(:mod:`kernelfactor._costmodel`, which documents the model and holds the
defaults and the cache) by non-negative least squares on relative errors, and
caches them, where ``method="auto"`` reads them from then on.

:func:`measure_crossover` measures, with kernelfactor's own methods, where
separable filtering starts beating direct filtering, where rank-k stops
paying and where the FFT wins.
"""
from __future__ import annotations

import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._apply import _prepare_kernel, correlate
from ._costmodel import (
    DEFAULT_CONSTANTS,
    METHOD_COSTS,
    FilterProblem,
    features,
    save_constants,
)
from ._engine import _compiled_active, _terms
from ._results import Result
from ._typing import KernelLike, Pair
from ._validation import _check_positive_int, _describe

__all__ = [
    "Calibration",
    "Crossover",
    "calibrate",
    "measure_crossover",
]


@dataclass(frozen=True, repr=False)
class Calibration(Result):
    """The result of :func:`calibrate`.

    Attributes
    ----------
    constants : dict
        Seconds per count (see :mod:`kernelfactor._costmodel`), by name.
    image_size : int
        Side of the square float64 image timed.
    worst_ratio : float
        The largest ``max(predicted / measured, measured / predicted)`` over
        the timed runs: how well the model fits this machine.
    runs : int
        Timed configurations.
    path : str or None
        Where the constants were saved (None: not saved).
    seconds : float
        Wall time of the calibration.
    """

    constants: dict[str, float]
    image_size: int
    worst_ratio: float
    runs: int
    path: str | None
    seconds: float

    def __repr__(self) -> str:
        consts = ", ".join(f"{k}={v:.3g}" for k, v in sorted(self.constants.items()))
        where = f"saved to {self.path}" if self.path else "not saved"
        return (
            f"Calibration({self.runs} runs on {self.image_size}x{self.image_size} float64 in "
            f"{self.seconds:.2g} s, worst fit ratio {self.worst_ratio:.3g}, {where}; {consts})"
        )


def _features_for(
    image_shape: tuple[int, ...], kernel: KernelLike, *, axes: Pair = (-2, -1),
    convolve: bool = False,
) -> dict[str, dict[str, float]]:
    """The cost-model counts of filtering an image of `image_shape` with `kernel`."""
    kern, ax = _prepare_kernel(kernel, 0, convolve, axes=axes, ndim=len(image_shape))
    problem = FilterProblem(tuple(image_shape), ax, kern.weights, _terms(kern),
                            bool(kern.exponent), compiled=_compiled_active())
    return features(problem)


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of `repeats` calls of `fn` (:mod:`timeit`, garbage collection off)."""
    return min(timeit.repeat(fn, repeat=repeats, number=1))


def _gaussian(size: int) -> np.ndarray:
    t = np.linspace(-2.0, 2.0, size) if size > 1 else np.zeros(1)
    g = np.exp(-(t**2))
    return g / g.sum()


def _runs(size: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """(method, kernel) configurations whose timings determine the constants."""
    runs: list[tuple[str, np.ndarray]] = []
    for k in (3, 5, 9):
        runs.append(("direct", rng.standard_normal((k, k))))
    for k in (3, 9, 21, 41):
        g = _gaussian(k)
        runs.append(("separable", np.outer(g, g)))  # symmetric passes
        a = rng.standard_normal(k)
        runs.append(("separable", np.outer(a, a[::-1] + 0.5)))  # general passes
    a, b = rng.standard_normal((2, 9))
    runs.append(("separable", np.outer(a, b) + np.outer(b, a)))  # rank 2: one accumulation
    runs.append(("separable", np.outer(_gaussian(1), _gaussian(15))))  # 1 x 15: inner-heavy
    runs.append(("separable", np.outer(_gaussian(15), _gaussian(1))))  # 15 x 1: outer-heavy
    for k in (5, 21, 41):
        runs.append(("fft", rng.standard_normal((k, k))))
    return runs


def calibrate(*, size: int = 1024, repeats: int = 3, save: bool = True) -> Calibration:
    """Measure the cost-model constants on this machine and cache them.

    Times each method of :func:`kernelfactor.correlate` (one thread) on a
    ``size x size`` float64 image for a few kernels (``separable`` and
    ``direct`` on the engine that runs them here: the compiled one, whose
    ``jit_*`` constants are then fitted, or scipy.ndimage without numba),
    fits the constants by non-negative least squares on relative errors, and
    (with `save`) writes them to the cache
    (:func:`kernelfactor._costmodel.cache_dir`), where ``method="auto"``
    reads them from then on.  Takes a few seconds at the default size.

    Parameters
    ----------
    size : int
        Side of the square test image (at least 64).  Use an image size like
        the ones you filter: cache effects make per-pixel costs size-dependent.
    repeats : int
        Best of this many timings per configuration.
    save : bool
        Write the cache file.

    Returns
    -------
    Calibration

    Examples
    --------
    >>> cal = calibrate(size=64, repeats=1, save=False)
    >>> sorted(cal.constants) == sorted(DEFAULT_CONSTANTS)
    True
    """
    from scipy.optimize import nnls  # lazy: heavy

    size = _check_positive_int(size, "size")
    if size < 64:
        raise ValueError(f"`size` must be >= 64 for meaningful timings; got {size}.")
    repeats = _check_positive_int(repeats, "repeats")
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    image = rng.standard_normal((size, size))
    rows: dict[str, list[tuple[dict[str, float], float]]] = {m: [] for m in METHOD_COSTS}
    for method, kernel in _runs(size, rng):
        feats = _features_for(image.shape, kernel)[method]

        def run(k: np.ndarray = kernel, m: str = method) -> None:
            correlate(image, k, method=m, workers=1)

        run()  # warm-up (FFT plans, caches)
        rows[method].append((feats, _best_time(run, repeats)))
    constants = dict(DEFAULT_CONSTANTS)
    worst = 1.0
    for group, cost in METHOD_COSTS.items():
        names = sorted(cost.constants)
        if not rows[group]:
            continue  # no run times this method: its constants keep their defaults
        a = np.array([[f.get(n, 0.0) for n in names] for f, _ in rows[group]])
        t = np.array([s for _, s in rows[group]])
        weight = 1.0 / t
        coef, _ = nnls(a * weight[:, None], t * weight)
        # A count that no run exercised cannot be fitted: it keeps its default.
        for j, name in enumerate(names):
            if np.any(a[:, j] > 0):
                constants[name] = float(coef[j])
        pred = a @ np.array([constants[n] for n in names])
        ratio = np.maximum(pred / t, t / np.maximum(pred, 1e-30))
        worst = max(worst, float(ratio.max()))
    path = str(save_constants(constants, size)) if save else None
    n_runs = sum(len(v) for v in rows.values())
    return Calibration(constants, size, worst, n_runs, path, time.perf_counter() - start)


@dataclass(frozen=True, repr=False)
class Crossover(Result):
    """Measured crossovers of kernelfactor's methods (see :func:`measure_crossover`).

    Attributes
    ----------
    image_shape : tuple of int
    separable_beats_direct : int or None
        Smallest square size where a rank-1 Gaussian runs faster separable
        than direct (None: not within `sizes`).
    fft_beats_direct : int or None
        Smallest square size where a full-rank kernel runs faster by FFT than
        direct.
    fft_beats_separable : int or None
        Smallest square size where the FFT beats rank-1 separable.
    rank_size : int
        The kernel size of the rank sweep.
    rank_stops_paying : int or None
        Smallest rank ``k`` whose separable run is no faster than the best
        of direct and FFT at ``rank_size`` (None: every rank tried pays).
    seconds : dict
        The timings: ``{"direct": {size: s}, "separable": {size: s},
        "fft": {size: s}, "rank": {k: s}}``.
    """

    image_shape: tuple[int, int]
    separable_beats_direct: int | None
    fft_beats_direct: int | None
    fft_beats_separable: int | None
    rank_size: int
    rank_stops_paying: int | None
    seconds: dict[str, dict[int, float]] = field(default_factory=dict)

    def __repr__(self) -> str:
        h, w = self.image_shape
        return (
            f"Crossover(image {h}x{w}: separable beats direct from "
            f"{self.separable_beats_direct}, FFT beats direct from {self.fft_beats_direct}, "
            f"FFT beats rank-1 separable from {self.fft_beats_separable}; at "
            f"{self.rank_size}x{self.rank_size} rank-k stops paying at k = "
            f"{self.rank_stops_paying})"
        )


def measure_crossover(
    *,
    image_shape: Sequence[int] = (512, 512),
    sizes: Sequence[int] = (3, 5, 7, 9, 11, 15, 21, 31),
    rank_size: int = 15,
    max_rank: int = 8,
    repeats: int = 3,
) -> Crossover:
    """Measure where each method starts winning, with kernelfactor's own methods.

    One thread, float64 image of `image_shape`.  Rank-1 kernels are
    Gaussians (symmetric 1-D passes), full-rank and rank-k kernels are random
    (direct filtering costs the same for any kernel without zero weights).
    Direct timings stop once the FFT has beaten direct at two sizes in a row
    (larger sizes only widen the gap).

    Parameters
    ----------
    image_shape : (int, int)
    sizes : sequence of int
        Square kernel sizes, ascending.
    rank_size : int
        Kernel size of the rank sweep.
    max_rank : int
        Ranks ``1 .. min(max_rank, rank_size)`` are timed.
    repeats : int
        Best of this many timings.

    Returns
    -------
    Crossover

    Examples
    --------
    >>> c = measure_crossover(image_shape=(64, 64), sizes=(3, 5), rank_size=3, max_rank=2,
    ...                       repeats=1)
    >>> sorted(c.seconds)
    ['direct', 'fft', 'rank', 'separable']
    """
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"`image_shape` must be two positive ints; got {_describe(image_shape)}.")
    size_list = [_check_positive_int(s, "sizes") for s in sizes]
    if size_list != sorted(size_list) or not size_list:
        raise ValueError(f"`sizes` must be a non-empty ascending sequence; got {list(sizes)}.")
    rank_size = _check_positive_int(rank_size, "rank_size")
    max_rank = _check_positive_int(max_rank, "max_rank")
    repeats = _check_positive_int(repeats, "repeats")
    rng = np.random.default_rng(1)
    image = rng.standard_normal(shape)

    def timed(kernel: np.ndarray, method: str) -> float:
        def run() -> None:
            correlate(image, kernel, method=method, workers=1)

        run()
        return _best_time(run, repeats)

    table: dict[str, dict[int, float]] = {"direct": {}, "separable": {}, "fft": {}, "rank": {}}
    lost = 0
    for k in size_list:
        g = _gaussian(k)
        table["separable"][k] = timed(np.outer(g, g), "separable")
        full = rng.standard_normal((k, k))
        table["fft"][k] = timed(full, "fft")
        if lost < 2:
            table["direct"][k] = timed(full, "direct")
            lost = lost + 1 if table["direct"][k] > table["fft"][k] else 0

    def first(pred: Callable[[int], bool], keys: Sequence[int]) -> int | None:
        return next((k for k in keys if pred(k)), None)

    direct = table["direct"]
    sep_beats = first(lambda k: table["separable"][k] < direct[k], list(direct))
    fft_beats = first(lambda k: table["fft"][k] < direct[k], list(direct))
    fft_sep = first(lambda k: table["fft"][k] < table["separable"][k], size_list)
    full = rng.standard_normal((rank_size, rank_size))
    baseline = min(timed(full, "direct"), timed(full, "fft"))
    stops = None
    for r in range(1, min(max_rank, rank_size) + 1):
        a, b = rng.standard_normal((2, r, rank_size))
        table["rank"][r] = timed(a.T @ b, "separable")
        if stops is None and table["rank"][r] >= baseline:
            stops = r
            break
    return Crossover(
        (int(shape[0]), int(shape[1])), sep_beats, fft_beats, fft_sep, rank_size, stops, table
    )
