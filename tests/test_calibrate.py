"""Calibration of the auto cost model, its cache, and the measured crossovers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kernelfactor import _calibrate
from kernelfactor._calibrate import Calibration, Crossover, calibrate, measure_crossover
from kernelfactor._costmodel import DEFAULT_CONSTANTS, cache_dir, load_constants


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache directory (never the real home)."""
    path = tmp_path / "kf-cache"
    monkeypatch.setenv("KERNELFACTOR_CACHE_DIR", str(path))
    return path


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERNELFACTOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == Path.home() / ".cache" / "kernelfactor"
    assert str(cache_dir()).startswith(str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "kernelfactor"
    monkeypatch.setenv("KERNELFACTOR_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_defaults_without_cache(cache):
    assert not cache.exists()
    assert load_constants() == DEFAULT_CONSTANTS
    assert all(v >= 0 for v in DEFAULT_CONSTANTS.values())
    assert DEFAULT_CONSTANTS["direct_tap"] > 0 and DEFAULT_CONSTANTS["fft_nlogn"] > 0


def test_calibrate_writes_and_auto_reads_the_cache(cache):
    cal = calibrate(size=64, repeats=1)
    assert isinstance(cal, Calibration)
    target = cache / "calibration.json"
    assert cal.path == str(target) and target.exists()
    data = json.loads(target.read_text())
    assert data["version"] == 1 and data["image_size"] == 64
    assert data["constants"] == cal.constants
    assert load_constants() == cal.constants
    assert sorted(cal.constants) == sorted(DEFAULT_CONSTANTS)
    assert all(np.isfinite(v) and v >= 0 for v in cal.constants.values())
    assert cal.runs == sum(1 for _ in _calibrate._runs(64, np.random.default_rng(0)))
    assert cal.worst_ratio >= 1.0
    d = json.loads(json.dumps(cal.to_dict()))
    assert d["image_size"] == 64
    assert "saved to" in repr(cal)


def test_calibrate_without_saving(cache):
    cal = calibrate(size=64, repeats=1, save=False)
    assert cal.path is None and not cache.exists()
    assert "not saved" in repr(cal)


def test_auto_uses_calibrated_constants(cache):
    from kernelfactor import correlate

    x = np.random.default_rng(0).standard_normal((32, 32))
    cache.mkdir()
    constants = {name: 1.0 for name in DEFAULT_CONSTANTS}
    constants["fft_nlogn"] = constants["fft_px"] = 1e-15
    (cache / "calibration.json").write_text(
        json.dumps({"version": 1, "constants": constants})
    )
    _, info = correlate(x, np.ones((3, 3)), return_info=True)
    assert info.method == "fft"


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"version": 0, "constants": {}}), json.dumps({"version": 1}),
     json.dumps([1, 2]), json.dumps({"version": 1, "constants": {"sep_tap": "x"}})],
)
def test_bad_cache_files_fall_back_to_defaults(cache, content):
    cache.mkdir()
    (cache / "calibration.json").write_text(content)
    assert load_constants() == DEFAULT_CONSTANTS


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 16}, ValueError, "`size` must be >= 64"),
        ({"size": 1.5}, TypeError, "`size` must be an integer"),
        ({"repeats": 0}, ValueError, "`repeats` must be >= 1"),
    ],
)
def test_calibrate_bad_arguments(cache, kwargs, error, match):
    with pytest.raises(error, match=match):
        calibrate(**kwargs)


def test_measure_crossover_small(cache):
    c = measure_crossover(image_shape=(48, 40), sizes=(3, 7), rank_size=5, max_rank=3,
                          repeats=1)
    assert isinstance(c, Crossover)
    assert set(c.seconds["separable"]) == {3, 7} and set(c.seconds["fft"]) == {3, 7}
    assert 1 <= len(c.seconds["rank"]) <= 3
    for value in (c.separable_beats_direct, c.fft_beats_direct, c.fft_beats_separable):
        assert value in (None, 3, 7)
    if c.rank_stops_paying is not None:
        assert c.rank_stops_paying == max(c.seconds["rank"])
    d = json.loads(json.dumps(c.to_dict()))
    assert d["image_shape"] == [48, 40] and d["rank_size"] == 5
    assert "rank-k stops paying" in repr(c)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": (7, 3)}, "ascending"),
        ({"sizes": ()}, "non-empty"),
        ({"image_shape": (5,)}, "two positive ints"),
        ({"image_shape": "ab"}, "two positive ints"),
    ],
)
def test_measure_crossover_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        measure_crossover(**kwargs)
