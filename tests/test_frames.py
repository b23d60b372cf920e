"""gan_draw.frames: what the browser player receives — arrays on the wire, figures as diffs
against a template, side charts by appending — round trips, non-finite values, sizes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gan_core.config import TrainConfig
from gan_core.training import Trainer
from gan_draw import figures
from gan_draw.frames import (apply_diff, chart_append, decode_array, encode_array,
                             figure_diff, from_wire, to_wire, wire_size)


@pytest.fixture(scope="module")
def snaps():
    trainer = Trainer(TrainConfig(g_width=32, d_width=32))
    trainer.step(40)                          # D has a decision boundary in view by now
    first = trainer.snapshot(grid=40, n_samples=500, w1_samples=0)
    trainer.step(30)
    second = trainer.snapshot(grid=40, n_samples=500, w1_samples=0)
    return first, second, trainer


def same_figure(a: dict, b: dict) -> bool:
    """Equal as the browser would read them (arrays compared as float32, NaN equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_figure(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_figure(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


def test_arrays_round_trip_as_float32_with_shape_and_non_finite_values():
    a = np.array([[0.5, np.nan, np.inf], [-np.inf, 1e-7, -3.25]])
    spec = encode_array(a)
    assert spec["dtype"] == "f4" and spec["shape"] == "2,3"
    back = decode_array(json.loads(json.dumps(spec)))
    assert back.dtype == np.float32 and back.shape == (2, 3)
    assert np.array_equal(back, a.astype(np.float32), equal_nan=True)
    ints = decode_array(encode_array(np.array([3, -7, 2**20], dtype=np.int64)))
    assert ints.dtype == np.int32 and ints.tolist() == [3, -7, 2**20]


def test_non_finite_scalars_become_null_so_the_browser_can_parse_them():
    wire = to_wire({"a": float("nan"), "b": [np.float32(np.inf), 2], "c": np.int64(4),
                    "d": (True, None)})
    text = json.dumps(wire, allow_nan=False)          # raises if a NaN got through
    assert json.loads(text) == {"a": None, "b": [None, 2], "c": 4, "d": [True, None]}
    assert to_wire(np.array([1.0, np.nan]), binary=False) == [1.0, None]


def test_a_figure_is_its_template_plus_its_diff(snaps):
    first, second, _ = snaps
    template = figures.main_spec(first, light=True)
    fig = figures.main_spec(second, light=True)
    diff = json.loads(json.dumps(figure_diff(fig, template)))   # through JSON, as sent
    rebuilt = from_wire(apply_diff(to_wire(template), diff))
    assert same_figure(rebuilt, from_wire(to_wire(fig)))
    # the static parts are not resent: real samples, colour bar, axes
    real = next(i for i, t in enumerate(template["data"]) if t["meta"] == "real")
    entry = next(attrs for index, attrs in diff["data"] if index == real)
    assert entry == {}
    assert "xaxis" not in diff["layout"] and "title" in diff["layout"]
    # drawn as traces (an export), the contour's z is the surface's: sent once
    plain = figures.main_spec(first)
    diff = json.loads(json.dumps(figure_diff(figures.main_spec(second), plain)))
    contour = next(attrs for index, attrs in diff["data"]
                   if index >= 0 and plain["data"][index]["meta"] == "contour")
    assert "ref" in contour["z"]
    rebuilt = from_wire(apply_diff(to_wire(plain), diff))
    assert same_figure(rebuilt, from_wire(to_wire(figures.main_spec(second))))


def test_traces_and_layout_keys_that_appear_or_vanish_are_sent_whole_or_removed(snaps):
    first, second, _ = snaps
    template = figures.main_spec(first, ["real", "fake"])
    fig = figures.main_spec(second, ["surface", "real"])
    fig["layout"].pop("legend")
    diff = figure_diff(fig, template)
    assert diff["data"][0][0] == -1 and diff["data"][0][1]["meta"] == "surface"
    assert diff["layout"]["legend"] is None
    rebuilt = from_wire(apply_diff(to_wire(template), json.loads(json.dumps(diff))))
    assert [t["meta"] for t in rebuilt["data"]] == ["surface", "real"]
    assert "legend" not in rebuilt["layout"]


def test_a_live_frame_is_small(snaps):
    first, second, _ = snaps
    template = figures.main_spec(first, light=True)
    fig = figures.main_spec(second, light=True)
    diff = figure_diff(fig, template)
    full = wire_size(to_wire(fig))
    # a 40x40 surface (twice: heatmap and contour), 500 samples, arrows and latent grid
    assert wire_size(diff) < 60_000
    assert wire_size(diff) < 0.9 * full, "the static parts must stay out of a frame"


def test_charts_grow_by_appending_the_new_points(snaps):
    *_, trainer = snaps
    history = trainer.history.as_arrays()
    old = figures.history_spec(history, ["d_loss", "g_loss"], title="Losses")
    trainer.step(25)
    new = figures.history_spec(trainer.history.as_arrays(), ["d_loss", "g_loss"],
                               title="Losses")
    append = chart_append(new, old, since=history["iteration"][-1], every=10)
    assert len(append["x"]) == 2
    xs = append["x"][0]
    assert xs[-1] == trainer.iteration and all(x > history["iteration"][-1] for x in xs)
    assert len(xs) <= 3                               # one point per 10 iterations
    assert append["y"][0][-1] == pytest.approx(trainer.history.last()["d_loss"])
    # a series that appears (no data at first) cannot be appended to: resend the chart
    empty = figures.history_spec({"iteration": np.array([])}, ["d_loss"], title="x")
    assert chart_append(new, empty, since=0) is None


def test_a_playing_figure_draws_its_layers_as_canvas_items_in_trace_order(snaps):
    first, *_ = snaps
    plain = figures.main_spec(first)
    fig = figures.main_spec(first, light=True)
    items = fig["canvas"]
    # bottom to top as the traces were: surface, boundary, latent grid, real, generated, push
    order = [t["meta"] for t in plain["data"]]
    assert [i["kind"] for i in items] == ["image", "lines", "lines", "dots", "dots", "lines"]
    assert order == ["surface", "contour", "manifold", "real", "fake", "push"]
    boundary, real, push = items[1], items[3], items[5]
    assert boundary["dash"] == "dash" and boundary["width"] == figures.CONTOUR_LINE["width"]
    # every sample is a dot, at its own coordinates
    assert np.array_equal(real["xy"], np.asarray(first.real, dtype=np.float32))
    assert real["color"] == figures.REAL_COLOR and real["size"] > 0 and 0 < real["opacity"] <= 1
    # the arrows keep their NaN breaks: one polyline per arrow
    trace = next(t for t in plain["data"] if t["meta"] == "push")
    assert np.array_equal(np.isnan(push["xy"][:, 0]), np.isnan(np.asarray(trace["x"], float)))
    # the boundary is the contour of the surface: every vertex on the level set
    z = np.asarray(first.surface, dtype=float)
    from scipy.interpolate import RegularGridInterpolator
    at = RegularGridInterpolator((first.grid_y, first.grid_x), z)
    vertices = boundary["xy"][np.isfinite(boundary["xy"][:, 0])]
    assert len(vertices) > 5
    assert np.allclose(at(vertices[:, ::-1]), first.decision_level, atol=1e-6)
    # the legend keeps an entry per layer, drawing nothing; no heatmap, no shapes
    keys = {t["meta"]: t for t in fig["data"] if t.get("showlegend", True)}
    assert set(keys) == {"contour", "manifold", "real", "fake", "push"}
    assert all(t["x"] == [None] for t in keys.values())
    assert not any(t["type"] == "heatmap" for t in fig["data"]) and "shapes" not in fig["layout"]


def test_a_still_figure_keeps_the_heatmap_and_draws_paths(snaps):
    first, *_ = snaps
    still = figures.main_spec(first, light=True, picture=False)
    assert any(t["type"] == "heatmap" for t in still["data"]) and "canvas" not in still
    shapes = {s["name"]: s for s in still["layout"]["shapes"]}
    assert set(shapes) == {"contour", "manifold", "real", "fake", "push"}
    assert shapes["contour"]["line"]["dash"] == "dash"
    assert shapes["real"]["path"].count("M") == len(first.real)


def test_a_chart_drawn_around_one_point_is_resent_whole_when_it_grows():
    one = figures.history_spec({"iteration": np.array([0.0]), "modes_covered": np.array([0.0])},
                               ["modes_covered"], title="Modes covered")
    assert one["layout"]["xaxis"]["range"][1] < 2
    grown = figures.history_spec({"iteration": np.array([0.0, 100.0]),
                                  "modes_covered": np.array([0.0, 3.0])},
                                 ["modes_covered"], title="Modes covered")
    assert chart_append(grown, one, since=0.0) is None


def test_the_playing_surface_is_a_picture_of_the_heatmaps_cells(snaps):
    first, *_ = snaps
    fig = figures.main_spec(first, light=True)
    image = fig["canvas"][0]
    x, y = np.asarray(first.grid_x), np.asarray(first.grid_y)
    dx, dy = x[1] - x[0], y[1] - y[0]
    # the picture covers the heatmap's cells: centred on the grid points
    assert image["x0"] == pytest.approx(x[0] - dx / 2) and image["x1"] == pytest.approx(x[-1] + dx / 2)
    assert image["y0"] == pytest.approx(y[0] - dy / 2) and image["y1"] == pytest.approx(y[-1] + dy / 2)
    assert image["rgba"].shape == (len(y), len(x), 4) and image["rgba"].dtype == np.uint8
    # its colour bar stays, on a trace of no points, with the heatmap's range
    heatmap = next(t for t in figures.main_spec(first)["data"] if t["type"] == "heatmap")
    key = next(t for t in fig["data"] if t["meta"] == "surface")
    assert key["marker"]["showscale"] and key["marker"]["cmin"] == heatmap["zmin"]
    assert key["marker"]["cmax"] == heatmap["zmax"] and key["showlegend"] is False
    # the bytes travel as bytes (base64 of uint8), not widened
    assert to_wire(image)["rgba"]["dtype"] == "u1"


def test_the_surface_picture_has_the_heatmaps_colours_top_row_first():
    scale = [[0.0, "#000000"], [0.5, "#ff0000"], [1.0, "#ffffff"]]
    z = np.array([[0.0, 0.25, 2.0],          # the bottom row (lowest y)
                  [1.0, -5.0, np.nan]])      # the top row
    pixels = figures.surface_rgba(z, 0.0, 1.0, scale)
    assert pixels.shape == (2, 3, 4)
    top, bottom = pixels[0], pixels[1]
    assert bottom[0].tolist() == [0, 0, 0, 255]          # zmin: the first stop
    assert bottom[1].tolist() == [128, 0, 0, 255]        # halfway to the second stop
    assert bottom[2].tolist() == [255, 255, 255, 255]    # above zmax: clipped to the last
    assert top[0].tolist() == [255, 255, 255, 255]
    assert top[1].tolist() == [0, 0, 0, 255]             # below zmin: clipped to the first
    assert top[2][3] == 0                                # NaN: transparent


def test_frames_of_a_playing_run_change_no_trace_only_the_canvas_and_title():
    """A changed trace (or one that comes or goes) makes the browser's Plotly.react a full
    replot; a frame of a playing Live run must only change its canvas items and the title."""
    from explorer.stream import FrameMaker
    from explorer.views import LiveView
    from gan_core.batched import Group
    group = Group(TrainConfig(g_width=32, d_width=32), [{}])
    maker = FrameMaker(LiveView())
    maker.rebase(group)
    for _ in range(4):               # the boundary may come into view in between: same traces
        group.step(15)
        diff = maker.frame(group)["figs"]["main"]
        assert all(index >= 0 and not attrs for index, attrs in diff["data"]), diff["data"]
        assert {"title"} >= set(diff["layout"]) and "canvas" in diff
        real = 3                                    # unchanged items are sent as indices
        assert diff["canvas"]["items"][real] == real


def test_play_that_goes_on_from_a_still_changes_no_trace():
    """Paused, the figure keeps the heatmap (hover values); Play goes on in the same epoch,
    whose templates already take the frames' form."""
    from explorer.stream import FrameMaker
    from explorer.views import LiveView
    from gan_core.batched import Group
    group = Group(TrainConfig(g_width=32, d_width=32), [{}])
    maker = FrameMaker(LiveView())
    maker.rebase(group, still=True)
    first = maker.first["figs"]["main"]
    assert any(attrs.get("type") == "heatmap" for _, attrs in first["data"])
    group.step(15)
    diff = maker.frame(group)["figs"]["main"]
    assert all(index >= 0 and not attrs for index, attrs in diff["data"]), diff["data"]


def test_a_critics_colour_range_moves_in_steps_so_frames_rarely_change_a_trace():
    from types import SimpleNamespace
    assert [figures.nice_up(v) for v in (0.7, 1.0, 1.2, 2.6, 4.0, 7.0, 9.0, 0.031)] == \
        pytest.approx([0.75, 1.0, 1.5, 3.0, 5.0, 7.5, 10.0, 0.05])
    rng = np.random.default_rng(0)
    surface = rng.normal(0.0, 1.0, (30, 30))

    def critic(level, scale=0.85):
        return SimpleNamespace(surface_kind="critic", decision_level=level,
                               surface=level + scale * surface)

    lo, hi = figures.surface_range(critic(0.31))
    half = (hi - lo) / 2
    assert figures.nice_up(half) == pytest.approx(half)            # a step, not any number
    assert abs((lo + hi) / 2 - 0.31) <= half / 10 + 1e-9            # neutral near the level
    ends = 0.31 + np.percentile(surface, [2, 98])
    assert lo <= ends[0] and ends[1] <= hi                          # the values fit
    # a critic that drifts a little keeps its range: no change for the browser to redraw
    assert figures.surface_range(critic(0.33, 0.87)) == (lo, hi)
    assert figures.surface_range(critic(0.31, 3.0)) != (lo, hi)     # a real change shows
