"""A phase diagram: a sweep's cells over two axes (gan_core.sweep.document), coloured by
verdict or by a metric's mean over seeds, with the cell's figures on hover.

Cells are square markers, not a heatmap: markers can be clicked and selected (the page opens
a cell's run from its selection), and each carries its cell index in `customdata`. The figure
has a fixed size so the squares tile the plot. Cells still training are grey.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figures import _AXIS, _BASE_LAYOUT, VERDICT_COLORS
PENDING_COLOR = "#eeeeee"
METRIC_COLORSCALE = "Viridis"
LOWER_IS_BETTER = {"w1", "reverse_kl"}
MARGIN = dict(l=90, r=20, t=60, b=70)


def axis_labels(values: list) -> list[str]:
    return [f"{v:g}" if isinstance(v, float) else str(v) for v in values]


def phase_figure(doc: dict, colour: str = "verdict", *, size: int = 520,
                 selected: int | None = None) -> go.Figure:
    """The diagram of a sweep document. `colour`: "verdict" or a metric name (its mean)."""
    axes = doc["spec"]["axes"]
    x_axis = axes[0] if axes else {"field": "", "values": [""]}
    y_axis = axes[1] if len(axes) > 1 else {"field": "", "values": [""]}
    nx, ny = len(x_axis["values"]), len(y_axis["values"])
    cells = doc["cells"]
    xs = np.array([i // ny for i in range(len(cells))])        # product order: y fastest
    ys = np.array([i % ny for i in range(len(cells))])
    width = size + (90 if colour != "verdict" else 0)
    area = min(size - MARGIN["l"] - MARGIN["r"], size - MARGIN["t"] - MARGIN["b"])
    marker_px = max(4.0, 0.94 * area / max(nx, ny))
    hover = [cell_text(c) for c in cells]
    done = np.array([c["runs_done"] > 0 for c in cells])
    data = []
    if (~done).any():
        data.append(_cells(xs[~done], ys[~done], np.flatnonzero(~done), "training…",
                           PENDING_COLOR, marker_px, [hover[i] for i in np.flatnonzero(~done)]))
    if colour == "verdict":
        for verdict, col in VERDICT_COLORS.items():
            idx = [i for i in np.flatnonzero(done) if cells[i]["verdict"] == verdict]
            if idx:
                data.append(_cells(xs[idx], ys[idx], idx, verdict or "no verdict", col,
                                   marker_px, [hover[i] for i in idx]))
    else:
        idx = np.flatnonzero(done)
        values = [cells[i]["metrics"][colour]["mean"] for i in idx]
        values = np.array([np.nan if v is None else v for v in values], dtype=float)
        trace = _cells(xs[idx], ys[idx], idx, colour, None, marker_px, [hover[i] for i in idx])
        trace["marker"].update(color=values, colorscale=METRIC_COLORSCALE,
                               reversescale=colour in LOWER_IS_BETTER, showscale=True,
                               colorbar=dict(title=dict(text=colour), thickness=14))
        data.append(trace)
    if selected is not None and 0 <= selected < len(cells):
        data.append(dict(type="scatter", mode="markers", meta="selected", name="selected",
                         x=[xs[selected]], y=[ys[selected]], hoverinfo="skip",
                         showlegend=False, marker=dict(symbol="square-open", size=marker_px,
                                                       color="#111111", line=dict(width=3))))
    layout = dict(
        _BASE_LAYOUT, width=width, height=size, margin=MARGIN, clickmode="event+select",
        dragmode=False, uirevision="phase",
        title=dict(text=_title(doc, colour), x=0.01, xanchor="left", font=dict(size=16)),
        xaxis=dict(_AXIS, title=dict(text=x_axis["field"]), tickmode="array",
                   tickvals=list(range(nx)), ticktext=axis_labels(x_axis["values"]),
                   range=[-0.5, nx - 0.5], fixedrange=True),
        yaxis=dict(_AXIS, title=dict(text=y_axis["field"]), tickmode="array",
                   tickvals=list(range(ny)), ticktext=axis_labels(y_axis["values"]),
                   range=[-0.5, ny - 0.5], fixedrange=True, scaleanchor="x"),
        legend=dict(orientation="h", x=0, y=-0.16, font=dict(size=12)))
    return go.Figure(dict(data=data, layout=layout))


def _cells(x, y, indices, name, colour, size, text) -> dict:
    return dict(type="scatter", mode="markers", meta="cells", name=name,
                x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float),
                customdata=[int(i) for i in indices], text=text,
                hovertemplate="%{text}<extra></extra>",
                marker=dict(symbol="square", size=size, color=colour, line=dict(width=0)))


def _title(doc: dict, colour: str) -> str:
    what = "verdict (most common over seeds)" if colour == "verdict" else f"mean {colour}"
    status = ("" if doc["complete"] else
              f" · {doc['runs_done']} of {doc['total_runs']} runs done")
    return f"{what}{status}"


def cell_text(cell: dict) -> str:
    """A cell's figures: values, verdict counts, mean ± std of the metrics."""
    lines = [", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in cell["values"].items()) or "base"]
    if not cell["runs_done"]:
        return lines[0] + "<br>training…"
    lines.append(", ".join(f"{n} {v}" for v, n in sorted(cell["verdicts"].items())) or
                 "no verdict")
    for name, label, fmt in (("modes_covered", "modes", "{:.1f}"),
                             ("high_quality", "high quality", "{:.2f}"),
                             ("reverse_kl", "reverse KL", "{:.3f}"), ("w1", "w1", "{:.3f}")):
        stat = cell["metrics"][name]
        if stat["n"]:
            text = fmt.format(stat["mean"])
            if stat["n"] > 1:
                text += " ± " + fmt.format(stat["std"])
            lines.append(f"{label} {text}")
    lines.append(f"{cell['runs_done']} run{'s' if cell['runs_done'] != 1 else ''}")
    return "<br>".join(lines)
