"""gan_draw.figures: Snapshots and histories built by hand with NumPy, no torch, no training."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_draw import figures
from gan_draw.figures import LAYERS, main_figure
from gan_core.snapshot import Snapshot

VIEW = (-2.0, 3.0, -1.0, 1.5)   # deliberately not square and not centred


def make_snap(n_real=200, n_fake=150, grid=30, kind="probability", view=VIEW, manifold=True,
              status="", push=None, surface=None, seed=0, averaged=False):
    rng = np.random.default_rng(seed)
    xmin, xmax, ymin, ymax = view
    gx, gy = np.linspace(xmin, xmax, grid), np.linspace(ymin, ymax, grid + 5)
    X, Y = np.meshgrid(gx, gy)
    if surface is None:
        logit = 2.0 * (X - 0.5)                       # crosses the boundary at x = 0.5
        surface = 1 / (1 + np.exp(-logit)) if kind == "probability" else logit
    fake = rng.uniform([xmin, ymin], [xmax, ymax], (n_fake, 2))
    if push is None:
        push = rng.normal(size=(n_fake, 2))
    lat = np.linspace(-1, 1, 6)
    grid_pts = np.stack(np.meshgrid(lat, lat), -1) * 0.8
    return Snapshot(
        iteration=42, real=rng.normal(size=(n_real, 2)) * 0.3, fake=fake, push=push,
        grid_x=gx, grid_y=gy, surface=surface, surface_kind=kind, view_box=view,
        manifold=grid_pts if manifold else None, loss="nonsaturating", status=status,
        fake_avg=fake * 0.5 if averaged else None)


def layers_of(fig):
    return [t.meta for t in fig.data]


def trace(fig, layer):
    (found,) = [t for t in fig.data if t.meta == layer]
    return found


# --------------------------------------------------------------- layers and axes
def test_all_layers_present_in_drawing_order():
    fig = main_figure(make_snap())
    assert layers_of(fig) == ["surface", "contour", "manifold", "real", "fake", "push"]


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_alone(layer):
    assert layers_of(main_figure(make_snap(averaged=True), layers=(layer,))) == [layer]


def test_averaged_g_is_drawn_last_and_only_when_the_run_averages():
    fig = main_figure(make_snap(averaged=True))
    assert layers_of(fig)[-1] == "averaged"
    assert trace(fig, "averaged").name == "averaged G"
    assert np.allclose(trace(fig, "averaged").x, make_snap().fake[:, 0] * 0.5)
    assert "averaged" not in layers_of(main_figure(make_snap()))


def test_no_layers_and_list_of_layers():
    assert layers_of(main_figure(make_snap(), layers=())) == []
    assert layers_of(main_figure(make_snap(), layers=["fake", "real"])) == ["real", "fake"]
    with pytest.raises(ValueError, match="layers"):
        main_figure(make_snap(), layers=("surface", "heatmap"))


def test_manifold_none_is_skipped():
    assert "manifold" not in layers_of(main_figure(make_snap(manifold=False)))


def test_axes_fixed_on_view_box_with_equal_aspect():
    fig = main_figure(make_snap())
    assert tuple(fig.layout.xaxis.range) == VIEW[:2]
    assert tuple(fig.layout.yaxis.range) == VIEW[2:]
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    other = main_figure(make_snap(view=(-5, 5, -5, 5), seed=3))
    assert fig.layout.uirevision == other.layout.uirevision is not None
    assert tuple(other.layout.xaxis.range) == (-5, 5)


def test_title_and_height():
    fig = main_figure(make_snap(), title="WGAN-GP", height=400)
    assert fig.layout.title.text == "WGAN-GP" and fig.layout.height == 400
    assert "42" in main_figure(make_snap()).layout.title.text     # iteration by default


# --------------------------------------------------------------- surface and contour
def test_probability_surface_range_is_0_1():
    snap = make_snap(surface=np.full((35, 30), 0.3) + np.linspace(0, 0.3, 30))
    heat = trace(main_figure(snap, zmin=-5, zmax=5), "surface")   # ignored for a probability
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert heat.colorbar.title.text == "D(x) = P(real)"
    assert heat.showscale
    np.testing.assert_allclose(heat.z, snap.surface, rtol=1e-6)
    assert not trace(main_figure(snap, show_colorbar=False), "surface").showscale


@pytest.mark.parametrize("kind, title, level", [("critic", "critic D(x)", 0.0),
                                                 ("score", "D(x) score", 0.5)])
def test_unbounded_surface_range_symmetric_and_robust(kind, title, level):
    rng = np.random.default_rng(1)
    surface = level + rng.uniform(-1.0, 3.0, (35, 30))
    surface[0, 0] = 1e6                                   # one outlier must not set the scale
    surface[1, :5] = np.nan                               # nor a few holes
    heat = trace(main_figure(make_snap(kind=kind, surface=surface)), "surface")
    assert heat.colorbar.title.text == title
    assert heat.zmin + heat.zmax == pytest.approx(2 * level)
    assert 2.5 < heat.zmax - level <= 3.0                 # ~98th percentile (a nice step up)
    shared = trace(main_figure(make_snap(kind=kind, surface=surface), zmin=-7, zmax=9),
                   "surface")
    assert (shared.zmin, shared.zmax) == (-7, 9)


def test_flat_or_nan_critic_surface_gets_a_finite_range():
    for surface in (np.zeros((35, 30)), np.full((35, 30), np.nan)):
        heat = trace(main_figure(make_snap(kind="critic", surface=surface)), "surface")
        assert np.isfinite([heat.zmin, heat.zmax]).all() and heat.zmin < heat.zmax


def test_contour_is_one_line_at_the_decision_level():
    for kind, level in (("probability", 0.5), ("critic", 0.0)):
        line = trace(main_figure(make_snap(kind=kind)), "contour")
        assert line.contours.start == line.contours.end == level
        assert line.contours.coloring == "lines" and line.autocontour is False


def test_contour_skipped_when_surface_does_not_cross():
    assert "contour" not in layers_of(main_figure(make_snap(surface=np.full((35, 30), 0.8))))
    assert "contour" not in layers_of(main_figure(make_snap(surface=np.full((35, 30), np.nan))))
    s = np.full((35, 30), 0.9)
    s[3, 4], s[5, 6] = 0.1, np.nan                        # crosses, with a hole
    assert "contour" in layers_of(main_figure(make_snap(surface=s)))


# --------------------------------------------------------------- samples
def test_points_use_svg_until_threshold_then_webgl():
    small = main_figure(make_snap(n_real=figures.SVG_MAX_POINTS, n_fake=10))
    assert trace(small, "real").type == "scatter" and trace(small, "fake").type == "scatter"
    big = main_figure(make_snap(n_real=figures.SVG_MAX_POINTS + 1, n_fake=10))
    assert trace(big, "real").type == "scattergl"
    snap = make_snap()
    real = trace(main_figure(snap), "real")
    np.testing.assert_allclose(np.c_[real.x, real.y], snap.real, rtol=1e-6)
    assert trace(main_figure(snap), "fake").marker.color != real.marker.color


def test_empty_sample_clouds():
    fig = main_figure(make_snap(n_real=0, n_fake=0))
    assert len(trace(fig, "real").x) == 0 and len(trace(fig, "push").x) == 0
    fig.to_json()


# --------------------------------------------------------------- push arrows
def arrows(fig):
    t = trace(fig, "push")
    pts = np.c_[t.x, t.y].reshape(-1, figures.ARROW_POINTS, 2)
    return pts


def test_push_one_arrow_per_fake_from_the_fake_along_the_push():
    fake = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, -0.5]])
    push = np.array([[1.0, 0.0], [0.0, -2.0], [0.5, 0.5]])
    snap = make_snap(n_fake=3, push=push)
    snap.fake = fake
    a = arrows(main_figure(snap, layers=("push",)))
    assert a.shape == (3, figures.ARROW_POINTS, 2)
    assert np.isnan(a[:, -1]).all() and np.isfinite(a[:, :-1]).all()   # one break per arrow
    np.testing.assert_allclose(a[:, 0], fake, atol=1e-6)                # tails at the fakes
    shafts = a[:, 1] - a[:, 0]
    cos = (shafts * push).sum(1) / np.linalg.norm(shafts, axis=1) / np.linalg.norm(push, axis=1)
    np.testing.assert_allclose(cos, 1, atol=1e-5)                      # along the push


def test_push_subsampled_and_longest_arrow_bounded():
    rng = np.random.default_rng(2)
    push = rng.normal(size=(1000, 2)) * rng.lognormal(0, 2, (1000, 1))  # heavy-tailed norms
    a = arrows(main_figure(make_snap(n_fake=1000, push=push)))
    assert len(a) == figures.MAX_ARROWS
    width = VIEW[1] - VIEW[0]
    bound = figures.ARROW_FRACTION * width
    reach = np.linalg.norm(a[:, :-1] - a[:, :1], axis=2)                # heads included
    assert reach.max() <= bound * (1 + 1e-5)
    lengths = np.linalg.norm(a[:, 1] - a[:, 0], axis=1)
    assert lengths.max() == pytest.approx(bound, rel=1e-5)              # the clip is reached
    assert np.median(lengths) > 0.01 * bound                           # not crushed by outliers


def test_nan_inf_and_zero_pushes_are_dropped():
    push = np.ones((8, 2))
    push[1] = np.nan
    push[2] = [np.inf, 0]
    push[3] = 0.0
    snap = make_snap(n_fake=8, push=push)
    snap.fake[4] = np.nan
    fig = main_figure(snap)
    assert len(arrows(fig)) == 4
    fig.to_json()
    for bad in (np.full((8, 2), np.nan), np.zeros((8, 2))):
        fig = main_figure(make_snap(n_fake=8, push=bad))
        assert len(trace(fig, "push").x) == 0
        fig.to_json()


# --------------------------------------------------------------- manifold and status
def test_manifold_rows_and_columns_in_one_trace():
    snap = make_snap()
    grid = trace(main_figure(snap), "manifold")
    L = snap.manifold.shape[0]
    x = np.asarray(grid.x)
    assert len(x) == 2 * L * (L + 1) and np.isnan(x).sum() == 2 * L
    lines = np.c_[grid.x, grid.y].reshape(2 * L, L + 1, 2)[:, :L]
    np.testing.assert_allclose(lines[:L], snap.manifold, rtol=1e-6)
    np.testing.assert_allclose(lines[L:], snap.manifold.transpose(1, 0, 2), rtol=1e-6)


def test_status_shown_as_red_annotation():
    fig = main_figure(make_snap(status="diverged at iteration 812"))
    (note,) = fig.layout.annotations
    assert "diverged at iteration 812" in note.text
    assert note.font.color == figures.STATUS_COLOR
    assert not main_figure(make_snap()).layout.annotations


# --------------------------------------------------------------- serialisation
def test_main_figure_is_json_serialisable_and_keeps_layer_names():
    snap = make_snap(n_real=2000, status="diverged", kind="critic")
    snap.surface[0, :3] = np.nan
    spec = json.loads(main_figure(snap).to_json())
    assert [t.get("meta") for t in spec["data"]] == [
        "surface", "contour", "manifold", "real", "fake", "push"]
    assert len(json.dumps(spec["layout"])) < 5000        # not the ~10 kB default template


def test_figures_module_does_not_import_torch():
    root = Path(__file__).resolve().parents[1]
    code = "import sys, gan_draw.figures; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


# --------------------------------------------------------------- charts
def test_history_lines_and_downsampling():
    it = np.arange(1, 5001)
    history = {"iteration": it, "d_loss": np.sin(it / 100.0), "g_loss": np.cos(it / 100.0)}
    fig = figures.history_figure(history, ["d_loss", "g_loss"], title="Losses", log_y=True)
    assert [t.name for t in fig.data] == ["D loss", "G loss"]
    x = np.asarray(fig.data[0].x)
    assert len(x) <= figures.MAX_HISTORY_POINTS + 1 and x[0] == 1 and x[-1] == 5000
    np.testing.assert_allclose(fig.data[0].y, np.sin(x / 100.0))
    assert fig.layout.yaxis.type == "log" and fig.layout.title.text == "Losses"
    fig.to_json()


def test_history_drops_nan_rows_of_sparse_metrics():
    w1 = np.full(10, np.nan)
    w1[::4] = [3.0, 2.0, 1.0]
    fig = figures.history_figure({"iteration": np.arange(10), "w1": w1}, ["w1"], title="w1")
    np.testing.assert_array_equal(fig.data[0].x, [0, 4, 8])
    np.testing.assert_array_equal(fig.data[0].y, [3.0, 2.0, 1.0])


@pytest.mark.parametrize("history", [
    {"iteration": np.array([]), "d_loss": np.array([])},
    {},
    {"iteration": np.arange(3.0), "d_loss": np.full(3, np.nan)},
])
def test_history_without_data_shows_a_message(history):
    fig = figures.history_figure(history, ["d_loss", "g_loss"], title="Losses")
    assert len(fig.data) == 0
    assert "no data yet" in fig.layout.annotations[0].text
    fig.to_json()


def test_mode_bars_equal_counts():
    counts = np.array([5, 0, 12, 0, 7, 1, 0, 30])
    fig = figures.mode_bar_figure(counts)
    (bar,) = fig.data
    assert bar.type == "bar"
    np.testing.assert_array_equal(bar.y, counts)
    np.testing.assert_array_equal(bar.x, np.arange(8))
    assert "5 of 8" in fig.layout.title.text
    fig.to_json()


def test_mode_bars_placeholder_without_modes():
    fig = figures.mode_bar_figure(None)
    assert len(fig.data) == 0 and fig.layout.annotations[0].text
    fig.to_json()


def test_compare_histories_one_line_per_variant():
    it = np.arange(100)
    histories = {"lr 1e-4": {"iteration": it, "d_loss": it * 1.0},
                 "lr 1e-3": {"iteration": it, "d_loss": it * 2.0},
                 "not started": {"iteration": np.array([]), "d_loss": np.array([])}}
    fig = figures.compare_histories_figure(histories, "d_loss", title="D loss")
    assert [t.name for t in fig.data] == ["lr 1e-4", "lr 1e-3"]
    np.testing.assert_array_equal(fig.data[1].y, it * 2.0)
    assert fig.data[0].line.color != fig.data[1].line.color
    empty = figures.compare_histories_figure({}, "d_loss", title="D loss")
    assert len(empty.data) == 0 and empty.layout.annotations


def test_a_variant_keeps_its_colour_when_another_has_no_data():
    it = np.arange(0, 500, 100)
    full = {"a": {"iteration": it, "w1": it * 1.0}, "b": {"iteration": it, "w1": it * 2.0},
            "c": {"iteration": it, "w1": it * 3.0}}
    gap = dict(full, b={"iteration": it, "w1": np.full(it.size, np.nan)})
    colours = {t.name: t.line.color for t in figures.compare_histories_figure(
        full, "w1", title="w1").data}
    shown = figures.compare_histories_figure(gap, "w1", title="w1").data
    assert [t.name for t in shown] == ["a", "c"]
    assert all(t.line.color == colours[t.name] for t in shown)


def test_sparse_series_show_their_points_and_dense_ones_are_lines():
    sparse = {"iteration": np.arange(0, 1000, 100), "w1": np.linspace(1, 0, 10)}
    dense = {"iteration": np.arange(2000), "d_loss": np.ones(2000)}
    assert figures.history_figure(sparse, ["w1"], title="w1").data[0].mode == "lines+markers"
    assert figures.history_figure(dense, ["d_loss"], title="D").data[0].mode == "lines"


def test_a_single_recorded_point_is_placed_on_an_axis_from_zero():
    one = {"a": {"iteration": np.array([0.0, 100.0]), "reverse_kl": np.array([np.nan, 1.2])}}
    fig = figures.compare_histories_figure(one, "reverse_kl", title="reverse KL")
    low, high = fig.layout.xaxis.range
    assert low <= 0 < 100 < high <= 110


def test_a_shared_push_scale_keeps_small_pushes_small():
    fake = np.zeros((10, 2))
    push = np.tile([[1e-3, 0.0]], (10, 1))
    own_x, _ = figures.push_arrows(fake, push, view_width=2.0)
    shared_x, _ = figures.push_arrows(fake, push, view_width=2.0, reference=1.0)
    own_len = np.nanmax(own_x) - 0.0
    shared_len = np.nanmax(shared_x) - 0.0
    assert own_len == pytest.approx(0.08 * 2.0)          # alone: scaled up to the full length
    assert shared_len == pytest.approx(1e-3 * 0.16)      # shared: 1000x shorter, as it should


def test_a_log_chart_labels_one_tick_per_decade_when_the_data_spans_decades():
    it = np.arange(1, 301, dtype=float)
    wide = figures.history_spec({"iteration": it, "g_grad_norm": 10 ** (it / 100 - 2)},
                                ["g_grad_norm"], title="Gradient norms", log_y=True)
    assert wide["layout"]["yaxis"]["type"] == "log" and wide["layout"]["yaxis"]["dtick"] == 1
    narrow = figures.history_spec({"iteration": it, "g_grad_norm": 1 + it / 1000},
                                  ["g_grad_norm"], title="Gradient norms", log_y=True)
    assert "dtick" not in narrow["layout"]["yaxis"] and narrow["layout"]["yaxis"]["nticks"] == 4
