"""docs/ARCHITECTURE.md matches the code: every module of the packages is on its map, every
module it names exists, and the facts it states about the player's flow control and the
process-wide settings are the code's."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ("gan_core", "gan_draw", "gan_cli", "explorer")


def _section(package: str) -> str:
    """The map's paragraph (or table) of `package`."""
    text = DOC.split(f"**{package}/**")[1]
    return re.split(r"\n\n(?:\*\*|## )", text)[0]


def test_every_module_is_on_the_map():
    missing = []
    for package in PACKAGES:
        names = {p.stem for p in (ROOT / package).glob("*.py")} - {"__init__", "__main__"}
        text = _section(package)
        missing += [f"{package}/{n}" for n in sorted(names) if f"`{n}`" not in text
                    and not re.search(rf"`[^`]*\b{n}\b[^`]*`", text)]
    assert missing == []


def test_every_name_on_the_map_exists():
    """A name in backticks is a module of the package or something one of them defines."""
    import importlib

    for package in PACKAGES:
        modules = [importlib.import_module(f"{package}.{p.stem}")
                   for p in sorted((ROOT / package).glob("*.py")) if p.stem != "__main__"]
        for name in set(re.findall(r"`([A-Za-z_]+)`", _section(package))):
            assert (ROOT / package / f"{name}.py").exists() or any(
                hasattr(m, name) for m in modules), (package, name)


def test_stated_numbers_are_the_codes():
    from explorer import stream
    from explorer.stream import Stream
    import inspect

    assert f"for {stream.STALL_SECONDS:g} s" in DOC and f"after {stream.IDLE_EXIT_SECONDS:g} s" in DOC
    assert f"`max_ahead`, {inspect.signature(Stream).parameters['max_ahead'].default}" in DOC
    ack = re.search(r"ACK_EVERY_MS = (\d+)", (ROOT / "explorer/player/player.js").read_text())
    assert f"every {ack.group(1)} ms" in DOC
    assert "postScriptGC = false" in (ROOT / ".streamlit/config.toml").read_text()
    from gan_core import tuning

    for name in ("for_app", "for_training"):
        assert hasattr(tuning, name) and f"{name}()" in DOC
