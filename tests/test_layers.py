"""The packages depend one way: gan_core (torch, numpy, scipy) <- gan_draw <- explorer, and
gan_draw <- gan_cli (never explorer, nor explorer it); the settings language is read in
gan_core/settings.py only."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> top-level modules it must never import
FORBIDDEN = {
    "gan_core": {"explorer", "gan_draw", "gan_cli", "streamlit", "plotly", "PIL"},
    "gan_draw": {"explorer", "gan_cli", "streamlit"},
    "gan_cli": {"explorer", "streamlit"},
    "explorer": {"gan_cli"},          # the pages take nothing from the command line
}
# `python -m gan_core` is the command line's original spelling: its entry module hands over to
# gan_cli and is never imported by gan_core's modules.
ENTRY_POINTS = {Path("gan_core/__main__.py")}


def imported(path: Path) -> set[str]:
    """Top-level names of every module `path` imports, at any depth (lazy imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            names.add(str(node.args[0].value).split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_layers(package):
    wrong = {str(path.relative_to(ROOT)): sorted(imported(path) & FORBIDDEN[package])
             for path in sorted((ROOT / package).rglob("*.py"))
             if path.relative_to(ROOT) not in ENTRY_POINTS}
    assert {p: names for p, names in wrong.items() if names} == {}


def test_the_layer_check_sees_lazy_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import explorer.views\n    importlib.import_module('gan_draw.export')\n")
    assert {"explorer", "gan_draw"} <= imported(probe)


def test_one_reader_of_field_equals_value():
    """Only gan_core/settings.py splits `field=value` text."""
    readers = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                     if ".git" not in p.parts and "tests" not in p.parts
                     and 'partition("=")' in p.read_text(encoding="utf-8"))
    assert readers == ["gan_core/settings.py"]
