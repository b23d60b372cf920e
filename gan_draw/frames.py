"""Compact frames for the browser player: a figure is sent once, then only what changes.

The player in the browser (explorer/player/player.js) keeps, per figure, a *template* (a full
plotly {data, layout} spec sent once per epoch) and draws each frame as the template with the
frame's changes applied. This module makes both sides of that contract from the same plain
figure dicts gan_draw.figures builds, so the streamed picture is exactly the still one:

- `to_wire(obj)`: JSON-ready values. NumPy arrays become plotly.js typed-array specs
  ({"dtype": "f4", "bdata": base64, "shape": "r,c"}), which Plotly.react reads natively;
  float64 is sent as float32 (finer than a pixel, half the bytes); NaN and inf stay inside the
  binary (plotly.js reads NaN as a gap), while non-finite *scalars* become null, because JSON
  has no NaN and the browser's JSON.parse rejects it.
- `figure_diff(fig, template)`: per trace (matched by its `meta` layer name, else by position)
  the attributes that differ from the template's; per layout key, the new value (None where the
  template had a key the figure dropped); the figure's canvas layers (gan_draw.figures,
  `light`) when they differ (None: the figure has none). `apply_diff(template, diff)` is the
  inverse, written the way player.js does it, and `from_wire` decodes specs back to arrays:
  together they are the round trip the tests check. An array sent twice in a frame is sent once
  (`ref`); in a layout list (shapes) and in the canvas layers, an item unchanged from the
  template is sent as its index.
- `chart_append(...)`: the new points of line charts since the last frame, so side charts
  grow by appending instead of being rebuilt.
"""
from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

# plotly.js typed-array dtypes for the NumPy kinds that reach the wire
_DTYPES = {np.dtype(np.float32): "f4", np.dtype(np.float64): "f8", np.dtype(np.int8): "i1",
           np.dtype(np.int16): "i2", np.dtype(np.int32): "i4", np.dtype(np.uint8): "u1",
           np.dtype(np.uint16): "u2", np.dtype(np.uint32): "u4"}
_FROM_DTYPES = {v: k for k, v in _DTYPES.items()}


# ---------------------------------------------------------------------- values on the wire
def encode_array(a: np.ndarray) -> dict | list:
    """A NumPy array as a plotly.js typed-array spec (floats as float32, ints narrowed)."""
    a = np.asarray(a)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    elif a.dtype == np.uint8:           # bytes (a picture's RGBA) stay bytes
        pass
    elif a.dtype.kind == "f":
        a = a.astype(np.float32, copy=False)
    elif a.dtype.kind in "iu":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        a = a.astype(np.int32 if -2**31 <= lo and hi < 2**31 else np.float32, copy=False)
    elif a.dtype.kind != "f":
        return [to_wire(v) for v in a.tolist()]
    if a.size == 0:
        return []
    spec = {"dtype": _DTYPES[a.dtype], "bdata": base64.b64encode(
        np.ascontiguousarray(a).tobytes()).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = ",".join(str(n) for n in a.shape)
    return spec


def to_wire(obj: Any, binary: bool = True) -> Any:
    """`obj` with arrays encoded, NumPy scalars as Python ones and non-finite floats as None.

    binary=False sends arrays as plain lists (non-finite values as null): for the small line
    charts the player grows by appending points to them."""
    if isinstance(obj, np.ndarray):
        return encode_array(obj) if binary else [to_wire(v) for v in obj.tolist()]
    if isinstance(obj, dict):
        return {str(k): to_wire(v, binary) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_wire(v, binary) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def is_array_spec(value) -> bool:
    return isinstance(value, dict) and "bdata" in value and "dtype" in value


def decode_array(spec: dict) -> np.ndarray:
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=_FROM_DTYPES[spec["dtype"]])
    if "shape" in spec:
        array = array.reshape([int(n) for n in spec["shape"].split(",")])
    return array


def from_wire(obj: Any) -> Any:
    """The inverse of to_wire for arrays: typed-array specs back to NumPy arrays."""
    if is_array_spec(obj):
        return decode_array(obj)
    if isinstance(obj, dict):
        return {k: from_wire(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_wire(v) for v in obj]
    return obj


# ---------------------------------------------------------------------- figures as diffs
def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"
                                                          and b.dtype.kind == "f"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _match(traces: list[dict], template: list[dict]) -> list[int]:
    """For each trace, the index of its template trace (same `meta` layer, or the same position
    and type when traces carry no meta), or -1 when the template has none."""
    by_meta = {t.get("meta"): i for i, t in enumerate(template) if t.get("meta") is not None}
    out = []
    for i, trace in enumerate(traces):
        meta = trace.get("meta")
        if meta is not None:
            out.append(by_meta.get(meta, -1))
        elif i < len(template) and template[i].get("type") == trace.get("type"):
            out.append(i)
        else:
            out.append(-1)
    return out


def figure_diff(fig: dict, template: dict) -> dict:
    """What `fig` changes in `template` (both plain {data, layout} dicts), on the wire.

    data: a list, one entry per trace of `fig`, [template index, {changed attributes}], or
    [-1, {the whole trace}] for a trace the template lacks. layout: changed top-level keys
    (None for a key `fig` dropped)."""
    data = []
    base = template.get("data", [])
    for trace, index in zip(fig.get("data", []), _match(fig.get("data", []), base)):
        if index < 0:
            data.append([-1, to_wire(trace)])
            continue
        old = base[index]
        changed = {k: v for k, v in trace.items() if k not in old or not _same(v, old[k])}
        changed.update({k: None for k in old if k not in trace})
        data.append([index, to_wire(changed)])
    layout, old_layout = fig.get("layout", {}), template.get("layout", {})
    changes = {k: v for k, v in layout.items() if k not in old_layout or not _same(v, old_layout[k])}
    changes.update({k: None for k in old_layout if k not in layout})
    for key in LIST_KEYS & changes.keys():
        if isinstance(changes[key], list) and isinstance(old_layout.get(key), list):
            changes[key] = _list_diff(changes[key], old_layout[key])
    diff = {"data": _shared(data), "layout": to_wire(changes)}
    canvas, old_canvas = fig.get("canvas"), template.get("canvas")
    if canvas and old_canvas:               # the player's canvas layers: a list diff
        items = _list_diff(canvas, old_canvas)
        if len(canvas) != len(old_canvas) or not all(
                isinstance(item, int) for item in items["items"]):
            diff["canvas"] = to_wire(items)
    elif not _same(canvas, old_canvas):     # layers that appear or vanish (None: none)
        diff["canvas"] = to_wire(canvas)
    return diff


LIST_KEYS = {"shapes", "annotations"}    # layout lists whose unchanged items are not resent


def _list_diff(items: list, old: list) -> dict:
    """{"items": [...]}: an item equal to the template's at the same place is its index."""
    return {"items": [i if i < len(old) and _same(item, old[i]) else item
                      for i, item in enumerate(items)]}


def _expand(diff: dict, old: list) -> list:
    """The list a _list_diff describes: its indices are the template's items."""
    return [old[v] if isinstance(v, int) else v for v in diff["items"]]


def _shared(data: list) -> list:
    """An array sent twice in one frame (the contour's z is the surface's) is sent once: the
    second place holds {"ref": [trace position, attribute]}."""
    seen: dict[str, list] = {}
    for position, (_, attrs) in enumerate(data):
        for key, value in attrs.items():
            if is_array_spec(value):
                where = seen.setdefault(value["bdata"], [position, key])
                if where != [position, key]:
                    attrs[key] = {"ref": where}
    return data


def apply_diff(template: dict, diff: dict) -> dict:
    """The figure a diff describes, from the wire forms of both (what player.js draws)."""
    data = []
    for index, attrs in diff["data"]:
        trace = {} if index < 0 else dict(template["data"][index])
        trace.update(attrs)
        data.append({k: v for k, v in trace.items() if v is not None})
    for trace in data:
        for key, value in trace.items():
            if isinstance(value, dict) and set(value) == {"ref"}:
                trace[key] = data[value["ref"][0]][value["ref"][1]]
    layout = dict(template.get("layout", {}))
    for key, value in diff.get("layout", {}).items():
        if isinstance(value, dict) and set(value) == {"items"}:
            value = _expand(value, template["layout"][key])
        layout[key] = value
    fig = {"data": data, "layout": {k: v for k, v in layout.items() if v is not None}}
    canvas = diff["canvas"] if "canvas" in diff else template.get("canvas")
    if isinstance(canvas, dict):
        canvas = _expand(canvas, template["canvas"])
    if canvas is not None:
        fig["canvas"] = canvas
    return fig


# ---------------------------------------------------------------------- charts by appending
def line_series(fig: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, x, y) of each line trace of a chart spec, in trace order."""
    return [(t.get("name", ""), np.asarray(t["x"], dtype=float), np.asarray(t["y"], dtype=float))
            for t in fig.get("data", []) if t.get("type") == "scatter"]


def chart_append(fig: dict, template: dict, since: float, every: float = 0.0) -> dict | None:
    """The points of chart `fig` after iteration `since`, as {"x": [[...]], "y": [[...]]} per
    template trace, thinned to one point per `every` iterations; None when `fig` does not grow
    the template's series (a series appeared or vanished: send the whole chart instead)."""
    new, old = line_series(fig), line_series(template)
    if [name for name, _, _ in new] != [name for name, _, _ in old] or not new:
        return None
    fixed = template.get("layout", {}).get("xaxis", {}).get("range")
    if fixed is not None and any(len(x) and x.max() > fixed[1] for _, x, _ in new):
        return None                    # a range fixed around one point would hide the rest
    xs, ys = [], []
    for _, x, y in new:
        keep = x > since
        x, y = x[keep], y[keep]
        if every > 0 and len(x) > 1:
            bucket = np.floor(x / every)
            last_of_bucket = np.append(bucket[1:] != bucket[:-1], True)
            x, y = x[last_of_bucket], y[last_of_bucket]
        xs.append(to_wire([float(v) for v in x]))
        ys.append(to_wire([float(v) for v in y]))
    return {"x": xs, "y": ys}


def wire_size(obj: Any) -> int:
    """Bytes of `obj` as the JSON the player receives."""
    import json

    return len(json.dumps(obj, separators=(",", ":")))
