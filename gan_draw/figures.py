"""Snapshot and training history -> plotly figures.

Pure drawing: no torch, no losses, no Streamlit. Every figure is built from one plain dict
(`go.Figure(dict(data=[...], layout=...))`), which is an order of magnitude cheaper than
`add_trace`, and line-like layers (push arrows, the latent grid) are ONE trace each, with NaN
separators between pieces so the coordinates stay numeric arrays that serialise as binary.
Each trace of the main figure carries its layer name in `meta` ("surface", "push", ...), which
survives `to_json` (unlike `uid`), so tests can find a layer in a chart's JSON spec.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from gan_core.snapshot import WASSERSTEIN_LOSSES

from .contour import contour_lines

if TYPE_CHECKING:  # only for annotations: the figures read attributes, nothing more
    from gan_core.snapshot import Snapshot

LAYERS = ("surface", "contour", "real", "fake", "push", "manifold", "averaged")

# --- look: GAN Lab's convention, green = real / "D says real", purple = fake / "D says fake"
REAL_COLOR = "#1b7837"
FAKE_COLOR = "#762a83"
PUSH_COLOR = "#e66100"          # orange: stands out on both halves of the surface
AVERAGED_COLOR = "#0072b2"      # blue: the averaged G (generator averaging), beside the purple G
MANIFOLD_COLOR = "rgba(70, 70, 70, 0.45)"
CONTOUR_COLOR = "#222222"
STATUS_COLOR = "#c62828"
# Pastel diverging scale (PRGn family) so that the samples on top of it stay visible.
SURFACE_COLORSCALE = [
    [0.0, "#9970ab"], [0.25, "#c9b3d6"], [0.5, "#f7f7f7"], [0.75, "#b4e0ab"], [1.0, "#5aae61"],
]
CONTOUR_LINE = dict(width=2.5, dash="dash")
SPARSE_POINTS = 40     # a series with at most this many points shows its points
LINE_COLORS = ("#3366cc", "#e66100", "#1b9e77", "#7b3294", "#a6761d", "#e7298a", "#666666",
               "#66a61e")  # history lines / variants, in order
FONT = dict(family="Arial, Helvetica, sans-serif", size=15, color="#222222")
SURFACE_TITLES = {"probability": "D(x) = P(real)", "critic": "critic D(x)",
                  "score": "D(x) score"}

# Verdicts (gan_core.metrics): one colour each (badges, phase diagram cells), and the marker
# of each event kind on the history charts (the verdict a run changed to, or a hop).
VERDICT_COLORS = {"converged": "#1b7837", "partial": "#a6dba0", "off the data": "#f1a340",
                  "mode collapse": "#762a83", "diverged": "#c62828", None: "#bdbdbd"}
EVENT_MARKS = {"converged": ("#1b7837", "triangle-up"), "partial": ("#4d9221", "triangle-up-open"),
               "off the data": ("#e08214", "diamond"), "mode collapse": ("#762a83", "triangle-down"),
               "mode hopping": ("#9970ab", "circle-open"), "diverged": ("#c62828", "x")}
EVENT_GLYPHS = {"converged": "▲", "partial": "△", "off the data": "◆", "mode collapse": "▼",
                "mode hopping": "○", "diverged": "✕"}
NEAR_COLOR = "#c2a5cf"          # samples at a mode but beyond 3 std of it (mode bars)

SVG_MAX_POINTS = 1500      # above this a sample cloud is drawn with WebGL (Scattergl)
MAX_ARROWS = 300
ARROW_FRACTION = 0.08      # longest push arrow, as a fraction of the view width
ARROW_POINTS = 6           # polyline points per arrow, NaN separator included
MAX_HISTORY_POINTS = 1000
# Arrays sent to the browser: float32 halves the (base64) JSON and is far finer than a pixel.
WIRE_DTYPE = np.float32

_AXIS = dict(showline=True, linecolor="#444444", mirror=True, ticks="outside", showgrid=False,
             zeroline=False, tickfont=dict(size=13))
# An explicit, tiny template: the default one adds ~10 kB and build time to every figure.
_BASE_LAYOUT = dict(template="none", font=FONT, paper_bgcolor="white", plot_bgcolor="white",
                    hovermode="closest")


def _figure(build_spec):
    """The go.Figure of a builder returning a plain {data, layout} dict. The dicts themselves
    are what the browser player streams (no validation cost per frame)."""
    @functools.wraps(build_spec)
    def build(*args, **kwargs) -> go.Figure:
        return go.Figure(build_spec(*args, **kwargs))
    return build


# ------------------------------------------------------------------ main figure
def frame_title(snap: "Snapshot") -> str:
    """A moment's title: "iteration 1,200 · nonsaturating · mode collapse" (the verdict of the
    samples it shows, gan_core.metrics)."""
    return (f"iteration {snap.iteration:,}" + (f" · {snap.loss}" if snap.loss else "")
            + (f" · {snap.verdict}" if snap.verdict else ""))


def main_spec(snap: "Snapshot", layers=LAYERS, *, title: str | None = None, height: int = 560,
              zmin=None, zmax=None, show_colorbar=True, font_size: int | None = None,
              push_scale: float | None = None, light: bool = False,
              picture: bool | None = None, extra_traces: tuple = ()) -> dict:
    """The data plane: D's surface, its decision contour, samples, G's push and latent grid.

    `layers` is any subset of LAYERS. `zmin`/`zmax` fix the colour range of a critic/score
    surface (the compare view passes one shared range); a probability surface is always [0, 1].
    `light` is the browser player's form. Playing (`picture`, the default), D's surface,
    boundary, samples, push arrows and latent grid become canvas items (`fig["canvas"]`, see
    _as_canvas) that the player paints over the plot area, with legend-only traces for their
    keys and a trace of no points for the colour bar: plotly then redraws only the title,
    while any heatmap or changed trace makes every Plotly.react a full replot (~25 ms per
    figure in headless chromium). Drawn once (a paused moment, `picture=False`), the figure
    keeps the heatmap and its hover values and draws the other layers as one SVG path each
    (layout shapes; dots as zero-length subpaths, round by explorer/player/player.css).
    Exports keep traces. WebGL was slower still: without a GPU, the browser reads every WebGL
    frame back.
    """
    layers = set(layers)
    unknown = layers - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; choose from {LAYERS}")
    xmin, xmax, ymin, ymax = (float(v) for v in snap.view_box)
    data = []
    if "surface" in layers:
        data.append(_surface_trace(snap, zmin, zmax, show_colorbar, height))
    if "contour" in layers:
        trace = _contour_trace(snap)
        if trace is not None:
            data.append(trace)
        elif light:       # its key stays: a trace that comes and goes makes a full replot
            data.append(_contour_key(_boundary_name(snap, snap.decision_level), CONTOUR_COLOR,
                                     CONTOUR_LINE))
    data.extend(extra_traces)          # e.g. the optimal D's contour (gan_draw.diagnostics)
    if "manifold" in layers and snap.manifold is not None:
        data.append(_manifold_trace(snap.manifold))
    if "real" in layers:
        data.append(_points_trace(snap.real, "real", "real", REAL_COLOR))
    if "fake" in layers:
        data.append(_points_trace(snap.fake, "fake", "generated", FAKE_COLOR))
    if "push" in layers:
        data.append(_push_trace(snap.fake, snap.push, xmax - xmin, push_scale))
    fake_avg = getattr(snap, "fake_avg", None)
    if "averaged" in layers and fake_avg is not None:
        data.append(_points_trace(fake_avg, "averaged", "averaged G", AVERAGED_COLOR))

    if title is None:
        title = frame_title(snap)
    # Everything is centred, because the equal-aspect plot shrinks its domain to the middle of
    # whatever width it gets: the title, the colour bar as a key, the plot, and the legend at
    # the bottom, where extra rows on a narrow screen grow the margin instead of overlapping.
    # The height is known, so the top rows are placed in pixels (container fractions).
    # `font_size` (the projector layout) scales every text: title, ticks, key and legend.
    sizes = _font_sizes(font_size)
    has_key = show_colorbar and "surface" in layers
    top = _key_offset(sizes) + sizes["tick"] + 48 if has_key else sizes["title"] + 26
    plot_px = max(height - top - 2 * (sizes["legend"] + 10) - sizes["tick"] - 12, 100)
    axis = dict(_AXIS, tickfont=dict(size=sizes["tick"]))
    layout = dict(
        _BASE_LAYOUT, height=height, uirevision="main-figure",
        font=dict(FONT, size=sizes["text"]),
        title=dict(text=title, x=0.5, xanchor="center", yref="container",
                   y=1 - 8 / height, yanchor="top", font=dict(size=sizes["title"])),
        margin=dict(l=45 + 3 * (sizes["tick"] - 13), r=25, t=top, b=30),
        xaxis=dict(axis, range=[xmin, xmax], constrain="domain"),
        yaxis=dict(axis, range=[ymin, ymax], constrain="domain", scaleanchor="x",
                   scaleratio=1),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-30 / plot_px,
                    yanchor="top", font=dict(size=sizes["legend"]), itemsizing="constant",
                    bgcolor="rgba(255,255,255,0)"),
    )
    if has_key:
        colorbar = data[0]["colorbar"]
        colorbar.update(y=1 - _key_offset(sizes) / height, thickness=sizes["tick"],
                        tickfont=dict(size=sizes["tick"]))
        colorbar["title"]["font"] = dict(size=sizes["legend"])
    shapes, canvas = [], None
    if light and (picture is None or picture):
        data, canvas = _as_canvas(data)
    elif light:
        data, shapes = _as_shapes(data, xmax - xmin)
    if snap.status:
        layout["annotations"] = [dict(
            text=f"<b>{snap.status}</b>", xref="x domain", yref="y domain", x=0.5, y=0.97,
            xanchor="center", yanchor="top", showarrow=False,
            font=dict(size=sizes["title"] - 3, color=STATUS_COLOR),
            bgcolor="rgba(255,255,255,0.85)",
            bordercolor=STATUS_COLOR, borderwidth=2, borderpad=5)]
    if shapes:
        layout["shapes"] = shapes
    fig = dict(data=data, layout=layout)
    if canvas is not None:
        fig["canvas"] = canvas
    return fig


def _as_shapes(data: list[dict], view_width: float) -> tuple[list[dict], list[dict]]:
    """Scatter traces -> layout shapes (one path each, same colour, width and order) plus a
    legend-only trace per shape; other traces stay as they are."""
    decimals = _path_decimals(view_width)
    kept, shapes = [], []
    for trace in data:
        if trace.get("type") == "contour":
            kept.append(_contour_as_shape(trace, decimals, shapes))
            continue
        if trace.get("type") != "scatter":
            kept.append(trace)
            continue
        x, y = np.asarray(trace["x"], dtype=float), np.asarray(trace["y"], dtype=float)
        if trace["mode"] == "markers":
            marker = trace["marker"]
            path = _dots_path(x, y, decimals)
            line = dict(color=marker["color"], width=marker["size"])
            opacity = marker.get("opacity", 1.0)
        else:
            path = _polyline_path(x, y, decimals)
            line, opacity = dict(trace["line"]), 1.0
        if path:
            shapes.append(dict(type="path", path=path, xref="x", yref="y", layer="above",
                               line=line, opacity=opacity, name=trace["meta"]))
        kept.append(_legend_key(trace))
    return kept, shapes


def _as_canvas(data: list[dict]) -> tuple[list[dict], list[dict]]:
    """Traces -> the browser player's canvas items, drawn in this order on a canvas over the
    plot area (explorer/player/player.js), plus the traces that stay: a legend entry of no
    points per layer, the colour bar on a trace of no points, and anything else as it was.

    Items: {"kind": "image", "rgba": (rows, cols, 4) uint8, top row first, "x0", "x1", "y0",
    "y1": the cells' outer edges}; {"kind": "dots", "xy": (n, 2), "color", "size" (diameter,
    px), "opacity"}; {"kind": "lines", "xy": (n, 2) with NaN rows between polylines, "color",
    "width", "dash"}. Numbers, not SVG paths: the browser builds nothing per point, and the
    server formats no path text per frame."""
    kept, items = [], []
    for trace in data:
        kind = trace.get("type")
        if kind == "heatmap":
            items.append(_surface_item(trace))
            if trace["showscale"]:       # else nothing: a range that changes would be a change
                kept.append(_colorbar_key(trace))
        elif kind == "contour":
            color, xy = _boundary(trace)
            if xy is not None:
                items.append(dict(kind="lines", color=color, width=trace["line"]["width"],
                                  dash=trace["line"]["dash"], xy=xy))
            kept.append(_contour_key(trace["name"], color, trace["line"], trace["meta"]))
        elif kind in ("scatter", "scattergl"):
            xy = np.stack([np.asarray(trace["x"], dtype=float),
                           np.asarray(trace["y"], dtype=float)], axis=1)
            if trace["mode"] == "markers":
                marker = trace["marker"]
                items.append(dict(kind="dots", xy=xy, color=marker["color"],
                                  size=marker["size"], opacity=marker.get("opacity", 1.0)))
            else:
                line = trace["line"]
                items.append(dict(kind="lines", xy=xy, color=line["color"], width=line["width"],
                                  dash=line.get("dash", "solid")))
            kept.append(_legend_key(trace))
        else:
            kept.append(trace)
    return kept, items


def _legend_key(trace: dict) -> dict:
    """A layer's legend entry: a scatter of no points in the trace's style."""
    key = (dict(mode="markers", marker=dict(trace["marker"])) if trace["mode"] == "markers"
           else dict(mode="lines", line=dict(trace["line"])))
    return dict(type="scatter", meta=trace["meta"], name=trace["name"], x=[None], y=[None],
                hoverinfo="skip", **key)


def _surface_item(trace: dict) -> dict:
    """A heatmap trace as a canvas picture of its cells (centred on the grid points)."""
    x, y = np.asarray(trace["x"], dtype=float), np.asarray(trace["y"], dtype=float)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    return dict(kind="image", x0=float(x[0] - dx / 2), x1=float(x[-1] + dx / 2),
                y0=float(y[0] - dy / 2), y1=float(y[-1] + dy / 2),
                rgba=surface_rgba(trace["z"], trace["zmin"], trace["zmax"], trace["colorscale"]))


def _colorbar_key(trace: dict) -> dict:
    """A heatmap's colour bar, kept by a trace of no points with the same range and scale."""
    return dict(type="scatter", meta=trace["meta"], name=trace["name"], x=[None, None],
                y=[None, None], mode="markers", showlegend=False, hoverinfo="skip",
                marker=dict(color=[trace["zmin"], trace["zmax"]], cmin=trace["zmin"],
                            cmax=trace["zmax"], colorscale=trace["colorscale"],
                            showscale=True, colorbar=trace["colorbar"], size=1))


def surface_rgba(z, zmin: float, zmax: float, colorscale) -> np.ndarray:
    """A surface's cells coloured as a Plotly heatmap colours them (linear RGB between the
    colour scale's stops, clipped to [zmin, zmax]; NaN transparent): (rows, cols, 4) uint8
    whose first row is the top of the plot."""
    z = np.asarray(z, dtype=float)[::-1]
    stops = np.array([float(stop) for stop, _ in colorscale])
    rgb = np.array([[int(color[i:i + 2], 16) for i in (1, 3, 5)] for _, color in colorscale],
                   dtype=float)
    span = zmax - zmin if zmax > zmin else 1.0
    t = np.clip((np.nan_to_num(z, nan=zmin) - zmin) / span, 0.0, 1.0)
    image = np.empty(z.shape + (4,), dtype=np.uint8)
    for channel in range(3):
        image[..., channel] = np.rint(np.interp(t, stops, rgb[:, channel]))
    image[..., 3] = np.where(np.isfinite(z), 255, 0)
    return image


def _boundary(trace: dict) -> tuple[str, np.ndarray | None]:
    """A contour trace's colour and its line, computed here (gan_draw.contour), as one (n, 2)
    array with a NaN row after each polyline; None when the surface never crosses the level."""
    color = trace.get("colorscale", [[0, CONTOUR_COLOR]])[0][1]
    lines = contour_lines(trace["x"], trace["y"], trace["z"], trace["contours"]["start"])
    if not lines:
        return color, None
    nan = np.full((1, 2), np.nan)
    return color, np.concatenate([part for line in lines for part in (line, nan)])


def _contour_as_shape(trace: dict, decimals: int, shapes: list) -> dict:
    """The decision boundary added to `shapes` as one dashed path; returns its legend-only
    trace."""
    color, joined = _boundary(trace)
    if joined is not None:
        shapes.append(dict(type="path", path=_polyline_path(joined[:, 0], joined[:, 1],
                                                             decimals),
                           xref="x", yref="y", layer="above", line=dict(
                               color=color, width=trace["line"]["width"],
                               dash=trace["line"]["dash"]), name=trace["meta"]))
    return _contour_key(trace["name"], color, trace["line"], trace["meta"])


def _contour_key(name: str, color: str, line: dict, meta: str = "contour") -> dict:
    """A boundary's legend entry: a trace of no points."""
    return dict(type="scatter", meta=meta, name=name, x=[None], y=[None], mode="lines",
                hoverinfo="skip", line=dict(color=color, width=line["width"], dash=line["dash"]))


def _path_decimals(view_width: float) -> int:
    """Decimals that resolve a thousandth of the view: finer than a pixel, short on the wire."""
    if not (view_width > 0 and np.isfinite(view_width)):
        return 3
    return int(max(0, 3 - np.floor(np.log10(view_width))))


def _dots_path(x: np.ndarray, y: np.ndarray, decimals: int) -> str:
    """A closed zero-length subpath per finite point ("Mx,yZ"): a dot with round line caps."""
    ok = np.isfinite(x) & np.isfinite(y)
    xy = np.stack([x[ok], y[ok]], axis=1).ravel()
    return (f"M%.{decimals}f,%.{decimals}fZ" * (len(xy) // 2)) % tuple(xy.tolist())


def _polyline_path(x: np.ndarray, y: np.ndarray, decimals: int) -> str:
    """NaN-separated polylines (arrows, grid lines) as one path of subpaths. The template is
    built per run and filled by one % (formatting numbers one by one is several times
    slower, and this runs for every frame)."""
    ok = np.isfinite(x) & np.isfinite(y)
    starts = ok & ~np.concatenate([[False], ok[:-1]])
    point = f"%.{decimals}f,%.{decimals}f"
    template = "".join(("M" if start else "L") + point for start in starts[ok])
    return template % tuple(np.stack([x[ok], y[ok]], axis=1).ravel().tolist())


def _font_sizes(font_size: int | None) -> dict[str, int]:
    """Text sizes of the main figure: the defaults, or all from `font_size` (projector)."""
    if font_size is None:
        return {"text": FONT["size"], "title": 19, "tick": 13, "legend": 14}
    return {"text": font_size, "title": font_size + 4, "tick": font_size, "legend": font_size}


def _key_offset(sizes: dict) -> int:
    """Pixels from the top of the figure to the colour bar (below the title)."""
    return 8 + sizes["title"] + 13


def surface_range(snap: "Snapshot", zmin=None, zmax=None) -> tuple[float, float]:
    """Colour range of the surface: [0, 1] for a probability, else symmetric around the
    decision level from robust (2nd/98th) percentiles. The half-width is rounded up to a step
    of NICE_STEPS and the centre to a power of ten at most a tenth of it (the neutral colour
    within 5% of the range of the level, which the boundary line marks exactly): the colours keep their meaning from
    frame to frame, and an animation's colour bar changes only when the range does. Explicit
    zmin/zmax win."""
    if snap.surface_kind == "probability":
        return 0.0, 1.0
    level = snap.decision_level
    if zmin is None or zmax is None:
        z = np.asarray(snap.surface, dtype=float)
        z = z[np.isfinite(z)]
        ends = np.percentile(z, [2, 98]) if z.size else np.array([level, level])
        half = float(np.max(np.abs(ends - level)))
        half = nice_up(half) if np.isfinite(half) and half > 0 else 1.0
        step = 10.0 ** np.floor(np.log10(half / 10))     # decimal: 0 and 0.5 stay exact
        centre = round(level / step) * step if np.isfinite(level) else level
        reach = float(np.max(np.abs(ends - centre)))     # the rounded centre's distance
        if np.isfinite(reach) and reach > half:
            half = nice_up(reach)
        zmin = centre - half if zmin is None else zmin
        zmax = centre + half if zmax is None else zmax
    return float(zmin), float(zmax)


NICE_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5)


def nice_up(value: float) -> float:
    """The smallest m·10^k ≥ value with m in NICE_STEPS (value > 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    for step in NICE_STEPS + (10.0,):
        if step * power >= value * (1 - 1e-12):
            return float(step * power)
    return float(10 * power)


def _surface_trace(snap, zmin, zmax, show_colorbar, height):
    lo, hi = surface_range(snap, zmin, zmax)
    ticks = (dict(tickvals=[0, 0.5, 1], ticktext=["0 fake", "0.5", "1 real"])
             if snap.surface_kind == "probability" else {})
    return dict(
        type="heatmap", meta="surface", name="D(x)", x=snap.grid_x, y=snap.grid_y,
        z=np.asarray(snap.surface, dtype=WIRE_DTYPE), zmin=lo, zmax=hi,
        colorscale=SURFACE_COLORSCALE,
        showscale=bool(show_colorbar),  # no zsmooth: "best" costs ~30 ms per browser frame
        colorbar=dict(title=dict(text=SURFACE_TITLES.get(snap.surface_kind, "D(x)"),
                                 side="right", font=dict(size=14)),
                      orientation="h", x=0.5, xanchor="center", yref="container",
                      y=1 - 40 / height, yanchor="top",
                      lenmode="pixels", len=320, thickness=13, outlinewidth=0,
                      tickfont=dict(size=13), **ticks),
        hovertemplate="x %{x:.2f}, y %{y:.2f}<br>D %{z:.3f}<extra></extra>")


def _contour_trace(snap):
    """The decision boundary as one contour line, or None when the surface never crosses it."""
    z = np.asarray(snap.surface, dtype=float)
    finite = z[np.isfinite(z)]
    level = snap.decision_level
    if finite.size == 0 or not (finite.min() < level < finite.max()):
        return None
    return dict(
        type="contour", meta="contour", name=_boundary_name(snap, level),
        x=snap.grid_x, y=snap.grid_y, z=z.astype(WIRE_DTYPE), autocontour=False,
        contours=dict(start=level, end=level, size=1.0, coloring="lines", showlabels=False),
        colorscale=[[0, CONTOUR_COLOR], [1, CONTOUR_COLOR]], showscale=False,
        line=dict(CONTOUR_LINE), showlegend=True, hoverinfo="skip")


def _boundary_name(snap, level: float) -> str:
    if snap.loss in WASSERSTEIN_LOSSES:     # its own level: halfway between real and fake
        return "critic halfway real/fake"
    return f"boundary D = {level:g}"


def _points_trace(points, layer, name, color):
    pts = np.asarray(points, dtype=WIRE_DTYPE).reshape(-1, 2)
    big = len(pts) > SVG_MAX_POINTS  # software-rendered WebGL is slower than SVG below this
    return dict(
        type="scattergl" if big else "scatter", meta=layer, name=name, mode="markers",
        x=pts[:, 0], y=pts[:, 1],
        marker=dict(color=color, size=5 if big else 6, opacity=0.7),  # no outline: SVG cost
        hovertemplate=name + " (%{x:.2f}, %{y:.2f})<extra></extra>")


def push_arrows(fake, push, view_width, max_arrows=MAX_ARROWS, fraction=ARROW_FRACTION,
                reference: float | None = None):
    """Arrows from each fake sample along its push, as one polyline with NaN separators.

    Lengths are scaled so the 95th-percentile push (or `reference`, when panels must share a
    scale) is `fraction` of the view width, and clipped there; non-finite and zero pushes are dropped; at most `max_arrows` are kept
    (an even, deterministic subsample, so arrows do not flicker between frames).
    Each arrow is ARROW_POINTS points: tail, tip, head corner, head corner, tip, NaN —
    a shaft and a small closed head, drawn as plain lines (no per-point SVG markers).
    """
    fake = np.asarray(fake, dtype=float).reshape(-1, 2)
    push = np.asarray(push, dtype=float).reshape(-1, 2)
    n = min(len(fake), len(push))
    fake, push = fake[:n], push[:n]
    norms = np.hypot(push[:, 0], push[:, 1])
    keep = np.isfinite(norms) & (norms > 0) & np.isfinite(fake).all(axis=1)
    fake, push, norms = fake[keep], push[keep], norms[keep]
    if len(fake) > max_arrows:
        idx = np.linspace(0, len(fake) - 1, max_arrows).round().astype(int)
        fake, push, norms = fake[idx], push[idx], norms[idx]
    if len(fake) == 0 or not (view_width > 0):
        return np.empty(0, WIRE_DTYPE), np.empty(0, WIRE_DTYPE)
    longest = fraction * float(view_width)
    ref = float(np.percentile(norms, 95)) if reference is None else float(reference)
    lengths = np.minimum(norms * (longest / ref), longest)
    unit = push / norms[:, None]
    tips = fake + unit * lengths[:, None]
    head = np.minimum(0.35 * lengths, 0.018 * float(view_width))[:, None]
    normal = unit[:, ::-1] * [-1.0, 1.0]
    back = tips - unit * head
    arrows = np.full((len(fake), ARROW_POINTS, 2), np.nan, dtype=WIRE_DTYPE)
    arrows[:, 0], arrows[:, 1], arrows[:, 4] = fake, tips, tips
    arrows[:, 2] = back + normal * (0.5 * head)
    arrows[:, 3] = back - normal * (0.5 * head)
    return arrows[:, :, 0].ravel(), arrows[:, :, 1].ravel()


def push_reference(push) -> float:
    """The 95th-percentile push length: give panels one `push_scale` to compare magnitudes."""
    norms = np.hypot(*np.asarray(push, dtype=float).reshape(-1, 2).T)
    norms = norms[np.isfinite(norms) & (norms > 0)]
    return float(np.percentile(norms, 95)) if norms.size else 0.0


def _push_trace(fake, push, view_width, reference=None):
    x, y = push_arrows(fake, push, view_width, reference=reference)
    return dict(type="scatter", meta="push", name="G push", mode="lines", x=x, y=y,
                line=dict(color=PUSH_COLOR, width=1.4), hoverinfo="skip")


def manifold_lines(manifold):
    """Rows and columns of an (L, L, 2) warped latent grid as one polyline with NaN breaks."""
    g = np.asarray(manifold, dtype=WIRE_DTYPE)
    lines = np.concatenate([g, g.transpose(1, 0, 2)])              # (2L, L, 2)
    pad = np.full((lines.shape[0], 1, 2), np.nan, dtype=WIRE_DTYPE)
    flat = np.concatenate([lines, pad], axis=1).reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


def _manifold_trace(manifold):
    x, y = manifold_lines(manifold)
    return dict(type="scatter", meta="manifold", name="G(latent grid)", mode="lines",
                x=x, y=y, line=dict(color=MANIFOLD_COLOR, width=1), hoverinfo="skip")


# ------------------------------------------------------------------ charts
def _downsample(x, y, limit=MAX_HISTORY_POINTS):
    """Every k-th point (and always the last) so at most ~`limit` reach the browser."""
    n = len(y)
    if n <= limit:
        return x, y
    idx = np.arange(0, n, int(np.ceil(n / limit)))
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return x[idx], y[idx]


def _series(history, key):
    """(x, y) of one history key against "iteration" (or the index), NaN rows dropped (metrics
    recorded every k iterations stay one connected line), or None when nothing is left."""
    y = np.asarray(history.get(key, ()), dtype=float).ravel()
    x = np.asarray(history.get("iteration", ()), dtype=float).ravel()
    if x.size != y.size:
        x = np.arange(y.size, dtype=float)
    finite = np.isfinite(y)
    if not finite.any():
        return None
    return _downsample(x[finite], y[finite])


def _chart_layout(title, height, **extra):
    return dict(
        _BASE_LAYOUT, height=height, uirevision="chart",
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)),
        margin=dict(l=55, r=15, t=50, b=40),
        xaxis=dict(_AXIS, showgrid=True, gridcolor="#e6e6e6"),
        yaxis=dict(_AXIS, showgrid=True, gridcolor="#e6e6e6"),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom",
                    font=dict(size=13)),
        **extra)


def _message(layout, text):
    layout["annotations"] = [dict(text=text, xref="paper", yref="paper", x=0.5, y=0.5,
                                  showarrow=False, font=dict(size=16, color="#888888"))]
    layout["xaxis"] = dict(layout["xaxis"], visible=False)
    layout["yaxis"] = dict(layout["yaxis"], visible=False)
    return dict(data=[], layout=layout)


def _label(key):
    words = key.split("_")
    return " ".join(w.upper() if len(w) == 1 else w for w in words)   # "d_loss" -> "D loss"


def _lines(named_series, title, height, log_y, colours=None):
    """Line charts; `colours[i]` indexes LINE_COLORS for series i (default: its position), so
    a variant keeps its colour in every chart even when another has no data. Sparse series
    (metrics, recorded every few hundred iterations) get markers: the points are the data."""
    colours = colours or range(len(named_series))
    data = []
    for c, (name, (x, y)) in zip(colours, named_series):
        sparse = len(x) <= SPARSE_POINTS
        data.append(dict(type="scatter", mode="lines+markers" if sparse else "lines", name=name,
                         x=x, y=y, marker=dict(size=6),
                         line=dict(color=LINE_COLORS[c % len(LINE_COLORS)], width=2)))
    layout = _chart_layout(title, height)
    layout["xaxis"]["title"] = dict(text="iteration", font=dict(size=13))
    xs = {float(v) for _, (x, _) in named_series for v in x}
    if len(xs) == 1:                 # one recorded point: from 0 to it, not a unit around it
        last = xs.pop()
        layout["xaxis"]["range"] = [-0.05 * max(last, 1.0), 1.05 * max(last, 1.0)]
    if log_y:
        layout["yaxis"].update(type="log", **_log_ticks(named_series))
    if not data:
        return _message(layout, "no data yet")
    return dict(data=data, layout=layout)


def _log_ticks(named_series) -> dict:
    """A log axis labelled once per decade when the data spans decades (plotly's default
    also labels 2 and 5 in between, which overlap on a short chart), else a few labels."""
    ys = np.concatenate([np.asarray(y, dtype=float) for _, (_, y) in named_series] or [[]])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size and np.log10(ys.max() / ys.min()) >= 1.5:
        return dict(dtick=1, exponentformat="power")
    return dict(nticks=4)


def history_spec(history: dict, keys: list, *, title: str, log_y=False, height=220) -> dict:
    """One line per history key against iteration; "no data yet" when they are all empty."""
    series = [(_label(k), s) for k in keys if (s := _series(history, k)) is not None]
    return _lines(series, title, height, log_y)


def compare_histories_spec(histories: dict, key: str, *, title: str, height=240) -> dict:
    """One line per variant label, all showing the same history key, each variant in the
    colour of its position among `histories`."""
    found = [(i, (label, s)) for i, (label, h) in enumerate(histories.items())
             if (s := _series(h, key)) is not None]
    fig = _lines([named for _, named in found], title, height, False,
                 colours=[i for i, _ in found])
    # up to six long labels: below the plot they wrap into rows instead of covering the title
    # The x axis needs no title here (the iteration, as in the panels' titles).
    rows = -(-len(histories) // 3)
    top, axis = 50, 42          # px: the title's margin; the x axis' tick labels
    layout = fig["layout"]
    layout.update(height=height + 22 * rows,
                  margin=dict(layout["margin"], t=top, b=axis + 22 * rows),
                  legend=dict(layout["legend"], x=0, xanchor="left",
                              y=-axis / (height - top - axis), yanchor="top"))
    layout["xaxis"] = {k: v for k, v in layout["xaxis"].items() if k != "title"}
    return fig


def mode_bar_spec(mode_counts, *, height=220, nearest_counts=None, verdict=None) -> dict:
    """High-quality fakes per mode: collapse shows as empty bars, hopping as moving bars.

    With `nearest_counts` (the samples that sit at each mode, gan_core.metrics) the samples at
    a mode but beyond 3 std of it are stacked on top in a lighter colour, so a generator
    crowded near a few modes shows as tall bars even before its samples are good ones; with
    `verdict` the title ends with it (the same verdict as the page's badge)."""
    if mode_counts is None:
        return _message(_chart_layout("samples per mode", height),
                        "this dataset has no separate modes")
    counts = np.asarray(mode_counts).ravel()
    covered = int(np.count_nonzero(counts))
    title = f"samples per mode · {covered} of {counts.size} covered"
    if verdict:
        title += f" · {verdict}"
    layout = _chart_layout(title, height, bargap=0.15, showlegend=False, barmode="stack")
    layout["xaxis"].update(title=dict(text="mode", font=dict(size=13)), showgrid=False,
                           dtick=1 if counts.size <= 16 else None)
    near = (np.zeros_like(counts) if nearest_counts is None
            else np.clip(np.asarray(nearest_counts).ravel() - counts, 0, None))
    totals = counts + near
    top = float(totals.max()) if totals.size else 0.0
    layout["yaxis"].update(range=[0, 1.18 * top if top > 0 else 1])   # room for the labels
    x = np.arange(counts.size)
    bar = dict(type="bar", x=x, y=counts, marker=dict(color=FAKE_COLOR), name="within 3 std",
               hovertemplate="mode %{x}: %{y} within 3 std<extra></extra>")
    data = [bar]
    if nearest_counts is not None:
        data.append(dict(type="bar", x=x, y=near, marker=dict(color=NEAR_COLOR),
                         name="at the mode, farther off",
                         hovertemplate="mode %{x}: %{y} more at it, farther off<extra></extra>"))
    if counts.size <= 16:
        data[-1].update(text=totals, textposition="outside", cliponaxis=False)
    return dict(data=data, layout=layout)


def event_marks(history: dict, events: list, key: str) -> list[tuple[float, float, str]]:
    """(iteration, y, kind) of each event (gan_core.metrics.events) on the line of `key` in
    `history`: its value at the event's iteration (the last one recorded before, if none)."""
    x, y = (np.asarray(history.get(k, ()), dtype=float).ravel() for k in ("iteration", key))
    if not x.size or x.size != y.size:
        return []
    marks = []
    for event in events:
        i = int(np.searchsorted(x, event["iteration"], side="right")) - 1
        if i >= 0 and np.isfinite(y[i]):
            marks.append((float(event["iteration"]), float(y[i]), event["kind"]))
    return marks


def with_events(fig: dict, marks: list, *, legend: bool = True) -> dict:
    """Chart spec `fig` with one marker trace per event kind (EVENT_MARKS) at `marks`
    [(iteration, y, kind)], in EVENT_MARKS' order: a trace per kind, so a chart that grows by
    appending points (gan_draw.frames.chart_append) appends events too."""
    if not fig.get("data") or not marks:
        return fig
    by_kind: dict[str, list] = {}
    for x, y, kind in sorted(marks):
        by_kind.setdefault(kind, []).append((x, y))
    for kind, (color, symbol) in EVENT_MARKS.items():
        if kind not in by_kind:
            continue
        xs, ys = (np.array(v, dtype=float) for v in zip(*by_kind[kind]))
        fig["data"].append(dict(
            type="scatter", mode="markers", name=f"{EVENT_GLYPHS[kind]} {kind}", x=xs, y=ys,
            showlegend=legend, meta="event",
            marker=dict(color=color, symbol=symbol, size=11, line=dict(color=color, width=2)),
            hovertemplate=f"{kind} at %{{x:,}}<extra></extra>"))
    return fig


main_figure = _figure(main_spec)
history_figure = _figure(history_spec)
compare_histories_figure = _figure(compare_histories_spec)
mode_bar_figure = _figure(mode_bar_spec)


def projected(fig: go.Figure, font_size: int, height: int | None = None) -> go.Figure:
    """The same figure for a projector: every text at least `font_size` px (title, ticks,
    axis titles, legend, annotations, colour bars, text labels), margins to match, and
    optionally another height."""
    spec = fig.to_plotly_json()
    layout = spec["layout"]

    def grow(font: dict | None, extra: int = 0) -> dict:
        font = dict(font or {})
        font["size"] = max(font.get("size") or 0, font_size + extra)
        return font

    layout["font"] = grow(layout.get("font"))
    if isinstance(layout.get("title"), dict):
        layout["title"]["font"] = grow(layout["title"].get("font"), 4)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis["tickfont"] = grow(axis.get("tickfont"))
            if isinstance(axis.get("title"), dict):
                axis["title"]["font"] = grow(axis["title"].get("font"))
    layout["legend"] = dict(layout.get("legend") or {}, font=grow(
        (layout.get("legend") or {}).get("font")))
    for note in layout.get("annotations") or []:
        note["font"] = grow(note.get("font"))
    margin = dict(layout.get("margin") or {})
    for side, extra in (("l", 2.5), ("b", 2.0), ("t", 1.5)):
        margin[side] = int(margin.get(side, 40) + extra * max(font_size - 13, 0))
    layout["margin"] = margin
    for trace in spec["data"]:
        if isinstance(trace.get("colorbar"), dict):
            trace["colorbar"]["tickfont"] = grow(trace["colorbar"].get("tickfont"))
        if "textfont" in trace or trace.get("mode", "").find("text") >= 0:
            trace["textfont"] = grow(trace.get("textfont"))
    if height is not None:
        layout["height"] = height
    return go.Figure(spec)
