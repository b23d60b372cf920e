"""Reading what the frame player was given in an AppTest run: its data, decoded into the
figures and text it draws (the browser's side is tests/browser)."""
from __future__ import annotations

import json

from gan_draw.frames import apply_diff, from_wire


def player_data(at, key: str) -> dict:
    """The data of the player component `key` (e.g. "live_player") in the last run."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}") and element.proto.component_name.endswith(
                ".player"):
            return json.loads(element.proto.json)
    raise AssertionError(f"no player {key!r} on the page")


def shown(at, key: str) -> tuple[dict, dict]:
    """({figure id: full figure spec, arrays decoded}, {text id: html}) of the last frame."""
    data = player_data(at, key)
    frame = data["frames"][-1]
    templates = data["static"]["figures"]
    figs = {fid: from_wire(apply_diff(templates.get(fid, {"data": [], "layout": {}}), diff))
            for fid, diff in frame["figs"].items()}
    return figs, frame["html"]


def charts(at, key: str) -> dict:
    return player_data(at, key)["static"]["charts"]
