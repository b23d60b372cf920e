"""Export a run for a lecture: a self-contained HTML animation, an animated GIF, a PNG frame.

No Streamlit and no torch: Snapshots (plain NumPy arrays) in, bytes or a string out.

* `animation_figure` / `html_animation`: plotly `frames` built from `figures.main_figure` for
  each snapshot, with a play/pause button and a slider over iterations; the HTML inlines
  plotly.js, so it opens in any browser without a server or a network.
* `render_image` / `render_png` / `gif_animation`: a raster renderer drawn straight from the
  Snapshot arrays with Pillow (no browser, no kaleido), in the figures' colours: D's surface,
  its decision boundary, real (green) and generated (purple) samples, G's push arrows, the
  warped latent grid, a title "iteration N · loss" and the status in red. The y axis points up.
"""
from __future__ import annotations

import functools
import html
import io
from typing import TYPE_CHECKING, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from gan_core.snapshot import WASSERSTEIN_LOSSES

from . import figures
from .figures import LAYERS

if TYPE_CHECKING:
    from gan_core.snapshot import Snapshot

MAX_HTML_FRAMES = 100     # every frame goes to the browser in one page
MAX_GIF_FRAMES = 150
SUPERSAMPLE = 2           # vector layers are drawn at 2x and reduced: smooth dots and lines
HOLD_LAST_S = 1.5         # a GIF rests on its last frame before looping (slides)
# format -> (MIME type, file suffix); "record" is gan_core.records' run record
FORMATS = {"html": ("text/html", ".html"), "gif": ("image/gif", ".gif"),
           "png": ("image/png", ".png"), "record": ("application/zip", ".zip")}
NAN_COLOR = (200, 200, 200)
BORDER_COLOR = (68, 68, 68)
TEXT_COLOR = (34, 34, 34)
POINT_ALPHA = 0.75        # figures draw samples at opacity 0.7
MANIFOLD_RGBA = (70, 70, 70, 115)


def thin(items: Sequence, limit: int) -> list:
    """At most `limit` items, evenly spaced, always keeping the first and the last."""
    items = list(items)
    if limit < 1:
        raise ValueError("limit: must be at least 1")
    if len(items) <= limit:
        return items
    if limit == 1:
        return [items[-1]]
    idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in idx]


def _check(snapshots) -> list:
    snapshots = list(snapshots)
    if not snapshots:
        raise ValueError("nothing to export: the run has no snapshots")
    return snapshots


def frame_title(snap: "Snapshot") -> str:
    """The same title as figures.main_figure: "iteration 1,200 · nonsaturating · partial"."""
    return figures.frame_title(snap)


# ============================================================== HTML animation (plotly frames)
CONTROLS_PX = 120         # room under the plot (and its legend) for the play button and slider


def animation_figure(snapshots: Sequence["Snapshot"], layers=LAYERS, *,
                     max_frames: int = MAX_HTML_FRAMES, fps: float = 10,
                     height: int = 680) -> go.Figure:
    """One plotly figure that replays `snapshots` (thinned to `max_frames`) in the browser.

    Each frame's traces and title are figures.main_figure's for its snapshot; frame names are
    the iterations (as strings), and the slider has one step per frame. Layers that some
    snapshots lack (a boundary that does not cross the surface yet) get a trace that draws
    nothing in those frames, so every frame updates the same traces. The real samples are
    left out of the frames when they never change (the run's fixed view batch).
    """
    if fps <= 0:
        raise ValueError("fps: must be > 0")
    snaps = thin(_check(snapshots), max_frames)
    figs = [figures.main_figure(s, layers, height=height) for s in snaps]
    traces = [{t["meta"]: t.to_plotly_json() for t in fig.data} for fig in figs]
    order = _merged_order([list(t) for t in traces])     # main_figure's drawing order
    templates = {m: next(t[m] for t in traces if m in t) for m in order}
    aligned = [[t.get(m) or _blank(templates[m], snap) for m in order]
               for t, snap in zip(traces, snaps)]

    static = {"real"} if _same_real(snaps) else set()
    animated = [i for i, m in enumerate(order) if m not in static]
    names = _frame_names(snaps)
    # The status box (one annotation) is hidden, not removed, in healthy frames: an animated
    # layout merges into the current one, so an empty list would leave the box up.
    notes = [[dict(a.to_plotly_json(), visible=True) for a in fig.layout.annotations]
             for fig in figs]
    box = next((n[0] for n in notes if n), None)
    notes = [n or ([dict(box, visible=False)] if box else []) for n in notes]
    frames = [go.Frame(name=name, data=[data[i] for i in animated], traces=animated,
                       layout={"title": {"text": fig.layout.title.text}, "annotations": note})
              for fig, data, name, note in zip(figs, aligned, names, notes)]

    layout = figs[0].layout.to_plotly_json()
    layout["annotations"] = notes[0]
    layout["height"] = height + CONTROLS_PX
    layout["margin"] = dict(layout["margin"], b=layout["margin"]["b"] + CONTROLS_PX)
    frame_ms = max(int(round(1000 / fps)), 20)
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0),
                fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0),
                 mode="immediate")
    controls_y = dict(y=0, yanchor="top")       # paper y=0 is the plot's bottom edge
    layout["updatemenus"] = [dict(
        type="buttons", direction="left", showactive=False, x=0, xanchor="left",
        pad=dict(t=CONTROLS_PX - 30, r=10), font=dict(size=14), **controls_y,
        buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                 dict(label="❚❚ pause", method="animate", args=[[None], pause])])]
    layout["sliders"] = [dict(
        active=0, x=0.2, len=0.8, xanchor="left", pad=dict(t=CONTROLS_PX - 45),
        currentvalue=dict(prefix="iteration ", font=dict(size=14), xanchor="right"),
        font=dict(size=12), **controls_y,
        steps=[dict(label=f"{s.iteration:,}", method="animate",
                    args=[[name], dict(pause, frame=dict(duration=0, redraw=True))])
               for s, name in zip(snaps, names)])]
    return go.Figure(data=aligned[0], layout=layout, frames=frames)


def _merged_order(orders: list[list[str]]) -> list[str]:
    """All layers of all frames, each one after the layers it follows in some frame."""
    merged: list[str] = []
    for order in sorted(orders, key=len, reverse=True):
        for i, layer in enumerate(order):
            if layer not in merged:
                before = [m for m in order[:i] if m in merged]
                merged.insert(merged.index(before[-1]) + 1 if before else 0, layer)
    return merged


def _blank(template: dict, snap: "Snapshot") -> dict:
    """A trace of `template`'s layer that draws nothing for this snapshot."""
    trace = dict(template)
    if trace.get("type") == "contour":    # this surface, at a level it does not cross
        trace.update(x=snap.grid_x, y=snap.grid_y,
                     z=np.asarray(snap.surface, dtype=figures.WIRE_DTYPE))
    else:
        trace.update(x=np.empty(0, figures.WIRE_DTYPE), y=np.empty(0, figures.WIRE_DTYPE))
    return trace


def _same_real(snaps) -> bool:
    first = np.asarray(snaps[0].real)
    return all(np.array_equal(first, np.asarray(s.real)) for s in snaps[1:])


def _frame_names(snaps) -> list[str]:
    """The iteration of each frame; a repeated iteration (a resumed run) gets a suffix."""
    names, seen = [], {}
    for s in snaps:
        name = str(int(s.iteration))
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return names


def html_animation(snapshots: Sequence["Snapshot"], layers=LAYERS, title: str | None = None,
                   *, max_frames: int = MAX_HTML_FRAMES, fps: float = 10,
                   height: int = 680) -> str:
    """A self-contained HTML page (plotly.js inlined, no server, no network) replaying the run."""
    snaps = _check(snapshots)
    fig = animation_figure(snaps, layers, max_frames=max_frames, fps=fps, height=height)
    div = fig.to_html(full_html=False, include_plotlyjs=True, auto_play=False,
                      div_id="gan-animation",
                      config=dict(displaylogo=False, responsive=True, scrollZoom=False))
    heading = title or "GAN training replay"
    last = snaps[-1]
    caption = (f"{len(fig.frames)} frames, iterations {snaps[0].iteration:,} to "
               f"{last.iteration:,}" + (f" · {last.loss} loss" if last.loss else "")
               + (f" · {last.status}" if last.status else "")
               + ". Press ▶ play, or drag the slider.")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(heading)}</title>
<style>
  body {{ font-family: Arial, Helvetica, sans-serif; color: #222; margin: 0 auto;
         max-width: 1000px; padding: 12px 18px; }}
  h1 {{ font-size: 24px; margin: 6px 0 2px; }}
  p.caption {{ color: #555; margin: 0 0 6px; font-size: 15px; }}
</style>
</head>
<body>
<h1>{html.escape(heading)}</h1>
<p class="caption">{html.escape(caption)}</p>
{div}
</body>
</html>
"""


# ============================================================== raster renderer (Pillow)
def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


@functools.lru_cache(maxsize=1)
def _lut() -> np.ndarray:
    """figures.SURFACE_COLORSCALE sampled at 256 points: (256, 3) uint8."""
    stops = np.array([p for p, _ in figures.SURFACE_COLORSCALE], dtype=float)
    colors = np.array([_rgb(c) for _, c in figures.SURFACE_COLORSCALE], dtype=float)
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, stops, colors[:, k]) for k in range(3)], 1).round().astype(
        np.uint8)


def surface_color(value: float, zmin: float, zmax: float) -> tuple[int, int, int]:
    """The colour a surface value gets (the colour scale interpolated over [zmin, zmax])."""
    t = np.clip((value - zmin) / (zmax - zmin), 0.0, 1.0)
    return tuple(int(c) for c in _lut()[int(round(t * 255))])


@functools.lru_cache(maxsize=32)
def _font(size: int, bold: bool = False):
    """Liberation Sans (Arial's metrics, as the figures ask for), else Pillow's own font."""
    names = (("LiberationSans-Bold.ttf", "Arial Bold.ttf", "DejaVuSans-Bold.ttf") if bold
             else ("LiberationSans-Regular.ttf", "Arial.ttf", "DejaVuSans.ttf"))
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _interp_surface(snap, width: int, height: int, box) -> np.ndarray:
    """D's surface bilinearly resampled at the centres of a width x height pixel grid over
    `box`, row 0 at the top (largest y): float32 (height, width)."""
    xmin, xmax, ymin, ymax = box
    z = np.asarray(snap.surface, dtype=np.float32)
    gx = np.asarray(snap.grid_x, dtype=float).ravel()
    gy = np.asarray(snap.grid_y, dtype=float).ravel()
    if gx[0] > gx[-1]:
        gx, z = gx[::-1], z[:, ::-1]
    if gy[0] > gy[-1]:
        gy, z = gy[::-1], z[::-1]
    if (gx.size >= 2 and gy.size >= 2 and _uniform(gx) and _uniform(gy)
            and np.isfinite(z).all()):
        # Pillow's C resampler: the box puts the first/last samples' centres at the grid ends
        fx = [(v - gx[0]) / (gx[-1] - gx[0]) * (gx.size - 1) + 0.5 for v in (xmin, xmax)]
        fy = [(v - gy[0]) / (gy[-1] - gy[0]) * (gy.size - 1) + 0.5 for v in (ymin, ymax)]
        flipped = Image.fromarray(np.ascontiguousarray(z[::-1]), "F")   # row 0 = top
        rows = gy.size
        out = flipped.resize((width, height), Image.Resampling.BILINEAR,
                             box=(fx[0], rows - fy[1], fx[1], rows - fy[0]))
        return np.asarray(out, dtype=np.float32)
    px = xmin + (np.arange(width) + 0.5) / width * (xmax - xmin)
    py = ymax - (np.arange(height) + 0.5) / height * (ymax - ymin)      # y up: row 0 on top
    fx = np.interp(px, gx, np.arange(gx.size, dtype=float))
    fy = np.interp(py, gy, np.arange(gy.size, dtype=float))
    j0 = np.clip(np.floor(fx).astype(int), 0, max(gx.size - 2, 0))
    i0 = np.clip(np.floor(fy).astype(int), 0, max(gy.size - 2, 0))
    j1, i1 = np.minimum(j0 + 1, gx.size - 1), np.minimum(i0 + 1, gy.size - 1)
    tx, ty = (fx - j0)[None, :], (fy - i0)[:, None]
    rows = z[i0] * (1 - ty) + z[i1] * ty                              # (height, nx)
    return (rows[:, j0] * (1 - tx) + rows[:, j1] * tx).astype(np.float32)


def _uniform(g: np.ndarray) -> bool:
    step = np.diff(g)
    return bool(step.size and (step > 0).all() and np.ptp(step) <= 1e-4 * abs(step.mean()))


def _surface_rgb(values: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    finite = np.isfinite(values)
    t = (np.where(finite, values, zmin) - zmin) * (255.0 / (zmax - zmin)) + 0.5
    rgb = _lut()[np.clip(t, 0, 255.49).astype(np.uint8)]
    rgb[~finite] = NAN_COLOR
    return rgb


def _boundary_alpha(values: np.ndarray, level: float, width: float) -> np.ndarray:
    """Coverage (0..1) of an anti-aliased line `width` pixels wide where the surface crosses
    `level`: the distance to the crossing is about |z - level| / |grad z| pixels."""
    gy, gx = np.gradient(values)
    slope = np.hypot(gx, gy)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.abs(values - level) / slope
    alpha = np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)
    alpha[~np.isfinite(alpha)] = 0.0
    return alpha


def _layout(size, box, heading: bool, legend: bool) -> dict:
    """Pixel layout: header band (title lines), the plot rectangle (view box aspect), legend."""
    w, h = size
    k = min(w, h) / 800
    title_px = max(14, round(27 * k))
    sub_px = max(12, round(21 * k))
    legend_px = max(11, round(17 * k))
    pad = max(6, round(14 * k))
    top = pad + title_px + (round(1.35 * sub_px) if heading else 0) + pad
    bottom = (pad + round(1.3 * legend_px) + pad) if legend else pad
    avail_w, avail_h = max(w - 2 * pad, 10), max(h - top - bottom, 10)
    xmin, xmax, ymin, ymax = box
    aspect = (xmax - xmin) / (ymax - ymin)
    plot_w, plot_h = avail_w, int(round(avail_w / aspect))
    if plot_h > avail_h:
        plot_w, plot_h = int(round(avail_h * aspect)), avail_h
    left = (w - plot_w) // 2
    return dict(k=k, title_px=title_px, sub_px=sub_px, legend_px=legend_px, pad=pad, top=top,
                left=left, plot_w=max(plot_w, 1), plot_h=max(plot_h, 1),
                legend_y=top + plot_h + pad)


def plot_box(size=(800, 800), view_box=(-1.0, 1.0, -1.0, 1.0), *, title: bool = False,
             legend: bool = True) -> tuple[int, int, int, int]:
    """(left, top, width, height) in pixels of the plot area render_image draws for a
    `view_box` at `size`: (xmin, ymax) is at its top-left corner, (xmax, ymin) bottom-right."""
    lay = _layout(tuple(int(v) for v in size), tuple(float(v) for v in view_box), title, legend)
    return lay["left"], lay["top"], lay["plot_w"], lay["plot_h"]


def render_image(snap: "Snapshot", size=(800, 800), layers=LAYERS, *, title: str | None = None,
                 zmin=None, zmax=None, legend: bool = True) -> Image.Image:
    """`snap` drawn as an RGB image of `size` (width, height) pixels.

    The surface uses figures.SURFACE_COLORSCALE over figures.surface_range (a probability on
    [0, 1], a critic/score symmetric around snap.decision_level); `title`, if given, is a
    heading above the usual "iteration N · loss" line.
    """
    layers = set(layers)
    unknown = layers - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; choose from {LAYERS}")
    w, h = (int(v) for v in size)
    if w < 64 or h < 64:
        raise ValueError(f"size: at least 64 x 64 pixels, not {w} x {h}")
    box = tuple(float(v) for v in snap.view_box)
    xmin, xmax, ymin, ymax = box
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"view box {box}: empty")
    lay = _layout((w, h), box, bool(title), legend)
    pw, ph, s = lay["plot_w"], lay["plot_h"], SUPERSAMPLE
    k2 = lay["k"] * s                              # drawing scale at the supersampled size

    # --- the plot: surface and boundary at 1x, upscaled; vector layers drawn at 2x, reduced
    values = None
    if "surface" in layers or "contour" in layers:
        values = _interp_surface(snap, pw, ph, box)
    if "surface" in layers:
        lo, hi = figures.surface_range(snap, zmin, zmax)
        rgb = _surface_rgb(values, lo, hi)
    else:
        rgb = np.full((ph, pw, 3), 255, np.uint8)
    if "contour" in layers and values is not None:
        a = _boundary_alpha(values, snap.decision_level, max(1.5, 2.2 * lay["k"]))[..., None]
        a *= 0.85
        ink = np.array(_rgb(figures.CONTOUR_COLOR), np.float32)
        rgb = (rgb * (1 - a) + ink * a + 0.5).astype(np.uint8)
    plot = Image.fromarray(rgb, "RGB")
    if s > 1:
        plot = plot.resize((pw * s, ph * s), Image.Resampling.BILINEAR)
    plot = plot.convert("RGBA")

    def to_px(xy):
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return np.stack([(xy[:, 0] - xmin) / (xmax - xmin) * pw * s,
                         (ymax - xy[:, 1]) / (ymax - ymin) * ph * s], 1)

    overlay = Image.new("RGBA", plot.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    if "manifold" in layers and snap.manifold is not None:
        lx, ly = figures.manifold_lines(snap.manifold)
        width = max(1, round(1.2 * k2))
        for piece in _pieces(to_px(np.stack([lx, ly], 1))):
            draw.line([tuple(p) for p in piece], fill=MANIFOLD_RGBA, width=width, joint="curve")
    plot.alpha_composite(overlay)

    dots = Image.new("RGBA", plot.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(dots)
    radius = max(1.6 * s, 3.2 * k2)
    for layer, points, color in (("real", snap.real, figures.REAL_COLOR),
                                 ("fake", snap.fake, figures.FAKE_COLOR)):
        if layer in layers and points is not None:
            fill = (*_rgb(color), round(255 * POINT_ALPHA))
            for x, y in to_px(points):
                if np.isfinite(x) and np.isfinite(y):
                    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
    plot.alpha_composite(dots)

    if "push" in layers and snap.fake is not None and snap.push is not None:
        draw = ImageDraw.Draw(plot)
        ax, ay = figures.push_arrows(snap.fake, snap.push, xmax - xmin)
        arrows = to_px(np.stack([ax, ay], 1)).reshape(-1, figures.ARROW_POINTS, 2)
        color, width = _rgb(figures.PUSH_COLOR), max(2, round(1.7 * k2))
        for tail, tip, c1, c2, *_ in arrows:
            draw.line([tuple(tail), tuple(tip)], fill=color, width=width)
            draw.polygon([tuple(c1), tuple(tip), tuple(c2)], fill=color)

    plot = plot.convert("RGB").reduce(s) if s > 1 else plot.convert("RGB")

    # --- the page: plot, frame, header, status, legend
    image = Image.new("RGB", (w, h), "white")
    left, top = lay["left"], lay["top"]
    image.paste(plot, (left, top))
    draw = ImageDraw.Draw(image)
    draw.rectangle((left - 1, top - 1, left + pw, top + ph), outline=BORDER_COLOR,
                   width=max(1, round(1.5 * lay["k"])))
    y = lay["pad"]
    if title:
        draw.text((w / 2, y), title, font=_font(lay["title_px"], bold=True), fill=TEXT_COLOR,
                  anchor="mt")
        y += round(1.2 * lay["title_px"])
        draw.text((w / 2, y), frame_title(snap), font=_font(lay["sub_px"]), fill=TEXT_COLOR,
                  anchor="mt")
    else:
        draw.text((w / 2, y), frame_title(snap), font=_font(lay["title_px"], bold=True),
                  fill=TEXT_COLOR, anchor="mt")
    if snap.status:
        _status_box(draw, snap.status, left + pw / 2, top + lay["pad"], lay, w)
    if legend:
        _legend(draw, snap, layers, lay, w)
    return image


def _pieces(points: np.ndarray):
    """Split a NaN-separated polyline into its finite runs of at least two points."""
    finite = np.isfinite(points).all(axis=1)
    start = None
    for i, ok in enumerate(np.append(finite, False)):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start >= 2:
                yield points[start:i]
            start = None


def _status_box(draw, text, cx, y, lay, w) -> None:
    font = _font(lay["sub_px"], bold=True)
    x0, y0, x1, y1 = draw.textbbox((cx, y), text, font=font, anchor="mt")
    pad = max(4, round(8 * lay["k"]))
    draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), fill=(255, 255, 255),
                   outline=_rgb(figures.STATUS_COLOR), width=max(2, round(2 * lay["k"])))
    draw.text((cx, y), text, font=font, fill=_rgb(figures.STATUS_COLOR), anchor="mt")


def _legend(draw, snap, layers, lay, w) -> None:
    """One centred row: what the colours, dots, arrows and the boundary line mean."""
    font = _font(lay["legend_px"])
    size = lay["legend_px"]
    items = []
    if "surface" in layers:
        items.append(("key", "D says fake … real" if snap.surface_kind == "probability"
                      else "critic low … high" if snap.surface_kind == "critic"
                      else "score low … high"))
    if "real" in layers:
        items.append(("dot:" + figures.REAL_COLOR, "real"))
    if "fake" in layers:
        items.append(("dot:" + figures.FAKE_COLOR, "generated"))
    if "push" in layers:
        items.append(("arrow", "G push"))
    if "contour" in layers:
        items.append(("line", "critic halfway" if snap.loss in WASSERSTEIN_LOSSES
                          else f"D = {snap.decision_level:g}"))
    gap, sym = round(1.1 * size), round(1.5 * size)
    widths = [(2.6 * sym if kind == "key" else sym) + 0.4 * size
              + draw.textlength(text, font=font) for kind, text in items]
    while items and sum(widths) + gap * (len(items) - 1) > w - 2 * lay["pad"]:
        items.pop(0), widths.pop(0)     # too narrow: drop the colour key first, then others
    x = (w - sum(widths) - gap * (len(items) - 1)) / 2
    cy = lay["legend_y"] + size * 0.65
    for (kind, text), width in zip(items, widths):
        r = size * 0.32
        if kind == "key":
            n = max(int(2.6 * sym), 2)
            for i in range(n):
                draw.line([(x + i, cy - r * 1.3), (x + i, cy + r * 1.3)],
                          fill=tuple(int(c) for c in _lut()[round(255 * i / (n - 1))]))
            draw.rectangle((x, cy - r * 1.3, x + n, cy + r * 1.3), outline=BORDER_COLOR)
            tx = x + n + 0.4 * size
        elif kind.startswith("dot:"):
            c = x + sym / 2
            draw.ellipse((c - r, cy - r, c + r, cy + r), fill=_rgb(kind[4:]))
            tx = x + sym + 0.4 * size
        elif kind == "arrow":
            color = _rgb(figures.PUSH_COLOR)
            lw = max(2, round(size / 8))
            draw.line([(x, cy), (x + sym - r, cy)], fill=color, width=lw)
            draw.polygon([(x + sym, cy), (x + sym - 1.6 * r, cy - r), (x + sym - 1.6 * r, cy + r)],
                         fill=color)
            tx = x + sym + 0.4 * size
        else:
            draw.line([(x, cy), (x + sym, cy)], fill=_rgb(figures.CONTOUR_COLOR),
                      width=max(2, round(size / 8)))
            tx = x + sym + 0.4 * size
        draw.text((tx, cy), text, font=font, fill=TEXT_COLOR, anchor="lm")
        x += width + gap


def render_png(snap: "Snapshot", size=(800, 800), layers=LAYERS, *, title: str | None = None,
               zmin=None, zmax=None) -> bytes:
    """`snap` as PNG bytes (see render_image)."""
    out = io.BytesIO()
    render_image(snap, size, layers, title=title, zmin=zmin, zmax=zmax).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def gif_animation(snapshots: Sequence["Snapshot"], size=(480, 480), fps: float = 10,
                  layers=LAYERS, *, title: str | None = None,
                  max_frames: int = MAX_GIF_FRAMES, hold_last: float = HOLD_LAST_S) -> bytes:
    """The run as an animated GIF that loops forever: at most `max_frames` frames (evenly
    thinned, first and last kept), all `size`, sharing one palette (no flicker between
    frames), each shown 1/fps seconds; the last one stays at least `hold_last` seconds."""
    if fps <= 0:
        raise ValueError("fps: must be > 0")
    snaps = thin(_check(snapshots), max_frames)
    frames = [render_image(s, size, layers, title=title) for s in snaps]
    palette = _shared_palette(frames)
    indexed = [_to_palette(f, palette) for f in frames]
    ms = max(int(round(1000 / fps)), 20)       # browsers slow down GIF delays under 20 ms
    durations = [ms] * len(indexed)
    durations[-1] = max(ms, int(round(1000 * hold_last)))
    out = io.BytesIO()
    indexed[0].save(out, format="GIF", save_all=True, append_images=indexed[1:], loop=0,
                    duration=durations if len(indexed) > 1 else durations[0], disposal=1)
    return out.getvalue()


def _shared_palette(frames: list[Image.Image]) -> np.ndarray:
    """One 256-colour palette for the whole GIF, (256, 3) uint8: the figure colours exactly,
    the surface colour scale at 128 points (no banding on any frame), and a median cut of a
    few frames (first, middle, last) for anti-aliased edges and blends."""
    fixed = [(255, 255, 255), (0, 0, 0), TEXT_COLOR, BORDER_COLOR, NAN_COLOR,
             *(_rgb(c) for c in (figures.REAL_COLOR, figures.FAKE_COLOR, figures.PUSH_COLOR,
                                 figures.CONTOUR_COLOR, figures.STATUS_COLOR))]
    fixed += [tuple(int(v) for v in c) for c in _lut()[::2]]
    fixed = list(dict.fromkeys(fixed))
    picks = thin(frames, 3)
    w, h = picks[0].size
    montage = Image.new("RGB", (w * len(picks), h))
    for i, f in enumerate(picks):
        montage.paste(f, (i * w, 0))
    sampled = montage.quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT)
    extra = np.asarray(sampled.getpalette(), np.uint8).reshape(-1, 3)[:256 - len(fixed)]
    palette = np.concatenate([np.asarray(fixed, np.uint8), extra])
    return np.concatenate([palette, np.zeros((256 - len(palette), 3), np.uint8)])


def _to_palette(frame: Image.Image, palette: np.ndarray) -> Image.Image:
    """`frame` mapped to the exact nearest colour of `palette` (Pillow's own mapping goes
    through a coarse colour cache: pure white would come out grey)."""
    rgb = np.asarray(frame.convert("RGB"), np.int32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    colors, inverse = np.unique(packed.ravel(), return_inverse=True)
    unique = np.stack([colors >> 16, (colors >> 8) & 255, colors & 255], 1)
    index = np.empty(len(unique), np.uint8)
    pal = palette.astype(np.int32)
    for start in range(0, len(unique), 4096):          # bounded memory: 4096 x 256 distances
        chunk = unique[start:start + 4096]
        d = ((chunk[:, None, :] - pal[None, :, :]) ** 2).sum(axis=2)
        index[start:start + 4096] = d.argmin(axis=1)
    image = Image.fromarray(index[inverse].reshape(packed.shape), "P")
    image.putpalette(palette.ravel().tolist())
    return image


def export_bytes(fmt: str, snapshots: Sequence["Snapshot"], *, layers=LAYERS,
                 title: str | None = None, size=None, fps: float = 10) -> bytes:
    """One call for a download button or a file: "html", "gif" or "png" (the last snapshot)."""
    snapshots = _check(snapshots)
    if fmt == "html":
        return html_animation(snapshots, layers, title, fps=fps).encode("utf-8")
    if fmt == "gif":
        return gif_animation(snapshots, size or (480, 480), fps, layers, title=title)
    if fmt == "png":
        return render_png(snapshots[-1], size or (800, 800), layers, title=title)
    raise ValueError(f"unknown export format {fmt!r}; choose from html, gif, png")
