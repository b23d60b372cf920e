"""The project is a package: pyproject.toml declares requirements.txt's dependencies and the
`gan-explorer` console script; the benchmarks import it instead of editing sys.path."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [re.sub(r"\s+#.*", "", line).strip() for line in lines
            if line.strip() and not line.startswith(("#", "-"))]


def test_pyproject_declares_the_requirements_and_the_command():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "gan-explorer" and project["version"]
    assert sorted(project["dependencies"]) == sorted(_requirements())
    assert project["scripts"]["gan-explorer"] == "gan_cli.main:main"
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines()


def test_the_console_script_is_the_command_line():
    from gan_cli import main as cli

    module, func = "gan_cli.main:main".split(":")
    assert getattr(__import__(module, fromlist=[func]), func) is cli.main


def test_benchmarks_do_not_edit_sys_path():
    edits = [p.name for p in (ROOT / "bench").glob("*.py") if "sys.path" in p.read_text()]
    assert edits == []
