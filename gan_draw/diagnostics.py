"""Drawing the game diagnostics: the Jacobian's eigenvalues with the region where simultaneous
gradient steps contract (gan_core.spectrum), their history, and the optimal discriminator's
0.5 contour as a trace the main figure can add (gan_core.optimal_d).

Plain dict figures as in gan_draw.figures; each trace carries its layer name in `meta`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from .figures import _AXIS, WIRE_DTYPE, _chart_layout, _message

if TYPE_CHECKING:
    from gan_core.optimal_d import OptimalD
    from gan_core.spectrum import Spectrum

INSIDE_COLOR = "#1b7837"          # eigenvalues where steps contract
OUTSIDE_COLOR = "#c62828"         # eigenvalues that grow (or spin out) under the steps
REGION_FILL = "rgba(27, 120, 55, 0.12)"
OPTIMAL_D_COLOR = "#e6a100"       # amber: apart from the learned boundary (black) and push
ROTATION_CAP = 1e3                # |Im|/|Re| above this (a pure rotation: inf) is drawn here
CIRCLE_POINTS = 241


def spectrum_figure(spectrum: "Spectrum", *, height: int = 320,
                    title: str | None = None) -> go.Figure:
    """The eigenvalues in the complex plane over the contraction disk |1 + ηλ| < 1."""
    ev = np.asarray(spectrum.eigenvalues, dtype=complex)
    layout = _chart_layout(title or _spectrum_title(spectrum), height)
    layout["xaxis"]["title"] = dict(text="Re λ", font=dict(size=13))
    layout["yaxis"]["title"] = dict(text="Im λ", font=dict(size=13))
    if not len(ev):
        return go.Figure(_message(layout, "no eigenvalue converged"))
    centre, radius = spectrum.region
    angle = np.linspace(0, 2 * np.pi, CIRCLE_POINTS)
    inside = np.abs(1 + spectrum.lr_ref * ev) < 1
    data = [dict(type="scatter", mode="lines", meta="region", name="steps contract",
                 x=(centre.real + radius * np.cos(angle)).astype(WIRE_DTYPE),
                 y=(radius * np.sin(angle)).astype(WIRE_DTYPE), fill="toself",
                 fillcolor=REGION_FILL, line=dict(color=INSIDE_COLOR, width=1.5),
                 hoverinfo="skip")]
    for mask, name, colour in ((inside, "inside", INSIDE_COLOR),
                               (~inside, "outside", OUTSIDE_COLOR)):
        if mask.any():
            data.append(dict(type="scatter", mode="markers", meta=f"eigenvalues {name}",
                             name=f"eigenvalues {name}", x=ev.real[mask], y=ev.imag[mask],
                             marker=dict(color=colour, size=9, symbol="x"),
                             hovertemplate="λ = %{x:.3g} %{y:+.3g}i<extra></extra>"))
    layout["xaxis"]["range"], layout["yaxis"]["range"] = _view(ev)
    layout["xaxis"]["zeroline"] = layout["yaxis"]["zeroline"] = True
    return go.Figure(dict(data=data, layout=layout))


def _spectrum_title(spectrum: "Spectrum") -> str:
    verdict = "steps contract" if spectrum.contracts else "steps do not contract"
    return (f"Game Jacobian eigenvalues · max Re {spectrum.max_real:.3g} · {verdict} "
            f"(η = {spectrum.lr_ref:g})")


def _view(ev: np.ndarray) -> tuple[list[float], list[float]]:
    """A box around the eigenvalues and the origin (the disk's edge there is what matters)."""
    xs = np.concatenate([ev.real, [0.0]])
    ys = np.concatenate([ev.imag, [0.0]])
    span = max(xs.max() - xs.min(), ys.max() - ys.min(), 1e-9)
    pad = 0.15 * span
    cx, cy = (xs.max() + xs.min()) / 2, (ys.max() + ys.min()) / 2
    half = span / 2 + pad
    return [float(cx - half), float(cx + half)], [float(cy - half), float(cy + half)]


def spectrum_history_figure(history: dict, *, height: int = 220) -> go.Figure:
    """Largest real part (left axis) and rotation |Im λ| / |Re λ| (right axis, log) against
    iteration; `history` is SpectrumHistory.arrays()."""
    layout = _chart_layout("attraction vs rotation", height)
    layout["xaxis"]["title"] = dict(text="iteration", font=dict(size=13))
    layout["yaxis"]["title"] = dict(text="max Re λ", font=dict(size=13))
    layout["yaxis2"] = dict(_AXIS, overlaying="y", side="right", type="log",
                            title=dict(text="|Im| / |Re|", font=dict(size=13)))
    layout["margin"] = dict(layout["margin"], r=60)
    x = np.asarray(history.get("iteration", []), dtype=float)
    if not len(x):
        return go.Figure(_message(layout, "no data yet"))
    real = np.asarray(history["max_real"], dtype=float)
    rotation = np.minimum(np.asarray(history["rotation"], dtype=float), ROTATION_CAP)
    rotation = np.where(rotation > 0, rotation, np.nan)       # log axis: no zeros
    mode = "lines+markers" if len(x) <= 40 else "lines"
    data = [dict(type="scatter", mode=mode, meta="max_real", name="max Re λ", x=x, y=real,
                 line=dict(color="#3366cc", width=2)),
            dict(type="scatter", mode=mode, meta="rotation", name="|Im| / |Re|", x=x,
                 y=rotation, yaxis="y2", line=dict(color="#e66100", width=2, dash="dot"))]
    return go.Figure(dict(data=data, layout=layout))


def optimal_d_trace(optimal: "OptimalD") -> dict | None:
    """The 0.5 contour of D* as a plotly trace dict for the main figure (add it to its data,
    after the surface), or None when D* never crosses 0.5 on the grid."""
    z = np.asarray(optimal.surface, dtype=float)
    finite = z[np.isfinite(z)]
    if finite.size == 0 or not (finite.min() < 0.5 < finite.max()):
        return None
    return dict(type="contour", meta="optimal_d", name=f"optimal D* = 0.5{gap_text(optimal)}",
                x=optimal.grid_x, y=optimal.grid_y, z=z.astype(WIRE_DTYPE), autocontour=False,
                contours=dict(start=0.5, end=0.5, size=1.0, coloring="lines",
                              showlabels=False),
                colorscale=[[0, OPTIMAL_D_COLOR], [1, OPTIMAL_D_COLOR]], showscale=False,
                line=dict(width=2.5, dash="dot"), showlegend=True, hoverinfo="skip")


def gap_text(optimal: "OptimalD") -> str:
    """" · gap 0.12" for a legend or the status line ('' without a learned D to compare)."""
    return "" if optimal.gap is None else f" · gap {optimal.gap:.2f}"

