"""Tests for kernelfactor._noise: rounding noise never reaches a person, a file or a test.

The main test simulates another machine: what the package gets from LAPACK is
perturbed the way another OpenBLAS build perturbs it (noise of size
~eps * sigma_1 on each matrix before its SVD; or every singular value at the
rounding level set to exactly 0 and the others moved by a few ulps), and every
figure, table, repr and documented JSON field must come out byte-identical.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import kernelfactor as kf
from kernelfactor import _noise, paper
from kernelfactor.cli import main

EPS = float(np.finfo(np.float64).eps)
_SVD = np.linalg.svd


def _other_machine(variant: str) -> Any:
    """An ``np.linalg.svd`` that answers as another LAPACK build could."""

    def svd(a: Any, *args: Any, **kwargs: Any) -> Any:
        a = np.asarray(a, dtype=np.float64)
        if variant == "noise":
            # a backward error of ~eps * ||A||, as a different kernel's rounding makes
            rng = np.random.default_rng(a.size)
            scale = np.max(np.abs(a), axis=(-2, -1), keepdims=True)
            a = a + 0.5 * EPS * scale * rng.standard_normal(a.shape)
        out = _SVD(a, *args, **kwargs)
        if variant == "exact-zeros":
            s = out if isinstance(out, np.ndarray) else out[1]
            m, n = a.shape[-2:]
            level = max(m, n) * EPS * s[..., :1]
            rng = np.random.default_rng(s.size)
            wiggle = 1.0 + EPS * rng.integers(-2, 3, size=s.shape)
            s_new = np.where(s <= level, 0.0, s * wiggle)
            if isinstance(out, np.ndarray):
                return s_new
            return type(out)(out[0], s_new, out[2])
        return out

    return svd


VARIANTS = ("noise", "exact-zeros")
_SOLVE = np.linalg.solve


def _other_solve(a: Any, b: Any) -> Any:
    """An ``np.linalg.solve`` whose rounding differs: ~eps * ||A|| on the matrix."""
    a = np.asarray(a)
    rng = np.random.default_rng(a.size)
    return _SOLVE(a + 0.5 * EPS * np.max(np.abs(a)) * rng.standard_normal(a.shape), b)


def _simulate(monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    """Answer as another LAPACK build: numpy's SVD, and TensorLy's SVD and solve.

    TensorLy's numpy backend took its own references to numpy.linalg when it was
    imported, so the CP fits (the banks figure, n-D approximations, ``bank``)
    are reached only through it: its SVD starts the alternating least squares,
    its solve is every step of them.
    """
    from tensorly.backend.numpy_backend import NumpyBackend

    monkeypatch.setattr(np.linalg, "svd", _other_machine(variant))
    monkeypatch.setattr(NumpyBackend, "svd", staticmethod(_other_machine(variant)))
    monkeypatch.setattr(NumpyBackend, "solve", staticmethod(_other_solve))


def _strip_raw(doc: Any) -> Any:
    """The documented part of a JSON document: every ``raw`` field removed."""
    if isinstance(doc, dict):
        return {k: _strip_raw(v) for k, v in doc.items() if k != "raw"}
    if isinstance(doc, list):
        return [_strip_raw(v) for v in doc]
    return doc


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _cli_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _everything_a_person_reads(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """reprs, tables, CLI text and documented JSON for the whole catalogue."""
    names = kf.list_kernels()
    out: dict[str, Any] = {}
    for name in names:
        out[f"repr analyze {name}"] = repr(kf.analyze(name))
        out[f"repr lowrank {name}"] = repr(kf.lowrank(name))
        out[f"repr lowrank-1 {name}"] = repr(kf.lowrank(name, 1))
        out[f"json analyze {name}"] = _strip_raw(_cli_json(capsys, "analyze", name, "--json"))
        out[f"json approx {name}"] = _strip_raw(_cli_json(capsys, "approx", name, "--json"))
        out[f"text analyze {name}"] = _cli_text(capsys, "analyze", name)
    rows = paper.survey()
    out["survey"] = [repr(r) for r in rows]
    for fmt in ("markdown", "latex", "csv"):
        out[f"table {fmt}"] = paper.format_table(rows, fmt)
    out["stack"] = _strip_raw(kf.analyze(np.stack([kf.get_kernel(n) for n in (
        "sobel_x", "laplacian4", "binomial", "kirsch")])).to_dict())
    out["error curve"] = paper.error_curve("laplacian4").to_dict()
    # volumes and banks (CP fits through TensorLy)
    for argv in (("analyze", "sobel3d", "--ndim", "3", "--exact"),
                 ("analyze", "laplacian7", "--ndim", "3"),
                 ("approx", "binomial3d", "--ndim", "3", "--rank", "1"),
                 ("bank", "steerable:order=2,orientations=8", "--size", "3"),
                 ("bank", "gabor:orientations=8,scales=2", "--size", "4")):
        out["json " + " ".join(argv)] = _strip_raw(_cli_json(capsys, *argv, "--json"))
        out["text " + " ".join(argv)] = _cli_text(capsys, *argv)
    out["bank curve"] = paper.bank_curve(kf.steerable_bank(1, 8), "steerable").to_dict()
    return out


@pytest.fixture(scope="module")
def this_machine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("this_machine")
    paths = paper.regenerate_figures(out)
    return {p.name: p.read_bytes() for p in paths}


@pytest.mark.parametrize("variant", VARIANTS)
def test_another_lapack_build_writes_the_same_figures_and_tables(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, this_machine: dict[str, bytes], variant: str
) -> None:
    _simulate(monkeypatch, variant)
    paths = paper.regenerate_figures(tmp_path)
    assert sorted(p.name for p in paths) == sorted(this_machine)
    differ = [p.name for p in paths if p.read_bytes() != this_machine[p.name]]
    assert not differ, f"{variant}: these files depend on rounding noise: {differ}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_another_lapack_build_prints_the_same_text_and_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    here = _everything_a_person_reads(capsys)
    _simulate(monkeypatch, variant)
    there = _everything_a_person_reads(capsys)
    differ = [k for k in here if here[k] != there[k]]
    assert not differ, f"{variant}: differ in documented fields: {differ[:5]}"


def test_the_simulation_does_change_the_raw_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The perturbation is real: raw values differ, so the test above can fail."""
    here = kf.analyze("laplacian4").to_dict()["raw"]
    monkeypatch.setattr(np.linalg, "svd", _other_machine("noise"))
    there = kf.analyze("laplacian4").to_dict()["raw"]
    assert here["singular_values"] != there["singular_values"]
    assert here["margin"]["gap"] != there["margin"]["gap"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_simulation_reaches_the_cp_fits(
    monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    """CP fits (TensorLy) answer differently too: the banks figure is really tested."""
    bank = kf.steerable_bank(2, 8)
    here = [kf.separable_basis(bank, m).to_dict()["raw"]["fro"] for m in (1, 2, 3)]
    _simulate(monkeypatch, variant)
    there = [kf.separable_basis(bank, m).to_dict()["raw"]["fro"] for m in (1, 2, 3)]
    assert here != there


# --------------------------------------------------------------------------- the helpers


def test_significant_and_shown() -> None:
    assert _noise.significant(0.21575154789357104) == 0.215752
    assert _noise.significant(0.21575154789357112) == 0.215752
    assert _noise.significant(-0.0) == 0.0 and math.copysign(1, _noise.significant(-0.0)) == 1
    assert _noise.significant(math.inf) == math.inf
    assert _noise.shown(7.55e-17, 6.7e-16) is None and _noise.shown(9.35e-17, 6.7e-16) is None
    assert _noise.shown(-1e-17, 6.7e-16) is None  # signed values compare by magnitude
    assert _noise.shown(6.7e-16, 6.7e-16) is None  # at the floor is noise
    assert _noise.format_value(0.0, 0.0) == _noise.NOISE_TEXT == "0 (below tol)"
    assert _noise.format_value(2.5, 1.0) == "2.5"


def test_noise_floor_is_never_below_the_rounding_level() -> None:
    assert _noise.noise_floor(0.0, 2.0, (3, 5)) == 5 * EPS * 2.0
    assert _noise.noise_floor(1.0, 2.0, (3, 5)) == 1.0
    floors = _noise.noise_floor(np.zeros(2), np.array([1.0, 2.0]), (3, 3))
    np.testing.assert_array_equal(floors, [3 * EPS, 6 * EPS])


def test_shown_vector_zeroes_entries_at_the_rounding_level() -> None:
    v = np.array([0.5, 3e-17, -0.5])
    assert _noise.shown_vector(v, (3, 3)) == [0.5, 0.0, -0.5]


def test_analysis_repr_and_dict_follow_the_policy() -> None:
    a = kf.analyze("sobel_x")
    d = a.to_dict()
    assert d["singular_values"][1:] == [None, None]
    assert d["margin"]["dropped_is_noise"] and d["margin"]["gap"] is None
    assert d["margin"]["gap_at_least"] == pytest.approx(a.singular_values[0] / a.noise_floor,
                                                        rel=1e-5)
    assert "singular_values=[3.464, 0 (below tol), 0 (below tol)]" in repr(a)
    assert "column=[0.7598, 1.52, 0.7598] row=[-1.316, 0, 1.316]" in repr(a)
    assert len(d["raw"]["singular_values"]) == 3
