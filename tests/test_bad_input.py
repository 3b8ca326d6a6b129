"""Issue 12: a table of bad and extreme inputs, each with a right answer or one clear refusal.

Every row is ``(id, call, expected)``: ``expected`` is either a callable that
checks the result (a right answer), or ``(exception type, regex)`` that the
one-line message must match (it names the parameter as the user wrote it).
``filterwarnings = error`` is on, so no warning may leak.  Command-line rows run
``kernelfactor.cli.main`` and check the exit status and the one line on stderr.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import kernelfactor as kf
from kernelfactor import _io
from kernelfactor.cli import main

NAN, INF = float("nan"), float("inf")
W = np.ones((4, 2, 3, 3))
SOBEL = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])

Check = Callable[[object], bool]
Row = tuple[str, Callable[[], object], object]


def _refuses(exc: type[BaseException], pattern: str) -> tuple[type[BaseException], str]:
    return (exc, pattern)


def _rank(r: int) -> Check:
    return lambda a: getattr(a, "rank", None) == r


API: list[Row] = []


def api(name: str, call: Callable[[], object], expected: object) -> None:
    API.append((name, call, expected))


# ---- analyze: extreme scales (right answers) ---------------------------------------------
for _e in (-1074 + 12, -1060, -1022, -700, -300, 0, 300, 700, 1000, 1015):
    api(f"analyze sobel*2**{_e}", lambda e=_e: kf.analyze(np.ldexp(SOBEL, e)), _rank(1))
    api(f"analyze eye*2**{_e}", lambda e=_e: kf.analyze(np.ldexp(np.eye(3), e)), _rank(3))
    api(f"analyze zeros+2**{_e}", lambda e=_e: kf.analyze(np.ldexp(np.ones((2, 5)), e)),
        _rank(1))
api("analyze 1e308", lambda: kf.analyze(np.full((3, 3), 1e308)), _rank(1))
api("analyze -1e308", lambda: kf.analyze(np.full((3, 3), -1e308)), _rank(1))
api("analyze max float", lambda: kf.analyze(np.full((2, 2), np.finfo(float).max)), _rank(1))
api("analyze tiny subnormal", lambda: kf.analyze(np.full((2, 2), 5e-324)), _rank(1))
api("analyze mixed 1e308/1e-308", lambda: kf.analyze(np.diag([1e308, 1e-308])), _rank(1))
api("analyze zero", lambda: kf.analyze(np.zeros((3, 3))),
    lambda a: a.rank == 0 and a.is_separable and a.robust)
api("analyze stack extreme", lambda: kf.analyze(np.stack([np.full((3, 3), 1e308),
                                                          np.full((3, 3), 1e-310)])),
    lambda b: b.rank.tolist() == [1, 1])
api("analyze 1x1", lambda: kf.analyze([[5.0]]), _rank(1))
api("analyze 1xN", lambda: kf.analyze([[1.0, 2, 3]]), _rank(1))
api("analyze int64 big", lambda: kf.analyze(np.array([[2**62, 1], [1, 1]], dtype=np.int64)),
    _rank(1))  # sigma_2 ~ 1 is below tol = 2 eps 2**62 = 2048
api("analyze float32", lambda: kf.analyze(SOBEL.astype(np.float32)), _rank(1))
api("analyze policy matlab", lambda: kf.analyze(np.diag([1.9, 1e-15, 0]), policy="matlab"),
    _rank(2))
api("analyze policy imagefiltering", lambda: kf.analyze(np.diag([1.0, 1e-9]),
                                                        policy="imagefiltering"), _rank(1))

# ---- analyze: refusals -------------------------------------------------------------------
for _bad, _pat in [
    (None, r"`kernel` is None"),
    ("no_such_kernel", r"no_such_kernel"),
    ([[1, 2], [3]], r"`kernel` must be a rectangular array.*ragged"),
    ([[1, NAN]], r"`kernel` contains NaN or Inf"),
    ([[1, INF]], r"`kernel` contains NaN or Inf"),
    ([[1, -INF]], r"`kernel` contains NaN or Inf"),
    (np.zeros((0, 3)), r"`kernel` is empty"),
    (np.zeros((3, 0)), r"`kernel` is empty"),
    (np.zeros(3), r"`kernel` must have shape.*1-D filter is ambiguous"),
    (5.0, r"`kernel` must have shape"),
    ([[True, False]], r"`kernel` has dtype bool"),
    (np.array([[1, None]], dtype=object), r"`kernel` holds None"),
    (np.array([[10**400, 1]], dtype=object), r"`kernel` holds an integer too large"),
    (np.array([["a", "b"]]), r"`kernel` must hold real numbers"),
    (np.array([[b"a"]]), r"`kernel` must hold real numbers"),
    (np.array([["2020-01-01"]], dtype="datetime64[D]"), r"`kernel` must hold real numbers"),
    ("gaussian:sigma", r"`kernel` parameters must look like"),
    ("gaussian:sigma=nan", r"`sigma` must be finite"),
    ("gaussian:sigma=inf", r"`sigma` must be finite"),
    ("gaussian:sigma=-1", r"`sigma` must be > 0"),
    ("gaussian:sigma=1e-300", r"`sigma` must be >= 1e-100"),
    ("gaussian:sigma=1e300", r"`sigma`=1e\+300 with `truncate`=4 asks for a kernel about 8e\+300"),
    ("gaussian:truncate=1e9", r"`sigma`=1 with `truncate`=1e\+09"),
    ("gaussian:sigma=500", r"`kernel` is 4001 x 4001: its SVD would take"),
    ("gabor:frequency=1e308", r"`frequency`=1e\+308 is too large"),
    ("gabor:frequency=nan", r"`frequency` must be finite"),
    ("gabor:frequency=-1", r"`frequency` must be >= 0"),
    ("gaussian:sigma=1,sigma=2", r"given twice"),
    ("gaussian:bogus=1", r"`bogus` is not a parameter"),
    ("box:shape=0x3", r"shape"),
    ("disk:radius=-1", r"`radius`"),
    ("disk:radius=1e9", r"`radius`"),
]:
    _exc = TypeError if _pat.startswith(("`kernel` is None", "`kernel` has dtype",
                                          "`kernel` is complex", "`kernel` must hold",
                                          "`bogus`")) else ValueError
    api(f"analyze {str(_bad)[:40]}", lambda b=_bad: kf.analyze(b), _refuses(_exc, _pat))

for _kw, _pat in [
    ({"rtol": NAN}, r"`rtol` must be finite"), ({"rtol": -1}, r"`rtol` must be finite and >= 0"),
    ({"atol": INF}, r"`atol` must be finite"), ({"atol": "1e-3"}, r"`atol` must be a real"),
    ({"rtol": True}, r"`rtol` must be a real"), ({"verify": "yes"}, r"`verify` must be one of"),
    ({"policy": "octave"}, r"`policy` must be one of"),
    ({"policy": "matlab", "atol": 1.0}, r"`policy`='matlab' fixes the tolerance"),
]:
    _exc = TypeError if "real" in _pat else ValueError
    api(f"analyze kw {_kw}", lambda k=_kw: kf.analyze(SOBEL, **k), _refuses(_exc, _pat))
api("analyze 5000x5000", lambda: kf.analyze(np.broadcast_to(np.float64(1), (5000, 5000))),
    _refuses(ValueError, r"`kernel` is 5000 x 5000"))
api("analyze exact 600x600", lambda: kf.analyze(np.ones((600, 600)), verify="exact"),
    _refuses(ValueError, r"`verify`='exact' works on kernels of at most"))
api("analyze stack exact", lambda: kf.analyze(np.ones((2, 3, 3)), verify="exact"),
    _refuses(ValueError, r"`verify` works on one kernel at a time"))

# ---- tolerance ---------------------------------------------------------------------------
for _s, _pat in [(NAN, "finite"), (-1.0, "finite and >= 0"), (INF, "finite"),
                 ([1.0, NAN], "finite")]:
    api(f"tolerance {_s}", lambda s=_s: kf.tolerance(s, (3, 3)),
        _refuses(ValueError, rf"`sigma_max` must be {_pat}"))
api("tolerance shape", lambda: kf.tolerance(1.0, (3,)), _refuses(ValueError, r"`shape` must be"))
api("tolerance shape 0", lambda: kf.tolerance(1.0, (0, 3)), _refuses(ValueError, r"`shape`"))
api("tolerance str", lambda: kf.tolerance("big", (3, 3)), _refuses(TypeError, r"`sigma_max`"))
api("tolerance ok", lambda: kf.tolerance(2.0, (3, 3), rtol=1e-3), lambda t: t == 0.002)
api("tolerance zero", lambda: kf.tolerance(0.0, (3, 3)), lambda t: t == 0.0)
api("tolerance matlab", lambda: kf.tolerance(1.9, (3, 3), policy="matlab"),
    lambda t: t == 3 * np.spacing(1.9))
api("tolerance stack", lambda: kf.tolerance([1.0, 2.0], (3, 3)),
    lambda t: np.shape(t) == (2,))

# ---- bounds helpers ----------------------------------------------------------------------
for _name, _call, _exc, _pat in [
    ("ey unsorted", lambda: kf.eckart_young([1, 2, 3], 1), ValueError, "descending"),
    ("ey negative", lambda: kf.eckart_young([3, 2, -1], 1), ValueError, ">= 0"),
    ("ey nan", lambda: kf.eckart_young([3, NAN], 1), ValueError, "NaN"),
    ("ey empty", lambda: kf.eckart_young([], 0), ValueError, "empty"),
    ("ey scalar", lambda: kf.eckart_young(3.0, 0), ValueError, "shape"),
    ("ey rank float", lambda: kf.eckart_young([3, 2], 1.5), TypeError, "`rank` must be an int"),
    ("ey rank neg", lambda: kf.eckart_young([3, 2], -1), ValueError, "`rank` must be >= 0"),
    ("ey strings", lambda: kf.eckart_young(["a"], 0), TypeError, "`singular_values`"),
    ("fb oversample 0", lambda: kf.frequency_bound(SOBEL, oversample=0), ValueError,
     "`oversample` must be >= 1"),
    ("fb oversample -1", lambda: kf.frequency_bound(SOBEL, oversample=-1), ValueError,
     "`oversample` must be >= 1"),
    ("fb oversample 1e6", lambda: kf.frequency_bound(SOBEL, oversample=10**6), ValueError,
     "`oversample`=1000000 asks for an FFT grid"),
    ("fb oversample float", lambda: kf.frequency_bound(SOBEL, oversample=2.5), TypeError,
     "`oversample` must be an integer"),
    ("fb nan", lambda: kf.frequency_bound([[NAN]]), ValueError, "`residual` contains NaN"),
    ("fb 1-D", lambda: kf.frequency_bound([1.0, 2.0]), ValueError, "`residual` must be"),
    ("l1 nan", lambda: kf.l1_norm([[NAN]]), ValueError, "`residual` contains NaN"),
    ("l1 inf", lambda: kf.l1_norm([[INF]]), ValueError, "`residual` contains NaN or Inf"),
    ("l1 empty", lambda: kf.l1_norm(np.zeros((0, 0))), ValueError, "`residual` is empty"),
    ("l1 ragged", lambda: kf.l1_norm([[1], [1, 2]]), TypeError, "`residual`"),
    ("wci empty", lambda: kf.worst_case_image(np.zeros((0, 3))), ValueError, "is empty"),
    ("wci nan", lambda: kf.worst_case_image([[NAN]]), ValueError, "NaN"),
]:
    api(_name, _call, _refuses(_exc, _pat))
api("ey ok", lambda: kf.eckart_young([3.0, 0.8, 0.6], 1), lambda r: r == (1.0, 0.8))
api("ey rank beyond", lambda: kf.eckart_young([3.0, 1.0], 5), lambda r: r == (0.0, 0.0))
api("fb ok", lambda: kf.frequency_bound([[1.0, 1.0]]), lambda r: r == 2.0)
api("l1 ok", lambda: kf.l1_norm([[1.0, -2.0]]), lambda r: r == 3.0)

# ---- costs: ranks larger than the problem ---------------------------------------------------
for _name, _call, _pat in [
    ("filter_cost rank 99", lambda: kf.filter_cost((64, 64), (3, 3), method="separable",
                                                   rank=99), r"`rank` must lie in \[1, 3\]"),
    ("filter_cost rank 0", lambda: kf.filter_cost((64, 64), (3, 3), method="separable",
                                                  rank=0), r"`rank` must be >= 1"),
    ("filter_cost rank 4 of 3x5", lambda: kf.filter_cost((8, 8), (3, 5), method="separable",
                                                         rank=4), r"`rank` must lie in \[1, 3\]"),
    ("ssc rank 99", lambda: kf.spatially_separable_cost((12, 12, 3), 3, 8, rank=99),
     r"`rank` must lie in \[1, 3\]"),
    ("lrc rank 99", lambda: kf.low_rank_channel_cost((12, 12, 3), 3, 8, rank=99),
     r"`rank` must lie in \[1, 8\]"),
    ("depthwise 10", lambda: kf.depthwise_factor(W, 10), r"`multiplier` must lie in \[1, 4\]"),
    ("depthwise 1e9", lambda: kf.depthwise_factor(W, 10**9), r"`multiplier` must lie in"),
    ("spatial 99", lambda: kf.spatial_factor(W, 99), r"`rank` must lie in \[1, 3\]"),
    ("spatial 4", lambda: kf.spatial_factor(W, 4), r"`rank` must lie in \[1, 3\]"),
]:
    api(_name, _call, _refuses(ValueError, _pat))
api("filter_cost rank 3 ok", lambda: kf.filter_cost((8, 8), (3, 3), method="separable", rank=3),
    lambda c: c.rank == 3)
api("depthwise 4 ok", lambda: kf.depthwise_factor(W, 4), lambda f: f.exact)
api("spatial 3 ok", lambda: kf.spatial_factor(W, 3), lambda f: f.exact)

# ---- flags -----------------------------------------------------------------------------------
for _name, _call, _pat in [
    ("return_info yes", lambda: kf.correlate(np.ones((4, 4)), SOBEL, return_info="yes"),
     "`return_info` must be True or False"),
    ("return_info 1", lambda: kf.correlate(np.ones((4, 4)), SOBEL, return_info=1),
     "`return_info` must be True or False"),
    ("relative no", lambda: kf.rank_for_error(SOBEL, 0.1, relative="no"),
     "`relative` must be True or False"),
    ("relative None", lambda: kf.lowrank(SOBEL, max_error=0.1, relative=None),
     "`relative` must be True or False"),
    ("dw relative no", lambda: kf.depthwise_multiplier_for_error(W, 0.1, relative="no"),
     "`relative` must be True or False"),
    ("sp relative no", lambda: kf.spatial_rank_for_error(W, 0.1, relative="no"),
     "`relative` must be True or False"),
]:
    api(_name, _call, _refuses(TypeError, _pat))
api("relative np.bool_", lambda: kf.rank_for_error(SOBEL, 0.1, relative=np.True_),
    lambda r: r == 1)

# ---- filtering at extreme scales --------------------------------------------------------------
_BIG = np.full((64, 64), 1e308)
for _m in ("auto", "direct"):
    api(f"correlate 1e308 {_m}", lambda m=_m: kf.correlate(_BIG, kf.get_kernel("disk", radius=4),
                                                           method=m),
        lambda y: bool(np.all(np.isfinite(y))))
api("correlate 1e308 auto big", lambda: kf.correlate(np.full((300, 300), 1e308),
                                                     kf.get_kernel("disk", radius=15)),
    lambda y: bool(np.all(np.isfinite(y))))
api("correlate subnormal image", lambda: kf.correlate(np.full((8, 8), 5e-324), np.ones((3, 3))),
    lambda y: bool(np.all(y >= 0)))
api("correlate 1e308 weights", lambda: kf.correlate(np.ones((8, 8)), np.full((3, 3), 1e300)),
    lambda y: bool(np.all(np.isfinite(y))))
api("correlate nan weights", lambda: kf.correlate(np.ones((8, 8)), [[NAN]]),
    _refuses(ValueError, r"`weights` contains NaN"))
api("correlate empty weights", lambda: kf.correlate(np.ones((8, 8)), np.zeros((0, 3))),
    _refuses(ValueError, r"`weights` is empty"))
api("correlate method", lambda: kf.correlate(np.ones((8, 8)), SOBEL, method="fast"),
    _refuses(ValueError, r"`method` must be one of"))
api("correlate cval nan", lambda: kf.correlate(np.ones((8, 8)), SOBEL, cval=NAN),
    _refuses(ValueError, r"`cval`"))
api("correlate 1-D image", lambda: kf.correlate(np.ones(8), SOBEL),
    _refuses(ValueError, r"`input` must have at least 2 dimensions"))
api("correlate str image", lambda: kf.correlate(np.array([["a"]]), SOBEL),
    _refuses(TypeError, r"`input` must hold real numbers"))

# ---- catalogue ---------------------------------------------------------------------------------
api("get_kernel gabor 1e308", lambda: kf.get_kernel("gabor", frequency=1e308),
    _refuses(ValueError, r"`frequency`=1e\+308 is too large"))
api("get_kernel gaussian 1e-300", lambda: kf.get_kernel("gaussian", sigma=1e-300),
    _refuses(ValueError, r"`sigma` must be >= 1e-100"))
api("get_kernel truncate 1e9", lambda: kf.get_kernel("gaussian", truncate=1e9),
    _refuses(ValueError, r"with `truncate`=1e\+09"))
api("get_kernel gabor ok", lambda: kf.get_kernel("gabor", frequency=0.25),
    lambda k: bool(np.all(np.isfinite(k))))
api("get_kernel gaussian 1e-100", lambda: kf.get_kernel("gaussian", sigma=1e-100),
    lambda k: k.shape == (1, 1) and k[0, 0] == 1.0)

# ---- exact -------------------------------------------------------------------------------------


def _sympy_function() -> object:
    import sympy as sp

    t = sp.Symbol("t")
    return kf.exact_rank(sp.Matrix([[sp.Function("f")(t), 1], [1, 1]]))


api("exact_rank f(t)", _sympy_function, _refuses(ValueError, r"`kernel`"))
for _text, _pat in [("sqrt(-1)", "is not real"), ("log(-1)*x", "is not real"),
                    ("zoo", "unknown name 'zoo'"), ("nan", "unknown name 'nan'"),
                    ("Eq(x, y)", "unknown name 'Eq'"), ("1/0", "finite"),
                    ("x^2", r"write powers as \*\*"), ("", "is empty"),
                    ("__import__('os')", "unknown name"), ("x**10**10", "exponent")]:
    api(f"parse {_text!r}", lambda t=_text: kf.parse_expression(t), _refuses(ValueError, _pat))
api("parse -x*y", lambda: kf.parse_expression("-x*y"), lambda e: str(e) == "-x*y")


@pytest.mark.parametrize(("name", "call", "expected"), API, ids=[r[0] for r in API])
def test_api(name: str, call: Callable[[], object], expected: object) -> None:
    if isinstance(expected, tuple):
        exc, pattern = expected
        with pytest.raises(exc) as info:
            call()
        message = str(info.value)
        assert "\n" not in message, f"{name}: more than one line: {message!r}"
        assert re.search(pattern, message), f"{name}: {message!r} does not match {pattern!r}"
    else:
        assert callable(expected)
        assert expected(call()), name


# ---- files ---------------------------------------------------------------------------------------

FILES: list[tuple[str, str, bytes, str | None]] = [
    # (id, file name, content, None = accepted or a regex on the refusal)
    ("empty npz", "k.npz", b"", r"is not a \.npz file \(it is empty"),
    ("garbage npz", "k.npz", b"garbage", r"is not a \.npz file \(it is not a zip archive"),
    ("zip not npz", "k.npz", b"PK\x05\x06" + b"\0" * 18, r"is not a \.npz file|no arrays"),
    ("empty npy", "k.npy", b"", r"k\.npy"),
    ("garbage npy", "k.npy", b"\x93NUMPY garbage", r"k\.npy"),
    ("nested json", "k.json", b"[" * 100000 + b"]" * 100000, r"nested too deeply"),
    ("huge int json", "k.json", b"[[1, 1" + b"0" * 5000 + b"]]", r"k\.json: .*digits"),
    ("json string", "k.json", b'"abc"', r"must hold a non-empty list of rows"),
    ("json empty", "k.json", b"[]", r"must hold a non-empty list of rows"),
    ("json ragged", "k.json", b"[[1, 2], [3]]", r"row 2 has 1 values"),
    ("json null", "k.json", b"[[1, null]]", r"entry \[0\]\[1\] is null, not a number"),
    ("json bool", "k.json", b"[[1, true]]", r"entry \[0\]\[1\] is true"),
    ("json invalid", "k.json", b"[[1, 2]", r"is not valid JSON"),
    ("json nan", "k.json", b"[[1, NaN]]", r"NaN"),
    ("csv bom", "k.csv", "\ufeff1,2\n3,4\n".encode(), None),
    ("csv ok", "k.csv", b"1,2\n3,4\n", None),
    ("csv ragged", "k.csv", b"1,2\n3\n", r"row 2 has 1 values but row 1 has 2"),
    ("csv text", "k.csv", b"a,b\n", r"expected numbers only"),
    ("csv empty", "k.csv", b"", r"is empty: no numbers found"),
    ("csv latin1", "k.csv", b"1,\xe9\n", r"is not a UTF-8 text file"),
    ("txt spaces", "k.txt", b"1 2\n3 4\n", None),
    ("json huge ints", "k.json", b"[[1, 1" + b"0" * 400 + b"], [1, 1]]", None),
    ("unknown suffix", "k.xyz", b"1", r"k\.xyz"),
]


@pytest.mark.parametrize(("name", "filename", "content", "refusal"), FILES,
                         ids=[f[0] for f in FILES])
def test_kernel_files(tmp_path: Path, name: str, filename: str, content: bytes,
                      refusal: str | None) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    if refusal is None:
        arr, _ = _io.read_kernel_file(str(path))
        assert arr.shape == (2, 2)
        return
    with pytest.raises((_io.InputFileError, ValueError)) as info:
        kf.analyze(_io.read_kernel_file(str(path))[0])
    assert "\n" not in str(info.value)
    assert re.search(refusal, str(info.value)), str(info.value)


def test_huge_json_integers_are_refused_for_numbers_but_kept_for_exact(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("[[1, 1" + "0" * 400 + "], [1, 1]]")
    given, _ = _io.read_kernel_file(str(path))
    assert kf.exact_rank(given) == 2
    with pytest.raises(ValueError, match=r"`kernel` holds an integer too large"):
        kf.analyze(given)
    assert main(["analyze", str(path)]) == 1


# ---- failed writes leave no partial file --------------------------------------------------------


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.npz"
    real_savez = np.savez

    def half_then_fail(file: object, *args: object, **kwargs: object) -> None:
        # bytes hit the disk, then the disk is full
        if hasattr(file, "write"):
            file.write(b"PK partial")
            file.flush()
        else:
            Path(str(file)).write_bytes(b"PK partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_then_fail)
    monkeypatch.setattr(np, "savez_compressed", half_then_fail)
    assert main(["analyze", "sobel_x", "--save", str(out)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither out.npz nor a temporary file
    monkeypatch.setattr(np, "savez", real_savez)


def test_failed_image_write_leaves_no_partial_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.npy"
    np.save(src, np.ones((8, 8)))
    out = tmp_path / "out.npy"
    real_save = np.save

    def half_then_fail(file: object, arr: object, *args: object, **kwargs: object) -> None:
        if hasattr(file, "write"):
            file.write(b"\x93NUMPY partial")
            file.flush()
        else:
            Path(str(file)).write_bytes(b"\x93NUMPY partial")
        raise OSError(27, "File too large")

    monkeypatch.setattr(np, "save", half_then_fail)
    assert main(["apply", str(src), str(out), "--kernel", "box"]) == 1
    monkeypatch.setattr(np, "save", real_save)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_directory_is_refused_before_filtering(tmp_path: Path) -> None:
    src = tmp_path / "in.npy"
    np.save(src, np.ones((8, 8)))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["apply", str(src), str(ro / "out.npy"), "--kernel", "box"]) == 1
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


# ---- the command line --------------------------------------------------------------------------

CLI: list[tuple[str, list[str], int, str]] = [
    # (id, argv, exit status, regex on stderr's one line; "" for success)
    ("expr -x*y", ["analyze", "--expr", "-x*y"], 0, ""),
    ("expr=-x*y", ["analyze", "--expr=-x*y"], 0, ""),
    ("expr sqrt(-1)", ["analyze", "--expr", "sqrt(-1)"], 1, r"--expr 'sqrt\(-1\)' is not real"),
    ("expr log(-1)*x", ["analyze", "--expr", "log(-1)*x"], 1, r"is not real"),
    ("expr zoo", ["analyze", "--expr", "zoo"], 1, r"--expr uses the unknown name 'zoo'"),
    ("expr nan", ["analyze", "--expr", "nan"], 1, r"--expr uses the unknown name 'nan'"),
    ("expr Eq", ["analyze", "--expr", "Eq(x, y)"], 1, r"--expr uses the unknown name 'Eq'"),
    ("max-rank without expr", ["analyze", "sobel_x", "--max-rank", "3"], 2,
     r"--max-rank qualifies --expr"),
    ("gaussian sigma=500", ["analyze", "gaussian:sigma=500"], 1, r"4001 x 4001"),
    ("gaussian sigma=1e300", ["analyze", "gaussian:sigma=1e300"], 1,
     r"`sigma`=1e\+300 .* about 8e\+300 taps"),
    ("gabor frequency=1e308", ["analyze", "gabor:frequency=1e308"], 1, r"`frequency`=1e\+308"),
    ("cost rank 99", ["cost", "--image", "512x512", "--kernel", "3x3", "--rank", "99"], 1,
     r"--rank must lie in \[1, 3\]"),
    ("cost channel-rank", ["cost", "--input", "12x12x3", "--channel-rank", "999"], 1,
     r"--channel-rank must lie in"),
    ("cost spatial-rank", ["cost", "--input", "12x12x3", "--spatial-rank", "99"], 1,
     r"--spatial-rank must lie in \[1, 5\]"),
    ("cost input 0", ["cost", "--input", "0x12x3"], 1, r"--input"),
    ("approx rtol", ["approx", "laplacian4", "--rtol", "0.5"], 0, ""),
    ("approx atol nan", ["approx", "laplacian4", "--atol", "nan"], 1, r"`atol` must be finite"),
    ("analyze 1e308 file", ["analyze", "BIG"], 0, ""),
]


@pytest.mark.parametrize(("name", "argv", "status", "pattern"), CLI, ids=[c[0] for c in CLI])
def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, argv: list[str],
             status: int, pattern: str) -> None:
    big = tmp_path / "big.npy"
    np.save(big, np.full((3, 3), 1e308))
    argv = [str(big) if a == "BIG" else a for a in argv]
    assert main(argv) == status, capsys.readouterr().err
    captured = capsys.readouterr()
    if pattern:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert re.search(pattern, lines[0]), lines[0]
    if name == "analyze 1e308 file":
        assert re.search(r"^rank\s+1 \(separable\)", captured.out, re.M), captured.out


def test_apply_refuses_to_overwrite_its_input(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.npy"
    np.save(src, np.arange(64.0).reshape(8, 8))
    before = src.read_bytes()
    assert main(["apply", str(src), str(src), "--kernel", "box"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert src.read_bytes() == before
    assert main(["apply", str(src), str(src), "--kernel", "box", "--overwrite"]) == 0
    assert src.read_bytes() != before


def test_apply_origin(tmp_path: Path) -> None:
    src, out = tmp_path / "in.npy", tmp_path / "out.npy"
    x = np.random.default_rng(0).normal(size=(9, 9))
    np.save(src, x)
    assert main(["apply", str(src), str(out), "--kernel", "sobel_x", "--origin", "1", "-1"]) == 0
    want = kf.correlate(x, kf.get_kernel("sobel_x"), origin=(1, -1))
    np.testing.assert_allclose(np.load(out), want)
    assert main(["apply", str(src), str(out), "--kernel", "sobel_x", "--origin", "5"]) == 1


def test_apply_1e308_kernel_is_not_rank_0(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    k = tmp_path / "huge.npy"
    np.save(k, np.full((3, 3), 1e308))
    assert main(["analyze", str(k), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rank"] == 1 and doc["is_separable"]


def test_figures_out_file_is_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["figures", "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err and "is a file" in f.read_text() + " is a file"


def test_list_shows_the_y_definitions_and_wraps(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Prewitt derivative along y: [-1,0,1] (x) [1,1,1]" in " ".join(out.split())
    for name in ("sobel_y", "scharr_y", "prewitt_y"):
        info = kf.kernel_info(name)
        assert "along y: [-1,0,1]" in info.definition or "derivative [-1,0,1]" in \
            info.definition.split("(x)")[0]


@pytest.mark.parametrize("option", ["--method", "--origin"])
def test_apply_help_documents(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "--help"]) == 0
    text = capsys.readouterr().out
    assert option in text and "auto (default" in text


@pytest.mark.parametrize("option", ["--padding", "--stride", "--dilation"])
def test_cost_help_documents(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert re.search(re.escape(option) + r" \S+ [a-z(]", text), text


def test_the_table_has_at_least_150_cases() -> None:
    assert len(API) + len(FILES) + len(CLI) >= 150


_ = zipfile  # imported for readers: .npz files are zip archives


@pytest.mark.parametrize(
    "content",
    ["{", "[" * 100000 + "]" * 100000, '{"version": 999}', "\ufeff{}",
     '{"version": VERSION, "constants": {"direct": 1' + "0" * 400 + "}}", ""],
    ids=["truncated", "deeply nested", "old version", "bom", "huge number", "empty"],
)
def test_corrupt_calibration_cache_falls_back_to_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    from kernelfactor import _costmodel

    monkeypatch.setenv(_costmodel.CACHE_ENV, str(tmp_path))
    (tmp_path / _costmodel._FILE).write_text(content.replace("VERSION", str(_costmodel._VERSION)))
    monkeypatch.setattr(_costmodel, "_LOADED", {})
    assert _costmodel.load_constants() == dict(_costmodel.DEFAULT_CONSTANTS)
    assert kf.correlate(np.ones((8, 8)), np.ones((3, 3))).shape == (8, 8)
