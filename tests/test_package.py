"""Package hygiene: the public API list, import weight, module layering."""

import ast
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

# Layers from ARCHITECTURE.md (higher number = higher layer); imports may only point down
# or sideways within a layer, except lazy imports inside functions.
LAYERS = {
    "_validation": 0, "_noise": 0, "_results": 0,
    "_catalogue": 1, "_coerce": 1, "_svd": 1, "_bounds": 1, "_costmodel": 1,
    "_lowrank": 2, "_exact": 2, "_engine": 2, "_large": 2,
    "_apply": 3, "_depthwise": 3, "_calibrate": 3,
    "_docstrings": 0,
    "plotting": 4, "paper": 4, "networks": 4,
    "cli": 5,
}


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
        "heavy = [m for m in ('sympy', 'matplotlib.pyplot', 'dask', 'flint', 'onnx', "
        "'onnxruntime') if m in sys.modules]; "
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


def _module_level_imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:  # module level only: lazy imports inside functions are allowed
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.stem)
def test_imports_point_down_the_layers(path):
    if path.stem in ("__init__", "__main__"):
        return
    own = LAYERS.get(path.stem)
    assert own is not None, f"add {path.stem} to LAYERS (ARCHITECTURE.md)"
    for target in _module_level_imports(path):
        assert LAYERS[target] <= own, f"{path.stem} imports {target}, which is above it"


def test_paper_names_moved_with_a_deprecation_warning():
    from kernelfactor import paper

    with pytest.warns(DeprecationWarning, match=r"kernelfactor\.paper\.survey"):
        old = kf.survey
    assert old is paper.survey
    assert "survey" not in kf.__all__ and "survey" in paper.__all__
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        kf.nonexistent
