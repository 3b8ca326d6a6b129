"""Package hygiene: the public API list, import weight, module layering."""

import importlib
import pathlib
import subprocess
import sys

import pytest

import kernelfactor as kf

PACKAGE = pathlib.Path(kf.__file__).parent
PRIVATE_MODULES = sorted(
    p.stem for p in PACKAGE.glob("_*.py") if p.stem not in ("__init__", "__main__")
)

def test_all_names_exist_and_are_unique():
    assert len(kf.__all__) == len(set(kf.__all__))
    for name in kf.__all__:
        assert hasattr(kf, name), name


def test_version():
    assert kf.__version__.count(".") == 2


@pytest.mark.parametrize("module", PRIVATE_MODULES)
def test_private_modules_declare_all(module):
    mod = importlib.import_module(f"kernelfactor.{module}")
    assert isinstance(mod.__all__, list)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ lists missing {name}"


def test_import_is_light():
    code = (
        "import sys, time; t = time.perf_counter(); import kernelfactor; "
        "dt = time.perf_counter() - t; "
        "heavy = [m for m in ('sympy', 'matplotlib.pyplot', 'dask', 'flint', 'numba', "
        "'onnx', 'onnxruntime', 'tensorly') if m in sys.modules]; "
        "print(heavy, dt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, _ = out.stdout.rsplit(" ", 1)
    assert heavy == "[]", out.stdout


def test_import_defers_scipy_ndimage():
    """scipy.ndimage is most of the import time; it is imported on first filtering."""
    code = "import sys, kernelfactor; print('scipy.ndimage' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_paper_names_moved_with_a_deprecation_warning():
    from kernelfactor import paper

    with pytest.warns(DeprecationWarning, match=r"kernelfactor\.paper\.survey"):
        old = kf.survey
    assert old is paper.survey
    assert "survey" not in kf.__all__ and "survey" in paper.__all__
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        kf.nonexistent
