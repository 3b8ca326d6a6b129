"""Tests for kernelfactor.paper._figures: one call regenerates every figure, byte-identically."""

from __future__ import annotations

import json
import pathlib

import pytest
from matplotlib.testing.compare import compare_images

import kernelfactor as kf
from kernelfactor import paper
from kernelfactor.paper import FIGURE_NAMES, TIMINGS_PATH, load_timings

BASELINE = pathlib.Path(__file__).parent / "baseline"
REPO = pathlib.Path(__file__).parent.parent
#: The two key figures compared with stored PNGs (made with the frozen timings copy).
KEY_FIGURES = ("spectra", "tradeoff")


def test_stored_timings_cover_the_default_tradeoff():
    data = load_timings()
    assert data["image_shape"] == [512, 512]
    points = paper.tradeoff(
        [(n, p) for n, p in paper.DEFAULT_TRADEOFF_KERNELS], timings=data["timings"]
    )
    missing = [p.key for p in points if p.seconds is None]
    assert not missing, f"rerun benchmarks/bench_tradeoff.py --write {TIMINGS_PATH}: {missing}"


def test_load_timings_missing_and_bad(tmp_path):
    assert load_timings(tmp_path / "none.json")["timings"] == {}
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a timings file"):
        load_timings(bad)


def test_regeneration_is_byte_identical(tmp_path):
    calls = []
    kwargs = {
        "formats": ("pdf", "png", "svg"),
        "kernels": ["sobel_x", ("log", {"sigma": 2.0})],
        "only": ("spectra", "residual", "table"),
    }
    first = paper.regenerate_figures(tmp_path / "a", progress=lambda *a: calls.append(a), **kwargs)
    second = paper.regenerate_figures(tmp_path / "b", **kwargs)
    names = [p.name for p in first]
    assert names == [p.name for p in second]
    assert names == [
        "spectra.pdf", "spectra.png", "spectra.svg",
        "residual.pdf", "residual.png", "residual.svg",
        "table.md", "table.tex", "table.csv",
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between runs"
    pdf = (tmp_path / "a" / "spectra.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"Producer (kernelfactor)" in pdf
    svg = (tmp_path / "a" / "spectra.svg").read_text()
    assert "<dc:date>" not in svg
    png = (tmp_path / "a" / "spectra.png").read_bytes()
    assert b"Software" not in png
    assert [c[:3] for c in calls] == [("spectra", 1, 3), ("residual", 2, 3), ("table", 3, 3)]
    assert all(c[3] >= 0 for c in calls)
    assert not (tmp_path / "a" / "README.md").exists()  # `only` leaves the README alone


@pytest.mark.parametrize("name", KEY_FIGURES)
def test_key_figures_match_baseline(tmp_path, name):
    (path,) = paper.regenerate_figures(
        tmp_path, formats=("png",), only=(name,), timings_path=BASELINE / "timings.json"
    )
    result = compare_images(str(BASELINE / f"{name}.png"), str(path), tol=3)
    assert result is None, result


def test_readme_lists_every_file_and_the_command(tmp_path):
    paths = paper.regenerate_figures(tmp_path, formats=("png",), kernels=["sobel_x"],
                                  timings_path=tmp_path / "x.json")
    readme = (tmp_path / "README.md").read_text()
    assert "kernelfactor figures --kernels sobel_x --format png" in readme
    for p in paths[:-1]:
        assert f"`{p.name}`" in readme
    assert [p.stem for p in paths if p.suffix == ".png"] == list(FIGURE_NAMES)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"formats": ("jpg",)}, ValueError, "`formats` must be one of 'pdf', 'png', 'svg'"),
        ({"formats": "png"}, ValueError, "non-empty sequence"),
        ({"only": ("spectrum",)}, ValueError, "Did you mean 'spectra'"),
        ({"kernels": "disk"}, TypeError, "Wrap it in a list"),
    ],
)
def test_errors(tmp_path, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        paper.regenerate_figures(tmp_path, **kwargs)


@pytest.mark.slow
def test_default_set_matches_the_repository(tmp_path):
    """The whole default set regenerates, and the committed tables are current."""
    paths = paper.regenerate_figures(tmp_path)
    assert len(paths) == 3 * len(FIGURE_NAMES) + 3 + 1
    stored = REPO / "figures"
    assert sorted(p.name for p in paths) == sorted(
        p.name for p in stored.iterdir() if p.is_file()
    )
    for name in ("table.md", "table.tex", "README.md"):
        assert (tmp_path / name).read_text() == (stored / name).read_text(), name
    rows = json.loads(json.dumps([r.to_dict() for r in paper.survey()]))
    assert len(rows) == len(kf.list_kernels())


def test_example_network_tradeoff_needs_neither_onnx_nor_onnxruntime():
    """The network figure runs on the core install: numpy and kf.conv2d only."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
        "from kernelfactor import paper\n"
        "t = paper.example_network_tradeoff(ranks=(1, 2))\n"
        "print(t.metric[0] > t.metric[1] > 0, len(t.layers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "4"]


def test_example_network_tradeoff_numbers():
    t = paper.example_network_tradeoff(ranks=(1, 2, 3))
    assert t.ranks == (1, 2, 3)
    assert t.rank_multiplications[0] < t.multiplications < t.rank_multiplications[2]
    for curve in t.layers:
        assert list(curve.ranks) == list(range(1, curve.kernel[0]))
        errors = [e for e in curve.errors if e is not None]
        assert errors == sorted(errors, reverse=True) and 0 < errors[0] < 1
    # stored to 3 significant digits: another BLAS's last bits cannot show
    assert all(float(f"{v:.2e}") == v for v in t.metric)
    d = t.to_dict()
    assert d["ranks"] == [1, 2, 3] and len(d["layers"]) == 4


def test_network_tradeoff_refusals():
    with pytest.raises(TypeError, match="NetworkReport"):
        paper.network_tradeoff("model.onnx", {1: 0.5})


def test_network_tradeoff_from_an_onnx_report():
    networks = pytest.importorskip("kernelfactor.networks")
    pytest.importorskip("onnx")
    report = networks.analyze_network(networks.example_model(), input_shape=(1, 3, 16, 16))
    t = paper.network_tradeoff(report, {2: 0.01, 1: 0.123456}, metric_name="IoU",
                               reference_metric=1.0)
    assert t.ranks == (1, 2) and t.metric == (0.123, 0.01)
    assert t.rank_multiplications == tuple(
        networks.choose_ranks(report, rank=k).multiplications_after for k in (1, 2)
    )
    assert [c.name for c in t.layers] == ["dw"]
    with pytest.raises(TypeError, match="non-empty mapping"):
        paper.network_tradeoff(report, {})
