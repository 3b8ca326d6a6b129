"""The import graph: every edge points down a declared list of layers, and none is a cycle.

Every import inside the package counts, at module level and inside functions
(a function-level import is still a dependency; hiding one there is how 0.1.0
grew two circles).  The layers are drawn in the package docstring
(``kernelfactor/__init__.py``); this test holds them.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import kernelfactor

PACKAGE = pathlib.Path(kernelfactor.__file__).parent

#: Lowest first.  A module may import only modules of strictly lower layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_typing",),
    ("_validation", "_noise", "_results", "_io", "_compiled_kernels"),
    ("_docstrings", "_report"),
    ("_catalogue", "_exact"),
    ("_coerce",),
    ("_svd", "_bounds", "_costmodel"),
    ("_tensor",),
    ("_lowrank", "_compiled"),
    ("_engine",),
    ("_large",),
    ("_apply", "_depthwise"),
    ("_calibrate", "plotting", "networks", "_banks"),
    ("paper",),
    ("cli",),
)
#: The package root re-exports the API (and loads ``paper`` lazily for moved names);
#: only the command line, above everything it re-exports, may import from it.
EXEMPT = ("__init__", "__main__")
ROOT_IMPORTERS = ("cli",)
_UNITS = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}


def _unit(path: pathlib.Path) -> str:
    """The layer unit of a source file: its module, or its subpackage."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem


def _targets(tree: ast.AST, path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, unit) of every import of a package module in `tree`, at any depth."""
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 in kernelfactor/, 1 in paper/
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = node.level - 1  # levels above the file's own package
            if up > depth:
                continue
            if up < depth:  # a sibling inside the same subpackage
                continue
            if node.module:
                found.append((node.lineno, node.module.split(".")[0]))
            else:  # from . import plotting, _exact (or a name of the package root)
                found += [(node.lineno, alias.name if alias.name in _UNITS else "__init__")
                          for alias in node.names]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for name in names:
                parts = name.split(".")
                if parts[0] == "kernelfactor" and len(parts) > 1:
                    found.append((node.lineno, parts[1]))
    return found


def upward_edges(sources: dict[pathlib.Path, str]) -> list[str]:
    """Every import edge that does not point to a strictly lower layer."""
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    bad = []
    for path, text in sources.items():
        unit = _unit(path)
        if unit in EXEMPT:
            continue
        if unit not in layer:
            bad.append(f"{path.name}: {unit} is in no layer; add it to LAYERS")
            continue
        for line, target in _targets(ast.parse(text), path):
            if target == unit or (target in EXEMPT and unit in ROOT_IMPORTERS):
                continue
            if target in EXEMPT:
                bad.append(f"{path.name}:{line}: {unit} imports the package root (a cycle)")
                continue
            if target not in layer:
                bad.append(f"{path.name}:{line} imports {target}, which is in no layer")
            elif layer[target] >= layer[unit]:
                bad.append(
                    f"{path.name}:{line}: {unit} (layer {layer[unit]}) imports {target} "
                    f"(layer {layer[target]}), which is not below it"
                )
    return bad


def _package_sources() -> dict[pathlib.Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_points_down_the_layers():
    bad = upward_edges(_package_sources())
    assert not bad, "\n".join(bad)


def test_every_module_has_a_layer():
    units = {_unit(p) for p in PACKAGE.rglob("*.py")} - set(EXEMPT)
    declared = {name for names in LAYERS for name in names}
    assert units == declared


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("_svd.py", "from ._apply import correlate"),  # module level, upward
        ("_catalogue.py", "def f():\n    from ._coerce import _as_kernel\n"),  # in a function
        ("_validation.py", "from . import _catalogue"),  # from . import form
        ("paper/_survey.py", "from ..cli import main"),  # from a subpackage
        ("_lowrank.py", "import kernelfactor._apply"),  # absolute form
        ("_bounds.py", "from ._svd import analyze"),  # sideways (same layer)
        ("_lowrank.py", "from . import analyze"),  # the package root
    ],
)
def test_an_injected_upward_import_is_caught(file, line):
    sources = _package_sources()
    path = PACKAGE / file
    sources[path] = sources[path] + "\n" + line + "\n"
    assert upward_edges(sources), f"{line!r} in {file} was not caught"


def test_the_package_docstring_draws_the_layers():
    doc = kernelfactor.__doc__ or ""
    for names in LAYERS:
        for name in names:
            assert name in doc, f"the layer drawing in kernelfactor/__init__.py lacks {name}"
