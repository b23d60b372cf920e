"""gan_draw.export (HTML animation, PNG/GIF raster) and `python -m gan_core export`.

Most tests build Snapshots by hand; one small run (60 iterations, a record every 10) feeds the
tests that want real training output, and the CLI trains 10 iterations per export."""
import io
import json
import re
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_draw import export, figures
from gan_core.config import TrainConfig
from gan_core.snapshot import Snapshot
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
VIEW = (-2.0, 2.0, -2.0, 2.0)
FAST = ["--g-width", "16", "--d-width", "16", "--batch-size", "64"]


def hex_rgb(color):
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])


def make_snap(iteration=0, *, kind="probability", view=VIEW, grid=40, surface=None, real=None,
              fake=None, push=None, status="", manifold=True, seed=0):
    """Surface: D says "real" (1) for x > 0, "fake" (0) for x < 0 — the boundary is x = 0."""
    rng = np.random.default_rng(seed)
    xmin, xmax, ymin, ymax = view
    gx, gy = np.linspace(xmin, xmax, grid), np.linspace(ymin, ymax, grid)
    X, _ = np.meshgrid(gx, gy)
    if surface is None:
        logit = 6.0 * X
        surface = 1 / (1 + np.exp(-logit)) if kind == "probability" else logit
    if real is None:
        real = rng.normal(size=(100, 2)) * 0.2 + [1.0, 0.0]
    if fake is None:
        fake = rng.normal(size=(100, 2)) * 0.3 + [-1.0, 0.5 * np.sin(iteration / 7)]
    if push is None:
        push = np.tile([1.0, 0.0], (len(fake), 1)) + rng.normal(size=(len(fake), 2)) * 0.1
    lat = np.linspace(-1, 1, 5)
    return Snapshot(
        iteration=iteration, real=np.asarray(real, float), fake=np.asarray(fake, float),
        push=np.asarray(push, float), grid_x=gx, grid_y=gy, surface=np.asarray(surface),
        surface_kind=kind, view_box=view,
        manifold=np.stack(np.meshgrid(lat, lat), -1) * 0.5 if manifold else None,
        loss="nonsaturating", status=status)


def make_run(n, every=10, **kw):
    return [make_snap(i * every, seed=i, **kw) for i in range(n)]


def to_pixel(xy, size, view=VIEW, title=False):
    left, top, w, h = export.plot_box(size, view, title=title)
    xmin, xmax, ymin, ymax = view
    return (int(left + (xy[0] - xmin) / (xmax - xmin) * w),
            int(top + (ymax - xy[1]) / (ymax - ymin) * h))


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


@pytest.fixture(scope="module")
def trained():
    from gan_core.training import Trainer

    trainer = Trainer(TrainConfig(g_width=16, d_width=16, batch_size=64), record_every=10)
    trainer.step(60)
    return trainer


# ====================================================================== thinning
def test_thin_keeps_first_and_last_and_is_even():
    items = list(range(1000))
    kept = export.thin(items, 100)
    assert len(kept) == 100 and kept[0] == 0 and kept[-1] == 999
    assert len(set(kept)) == 100 and kept == sorted(kept)
    gaps = np.diff(kept)
    assert gaps.max() - gaps.min() <= 1
    assert export.thin(items[:7], 100) == items[:7]


# ====================================================================== HTML animation
def test_animation_figure_has_a_frame_per_snapshot_named_by_iteration():
    snaps = make_run(12)
    fig = export.animation_figure(snaps)
    assert len(fig.frames) == 12
    assert [f.name for f in fig.frames] == [str(s.iteration) for s in snaps]
    assert [f.layout.title.text for f in fig.frames] == [
        f"iteration {s.iteration:,} · nonsaturating" for s in snaps]
    slider = fig.layout.sliders[0]
    assert [list(step.args[0]) for step in slider.steps] == [[f.name] for f in fig.frames]
    assert [step.label for step in slider.steps] == [f"{s.iteration:,}" for s in snaps]


def test_animation_is_thinned_to_100_frames_keeping_first_and_last():
    snaps = make_run(250, grid=12)
    fig = export.animation_figure(snaps)
    assert len(fig.frames) == 100 == len(fig.layout.sliders[0].steps)
    assert fig.frames[0].name == "0" and fig.frames[-1].name == str(snaps[-1].iteration)


def test_animation_reuses_main_figure_and_redraws_heatmaps():
    snaps = make_run(5)
    fig = export.animation_figure(snaps)
    main = figures.main_figure(snaps[0])
    assert [t.meta for t in fig.data] == [t.meta for t in main.data]
    surface = next(t for t in fig.data if t.meta == "surface")
    assert surface.type == "heatmap" and surface.colorscale == main.data[0].colorscale
    play, pause = fig.layout.updatemenus[0].buttons
    assert play.method == "animate" and play.args[0] is None
    assert play.args[1]["frame"]["redraw"] is True
    assert list(pause.args[0]) == [None]
    assert all(step.args[1]["frame"]["redraw"] is True for step in fig.layout.sliders[0].steps)


def test_animation_frames_update_every_trace_but_the_fixed_real_samples():
    fixed_real = np.random.default_rng(1).normal(size=(50, 2))
    snaps = [make_snap(i, real=fixed_real, seed=i) for i in range(4)]
    fig = export.animation_figure(snaps)
    metas = [t.meta for t in fig.data]
    for frame in fig.frames:
        assert [metas[i] for i in frame.traces] == [m for m in metas if m != "real"]
        assert [t.meta for t in frame.data] == [metas[i] for i in frame.traces]
    moving = export.animation_figure(make_run(4))          # real samples change: in frames
    assert "real" in [moving.data[i].meta for i in moving.frames[0].traces]


def test_frames_without_a_boundary_still_carry_a_contour_trace():
    flat = make_snap(0, surface=np.full((40, 40), 0.1))    # never crosses 0.5: no contour
    assert "contour" not in [t.meta for t in figures.main_figure(flat).data]
    fig = export.animation_figure([flat, make_snap(10)])
    assert [t.meta for t in fig.data] == [t.meta for t in figures.main_figure(make_snap()).data]
    for frame in fig.frames:
        assert "contour" in [t.meta for t in frame.data]


def test_status_box_is_shown_only_in_the_frames_that_have_a_status():
    snaps = make_run(3) + [make_snap(30, status="diverged at iteration 31")]
    fig = export.animation_figure(snaps)
    shown = [[a.visible for a in f.layout.annotations] for f in fig.frames]
    assert shown == [[False], [False], [False], [True]]
    assert fig.frames[-1].layout.annotations[0].text == "<b>diverged at iteration 31</b>"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.title, self._in = [], [], "", None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "title":
            self.title += data


def _embedded_frames(page: str) -> list:
    start = re.search(r'Plotly\.addFrames\(\s*[\'"]gan-animation[\'"],\s*', page)
    assert start, "no Plotly.addFrames call in the page"
    frames, _ = json.JSONDecoder().raw_decode(page, start.end())
    return frames


def test_html_is_self_contained_and_holds_every_frame():
    snaps = make_run(15)
    page = export.html_animation(snaps, title="Ring <demo>")
    parser = _Page()
    parser.feed(page)
    assert parser.title == "Ring <demo>"                  # escaped in, unescaped out
    srcs = [attrs.get("src") for tag, attrs in parser.tags if tag == "script"]
    assert not any(srcs), "plotly.js must be inlined, not loaded from a URL"
    assert any(len(s) > 1_000_000 for s in parser.scripts)    # plotly.js itself
    assert any(tag == "div" and attrs.get("id") == "gan-animation"
               for tag, attrs in parser.tags)
    frames = _embedded_frames(page)
    assert [f["name"] for f in frames] == [str(s.iteration) for s in snaps]
    assert '"sliders"' in page and '"updatemenus"' in page


def test_html_from_real_training_records(trained):
    page = export.html_animation(trained.records)
    frames = _embedded_frames(page)
    assert [f["name"] for f in frames] == [str(s.iteration) for s in trained.records]
    assert len(frames) == 7


def test_nothing_to_export_is_a_value_error():
    with pytest.raises(ValueError, match="nothing to export"):
        export.html_animation([])
    with pytest.raises(ValueError, match="nothing to export"):
        export.gif_animation([])


# ====================================================================== PNG
def test_png_opens_at_the_requested_size():
    for size in ((800, 800), (640, 360), (300, 500)):
        image = open_png(export.render_png(make_snap(), size=size))
        assert image.size == size


def test_real_samples_are_drawn_green_where_they_are():
    snap = make_snap(real=np.tile([1.0, 1.2], (30, 1)), fake=np.zeros((0, 2)),
                     push=np.zeros((0, 2)))
    image = np.asarray(open_png(export.render_png(snap)), dtype=int)
    x, y = to_pixel((1.0, 1.2), (800, 800))
    r, g, b = image[y, x]
    assert g > r + 40 and g > b + 40, (r, g, b)
    expected = 0.75 * hex_rgb(figures.REAL_COLOR) + 0.25 * hex_rgb("#5aae61")
    assert np.abs(image[y, x] - expected).max() <= 12


def test_surface_uses_the_figures_colour_scale():
    scale = dict((p, c) for p, c in figures.SURFACE_COLORSCALE)
    image = np.asarray(open_png(export.render_png(make_snap(), layers=("surface",))), int)
    for (x, y), expected in (((1.6, 0.0), scale[1.0]), ((-1.6, -1.0), scale[0.0])):
        px, py = to_pixel((x, y), (800, 800))
        assert np.abs(image[py, px] - hex_rgb(expected)).max() <= 3, (x, y, image[py, px])
    # a value halfway between two stops is their mix
    assert export.surface_color(0.625, 0, 1) == tuple(
        int(round(v)) for v in (hex_rgb(scale[0.5]) + hex_rgb(scale[0.75])) / 2)


def test_critic_surface_is_centred_on_its_decision_level():
    snap = make_snap(kind="critic")                       # critic = 6x: 0 on the y axis
    image = np.asarray(open_png(export.render_png(snap, layers=("surface",))), int)
    px, py = to_pixel((0.0, 0.7), (800, 800))
    assert np.abs(image[py, px] - hex_rgb("#f7f7f7")).max() <= 12
    lo, hi = figures.surface_range(snap)
    assert lo == -hi                                      # symmetric around 0
    for x in (-1.5, 0.6, 1.9):
        px, py = to_pixel((x, 0.0), (800, 800))
        _, _, w, _ = export.plot_box((800, 800), VIEW)
        centre = VIEW[0] + (px - export.plot_box((800, 800), VIEW)[0] + 0.5) / w * 4.0
        expected = export.surface_color(6.0 * centre, lo, hi)
        assert np.abs(image[py, px] - expected).max() <= 3, (x, image[py, px], expected)


def test_y_axis_points_up():
    """A sample near the top-left corner of the view box is drawn near the top-left of the
    image (a y-flip bug would draw it in the bottom half)."""
    snap = make_snap(real=[[-1.5, 1.5]], fake=np.zeros((0, 2)), push=np.zeros((0, 2)))
    image = np.asarray(open_png(export.render_png(snap, layers=("real",))), int)
    green = np.argwhere((image[:, :, 1] > image[:, :, 0] + 40)
                        & (image[:, :, 1] > image[:, :, 2] + 40))
    assert len(green)
    # only the dot is green here (the legend's dot too, at the very bottom: leave it out)
    dot = green[green[:, 0] < 700]
    assert dot[:, 0].mean() < 400 and dot[:, 1].mean() < 400
    assert np.allclose(dot.mean(axis=0), to_pixel((-1.5, 1.5), (800, 800))[::-1], atol=3)


def test_surface_is_not_flipped_either():
    gy = np.linspace(-2, 2, 40)
    surface = np.tile((gy > 0).astype(float)[:, None], (1, 40))   # real above y = 0
    snap = make_snap(surface=surface)
    image = np.asarray(open_png(export.render_png(snap, layers=("surface",))), int)
    top = image[to_pixel((0, 1.5), (800, 800))[::-1]]
    bottom = image[to_pixel((0, -1.5), (800, 800))[::-1]]
    assert np.abs(top - hex_rgb("#5aae61")).max() <= 3
    assert np.abs(bottom - hex_rgb("#9970ab")).max() <= 3


def test_boundary_is_drawn_where_the_surface_crosses_its_level():
    image = np.asarray(open_png(export.render_png(make_snap(), layers=("contour",))), int)
    left, _, w, _ = export.plot_box((800, 800), VIEW)
    row = image[to_pixel((0, 0.5), (800, 800))[1], left + 5:left + w - 5]   # not the frame
    x0 = to_pixel((0.0, 0.5), (800, 800))[0] - left - 5
    dark = np.flatnonzero(row.sum(axis=1) < 300)
    assert len(dark) and np.all(np.abs(dark - x0) <= 3), (dark, x0)


def test_status_is_drawn_in_red_and_push_arrows_in_orange():
    def count(image, color):
        return int((np.abs(image - hex_rgb(color)).max(axis=2) <= 10).sum())

    healthy = np.asarray(open_png(export.render_png(make_snap())), int)
    broken = np.asarray(open_png(export.render_png(
        make_snap(status="diverged at iteration 812"))), int)
    assert count(broken, figures.STATUS_COLOR) > 200
    assert count(healthy, figures.STATUS_COLOR) == 0
    assert count(healthy, figures.PUSH_COLOR) > 200
    no_push = np.asarray(open_png(export.render_png(
        make_snap(), layers=("surface", "real", "fake"))), int)
    assert count(no_push, figures.PUSH_COLOR) == 0


def test_non_square_view_keeps_its_aspect_and_nan_surfaces_draw():
    view = (-2.0, 3.0, -1.0, 1.5)
    left, top, w, h = export.plot_box((800, 800), view)
    assert abs(w / h - 2.0) < 0.02
    surface = np.full((40, 40), np.nan)
    surface[:, :20] = 0.9
    image = open_png(export.render_png(make_snap(view=view, surface=surface)))
    assert image.size == (800, 800)


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="unknown layers"):
        export.render_png(make_snap(), layers=("surface", "heat"))


def test_png_of_a_trained_snapshot(trained):
    snap = trained.snapshot()
    image = open_png(export.render_png(snap, size=(480, 480), title="ring"))
    assert image.size == (480, 480)
    assert len(image.getcolors(1 << 20)) > 100            # a real picture, not a blank


# ====================================================================== GIF
def open_gif(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF"
    return image


def test_gif_has_a_frame_per_snapshot_loops_and_keeps_its_size():
    snaps = make_run(8)
    image = open_gif(export.gif_animation(snaps, size=(240, 200), fps=5))
    assert image.n_frames == 8
    assert image.info["loop"] == 0                       # forever
    assert image.info["duration"] == 200                 # 5 fps
    assert image.mode == "P"                             # palette-quantised
    sizes = set()
    for i in range(image.n_frames):
        image.seek(i)
        sizes.add(image.size)
    assert sizes == {(240, 200)}
    assert image.info["duration"] == 1500                # the last frame holds


def test_gif_is_thinned_to_150_frames():
    snaps = make_run(170, grid=8, manifold=False)
    image = open_gif(export.gif_animation(snaps, size=(96, 96), layers=("surface", "fake")))
    assert image.n_frames == 150


def test_gif_frames_keep_the_figure_colours(trained):
    image = open_gif(export.gif_animation(trained.records, size=(320, 320)))
    assert image.n_frames == len(trained.records)
    image.seek(image.n_frames - 1)
    rgb = np.asarray(image.convert("RGB"), int)
    palette = {tuple(c) for c in rgb.reshape(-1, 3)}
    for color in (figures.REAL_COLOR, figures.FAKE_COLOR, figures.PUSH_COLOR):
        assert tuple(hex_rgb(color)) in palette


def test_export_bytes_dispatches_by_format():
    snaps = make_run(3)
    assert export.export_bytes("html", snaps).startswith(b"<!DOCTYPE html>")
    assert export.export_bytes("gif", snaps, size=(96, 96))[:6] == b"GIF89a"
    assert open_png(export.export_bytes("png", snaps, size=(200, 200))).size == (200, 200)
    with pytest.raises(ValueError, match="unknown export format"):
        export.export_bytes("mp4", snaps)


# ====================================================================== CLI


def test_cli_export_html_gif_png_from_a_config(tmp_path, capsys):
    for name in ("run.html", "run.gif", "run.png"):
        out = tmp_path / name
        code, stdout, err = run_main(capsys, "export", "--steps", "10", *FAST,
                                     "--size", "160", "--out", str(out))
        assert code == 0, err
        assert f"wrote {out}" in stdout
    assert len(_embedded_frames((tmp_path / "run.html").read_text())) == 11
    gif = open_gif((tmp_path / "run.gif").read_bytes())
    assert gif.n_frames == 11 and gif.size == (160, 160) and gif.info["loop"] == 0
    assert open_png((tmp_path / "run.png").read_bytes()).size == (160, 160)


def test_cli_format_flag_beats_the_suffix_and_records_round_trip(tmp_path, capsys):
    record = tmp_path / "run.zip"
    code, _, err = run_main(capsys, "export", "--steps", "10", *FAST, "--out", str(record))
    assert code == 0, err
    out = tmp_path / "frame.img"
    code, stdout, err = run_main(capsys, "export", "--record", str(record), "--format", "png",
                                 "--size", "200x120", "--out", str(out))
    assert code == 0, err
    assert open_png(out.read_bytes()).size == (200, 120)
    assert "run record" in stdout


def test_cli_errors_exit_2_with_one_line(tmp_path, capsys):
    cases = [
        (["--out", str(tmp_path / "run.txt")], "cannot tell the format"),
        (["--out", str(tmp_path / "run.png"), "--format", "jpeg"], "unknown format"),
        (["--out", str(tmp_path / "missing" / "run.png")], "does not exist"),
        (["--out", str(tmp_path), "--format", "png"], "is a directory"),
        (["--out", str(tmp_path / "a.png"), "--layers", "surface,heat"], "layers"),
        (["--out", str(tmp_path / "a.png"), "--size", "10"], "size"),
        (["--out", str(tmp_path / "a.png"), "--variant", "x"], "--variant needs --scenario"),
        (["--out", str(tmp_path / "a.png"), "--record", str(tmp_path / "none.zip")],
         "no run record"),
        (["--out", str(tmp_path / "a.png"), "--record", "r.zip", "--steps", "5"],
         "do not apply"),
        (["--out", str(tmp_path / "a.png"), "--scenario", "no-such-scenario"], "scenario"),
    ]
    for args, message in cases:
        code, _, err = run_main(capsys, "export", *args)
        assert code == 2, (args, err)
        assert message in err and "Traceback" not in err, (args, err)
        assert err.startswith("error: ")


@pytest.fixture
def fake_scenarios(monkeypatch):
    """A stand-in for gan_core.scenarios with the agreed API: get(name), configs(scenario)."""
    base = TrainConfig(g_width=16, d_width=16, batch_size=64)
    scenario = types.SimpleNamespace(
        name="ring-collapse", title="Mode collapse on a ring", base=base,
        variants=(("minimax", {"loss": "minimax"}), ("wgan-gp", {"loss": "wgan-gp"})),
        steps=10)
    module = types.ModuleType("gan_core.scenarios")

    def get(name):
        if name != scenario.name:
            raise KeyError(name)
        return scenario

    module.get = get
    module.configs = lambda s: [(label, s.base.replace(**o)) for label, o in s.variants]
    module.SCENARIOS = {scenario.name: scenario}
    monkeypatch.setitem(sys.modules, "gan_core.scenarios", module)
    return scenario


def test_cli_scenario_exports_its_first_variant_unless_told(tmp_path, capsys, fake_scenarios):
    out = tmp_path / "s.html"
    code, stdout, err = run_main(capsys, "export", "--scenario", "ring-collapse",
                                 "--out", str(out), "--quiet")
    assert code == 0, err
    page = out.read_text()
    assert "Mode collapse on a ring · minimax" in page and "(minimax)" in stdout
    assert len(_embedded_frames(page)) == 11                 # the scenario's 10 steps
    code, stdout, err = run_main(capsys, "export", "--scenario", "ring-collapse", "--variant",
                                 "wgan-gp", "--steps", "4", "--out", str(tmp_path / "s.png"))
    assert code == 0, err
    assert "(wgan-gp)" in stdout and "4 iterations" in stdout


def test_cli_scenario_errors_list_the_choices(tmp_path, capsys, fake_scenarios):
    code, _, err = run_main(capsys, "export", "--scenario", "ring-collapse", "--variant", "x",
                            "--out", str(tmp_path / "s.png"))
    assert code == 2 and "'minimax'" in err and "'wgan-gp'" in err
    code, _, err = run_main(capsys, "export", "--scenario", "nope", "--out",
                            str(tmp_path / "s.png"))
    assert code == 2 and "unknown scenario 'nope'" in err and "ring-collapse" in err


def test_gan_core_cli_imports_without_plotly():
    """The engine never needs plotly: the export command imports the drawing lazily."""
    code = ("import sys; sys.modules['plotly'] = None; sys.modules['PIL'] = None\n"
            "from gan_cli import main as cli\n"
            "assert 'export' in cli.COMMANDS; assert 'gan_draw.export' not in sys.modules\n"
            "sys.exit(cli.main(['export', '--out', 'x.png']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "needs plotly and pillow" in result.stderr and "Traceback" not in result.stderr
