"""The ``kernelfactor`` command line, driven as a user drives it.

Most cases call ``main([...])`` in-process (capsys captures stdout/stderr);
a few run the installed entry point in a subprocess to check the wiring
(console script, ``python -m kernelfactor``, exit codes, one-line errors).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import kernelfactor as kf
import kernelfactor._io
from kernelfactor import cli
from kernelfactor._apply import correlate
from kernelfactor._exact import exact_factor

# --------------------------------------------------------------------------- helpers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return strict_json(out)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name} in the output")


def strict_json(text: str) -> Any:
    """json.loads that fails on NaN/Infinity (the output must be strict JSON)."""
    return json.loads(text, parse_constant=_refuse_constant)


def assert_one_line_error(err: str) -> None:
    assert err.startswith("error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err


def assert_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    """`argv` exits with `code`, prints nothing on stdout and one line holding `message`."""
    status, out, err = run(capsys, *argv)
    assert (status, out) == (code, "")
    assert_one_line_error(err)
    assert message in err


def entry_point() -> list[str]:
    exe = shutil.which("kernelfactor")
    if exe is None:  # the venv's bin directory is not on PATH
        candidate = Path(sys.executable).with_name("kernelfactor")
        exe = str(candidate) if candidate.exists() else None
    return [exe] if exe else [sys.executable, "-m", "kernelfactor"]


def subprocess_run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=120)


ANALYZE_KEYS = {
    "schema", "kernel", "shape", "rank", "is_separable", "singular_values", "tol", "noise_floor",
    "raw", "policy", "margin", "factors", "exact", "approximation", "expression",
}  # fmt: skip


def _jsonable_params(params: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def rebuild(factors: list[list[list[float]]], shape: list[int]) -> np.ndarray:
    out = np.zeros(shape)
    for col, row in factors:
        out += np.outer(col, row)
    return out


# --------------------------------------------------------------------------- kernel files

SOBEL = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
RANK2 = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def write_kernel(tmp_path: Path, kind: str, k: np.ndarray) -> list[str]:
    """Write `k` in format `kind`; return the CLI arguments naming it."""
    if kind == "npy":
        np.save(tmp_path / "k.npy", k)
        return [str(tmp_path / "k.npy")]
    if kind == "npz":
        np.savez(tmp_path / "k.npz", other=np.eye(2), weights=k)
        return [str(tmp_path / "k.npz"), "--key", "weights"]
    if kind == "csv":
        np.savetxt(tmp_path / "k.csv", k, delimiter=",", fmt="%.17g", header="a kernel")
        return [str(tmp_path / "k.csv")]
    if kind == "txt":
        np.savetxt(tmp_path / "k.txt", k, fmt="%.17g")
        return [str(tmp_path / "k.txt")]
    if kind == "json":
        (tmp_path / "k.json").write_text(json.dumps(k.tolist()))
        return [str(tmp_path / "k.json")]
    raise AssertionError(kind)


# --------------------------------------------------------------------------- list


def test_list_json_is_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    entries = run_json(capsys, "list", "--json")
    assert [e["name"] for e in entries] == kf.list_kernels()
    sobel = next(e for e in entries if e["name"] == "sobel_x")
    assert sobel["rank"] == 1 and sobel["shape"] == [3, 3] and sobel["definition"]
    gauss = next(e for e in entries if e["name"] == "gaussian")
    assert gauss["params"] == kf.catalogue_params("gaussian")


def test_list_text_is_an_aligned_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["kernel", "parameters"]
    body = [ln for ln in lines[2:] if ln.strip()][: len(kf.list_kernels())]
    assert [ln.split()[0] for ln in body] == kf.list_kernels()
    # aligned: the "size" column ends at the same position on every row
    end = lines[0].index("size") + len("size")
    assert all(ln[end - 1] != " " and ln[end] == " " for ln in body)


# --------------------------------------------------------------------------- analyze


@pytest.mark.parametrize("kind", ["npy", "npz", "csv", "txt", "json"])
@pytest.mark.parametrize("kernel", [SOBEL, RANK2], ids=["sobel", "laplacian"])
def test_analyze_files_json_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, kernel: np.ndarray
) -> None:
    doc = run_json(capsys, "analyze", *write_kernel(tmp_path, kind, kernel), "--json")
    assert set(doc) == ANALYZE_KEYS
    assert doc["schema"] == "kernelfactor.analyze/1"
    assert doc["kernel"]["source"] == "file"
    expected = kf.analyze(kernel)
    assert doc["rank"] == expected.rank
    assert doc["shape"] == [3, 3]
    # documented fields: noise as null, the rest to 6 significant digits
    floor = expected.noise_floor
    assert [v is None for v in doc["singular_values"]] == list(expected.singular_values <= floor)
    shown = [v for v in doc["singular_values"] if v is not None]
    np.testing.assert_allclose(shown, expected.singular_values[: len(shown)], rtol=1e-5)
    assert doc["tol"] == pytest.approx(expected.tol, rel=1e-5)
    assert len(doc["factors"]) == expected.rank
    np.testing.assert_allclose(rebuild(doc["factors"], doc["shape"]), kernel, rtol=1e-5, atol=1e-5)
    # raw fields: full precision
    np.testing.assert_allclose(doc["raw"]["singular_values"], expected.singular_values,
                               atol=1e-14)
    np.testing.assert_allclose(rebuild(doc["raw"]["factors"], doc["shape"]), kernel, atol=1e-12)
    assert doc["exact"] is None and doc["approximation"] is None and doc["expression"] is None


@pytest.mark.parametrize(
    ("spec", "name", "params"),
    [
        ("sobel_x", "sobel_x", {}),
        ("gaussian:size=15,sigma=2", "gaussian", {"size": 15, "sigma": 2}),
        ("box:shape=none,size=5", "box", {"size": 5}),
        ("box:shape=3x5", "box", {"shape": (3, 5)}),
        ("gaussian_derivative:axis=y,order=1", "gaussian_derivative", {"axis": "y"}),
    ],
)
def test_analyze_catalogue_spec(
    capsys: pytest.CaptureFixture[str], spec: str, name: str, params: dict[str, Any]
) -> None:
    doc = run_json(capsys, "analyze", spec, "--json")
    k = kf.get_kernel(name, **params)
    assert doc["kernel"]["source"] == "catalogue" and doc["kernel"]["name"] == name
    assert doc["shape"] == list(k.shape)
    assert doc["rank"] == kf.analyze(k).rank == 1
    assert doc["kernel"]["params"] == _jsonable_params(kf.kernel_info(name, **params).params)
    np.testing.assert_allclose(rebuild(doc["raw"]["factors"], doc["shape"]), k, atol=1e-14)


def test_analyze_margin_of_a_dropped_noise_value_is_null(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # sigma_3 of laplacian4 is 0 with some LAPACK builds and 8e-18 with others: the
    # gap sigma_2 / sigma_3 is rounding noise (inf or 5.6e16), so it is null, flagged,
    # and bounded below by radius / noise_floor, the same on every machine.
    doc = run_json(capsys, "analyze", "laplacian4", "--json")
    assert doc["rank"] == 2
    margin = doc["margin"]
    assert margin["gap"] is None and margin["distance"] is None and margin["below_tol"] is None
    assert margin["dropped_is_noise"] is True and margin["kept_is_noise"] is False
    assert margin["gap_at_least"] == pytest.approx(0.449490 / doc["noise_floor"], rel=1e-5)
    assert isinstance(doc["raw"]["margin"]["gap"], (float, str))


def test_analyze_non_finite_margins_are_strings(capsys: pytest.CaptureFixture[str]) -> None:
    # full rank: nothing is dropped, so the gap is infinite by definition (not noise)
    doc = run_json(capsys, "analyze", "identity", "--rtol", "0.5", "--json")
    assert doc["rank"] == 1
    doc = run_json(capsys, "analyze", "roberts_x", "--json")
    assert doc["rank"] == 2 and doc["margin"]["gap"] == "inf"
    assert doc["margin"]["dropped_is_noise"] is False


def test_analyze_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "analyze", "gaussian:size=15,sigma=2")
    assert code == 0 and err == ""
    assert "rank    1 (separable)" in out
    assert "15x15" in out
    assert "... 5 more singular values" in out  # 15 values, 10 shown


def test_analyze_exact_catalogue_uses_the_rational_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "analyze", "binomial:size=3", "--exact", "--json")
    exact = doc["exact"]
    assert exact["rank"] == 1 and exact["agrees"] is True
    (term,) = exact["terms"]
    assert term == {"scale": "1/16", "column": [1, 2, 1], "row": [1, 2, 1]}


def test_analyze_exact_disagreement_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # sigma_2 of this integer-plus-ulp kernel is below the float tolerance
    np.save(tmp_path / "k.npy", np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-52]]))
    doc = run_json(capsys, "analyze", str(tmp_path / "k.npy"), "--exact", "--json")
    assert doc["rank"] == 1
    assert doc["exact"]["rank"] == 2 and doc["exact"]["agrees"] is False
    assert doc["exact"]["note"]
    code, out, _ = run(capsys, "analyze", str(tmp_path / "k.npy"), "--exact")
    assert code == 0 and "differs from the numerical rank" in out and "note" in out


def test_analyze_exact_limit_denominator(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "tenths.csv"
    path.write_text("0.1,0.2,0.3\n0.2,0.4,0.6\n0.3,0.6,0.9\n")
    binary = run_json(capsys, "analyze", str(path), "--exact", "--json")
    decimal = run_json(
        capsys, "analyze", str(path), "--exact", "--limit-denominator", "100", "--json"
    )
    # the binary values of 0.1, 0.3, ... are not exactly proportional; the decimals are
    assert binary["exact"]["rank"] == 2
    assert decimal["exact"]["rank"] == 1
    expected = exact_factor([[1, 2, 3], [2, 4, 6], [3, 6, 9]]).to_dict()["terms"]
    assert [t["column"] for t in decimal["exact"]["terms"]] == [expected[0]["column"]]


@pytest.mark.parametrize(
    ("flags", "rank"),
    [
        (["--rank", "1"], 1),
        (["--max-error", "0.5", "--relative"], 1),
        (["--max-error", "1e-12", "--norm", "spectral"], 2),
    ],
)
def test_analyze_approximation(
    capsys: pytest.CaptureFixture[str], flags: list[str], rank: int
) -> None:
    doc = run_json(capsys, "analyze", "laplacian4", *flags, "--json")
    approx = doc["approximation"]
    assert approx["rank"] == rank
    lr = kf.lowrank(RANK2, rank)
    if lr.error.within_rounding:  # every error is rounding noise: null, flagged
        assert approx["error"]["within_rounding"] is True
        assert approx["error"]["fro"] is None and approx["error"]["l1"] is None
    else:
        assert approx["error"]["fro"] == pytest.approx(lr.error.fro, rel=1e-5)
        assert approx["error"]["l1"] == pytest.approx(lr.error.l1, rel=1e-5)
    raw = approx["raw"]
    np.testing.assert_allclose(
        np.array(raw["columns"]).T @ np.array(raw["rows"]), lr.to_array(), atol=1e-14
    )
    np.testing.assert_allclose(
        np.array(approx["columns"]).T @ np.array(approx["rows"]), lr.to_array(),
        rtol=1e-5, atol=1e-4,
    )


@pytest.mark.parametrize("approx_flags", [[], ["--rank", "1"]])
def test_analyze_save_npz(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, approx_flags: list[str]
) -> None:
    target = tmp_path / "factors"  # ".npz" is appended
    code, out, err = run(capsys, "analyze", "laplacian4", "--save", str(target), *approx_flags)
    assert code == 0, err
    assert f"saved factors to {target}.npz" in out
    with np.load(f"{target}.npz") as saved:
        assert set(saved.files) == {"columns", "rows", "singular_values", "tol", "rank", "kernel"}
        rank = int(saved["rank"])
        assert rank == (int(approx_flags[1]) if approx_flags else 2)
        assert saved["columns"].shape == (rank, 3) and saved["rows"].shape == (rank, 3)
        expected = kf.lowrank(RANK2, rank).to_array()
        np.testing.assert_allclose(saved["columns"].T @ saved["rows"], expected, atol=1e-14)
        np.testing.assert_array_equal(saved["kernel"], RANK2)
        assert float(saved["tol"]) == pytest.approx(kf.analyze(RANK2).tol)


def test_analyze_expr_gaussian(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "analyze", "--expr", "exp(-(x**2 + y**2)/2)", "--json")
    assert set(doc) == ANALYZE_KEYS
    assert doc["rank"] == 1 and doc["is_separable"] is True
    assert doc["singular_values"] is None and doc["tol"] is None
    assert doc["kernel"]["source"] == "expression"
    (g, h), = doc["factors"]
    import sympy as sp

    x, y = sp.symbols("x y")
    gx, hy = sp.sympify(g), sp.sympify(h)
    assert gx.free_symbols == {x} and hy.free_symbols == {y}
    assert sp.simplify(gx * hy - sp.exp(-(x**2 + y**2) / 2)) == 0
    assert doc["expression"]["decided"] is True


def test_analyze_expr_text_rank_two(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "--expr", "x*y + 1")
    assert code == 0
    assert "rank     2 (not separable)" in out


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("sigma*x", "unknown name 'sigma'"),
        ("__import__('os').system('true')", "unknown name '__import__'"),
        ("x.__class__", "'.' is not allowed"),
        ("x^2", "write powers as **"),
        ("9**9**9", "too large"),
        ("", "is empty"),
        ("x +", "not a valid expression"),
        ("1/0", "finite function"),
        ("'x'", "not allowed"),
    ],
)
def test_analyze_expr_refused(
    capsys: pytest.CaptureFixture[str], expr: str, message: str
) -> None:
    code, out, err = run(capsys, "analyze", "--expr", expr)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert message in err


# --------------------------------------------------------------------------- approx


def test_approx_json_and_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "approx", "disk", "--rank", "2", "--json",
                         "--save", str(tmp_path / "f.npz"))
    assert (code, err) == (0, "")  # stdout is the JSON document only
    doc = strict_json(out)
    assert doc["schema"] == "kernelfactor.approx/1"
    assert set(doc) == ANALYZE_KEYS
    lr = kf.lowrank(kf.get_kernel("disk"), 2)
    err = doc["approximation"]["error"]
    for key in ("fro", "fro_rel", "spectral", "l1", "freq_bound"):
        assert err[key] == pytest.approx(getattr(lr.error, key), rel=1e-5)
        assert err["raw"][key] == pytest.approx(getattr(lr.error, key), rel=1e-12, abs=1e-15)
    with np.load(tmp_path / "f.npz") as saved:
        assert int(saved["rank"]) == 2
    code, out, _ = run(capsys, "approx", "disk", "--max-error", "0.05", "--relative")
    assert code == 0
    rank = kf.rank_for_error(kf.get_kernel("disk"), 0.05, relative=True)
    assert f"approximation  rank {rank}" in out
    assert "Frobenius" in out and "output, inf-norm" in out


def test_approx_defaults_to_the_numerical_rank(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "approx", "sobel_x", "--json")
    assert doc["approximation"]["rank"] == 1
    assert doc["approximation"]["error"]["within_rounding"] is True


# --------------------------------------------------------------------------- bad input


def _npy_header_only(path: Path, shape: tuple[int, ...]) -> None:
    """An .npy file whose header promises `shape` but holds no data."""
    with path.open("wb") as fp:
        np.lib.format.write_array_header_1_0(
            fp, {"descr": "<f8", "fortran_order": False, "shape": shape}
        )


BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "ragged.csv": ("1,2,1\n2,4\n", "row 2 has 2 values but row 1 has 3"),
    "ragged.txt": ("1 2 1\n2 4 2\n1 2\n", "row 3 has 2 values"),
    "nan.csv": ("1,nan,1\n2,4,2\n", "NaN or Inf"),
    "words.csv": ("a,b\n1,2\n", "expected numbers only"),
    "empty.txt": ("# only a comment\n\n", "empty"),
    "empty.json": ("[]", "non-empty list"),
    "ragged.json": ("[[1, 2], [3]]", "row 2 has 1 values"),
    "null.json": ("[[1, null], [3, 4]]", "not a number"),
    "broken.json": ("{", "not valid JSON"),
    "flat.json": ("[1, 2, 3]", "list of rows"),
    "binary.txt": (b"\xff\xfe\x00\x01", "not a UTF-8 text file"),
    "kernel.bmp": ("x", "unsupported extension"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_kernel_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    content, message = BAD_FILES[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    code, out, err = run(capsys, "analyze", str(path))
    assert (code, out) == (1, "")
    assert_one_line_error(err)
    assert message in err


def test_npy_and_npz_problems(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    np.save(tmp_path / "flat.npy", np.ones(3))
    np.save(tmp_path / "obj.npy", np.array([1, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    np.savez(tmp_path / "two.npz", a=np.eye(2), b=np.eye(3))
    np.savez(tmp_path / "none.npz")
    (tmp_path / "junk.npy").write_bytes(b"not an npy file at all")
    _npy_header_only(tmp_path / "huge.npy", (100_000, 100_000))
    cases = [
        (["flat.npy"], "1-D filter is ambiguous"),
        (["obj.npy"], "not loaded for safety"),
        (["empty.npy"], "empty"),
        (["junk.npy"], "not a valid .npy"),
        (["huge.npy"], "limited to"),
        (["two.npz"], "choose one with --key"),
        (["two.npz", "--key", "c"], "holds 'a', 'b'"),
        (["none.npz"], "empty"),
        (["missing.npy"], "does not exist"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, "analyze", str(tmp_path / argv[0]), *argv[1:])
        assert (code, out) == (1, ""), argv
        assert_one_line_error(err)
        assert message in err, (argv, err)


def test_text_file_size_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernelfactor._io, "MAX_TEXT_BYTES", 8)
    (tmp_path / "k.csv").write_text("1,2,1\n2,4,2\n1,2,1\n")
    code, _, err = run(capsys, "analyze", str(tmp_path / "k.csv"))
    assert code == 1 and "limited to 8 bytes" in err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["analyze", "gausian"], 1, "Did you mean 'gaussian'"),
        (["analyze", "gaussian:sigma=-1"], 1, "`sigma` must be > 0"),
        (["analyze", "gaussian:sigma=abc"], 1, "`sigma` must be a real number"),
        (["analyze", "gaussian:colour=3"], 1, "not a parameter of kernel 'gaussian'"),
        (["analyze", "gaussian:size=100000001"], 1, "at most 4097 taps"),
        (["analyze", "gaussian:sigma=1e9"], 1, "at most 4097 taps"),
        (["analyze", "gaussian:size"], 2, "key=value"),
        (["analyze", "gaussian:size=3,,sigma=1"], 2, "empty parameter"),
        (["analyze", ":size=3"], 2, "has no name"),
        (["analyze", "box:size=3,size=5"], 2, "given twice"),
        (["analyze"], 2, "exactly one of KERNEL or --expr"),
        (["analyze", "sobel_x", "--expr", "x*y"], 2, "exactly one of KERNEL or --expr"),
        (["analyze", "--expr", "x*y", "--rank", "1"], 2, "--rank apply to array kernels"),
        (["analyze", "sobel_x", "--norm", "l1"], 2, "--norm and --relative qualify"),
        (["analyze", "sobel_x", "--norm", "l3", "--max-error", "1"], 2, "invalid choice"),
        (["analyze", "sobel_x", "--rank", "1", "--max-error", "1"], 2, "not allowed with"),
        (["analyze", "sobel_x", "--rank", "one"], 2, "invalid int value"),
        (["analyze", "sobel_x", "--rank", "7"], 1, "`rank` must lie in [0, 3]"),
        (["analyze", "sobel_x", "--rank", "-1"], 1, "`rank` must lie in [0, 3]"),
        (["analyze", "sobel_x", "--max-error", "-1"], 1, "`max_error` must be finite"),
        (["analyze", "sobel_x", "--rtol", "-1"], 1, "`rtol` must be finite"),
        (["analyze", "sobel_x", "--key", "a"], 2, "--key applies to"),
        (["analyze", "sobel_x", "--limit-denominator", "10"], 2, "qualifies --exact"),
        (["analyze", "sobel_x", "--bogus"], 2, "unrecognized arguments"),
        (["approx", "sobel_x", "--relative"], 2, "--norm and --relative qualify"),
        (["approx"], 2, "required"),
        (["frobnicate"], 2, "invalid choice"),
        (["table", "--format", "html"], 2, "invalid choice"),
        (["figures", "--format", "gif"], 2, "invalid choice"),
        (["table", "--kernels", "sobel"], 1, "Did you mean"),
    ],
)
def test_errors_are_one_line_with_the_right_status(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert_refused(capsys, argv, code, message)


def test_debug_shows_the_exception() -> None:
    with pytest.raises(ValueError, match="not a catalogue kernel"):
        cli.main(["--debug", "analyze", "gausian"])
    with pytest.raises(ValueError, match="not a catalogue kernel"):
        cli.main(["analyze", "gausian", "--debug"])


def test_help_documents_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "--help")
    assert code == 0
    assert "kernelfactor.analyze/1" in out
    for key in ANALYZE_KEYS - {"schema"}:
        assert f"\n    {key} " in out, key
    code, out, _ = run(capsys, "apply", "--help")
    assert code == 0 and "clipped to the input's range" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"kernelfactor {kf.__version__}"


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2 and out == "" and "usage: kernelfactor" in err


# --------------------------------------------------------------------------- apply


@pytest.fixture
def images(tmp_path: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    arrays = {
        "gray.png": rng.integers(0, 256, (23, 31), dtype=np.uint8),
        "rgb.png": rng.integers(0, 256, (23, 31, 3), dtype=np.uint8),
        "deep.tif": rng.integers(0, 65536, (23, 31), dtype=np.uint16),
        "deep.png": rng.integers(0, 65536, (23, 31), dtype=np.uint16),
    }
    for name, arr in arrays.items():
        Image.fromarray(arr).save(tmp_path / name)
    return arrays


def _expected(arr: np.ndarray, k: np.ndarray, mode: str = "reflect") -> np.ndarray:
    x = arr.astype(np.float64)
    if x.ndim == 3:
        return np.stack(
            [ndimage.correlate(x[..., c], k, mode=mode) for c in range(x.shape[2])], axis=-1
        )
    return ndimage.correlate(x, k, mode=mode)


@pytest.mark.parametrize(
    ("name", "spec", "method", "mode"),
    [
        ("gray.png", "gaussian:sigma=1.5", "direct", "reflect"),
        ("gray.png", "sobel_x", "separable", "nearest"),
        ("rgb.png", "sobel_x", "direct", "mirror"),
        ("rgb.png", "box:size=5", "fft", "wrap"),
        ("deep.tif", "laplacian4", "direct", "reflect"),
        ("deep.png", "box:size=3", "auto", "constant"),
    ],
)
def test_apply_integer_images_keep_their_depth(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    images: dict[str, np.ndarray],
    name: str,
    spec: str,
    method: str,
    mode: str,
) -> None:
    src = images[name]
    out_path = tmp_path / ("out" + Path(name).suffix)
    code, out, err = run(
        capsys, "apply", str(tmp_path / name), str(out_path), "--kernel", spec,
        "--method", method, "--mode", mode,
    )
    assert code == 0, err
    with Image.open(out_path) as img:
        result = np.asarray(img)
    assert result.dtype == src.dtype and result.shape == src.shape
    info = np.iinfo(src.dtype)
    exact = _expected(src, kf.get_kernel(*cli._parse_kernel_spec(spec)[:1],
                                         **cli._parse_kernel_spec(spec)[1]), mode)
    want = np.clip(np.rint(exact), info.min, info.max)
    # rounding may differ by one where the exact value sits at .5 up to rounding errors
    assert np.max(np.abs(result.astype(np.int64) - want)) <= 1
    assert np.mean(result == want) > 0.99
    clipped = int(np.count_nonzero((np.rint(exact) < info.min) | (np.rint(exact) > info.max)))
    if clipped:
        assert "values clipped" in out
    else:
        assert "clipped" not in out


def test_apply_float_rank_and_convolve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: dict[str, np.ndarray]
) -> None:
    gray = images["deep.tif"].astype(np.float64)
    # --float: unrounded float32 TIFF
    code, _, err = run(capsys, "apply", str(tmp_path / "deep.tif"), str(tmp_path / "f.tif"),
                       "--kernel", "log", "--float", "--method", "direct")
    assert code == 0, err
    with Image.open(tmp_path / "f.tif") as img:
        assert img.mode == "F"
        result = np.asarray(img)
    np.testing.assert_allclose(result, _expected(gray, kf.get_kernel("log")).astype(np.float32),
                               rtol=1e-6, atol=1e-2)
    # .npy output of a colour image, best rank-1 approximation, as kernelfactor computes it
    rgb = images["rgb.png"]
    code, _, err = run(capsys, "apply", str(tmp_path / "rgb.png"), str(tmp_path / "r.npy"),
                       "--kernel", "laplacian4", "--rank", "1", "--method", "separable")
    assert code == 0, err
    lr = kf.lowrank(RANK2, 1)
    # issue 13: the input's dtype by default, as ndimage
    want = correlate(rgb, lr, np.float64, axes=(0, 1), method="separable")
    np.testing.assert_allclose(np.load(tmp_path / "r.npy"), want, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(want, _expected(rgb, lr.to_array()), rtol=1e-10, atol=1e-9)
    # --convolve flips the kernel
    code, _, err = run(capsys, "apply", str(tmp_path / "gray.png"), str(tmp_path / "c.npy"),
                       "--kernel", "sobel_x", "--convolve", "--json")
    assert code == 0, err
    np.testing.assert_allclose(
        np.load(tmp_path / "c.npy"),
        ndimage.convolve(images["gray.png"].astype(float), SOBEL, mode="reflect"),
        atol=1e-9,
    )


def test_apply_json_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: dict[str, np.ndarray]
) -> None:
    report = run_json(capsys, "apply", str(tmp_path / "gray.png"), str(tmp_path / "o.png"),
                      "--kernel", "gaussian", "--method", "separable", "--json")
    assert report["info"]["method"] == "separable" and report["info"]["rank"] == 1
    assert report["shape"] == [23, 31] and report["input_dtype"] == "uint8"
    assert report["output_kind"] == "8-bit" and report["clipped"] == 0


def _png_header(width: int, height: int, colour_type: int) -> bytes:
    """A PNG with a valid header promising width x height and no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_apply_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: dict[str, np.ndarray]
) -> None:
    (tmp_path / "text.png").write_text("not a PNG")
    Image.new("CMYK", (4, 4)).save(tmp_path / "cmyk.tif")
    # 8000 x 8000 RGB: under Pillow's decompression-bomb limit, over our 1 GiB
    (tmp_path / "big.png").write_bytes(_png_header(8000, 8000, 2))
    (tmp_path / "bomb.png").write_bytes(_png_header(100_000, 100_000, 0))
    gray, rgb = str(tmp_path / "gray.png"), str(tmp_path / "rgb.png")
    cases = [
        ([str(tmp_path / "none.png"), "o.png", "--kernel", "box"], 1, "does not exist"),
        ([str(tmp_path / "text.png"), "o.png", "--kernel", "box"], 1, "not an image"),
        ([str(tmp_path / "cmyk.tif"), "o.png", "--kernel", "box"], 1, "mode 'CMYK'"),
        ([str(tmp_path / "big.png"), "o.png", "--kernel", "box"], 1, "GiB limit"),
        ([str(tmp_path / "bomb.png"), "o.png", "--kernel", "box"], 1, "too large"),
        ([gray, str(tmp_path / "o.png"), "--kernel", "nope"], 1, "not a catalogue kernel"),
        ([rgb, str(tmp_path / "o.tif"), "--kernel", "box", "--float"], 1, "grayscale images only"),
        ([gray, str(tmp_path / "o.png"), "--kernel", "box", "--float"], 2, ".tif/.tiff"),
        ([gray, str(tmp_path / "no" / "o.png"), "--kernel", "box"], 1, "does not exist"),
        ([gray, str(tmp_path / "o.xyz"), "--kernel", "box"], 1, "no image extension"),
        ([gray, str(tmp_path / "o.png"), "--kernel", "box", "--rank", "5"], 1, "`rank`"),
        ([gray, str(tmp_path / "o.png"), "--kernel", "box", "--mode", "edge"], 2, "invalid"),
        ([gray, str(tmp_path / "o.png")], 2, "--kernel"),
        ([gray], 2, "IMAGE_OUT"),
    ]
    for argv, code, message in cases:
        status, out, err = run(capsys, "apply", *argv)
        assert (status, out) == (code, ""), (argv, err)
        assert_one_line_error(err)
        assert message in err, (argv, err)
    assert not (tmp_path / "o.png").exists()


# --------------------------------------------------------------------------- cost


def test_cost_prints_the_seed_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cost", "--input", "12x12x3", "--kernel", "5x5",
                       "--out-channels", "256")
    assert code == 0
    for text in ("8x8x256", "1,228,800", "4,800", "49,152", "53,952", "0.0439",
                 "1/256 + 1/25"):
        assert text in out, text
    code, default_out, _ = run(capsys, "cost")
    assert code == 0 and default_out == out


def test_cost_json(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "cost", "--input", "12x12x3", "--kernel", "5", "--out-channels",
                   "256", "--padding", "same", "--stride", "2", "--multiplier", "2",
                   "--channel-rank", "4", "--json")
    layers = doc["layers"]
    assert set(layers) == {"standard", "depthwise_separable", "spatially_separable",
                           "low_rank_channel"}
    assert layers["standard"]["output_shape"] == [6, 6, 256]
    from kernelfactor._costmodel import layer_costs

    want = layer_costs((12, 12, 3), (5, 5), 256, padding="same", stride=2, multiplier=2,
                       channel_rank=4)
    assert layers["depthwise_separable"]["multiplications"] == (
        want.depthwise_separable.multiplications
    )
    assert doc["multiplier"] == 2
    assert doc["ratios"]["depthwise_separable"]["multiplications"] == pytest.approx(
        2 * (1 / 256 + 1 / 25)
    )


def test_cost_huge_counts_are_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "cost", "--input", "1000000x1000000x3", "--json")
    assert doc["layers"]["standard"]["multiplications"] == 256 * 3 * 25 * 999_996**2


def test_cost_image(capsys: pytest.CaptureFixture[str]) -> None:
    from kernelfactor._costmodel import filter_cost

    doc = run_json(capsys, "cost", "--image", "2048x2048", "--kernel", "15x15", "--rank", "2",
                   "--json")
    methods = {c["method"]: c for c in doc["costs"]}
    assert set(methods) == {"direct", "fft", "separable"}
    assert methods["separable"]["rank"] == 2
    assert methods["direct"]["multiplications"] == filter_cost(
        (2048, 2048), (15, 15)).multiplications == 2048 * 2048 * 225
    code, out, _ = run(capsys, "cost", "--image", "2048x2048")
    assert code == 0 and "943,718,400" in out and "separable (rank 1)" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--input", "12xax3"], 2, "expected sizes joined by 'x'"),
        (["--input", "12x12"], 1, "--input must be"),
        (["--input", "0x12x3"], 1, "positive sizes"),
        (["--input", "4x4x3"], 1, "larger than the input"),
        (["--stride", "0"], 1, "--stride must be"),
        (["--multiplier", "0"], 1, "--multiplier must be"),
        (["--out-channels", "0"], 1, "--out-channels must be"),
        (["--padding", "full"], 2, "invalid choice"),
        (["--input", "12x12x3", "--image", "64x64"], 2, "alternatives"),
        (["--image", "64x64", "--multiplier", "2"], 2, "CNN layers"),
        (["--rank", "2"], 2, "--rank goes with --image"),
        (["--image", "64x64x3"], 1, "--image must be"),
    ],
)
def test_cost_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    status, out, err = run(capsys, "cost", *argv)
    assert (status, out) == (code, "")
    assert_one_line_error(err)
    assert message in err


# --------------------------------------------------------------------------- table / figures


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv"])
def test_table_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    kernels = ["sobel_x", "gaussian:sigma=2", "laplacian4"]
    code, out, err = run(capsys, "table", "--format", fmt, "--kernels", *kernels)
    assert code == 0, err
    if fmt == "markdown":
        rows = [ln for ln in out.splitlines() if ln.startswith("|")]
        assert len(rows) == 2 + len(kernels)
        assert "gaussian(sigma=2)" in out
    elif fmt == "latex":
        assert "\\toprule" in out and "\\bottomrule" in out
        assert "sobel\\_x" in out
    else:
        parsed = list(csv.DictReader(io.StringIO(out)))
        assert [r["label"] for r in parsed] == ["sobel_x", "gaussian(sigma=2)", "laplacian4"]
        assert [int(r["rank"]) for r in parsed] == [1, 1, 2]
    target = tmp_path / f"t.{fmt}"
    code, out2, _ = run(capsys, "table", "--format", fmt, "--kernels", *kernels,
                        "--out", str(target))
    assert code == 0 and f"wrote {target}" in out2
    assert target.read_text() == out


def test_figures_prints_table_progress_and_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake(out_dir: Any, formats: Any, kernels: Any, progress: Any) -> list[Path]:
        calls.append({"out": out_dir, "formats": formats, "kernels": kernels})
        names = ["spectrum", "tradeoff"]
        for i, name in enumerate(names, start=1):
            progress(name, i, len(names), 0.25)
        return [Path(out_dir) / f"{n}.png" for n in names]

    monkeypatch.setattr(cli, "regenerate_figures", fake)
    code, out, err = run(capsys, "figures", "--out", str(tmp_path), "--format", "png",
                         "--kernels", "sobel_x", "gaussian:sigma=2")
    assert code == 0, err
    assert calls == [{"out": str(tmp_path), "formats": ("png",),
                      "kernels": [("sobel_x", {}), ("gaussian", {"sigma": 2})]}]
    lines = out.splitlines()
    assert lines[0].startswith("catalogue analysis")
    table = lines[1 : 3 + len(kf.list_kernels())]
    assert table[0].split()[0] == "Kernel"
    assert [ln.split()[0] for ln in table[2:]] == kf.list_kernels()
    assert "[1/2] spectrum (0.2 s)" in out and "[2/2] tradeoff (0.2 s)" in out
    assert lines[-1].startswith(f"wrote 2 files to {tmp_path} in ")


# --------------------------------------------------------------------------- installed entry point


def test_entry_point_end_to_end(tmp_path: Path, rng: np.random.Generator) -> None:
    """Four subprocess runs (each pays the import of numpy/scipy): the wiring only."""
    exe = entry_point()
    listing = subprocess_run([*exe, "list", "--json"], tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert [e["name"] for e in strict_json(listing.stdout)] == kf.list_kernels()

    np.save(tmp_path / "k.npy", SOBEL)
    analysis = subprocess_run(
        [sys.executable, "-m", "kernelfactor", "analyze", "k.npy", "--json"], tmp_path
    )
    assert analysis.returncode == 0, analysis.stderr
    doc = strict_json(analysis.stdout)
    assert set(doc) == ANALYZE_KEYS and doc["rank"] == 1

    src = rng.integers(0, 256, (16, 20), dtype=np.uint8)
    Image.fromarray(src).save(tmp_path / "in.png")
    applied = subprocess_run(
        [*exe, "apply", "in.png", "out.png", "--kernel", "box:size=3", "--method", "direct"],
        tmp_path,
    )
    assert applied.returncode == 0, applied.stderr
    with Image.open(tmp_path / "out.png") as img:
        result = np.asarray(img)
    want = np.rint(ndimage.correlate(src.astype(float), np.full((3, 3), 1 / 9)))
    assert np.max(np.abs(result - want)) <= 1

    failed = subprocess_run([*exe, "analyze", "gausian:sigma=2"], tmp_path)
    assert failed.returncode == 1 and failed.stdout == ""
    assert_one_line_error(failed.stderr)
    assert "Did you mean 'gaussian'" in failed.stderr


# --------------------------------------------------------------------------- issue 11


@pytest.mark.parametrize("suffix", [".npy", ".json", ".csv"])
def test_analyze_exact_uses_the_data_as_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    k = np.outer(np.array([2**53 + 1, 3, 1], dtype=np.int64), np.array([1, 515, 7], dtype=np.int64))
    path = tmp_path / f"k{suffix}"
    if suffix == ".npy":
        np.save(path, k)
    elif suffix == ".json":
        path.write_text(json.dumps(k.tolist()))
    else:
        path.write_text("\n".join(",".join(str(v) for v in row) for row in k.tolist()))
    doc = run_json(capsys, "analyze", str(path), "--exact", "--json")
    assert doc["exact"]["rank"] == 1 and doc["exact"]["decided"] is True
    assert doc["exact"]["generic"] is False
    assert "the data as given" in doc["exact"]["input"]


def test_analyze_expr_tower_and_long_sums(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "analyze", "--expr", "(((9**999)**999)**999)**999")
    assert code == 1 and out == "" and "too large" in err
    assert_one_line_error(err)
    doc = run_json(capsys, "analyze", "--expr", " + ".join(["x*y"] * 500), "--json")
    assert doc["rank"] == 1 and doc["expression"]["decided"] is True


def test_analyze_expr_time_limit_and_max_rank_cap(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "analyze", "--expr", "exp(exp(exp(x*y)))", "--time-limit", "0.2",
                   "--json")
    assert doc["rank"] is None and doc["expression"]["decided"] is False
    assert "time_limit=0.2" in doc["expression"]["limit"]
    code, _, err = run(capsys, "analyze", "--expr", "exp(x*y)", "--max-rank", "1000000")
    assert code == 1 and "`max_rank` must be at most" in err
    code, _, err = run(capsys, "analyze", "sobel_x", "--time-limit", "3")
    assert code == 2 and "--time-limit qualifies" in err
    code, _, err = run(capsys, "analyze", "--expr", "x*y", "--time-limit", "-1")
    assert code == 2 and "--time-limit must be" in err


def test_analyze_expr_non_analytic_is_not_decided_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "analyze", "--expr", "sqrt((x - y)**2)", "--json")
    assert doc["rank"] != 2
    assert doc["expression"]["decided"] is False or doc["rank"] is None


# --------------------------------------------------------------------------- model


def test_model_subcommand_prints_the_layer_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    onnx = pytest.importorskip("onnx")
    from kernelfactor import networks

    path = tmp_path / "tiny.onnx"
    onnx.save(networks.example_model(), str(path))
    code, out, err = run(capsys, "model", str(path))
    assert code == 0 and err == "", err
    assert "depthwise" in out
    code, out, err = run(capsys, "model", str(tmp_path / "missing.onnx"))
    assert code == 1 and err.count("\n") == 1 and err.startswith("error:")


def test_long_work_shows_progress_on_a_terminal_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading as _threading

    release = _threading.Event()
    with cli._progress("work", 0.5):  # under a second: silent
        pass
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with cli._progress("analysing a 3000x3000 kernel", 10.0, every=0.01):
        release.wait(0.1)
    err = capsys.readouterr().err
    assert "analysing a 3000x3000 kernel: 0 s (about 10 s expected)" in err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with cli._progress("work", 10.0, every=0.01):
        release.wait(0.05)
    assert capsys.readouterr().err == ""


def test_unknown_kernel_names_the_command_line_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "analyze", "nosuch")
    assert code == 1 and err.startswith("error: KERNEL 'nosuch' is not a catalogue kernel")


# --------------------------------------------------------------------------- --ndim: volumes

ND_KEYS = {
    "schema", "kernel", "ndim", "shape", "multilinear_rank", "rank_lower_bound", "is_separable",
    "singular_values", "tol", "policy", "factors", "catalogue", "exact", "approximation", "raw",
}  # fmt: skip


def outer(*factors: Any) -> np.ndarray:
    out = np.asarray(factors[0], dtype=float)
    for f in factors[1:]:
        out = np.multiply.outer(out, np.asarray(f, dtype=float))
    return out


def test_analyze_ndim_sobel3d_is_exactly_rank_one(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "analyze", "sobel3d", "--ndim", "3", "--exact", "--json")
    assert set(doc) == ND_KEYS and doc["schema"] == "kernelfactor.analyze-nd/1"
    assert doc["ndim"] == 3 and doc["shape"] == [3, 3, 3]
    assert doc["multilinear_rank"] == [1, 1, 1] and doc["is_separable"] is True
    assert doc["exact"] == {"rank": 1, "decided": True, "bounds": [1, 1], "note": None}
    assert doc["catalogue"]["factors"] == [[-1, 0, 1], [1, 2, 1], [1, 2, 1]]
    assert doc["catalogue"]["scale"] == "1" and doc["catalogue"]["border_rank"] == 1
    kernel = kf.volume_kernel("sobel3d").array
    np.testing.assert_allclose(outer(*doc["factors"]), kernel, rtol=1e-5, atol=1e-5)
    # noise policy: every singular value beyond the first is rounding noise, written as null
    assert all(s[1:] == [None, None] for s in doc["singular_values"])


def test_analyze_ndim_laplacian7_has_no_best_rank_two_approximation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "analyze", "laplacian7", "--ndim", "3", "--exact", "--rank", "2",
                   "--json")
    assert doc["multilinear_rank"] == [2, 2, 2] and doc["rank_lower_bound"] == 2
    assert doc["catalogue"]["rank"] == 3 and doc["catalogue"]["border_rank"] == 2
    exact = doc["exact"]  # unfoldings of rank 2 and three exact terms: 2 <= rank <= 3
    assert exact["rank"] is None and not exact["decided"] and exact["bounds"] == [2, 3]
    assert "[2, 3]" in exact["note"] and "--rank K" in exact["note"]
    approx = doc["approximation"]
    assert approx["rank"] == 2 and approx["degenerate"] is True
    assert approx["lower_bound"] is None  # border rank 2: rank-2 tensors come arbitrarily close
    assert len(approx["terms"]) == 2 and all(len(t) == 3 for t in approx["terms"])
    code, out, _ = run(capsys, "analyze", "laplacian7", "--ndim", "3", "--rank", "2")
    assert code == 0 and "DEGENERATE" in out and "border rank 2" in out
    assert "not separable: tensor rank >= 2" in out


def test_analyze_ndim_reads_npy_volumes_of_any_dimension(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    k4 = outer([1, 2, 1], [1, -1], [1, 0, -1], [1, 3, 3, 1])
    np.save(tmp_path / "k4.npy", k4)
    np.savez(tmp_path / "k4.npz", volume=k4, other=np.eye(2))
    doc = run_json(capsys, "analyze", str(tmp_path / "k4.npy"), "--ndim", "4", "--exact", "--json")
    assert doc["shape"] == [3, 2, 3, 4] and doc["multilinear_rank"] == [1, 1, 1, 1]
    assert doc["exact"]["rank"] == 1 and doc["kernel"]["source"] == "file"
    np.testing.assert_allclose(outer(*doc["raw"]["factors"]), k4, atol=1e-12)
    doc = run_json(capsys, "analyze", str(tmp_path / "k4.npz"), "--key", "volume", "--ndim", "4",
                   "--json")
    assert doc["kernel"]["key"] == "volume" and doc["is_separable"] is True
    code, out, _ = run(capsys, "analyze", str(tmp_path / "k4.npy"), "--ndim", "4")
    assert code == 0 and "multilinear (1, 1, 1, 1) (separable)" in out


def test_approx_ndim_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "approx", "binomial3d:size=5", "--ndim", "3", "--rank", "1")
    assert code == 0
    assert "approximation  rank 1: 1 outer product of 3 1-D factors" in out
    assert "errors         0 (below tol)" in out  # exact: no rounding digits shown
    assert "= 1/4096 * [1, 4, 6, 4, 1] (x) [1, 4, 6, 4, 1] (x) [1, 4, 6, 4, 1] exactly" in out
    doc = run_json(capsys, "approx", "laplacian7", "--ndim", "3", "--rank", "1", "--json")
    assert doc["schema"] == "kernelfactor.approx-nd/1"
    approx = doc["approximation"]
    assert approx["degenerate"] is False and approx["fro"] >= approx["lower_bound"] > 0
    assert doc["exact"] is None


def test_help_documents_the_nd_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "--help")
    assert code == 0 and "kernelfactor.analyze-nd/1" in out and "--ndim D" in out
    for key in ND_KEYS - {"schema", "kernel", "tol", "policy"}:
        assert f"\n    {key} " in out, key


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["analyze", "laplacian7"], 1, "is a 3-D (volume) kernel; add --ndim 3"),
        (["analyze", "gaussian", "--ndim", "3"], 1, "is not a volume kernel"),
        (["analyze", "laplacian7", "--ndim", "4"], 1, "pass --ndim 3"),
        (["analyze", "sobel3d:axis=5", "--ndim", "3"], 1, "`axis` must be 0, 1 or 2"),
        (["analyze", "sobel3d:colour=1", "--ndim", "3"], 1, "not a parameter of 'sobel3d'"),
        (["analyze", "sobel3d", "--ndim", "1"], 2, "--ndim must be 2 or more"),
        (["analyze", "sobel3d", "--ndim", "x"], 2, "invalid int value"),
        (["analyze", "sobel3d", "--ndim", "3", "--max-error", "0.1"], 2, "works on 2-D kernels"),
        (["analyze", "sobel3d", "--ndim", "3", "--save", "f.npz"], 2, "works on 2-D kernels"),
        (["analyze", "--expr", "x*y", "--ndim", "3"], 2, "--ndim apply to array kernels"),
        (["approx", "laplacian7", "--ndim", "3"], 2, "needs --rank K"),
        (["approx", "laplacian7", "--ndim", "3", "--rank", "99"], 1, "--rank must lie in"),
        (["approx", "laplacian7", "--ndim", "3", "--rank", "-1"], 1, "--rank must lie in"),
    ],
)
def test_ndim_errors_are_one_line_with_the_right_status(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert_refused(capsys, argv, code, message)


def test_ndim_file_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    np.save(tmp_path / "vol.npy", np.ones((3, 3, 3)))
    np.save(tmp_path / "k2.npy", np.ones((3, 3)))
    (tmp_path / "k.csv").write_text("1,2,1\n2,4,2\n1,2,1\n")
    cases = [
        ([str(tmp_path / "vol.npy")], "pass --ndim 3 to read it as one 3-D kernel"),
        ([str(tmp_path / "k2.npy"), "--ndim", "3"], "leave out --ndim"),
        ([str(tmp_path / "k.csv"), "--ndim", "3"], "save a 3-D kernel with np.save as .npy"),
    ]
    for argv, message in cases:
        assert_refused(capsys, ["analyze", *argv], 1, message)


# --------------------------------------------------------------------------- bank

BANK_KEYS = {
    "schema", "bank", "request", "size", "fro", "fro_rel", "filter_errors", "lower_bound",
    "degenerate", "within_rounding", "cost", "filter_ranks", "raw",
}  # fmt: skip


def test_bank_steerable_second_derivatives_share_three_filters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "bank", "steerable:order=2", "--size", "3", "--json")
    assert set(doc) == BANK_KEYS and doc["schema"] == "kernelfactor.bank/1"
    assert doc["bank"] == {"source": "builder", "spec": "steerable:order=2", "name": "steerable",
                           "params": {"order": 2}, "key": None, "shape": [16, 13, 13]}
    assert doc["request"] == {"size": 3, "max_error": None, "relative": None, "max_size": None}
    assert doc["size"] == 3 and doc["within_rounding"] is True
    # exact up to rounding: the errors are noise, written as null, never as digits
    assert doc["fro"] is None and doc["fro_rel"] is None and doc["lower_bound"] is None
    assert doc["filter_errors"] == [None] * 16
    # 3 (13 + 13) passes + 44 coefficients: at 0 and 90 degrees two of the three are zero
    cost = {k: doc["cost"][k] for k in ("image", "direct", "basis", "speedup", "direct_total",
                                        "basis_total")}
    assert cost == {"image": [512, 512], "direct": 2704.0, "basis": 122.0,
                    "speedup": 2704 / 122, "direct_total": 2704.0 * 512 * 512,
                    "basis_total": 122.0 * 512 * 512}
    code, out, _ = run(capsys, "bank", "steerable:order=2", "--size", "3")
    assert code == 0
    assert "16 filters of 13x13" in out and "3 shared separable filters (--size 3)" in out
    assert "0 (below tol)" in out and "2,704" in out and "122" in out
    assert not re.search(r"\de-1\d", out), out  # no rounding digits anywhere


def test_bank_reports_the_certified_lower_bound(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "bank", "steerable:order=1,orientations=8", "--size", "1", "--json")
    basis = kf.separable_basis(kf.steerable_bank(1, 8), 1)
    assert doc["fro_rel"] == pytest.approx(basis.fro_rel, rel=1e-5)
    assert doc["lower_bound"] == pytest.approx(basis.lower_bound, rel=1e-5)
    assert doc["fro"] >= doc["lower_bound"] * (1 - 1e-5)
    code, out, _ = run(capsys, "bank", "steerable:order=1,orientations=8", "--size", "1")
    assert code == 0 and "lower bound" in out and "certified" in out


def test_bank_max_error_file_and_image(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = run_json(capsys, "bank", "gabor:orientations=4,scales=2", "--max-error", "1e-6",
                   "--image", "100x200", "--json")
    assert doc["size"] == 4 and doc["within_rounding"] is True  # pairs at +-45 deg share terms
    assert doc["request"] == {"size": None, "max_error": 1e-6, "relative": True, "max_size": 32}
    assert doc["bank"]["params"] == {"orientations": 4, "scales": [2]}
    assert doc["cost"]["image"] == [100, 200]
    assert doc["cost"]["direct_total"] == doc["cost"]["direct"] * 100 * 200
    bank = kf.steerable_bank(2, 8)
    np.save(tmp_path / "bank.npy", bank)
    np.savez(tmp_path / "bank.npz", filters=bank, other=np.eye(2))
    from_file = run_json(capsys, "bank", str(tmp_path / "bank.npy"), "--size", "3", "--json")
    built = run_json(capsys, "bank", "steerable:order=2,orientations=8", "--size", "3", "--json")
    assert from_file["bank"]["source"] == "file" and from_file["bank"]["shape"] == [8, 13, 13]
    for key in ("size", "fro", "lower_bound", "within_rounding", "cost"):
        assert from_file[key] == built[key], key
    doc = run_json(capsys, "bank", str(tmp_path / "bank.npz"), "--key", "filters", "--max-error",
                   "1e-9", "--json")
    assert doc["size"] == 3 and doc["bank"]["key"] == "filters"
    code, out, _ = run(capsys, "bank", "gabor:scales=1.5x2.5,orientations=2", "--size", "2")
    assert code == 0 and "4 filters of 17x17" in out


def test_bank_help_documents_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bank", "--help")
    assert code == 0 and "kernelfactor.bank/1" in out
    for key in BANK_KEYS - {"schema", "fro", "fro_rel"}:
        assert f"\n    {key} " in out, key
    assert "\n    fro, fro_rel " in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["bank"], 2, "required: BANK"),
        (["bank", "gabor"], 2, "give --size M"),
        (["bank", "gabor", "--size", "2", "--max-error", "0.1"], 2, "not allowed with"),
        (["bank", "gabor", "--size", "2", "--absolute"], 2, "qualify --max-error"),
        (["bank", "gabor", "--size", "2", "--max-size", "4"], 2, "qualify --max-error"),
        (["bank", "gabor", "--size", "two"], 2, "invalid int value"),
        (["bank", "gabor:orientations", "--size", "1"], 2, "BANK parameters must look like"),
        (["bank", "gabor", "--size", "1", "--key", "a"], 2, "--key applies to .npz"),
        (["bank", "gabor", "--size", "1", "--image", "axb"], 2, "expected sizes joined by 'x'"),
        (["bank", "sobel", "--size", "1"], 1, "'sobel' is not a bank builder"),
        (["bank", "gabor:colour=1", "--size", "1"], 1, "parameter 'colour' is not one of"),
        (["bank", "gabor:orientations=0", "--size", "1"], 1, "`orientations` must be >= 1"),
        (["bank", "gabor:scales=abc", "--size", "1"], 1, "sigmas joined by 'x'"),
        (["bank", "gabor:size=100000", "--size", "1"], 1, "too large"),
        (["bank", "steerable:order=3", "--size", "1"], 1, "`order` must be 1 or 2"),
        (["bank", "steerable", "--size", "0"], 1, "--size must be >= 1"),
        (["bank", "steerable:orientations=2", "--size", "1000"], 1, "above N x min(h, w) = 26"),
        (["bank", "steerable", "--size", "1", "--image", "0x5"], 1, "two sizes >= 1"),
        (["bank", "steerable", "--size", "1", "--image", "5"], 1, "two sizes >= 1"),
        (["bank", "steerable", "--max-error", "-1"], 1, "--max-error"),
        (["bank", "gabor:orientations=8,scales=2", "--max-error", "1e-3", "--max-size", "2"], 1,
         "no shared separable basis of size <= 2 meets --max-error"),
        (["bank", "missing.npy", "--size", "1"], 1, "does not exist"),
    ],
)
def test_bank_errors_are_one_line_with_the_right_status(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert_refused(capsys, argv, code, message)


def test_bank_file_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    np.save(tmp_path / "k2.npy", np.ones((3, 3)))
    np.save(tmp_path / "complex.npy", np.ones((2, 3, 3)) + 1j)
    (tmp_path / "k.csv").write_text("1,2,1\n2,4,2\n1,2,1\n")
    cases = [
        ("k2.npy", "a bank is a stack of N kernels of one size, shape (N, h, w)"),
        ("complex.npy", "BANK must be a real stack of kernels"),
        ("k.csv", "which .csv, .txt and .json files do not hold"),
    ]
    for name, message in cases:
        assert_refused(capsys, ["bank", str(tmp_path / name), "--size", "1"], 1, message)


@pytest.mark.parametrize("command", ["analyze", "approx"])
def test_complex_kernel_files_are_refused_with_the_python_route(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    # The library's message ("analyze ... accept complex ones") contradicted the command
    np.save(tmp_path / "c.npy", np.outer([1, 2j, 1], [1, 0, -1]))
    assert_refused(capsys, [command, str(tmp_path / "c.npy")], 1,
                   "holds a complex kernel; the command line reads real kernels")


def test_readme_shows_the_bank_output_as_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's `kernelfactor bank` excerpt is what the command prints ("..." elides)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    command = "$ kernelfactor bank steerable:order=2 --size 3\n"
    excerpt = readme.split(command, 1)[1].split("```", 1)[0].splitlines()
    code, out, _ = run(capsys, *command[len("$ kernelfactor "):].split())
    assert code == 0
    printed = out.splitlines()
    at = 0
    for line in excerpt:
        if line == "...":
            continue
        assert line in printed[at:], line
        at = printed.index(line, at) + 1
