"""The notebooks under notebooks/: stored without outputs, and run top to bottom.

Each notebook asserts its own numbers (``assert`` cells), so executing it is
the test.  Execution needs ``nbclient`` and ``ipykernel`` (the ``test``
extra); the kernel is started with this interpreter, so the notebooks see the
kernelfactor under test.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01-separability-basics.ipynb",
    "02-low-rank-approximation-and-bounds.ipynb",
    "03-symbolic-separability.ipynb",
    "04-depthwise-conv-factorisation.ipynb",
    "05-volumes-and-banks.ipynb",
    "06-onnx-network-factorisation.ipynb",
]


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_all_notebooks_present() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, (
        f"{path.name}: code cells {dirty} (0-based, code cells only) store outputs or "
        "execution counts; clear them (e.g. `jupyter nbconvert --clear-output --inplace`)."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_uses_public_api_only(path: Path) -> None:
    """No private module of kernelfactor is imported or reached into."""
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import kernelfactor as kf" in source
    pattern = r"(?:kernelfactor|kf|kfp)\._(?!_)\w*|from kernelfactor\S* import _\w+"
    private = re.findall(pattern, source)
    assert not private, f"{path.name} uses private names: {private}"


def _kernel_manager_class():  # pragma: no cover - trivial
    """A KernelManager that starts ipykernel with this very interpreter.

    The ``python3`` kernelspec says ``python``, which jupyter_client resolves to
    ``sys.executable`` already; spelling it out keeps a stray system-wide
    kernelspec (another Python without kernelfactor) out of the picture.
    """
    from jupyter_client.manager import KernelManager

    class _ThisPython(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            return [sys.executable, *cmd[1:]]

    return _ThisPython


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        kernel_manager_class=_kernel_manager_class(),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in ran)
    errors = [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert not errors
    # Every cell that draws with kernelfactor.plotting shows its figure (inline
    # backend): a figure that silently fails to display is a broken notebook.
    blank = [
        i
        for i, c in enumerate(ran)
        if "kfp.plot_" in c.source
        and not any("image/png" in o.get("data", {}) for o in c.outputs)
    ]
    assert not blank, f"{path.name}: code cells {blank} (0-based) draw but display no figure"
    assert not any(tmp_path.iterdir()), "notebooks must not write files"
