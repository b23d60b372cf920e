"""Dirac-GAN figures: the phase portrait with the trajectory, the distance to the equilibrium,
the spectral radius over the step size (the stability region), and the phase diagram over
(h, γ) or (lr ratio, k) with its stability boundary.

Pure drawing from gan_core.dirac* results: no Streamlit. Every trace carries its role in
`meta` ("field", "trajectory", "radius", "stable", "boundary", ...) so tests can find it in
a chart's JSON spec.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gan_core import dirac
from gan_core.dirac_phase import PhaseDiagram
from gan_core.dirac_stability import OUTCOMES

from .figures import FONT, LINE_COLORS

#: One colour per outcome (phase diagram cells, the reading badge).
OUTCOME_COLORS = {"converges": "#7fbf7b", "cycles": "#d9d9d9", "diverges": "#ef8a62"}
STABLE_FILL = "rgba(27, 158, 119, 0.14)"
BOUNDARY_COLOR = "#111111"
CURRENT_COLOR = "#7b3294"
AXIS_LABELS = {"h": "step size h", "r1": "R1 weight γ", "consensus": "consensus weight γ",
               "noise_std": "noise σ", "gp_weight": "penalty weight γ",
               "lr_ratio": "step-size ratio h_ψ / h_θ", "d_steps": "k (ψ steps per θ step)"}
_LAYOUT = dict(template="none", font=FONT, paper_bgcolor="white", plot_bgcolor="white",
               hovermode="closest")


def portrait_figure(config: dirac.DiracConfig, path: np.ndarray, *, height: int = 560
                    ) -> go.Figure:
    """Arrows of the vector field over (θ, ψ), the trajectory, its start and the equilibrium."""
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    extent = max(2.0, float(np.abs(path).max()) * 1.1) if len(path) else 2.0
    extent = min(extent, 50.0)
    th, ps, vt, vp = dirac.phase_portrait(config, extent=extent, n=17)
    norm = np.hypot(vt, vp)
    scale = 0.8 * (2 * extent / 16) / np.where(norm > 0, norm, 1)
    x0, y0 = th.ravel(), ps.ravel()
    x1, y1 = (th + vt * scale).ravel(), (ps + vp * scale).ravel()
    nan = np.full_like(x0, np.nan)
    arrows = dict(type="scatter", mode="lines", name="vector field", hoverinfo="skip",
                  meta="field",
                  x=np.stack([x0, x1, nan], 1).ravel(), y=np.stack([y0, y1, nan], 1).ravel(),
                  line=dict(color="rgba(90,90,90,0.55)", width=1.2))
    heads = dict(type="scatter", mode="markers", showlegend=False, hoverinfo="skip",
                 meta="field heads", x=x1, y=y1, marker=dict(size=3, color="rgba(90,90,90,0.7)"))
    traj = dict(type="scatter", mode="lines", name="trajectory", meta="trajectory",
                x=path[:, 0], y=path[:, 1], line=dict(color=LINE_COLORS[0], width=2.5))
    start = path[0] if len(path) else (config.theta0, config.psi0)
    marks = dict(type="scatter", mode="markers+text", showlegend=False, meta="marks",
                 x=[start[0], 0.0], y=[start[1], 0.0], text=["start", "equilibrium"],
                 textposition="top right",
                 marker=dict(size=[10, 12], color=[LINE_COLORS[2], "#222"],
                             symbol=["circle", "x"]))
    layout = dict(_LAYOUT, height=height, margin=dict(l=55, r=20, t=50, b=50),
                  title=dict(text=f"{config.objective} · {config.updates} · {config.optimizer}"
                                  f" · h = {config.h}", x=0.5),
                  xaxis=dict(title="θ (generator)", range=[-extent, extent], zeroline=True,
                             constrain="domain"),
                  yaxis=dict(title="ψ (discriminator)", range=[-extent, extent],
                             scaleanchor="x", zeroline=True),
                  legend=dict(orientation="h", y=-0.15, x=0.5, xanchor="center"))
    return go.Figure(dict(data=[arrows, heads, traj, marks], layout=layout))


def distance_figure(path: np.ndarray, *, height: int = 260) -> go.Figure:
    """The distance from the equilibrium at every step."""
    path = np.asarray(path, dtype=float).reshape(-1, 2)
    with np.errstate(over="ignore"):
        distance = np.hypot(path[:, 0], path[:, 1])
    layout = dict(_LAYOUT, height=height, margin=dict(l=55, r=20, t=40, b=40),
                  title=dict(text="distance from the equilibrium", x=0.5),
                  xaxis=dict(title="step"), yaxis=dict(rangemode="tozero"))
    return go.Figure(dict(data=[dict(type="scatter", mode="lines", y=distance, meta="distance",
                                     name="distance",
                                     line=dict(color=LINE_COLORS[1], width=2))],
                          layout=layout))


def stable_intervals(h_values: np.ndarray, rho: np.ndarray) -> list[tuple[float, float]]:
    """The (start, end) ranges of h where ρ < 1, as contiguous runs of the sampled values."""
    h_values, rho = np.asarray(h_values, dtype=float), np.asarray(rho, dtype=float)
    stable = np.concatenate([[False], rho < 1.0, [False]])
    starts = np.nonzero(~stable[:-1] & stable[1:])[0]
    ends = np.nonzero(stable[:-1] & ~stable[1:])[0] - 1
    return [(float(h_values[a]), float(h_values[b])) for a, b in zip(starts, ends)]


def stability_figure(h_values, rho, current_h: float, current_rho: float | None, *,
                     height: int = 300, title: str | None = None) -> go.Figure:
    """ρ as a function of h for the current method: the region ρ < 1 shaded (there small
    perturbations of the equilibrium die out), ρ = 1 drawn, the current h marked."""
    h_values, rho = np.asarray(h_values, dtype=float), np.asarray(rho, dtype=float)
    layout = dict(_LAYOUT, height=height, margin=dict(l=60, r=20, t=45, b=45),
                  title=dict(text=title or "stability over the step size", x=0.5),
                  xaxis=dict(title="step size h", range=[0.0, float(h_values.max())]),
                  yaxis=dict(title="spectral radius ρ"), showlegend=False)
    if np.all(np.isnan(rho)):
        layout["annotations"] = [dict(text="no linearisation at the equilibrium: no ρ",
                                      showarrow=False, xref="paper", yref="paper", x=0.5,
                                      y=0.5, font=dict(size=14, color="#555"))]
        return go.Figure(dict(data=[], layout=layout))
    finite = rho[np.isfinite(rho)]
    top = float(min(max(finite.max(), 1.05), 2.0))
    bottom = float(max(min(finite.min(), 0.95) - 0.02, 0.0))
    layout["yaxis"]["range"] = [bottom, top]
    layout["shapes"] = [dict(type="rect", xref="x", yref="paper", x0=a, x1=b, y0=0, y1=1,
                             fillcolor=STABLE_FILL, line=dict(width=0), layer="below")
                        for a, b in stable_intervals(h_values, rho)]
    layout["shapes"].append(dict(type="line", xref="paper", x0=0, x1=1, y0=1, y1=1,
                                 line=dict(color="#555", width=1, dash="dot")))
    data = [dict(type="scatter", mode="lines", x=h_values, y=np.minimum(rho, top * 1.5),
                 meta="radius", name="ρ(h)", line=dict(color=LINE_COLORS[0], width=2.5),
                 hovertemplate="h = %{x:.4g}<br>ρ = %{y:.6g}<extra></extra>"),
            dict(type="scatter", mode="markers", x=[current_h],
                 y=[current_rho if current_rho is not None else np.nan], meta="current",
                 name="current h", marker=dict(size=12, color=CURRENT_COLOR, symbol="diamond"),
                 hovertemplate="current h = %{x:.4g}<br>ρ = %{y:.6g}<extra></extra>")]
    layout["shapes"].append(dict(type="line", xref="x", yref="paper", x0=current_h,
                                 x1=current_h, y0=0, y1=1,
                                 line=dict(color=CURRENT_COLOR, width=1.5, dash="dash")))
    return go.Figure(dict(data=data, layout=layout))


def phase_figure(diagram: PhaseDiagram, current: tuple[float, float] | None = None, *,
                 height: int = 420, title: str | None = None) -> go.Figure:
    """Cells coloured by the outcome ρ predicts over the run's length (hover: ρ), the
    closed-form boundary ρ = 1 (or the grid's ρ = 1 level where there is none), and the
    current setting."""
    codes = np.vectorize(lambda o: OUTCOMES.index(o) if o in OUTCOMES else np.nan,
                         otypes=[float])(diagram.outcome)
    scale = []
    for i, outcome in enumerate(OUTCOMES):
        scale += [[i / 3, OUTCOME_COLORS[outcome]], [(i + 1) / 3, OUTCOME_COLORS[outcome]]]
    cells = dict(type="heatmap", x=diagram.x, y=diagram.y, z=codes, zmin=-0.5, zmax=2.5,
                 colorscale=scale, showscale=False, meta="cells", customdata=diagram.rho,
                 hovertemplate=(f"{diagram.x_name} = %{{x:.4g}}<br>{diagram.y_name} = "
                                "%{y:.4g}<br>ρ = %{customdata:.6g}<extra></extra>"))
    data = [cells]
    for outcome in OUTCOMES:            # legend entries for the cell colours
        data.append(dict(type="scatter", mode="markers", x=[None], y=[None], name=outcome,
                         meta="legend", marker=dict(size=12, symbol="square",
                                                    color=OUTCOME_COLORS[outcome])))
    ratio_k = diagram.axes == "ratio-k"
    if diagram.boundary is not None:
        for i, curve in enumerate(diagram.boundary):
            data.append(dict(type="scatter", mode="markers" if ratio_k else "lines",
                             x=curve[:, 0], y=curve[:, 1], meta="boundary",
                             name="ρ = 1 (closed form)", showlegend=i == 0,
                             legendgroup="boundary", hoverinfo="skip",
                             line=dict(color=BOUNDARY_COLOR, width=2.5),
                             marker=dict(color=BOUNDARY_COLOR, size=9, symbol="line-ns-open",
                                         line=dict(width=2.5))))
    else:
        data.append(dict(type="contour", x=diagram.x, y=diagram.y, z=diagram.rho,
                         meta="boundary", name="ρ = 1 (from the grid)", showlegend=True,
                         showscale=False, hoverinfo="skip", autocontour=False,
                         contours=dict(start=1.0, end=1.0, size=1.0, coloring="none"),
                         line=dict(color=BOUNDARY_COLOR, width=2.5, dash="dash")))
    if current is not None:
        data.append(dict(type="scatter", mode="markers", x=[current[0]], y=[current[1]],
                         meta="current", name="current setting",
                         marker=dict(size=14, color=CURRENT_COLOR, symbol="star",
                                     line=dict(color="white", width=1))))
    x_axis = dict(title=AXIS_LABELS.get(diagram.x_name, diagram.x_name))
    if ratio_k:
        x_axis.update(type="log")
    default_title = f"phase diagram from ρ, {diagram.steps:,} steps"
    layout = dict(_LAYOUT, height=height, margin=dict(l=65, r=20, t=50, b=50),
                  title=dict(text=title or default_title, x=0.5), xaxis=x_axis,
                  yaxis=dict(title=AXIS_LABELS.get(diagram.y_name, diagram.y_name)),
                  legend=dict(orientation="h", y=-0.2, x=0.5, xanchor="center"))
    return go.Figure(dict(data=data, layout=layout))
