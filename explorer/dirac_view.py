"""The Dirac-GAN page: phase portrait and trajectory of the two-parameter game of Mescheder et
al. (2018). All maths is in gan_core.dirac; this draws it and holds the controls."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core import dirac
from gan_core.dirac_cli import verdict

from gan_draw.figures import FONT, LINE_COLORS

EXPLAIN = {
    "gan": "Unregularised GAN. Simultaneous gradient descent spirals **out**; alternating "
           "updates circle the equilibrium without reaching it.",
    "nsgan": "Non-saturating generator loss: the same rotation near the equilibrium.",
    "wgan": "WGAN with weight clipping: ψ hits the clip and the iterates oscillate.",
    "wgan-gp": "WGAN-GP: the penalty pulls |ψ| towards 1, not 0, so the game keeps cycling.",
    "instance-noise": "Instance noise turns the rotation into a spiral **in**: convergence.",
    "gradient-penalty": "Zero-centred gradient penalty (R1): converges to (0, 0).",
    "consensus": "Consensus optimisation damps the rotation: converges.",
}
PARAMS = {"wgan": [("clip", "clip", 0.1)], "wgan-gp": [("gp_weight", "penalty weight", 0.1),
                                                       ("gp_target", "target", 0.1)],
          "instance-noise": [("noise_std", "noise σ", 0.05)],
          "gradient-penalty": [("r1", "γ", 0.05)], "consensus": [("consensus", "γ", 0.1)]}


def controls() -> dirac.DiracConfig | None:
    defaults = dirac.DiracConfig()
    c1, c2, c3 = st.columns(3)
    objective = c1.selectbox("Method", dirac.OBJECTIVES, key="dirac_objective")
    updates = c2.radio("Updates", dirac.UPDATES, key="dirac_updates", horizontal=True)
    h = c3.number_input("Step size h", value=defaults.h, step=0.05, format="%.3f",
                        key="dirac_h")
    c1, c2, c3, c4 = st.columns(4)
    steps = c1.number_input("Steps", value=defaults.steps, min_value=1, max_value=20_000,
                            step=100, key="dirac_steps")
    d_steps = c2.number_input("D steps per G step", value=defaults.d_steps, min_value=1,
                              max_value=50, key="dirac_d_steps")
    theta0 = c3.number_input("θ₀", value=defaults.theta0, step=0.1, key="dirac_theta0")
    psi0 = c4.number_input("ψ₀", value=defaults.psi0, step=0.1, key="dirac_psi0")
    extra = {}
    for name, label, step in PARAMS.get(objective, []):
        extra[name] = st.number_input(label, value=getattr(defaults, name), step=step,
                                      key=f"dirac_{name}")
    try:
        return dirac.DiracConfig(objective=objective, updates=updates, h=h, steps=int(steps),
                                 d_steps=int(d_steps), theta0=theta0, psi0=psi0, **extra)
    except ValueError as err:
        st.error(str(err))
        return None


def portrait_figure(config: dirac.DiracConfig, path: np.ndarray) -> go.Figure:
    """Arrows of the vector field over (θ, ψ), the trajectory, its start and the equilibrium."""
    extent = max(2.0, float(np.abs(path[:, :2]).max()) * 1.1) if len(path) else 2.0
    extent = min(extent, 50.0)
    th, ps, vt, vp = dirac.phase_portrait(config, extent=extent, n=17)
    norm = np.hypot(vt, vp)
    scale = 0.8 * (2 * extent / 16) / np.where(norm > 0, norm, 1)
    x0, y0 = th.ravel(), ps.ravel()
    x1, y1 = (th + vt * scale).ravel(), (ps + vp * scale).ravel()
    nan = np.full_like(x0, np.nan)
    arrows = dict(type="scatter", mode="lines", name="vector field", hoverinfo="skip",
                  x=np.stack([x0, x1, nan], 1).ravel(), y=np.stack([y0, y1, nan], 1).ravel(),
                  line=dict(color="rgba(90,90,90,0.55)", width=1.2))
    heads = dict(type="scatter", mode="markers", showlegend=False, hoverinfo="skip",
                 x=x1, y=y1, marker=dict(size=3, color="rgba(90,90,90,0.7)"))
    traj = dict(type="scatter", mode="lines", name="trajectory", x=path[:, 0], y=path[:, 1],
                line=dict(color=LINE_COLORS[0], width=2.5))
    marks = dict(type="scatter", mode="markers+text", showlegend=False,
                 x=[path[0, 0], 0.0], y=[path[0, 1], 0.0], text=["start", "equilibrium"],
                 textposition="top right",
                 marker=dict(size=[10, 12], color=[LINE_COLORS[2], "#222"],
                             symbol=["circle", "x"]))
    layout = dict(template="none", font=FONT, height=560, margin=dict(l=55, r=20, t=50, b=50),
                  title=dict(text=f"{config.objective} · {config.updates} · h = {config.h}",
                             x=0.5),
                  xaxis=dict(title="θ (generator)", range=[-extent, extent], zeroline=True,
                             constrain="domain"),
                  yaxis=dict(title="ψ (discriminator)", range=[-extent, extent],
                             scaleanchor="x", zeroline=True),
                  legend=dict(orientation="h", y=-0.15, x=0.5, xanchor="center"))
    return go.Figure(dict(data=[arrows, heads, traj, marks], layout=layout))


def distance_figure(path: np.ndarray) -> go.Figure:
    distance = np.hypot(path[:, 0], path[:, 1])
    layout = dict(template="none", font=FONT, height=260, margin=dict(l=55, r=20, t=40, b=40),
                  title=dict(text="distance from the equilibrium", x=0.5),
                  xaxis=dict(title="step"), yaxis=dict(rangemode="tozero"))
    return go.Figure(dict(data=[dict(type="scatter", mode="lines", y=distance,
                                     line=dict(color=LINE_COLORS[1], width=2))],
                          layout=layout))


def page() -> None:
    st.header("Dirac-GAN")
    st.caption("Mescheder, Geiger & Nowozin (2018): the generator is a point mass at θ, the "
               "discriminator D(x) = ψ·x, real data sits at 0. The only equilibrium is "
               "(θ, ψ) = (0, 0). Does training reach it?")
    config = controls()
    if config is None:
        return
    result = dirac.run(config)
    path = np.asarray(result["trajectory"], dtype=float).reshape(-1, 2)
    st.markdown(EXPLAIN[config.objective])
    left, right = st.columns([3, 2])
    left.plotly_chart(portrait_figure(config, path), key="dirac_portrait",
                      config={"displayModeBar": False})
    with right:
        st.plotly_chart(distance_figure(path), key="dirac_distance",
                        config={"displayModeBar": False})
        said = verdict(result, float(np.hypot(config.theta0, config.psi0)))
        st.metric("final distance", f"{result['distance']:.3g}")
        st.markdown(f"θ = {result['theta']:.4g}, ψ = {result['psi']:.4g} → **{said}**")
        if result["diverged_at"]:
            st.error(f"diverged at step {result['diverged_at']}")
