r"""Timing constants for ``method="auto"``, measured on this machine, and measured crossovers.

The cost model of :func:`kernelfactor.correlate` predicts the time of each
method as a sum of counts times constants (seconds per count):

.. math::

    t_\text{direct} &= c_\text{tap}\, N\, \mathrm{nnz}(K) + c_\text{px} N \\
    t_\text{separable} &= \sum_\text{passes} N \left( c_\text{tap}' L
        \;\text{or}\; c_\text{pair} \lceil L/2 \rceil \right)
        + c_\text{inner/outer} N + c_\text{acc} N (k - 1) \\
    t_\text{fft} &= c_\text{fft} (2B + 1)\, P \log_2 P + c_\text{fpx} B P

for ``N`` output elements, 1-D passes of length ``L`` (``c_pair`` for the
(anti)symmetric ones, which ndimage runs with half the multiplications; the
per-element overhead of a pass differs between the last, contiguous axis and
the others), ``k`` rank-1 terms, ``B`` images in a batch and the FFT size
``P = next_fast_len(H + m - 1) * next_fast_len(W + n - 1)`` (the counts of
:func:`kernelfactor.filter_cost`).

:func:`calibrate` times small runs of each method, fits the constants by
non-negative least squares on relative errors and caches them as JSON in
``$KERNELFACTOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/kernelfactor``, else
``~/.cache/kernelfactor``.  Until it has run, :data:`DEFAULT_CONSTANTS`
(measured on a 2-core x86-64 machine with scipy 1.17) are used.

:func:`measure_crossover` measures, with kernelfactor's own methods, where
separable filtering starts beating direct filtering, where rank-k stops
paying and where the FFT wins.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import _check_positive_int, _describe

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CONSTANTS",
    "Calibration",
    "Crossover",
    "cache_dir",
    "calibrate",
    "load_constants",
    "measure_crossover",
]

#: Environment variable overriding the cache directory.
CACHE_ENV = "KERNELFACTOR_CACHE_DIR"
_FILE = "calibration.json"
_VERSION = 1

#: Seconds per count, used until :func:`calibrate` has run on this machine: a
#: calibration at 2048 x 2048 on a 2-core x86-64 machine (scipy 1.17.1); the
#: fit put the FFT's per-pixel overhead at zero (absorbed by the
#: ``P log2 P`` term); ``acc_px`` is one measured ``np.add`` pass.
DEFAULT_CONSTANTS: dict[str, float] = {
    "acc_px": 1.3e-9,
    "direct_px": 3.4e-9,
    "direct_tap": 0.95e-9,
    "fft_nlogn": 0.95e-9,
    "fft_px": 0.0,
    "sep_inner": 3.3e-9,
    "sep_outer": 18.9e-9,
    "sep_pair": 0.9e-9,
    "sep_tap": 0.785e-9,
}

_GROUPS: dict[str, tuple[str, ...]] = {
    "direct": ("direct_px", "direct_tap"),
    "fft": ("fft_nlogn", "fft_px"),
    "separable": ("acc_px", "sep_inner", "sep_outer", "sep_pair", "sep_tap"),
}

_LOADED: dict[str, dict[str, float]] = {}


def cache_dir() -> Path:
    """The directory holding the calibration cache (not created here).

    ``$KERNELFACTOR_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/kernelfactor``,
    else ``~/.cache/kernelfactor``.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"KERNELFACTOR_CACHE_DIR": "/tmp/kf-cache-example"}):
    ...     str(cache_dir())
    '/tmp/kf-cache-example'
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "kernelfactor"


def load_constants() -> dict[str, float]:
    """The cost-model constants: this machine's calibration if cached, else the defaults.

    A missing, unreadable or outdated cache file gives the defaults.

    Examples
    --------
    >>> sorted(load_constants()) == sorted(DEFAULT_CONSTANTS)
    True
    """
    path = cache_dir() / _FILE
    key = str(path)
    if key not in _LOADED:
        constants = dict(DEFAULT_CONSTANTS)
        try:
            data = json.loads(path.read_text())
            if data.get("version") == _VERSION:
                for name in DEFAULT_CONSTANTS:
                    value = float(data["constants"][name])
                    if np.isfinite(value) and value >= 0:
                        constants[name] = value
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            constants = dict(DEFAULT_CONSTANTS)
        _LOADED[key] = constants
    return dict(_LOADED[key])


@dataclass(frozen=True, repr=False)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    constants : dict
        Seconds per count (see the module docstring), by name.
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python."""
        return {
            "constants": {k: float(v) for k, v in sorted(self.constants.items())},
            "image_size": self.image_size,
            "worst_ratio": float(self.worst_ratio),
            "runs": self.runs,
            "path": self.path,
            "seconds": float(self.seconds),
        }

    def __repr__(self) -> str:
        consts = ", ".join(f"{k}={v:.3g}" for k, v in sorted(self.constants.items()))
        where = f"saved to {self.path}" if self.path else "not saved"
        return (
            f"Calibration({self.runs} runs on {self.image_size}x{self.image_size} float64 in "
            f"{self.seconds:.2g} s, worst fit ratio {self.worst_ratio:.3g}, {where}; {consts})"
        )


def _best_time(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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
    ``size x size`` float64 image for a few kernels, fits the constants by
    non-negative least squares on relative errors, and (with `save`) writes
    them to ``cache_dir() / "calibration.json"``, where ``method="auto"``
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
    from scipy.optimize import nnls

    from ._apply import _features_for, correlate

    size = _check_positive_int(size, "size")
    if size < 64:
        raise ValueError(f"`size` must be >= 64 for meaningful timings; got {size}.")
    repeats = _check_positive_int(repeats, "repeats")
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    image = rng.standard_normal((size, size))
    rows: dict[str, list[tuple[dict[str, float], float]]] = {g: [] for g in _GROUPS}
    for method, kernel in _runs(size, rng):
        feats = _features_for(image.shape, kernel)[method]

        def run(k: np.ndarray = kernel, m: str = method) -> None:
            correlate(image, k, method=m, workers=1)

        run()  # warm-up (FFT plans, caches)
        rows[method].append((feats, _best_time(run, repeats)))
    constants = dict(DEFAULT_CONSTANTS)
    worst = 1.0
    for group, names in _GROUPS.items():
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
    path = None
    if save:
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / _FILE
        payload = {
            "version": _VERSION,
            "constants": constants,
            "image_size": size,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": platform.machine(),
            "numpy": np.__version__,
        }
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
        os.replace(tmp, target)
        _LOADED.pop(str(target), None)
        path = str(target)
    n_runs = sum(len(v) for v in rows.values())
    return Calibration(constants, size, worst, n_runs, path, time.perf_counter() - start)


@dataclass(frozen=True, repr=False)
class Crossover:
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain Python (timing keys become strings)."""
        return {
            "image_shape": list(self.image_shape),
            "separable_beats_direct": self.separable_beats_direct,
            "fft_beats_direct": self.fft_beats_direct,
            "fft_beats_separable": self.fft_beats_separable,
            "rank_size": self.rank_size,
            "rank_stops_paying": self.rank_stops_paying,
            "seconds": {
                k: {str(s): float(t) for s, t in v.items()} for k, v in self.seconds.items()
            },
        }

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
    from ._apply import correlate

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
