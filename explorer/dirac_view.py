"""The Dirac-GAN page: phase portrait and trajectory of the two-parameter game of Mescheder et
al. (2018) and the bilinear game, the spectral radius at the equilibrium with the
converges / cycles / diverges reading, the stability region over h and a phase diagram.

All maths is in gan_core.dirac, dirac_stability and dirac_phase; the figures are in
gan_draw.dirac_figures; this holds the controls and lays the page out.

Every setting lives in st.session_state under SETTING_KEYS (one key per DiracConfig field,
"dirac_<field>") plus DIAGRAM_KEY; `init_settings` is the one place that gives them their
defaults, and `current_config` the one place that reads them.
"""
from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import streamlit as st

from gan_core import dirac
from gan_core.dirac_phase import AXES, phase_diagram
from gan_core.dirac_stability import REGULARISER, radius_over_h, read

from gan_draw.dirac_figures import (OUTCOME_COLORS, distance_figure, phase_figure,
                                    portrait_figure, stability_figure)
from gan_draw.figures import projected

from . import links, state

#: st.session_state key of every setting of the run, by DiracConfig field.
SETTING_KEYS = {f.name: f"dirac_{f.name}" for f in fields(dirac.DiracConfig)}
#: st.session_state key of the phase diagram's axes ("h-gamma" or "ratio-k").
DIAGRAM_KEY = "dirac_diagram_axes"

DESCRIBE = {
    "gan": "Unregularised GAN, f(t) = −log(1 + e^(−t)). At the equilibrium the field is a "
           "pure rotation: J = [[0, −½], [½, 0]].",
    "nsgan": "Non-saturating generator loss: the same rotation at the equilibrium as the GAN, "
             "different far from it.",
    "wgan": "WGAN, f(t) = t, with weight clipping |ψ| ≤ clip. At the equilibrium the clip is "
            "inactive and the field is the rotation J = [[0, −1], [1, 0]].",
    "wgan-gp": "WGAN-GP: the penalty (γ/2)(|ψ| − g₀)² pulls |ψ| towards g₀, not 0, so the "
               "field jumps at ψ = 0 and has no linearisation there. With g₀ = 0 the "
               "penalty is R1's and the field is smooth again.",
    "instance-noise": "Instance noise σ adds −σ²/2 to the critic's diagonal: "
                      "J = [[0, −½], [½, −σ²/2]].",
    "gradient-penalty": "Zero-centred gradient penalty R1, (γ/2)ψ²: J = [[0, −½], [½, −γ]].",
    "consensus": "Consensus optimisation damps both players: J − γJᵀJ = [[−γ/4, −½], "
                 "[½, −γ/4]].",
    "bilinear": "The bilinear game L = ψθ (f(t) = t, no clipping): the linear rotation "
                "J = [[0, −1], [1, 0]] everywhere, so ρ tells the whole story.",
}
OPTIMIZER_TEXT = {
    "gd": "gradient descent",
    "extragradient": "extragradient: each turn takes its gradient at a look-ahead point",
    "optimistic": "optimistic: each turn steps along 2·(gradient now) − (gradient last turn)",
}
PARAMS = {"wgan": [("clip", "clip", 0.1)], "wgan-gp": [("gp_weight", "penalty weight γ", 0.1),
                                                       ("gp_target", "target g₀", 0.1)],
          "instance-noise": [("noise_std", "noise σ", 0.05)],
          "gradient-penalty": [("r1", "γ", 0.05)], "consensus": [("consensus", "γ", 0.1)]}
AXES_LABELS = {"h-gamma": "step size × regulariser weight",
               "ratio-k": "step-size ratio × D steps (alternating)"}
H_CURVE_POINTS = 400
GRID = 48


def init_settings() -> None:
    """The defaults of every setting, set once per session (DiracConfig's defaults)."""
    defaults = dirac.DiracConfig()
    for name, key in SETTING_KEYS.items():
        st.session_state.setdefault(key, getattr(defaults, name))
    st.session_state.setdefault(DIAGRAM_KEY, AXES[0])


def current_config() -> dirac.DiracConfig | None:
    """The settings in st.session_state as a DiracConfig, or None (with the error shown)."""
    values = {name: st.session_state[key] for name, key in SETTING_KEYS.items()}
    try:
        return dirac.DiracConfig(**values)
    except ValueError as err:
        st.error(str(err))
        return None


def controls() -> dirac.DiracConfig | None:
    init_settings()
    k = SETTING_KEYS
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("Method", dirac.OBJECTIVES, key=k["objective"], persist_state="session")
    c2.radio("Updates", dirac.UPDATES, key=k["updates"], persist_state="session", horizontal=True)
    c3.selectbox("Optimizer", dirac.OPTIMIZERS, key=k["optimizer"], persist_state="session")
    c4.number_input("Step size h", step=0.05, format="%.3f", key=k["h"], persist_state="session")
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Steps", min_value=1, max_value=20_000, step=100, key=k["steps"], persist_state="session")
    c2.number_input("D steps per G step", min_value=1, max_value=50, key=k["d_steps"], persist_state="session",
                    help="alternating updates only")
    c3.number_input("Momentum β", step=0.1, format="%.3f", key=k["momentum"], persist_state="session",
                    help=f"heavy ball; negative allowed, in [{dirac.MOMENTUM_RANGE[0]}, "
                         f"{dirac.MOMENTUM_RANGE[1]}]")
    c4.number_input("Step-size ratio h_ψ / h_θ", step=0.5, format="%.3f", key=k["lr_ratio"], persist_state="session",
                    help="ψ moves with h·ratio")
    params = PARAMS.get(st.session_state[k["objective"]], [])
    columns = st.columns(2 + max(len(params), 1))
    columns[0].number_input("θ₀", step=0.1, key=k["theta0"], persist_state="session")
    columns[1].number_input("ψ₀", step=0.1, key=k["psi0"], persist_state="session")
    for column, (name, label, step) in zip(columns[2:], params):
        column.number_input(label, step=step, key=k[name], persist_state="session")
    return current_config()


def h_range(config: dirac.DiracConfig) -> np.ndarray:
    top = max(2.0, 2.0 * config.h)
    return np.linspace(top / H_CURVE_POINTS, top, H_CURVE_POINTS)


def diagram_axes(config: dirac.DiracConfig) -> list[str]:
    """The diagrams that apply: h × γ for an objective with a regulariser weight (WGAN-GP
    only with target 0), and ratio × k (drawn for alternating updates)."""
    axes = []
    if config.objective in REGULARISER and not (config.objective == "wgan-gp"
                                                 and config.gp_target != 0):
        axes.append("h-gamma")
    axes.append("ratio-k")
    return axes


@st.cache_data(max_entries=32, show_spinner=False)
def _diagram(config: dirac.DiracConfig, axes: str):
    if axes == "h-gamma":
        weight = getattr(config, REGULARISER[config.objective])
        x = np.linspace(max(config.h, 2.0) / GRID, max(2.0, 2.0 * config.h), GRID)
        y = np.linspace(0.0, max(2.5 * weight, 2.0), GRID)
    else:
        config = replace(config, updates="alternating")
        x = np.geomspace(dirac.LR_RATIO_RANGE[0], dirac.LR_RATIO_RANGE[1], GRID)
        y = np.arange(1, 21)
    return phase_diagram(config, axes, x, y)


def reading_markdown(reading) -> str:
    color = OUTCOME_COLORS[reading.outcome]
    return (f"<span style='background:{color};padding:2px 8px;border-radius:4px'>"
            f"<b>{reading.outcome}</b></span> — {reading.reason}.")


def stability_section(config: dirac.DiracConfig, rho: float | None) -> None:
    left, right = st.columns(2)
    h_values = h_range(config)
    left.plotly_chart(stability_figure(h_values, radius_over_h(config, h_values), config.h, rho),
                      key="dirac_stability", config={"displayModeBar": False})
    left.caption("ρ of the linearised update at the equilibrium for this method as h varies; "
                 "shaded: ρ < 1, where every start close enough converges.")
    with right:
        options = diagram_axes(config)
        if st.session_state[DIAGRAM_KEY] not in options:
            st.session_state[DIAGRAM_KEY] = options[0]
        axes = st.radio("Phase diagram over", options, key=DIAGRAM_KEY, persist_state="session", horizontal=True,
                        format_func=AXES_LABELS.get)
        diagram = _diagram(config, axes)
        alternating = config.updates == "alternating"
        current = ((config.h, getattr(config, diagram.y_name)) if axes == "h-gamma"
                   else (config.lr_ratio, config.d_steps) if alternating else None)
        st.plotly_chart(phase_figure(diagram, current), key="dirac_phase",
                        config={"displayModeBar": False})
        note = "" if axes == "h-gamma" or alternating else " Drawn for alternating updates."
        kind = ("closed form (Jury's criterion on the 2×2 update)" if diagram.boundary
                is not None else "the grid's ρ = 1 level (no closed form for this method)")
        st.caption(f"Each cell: the outcome ρ predicts over {config.steps:,} steps; "
                   f"line: ρ = 1, {kind}.{note}")


PRESENT_FONT, PRESENT_HEIGHT = 20, 500     # the projector layout: readable, in the window


def show(column, fig, key: str, present: bool) -> None:
    if present:
        fig = projected(fig, PRESENT_FONT, PRESENT_HEIGHT)
    column.plotly_chart(fig, key=key, config={"displayModeBar": False})


def page() -> None:
    present = state.flags().present
    links.write_query()
    if not present:
        st.header("Dirac-GAN")
        st.caption("Mescheder, Geiger & Nowozin (2018): the generator is a point mass at θ, "
                   "the discriminator D(x) = ψ·x, real data sits at 0. The only equilibrium "
                   "is (θ, ψ) = (0, 0). Does training reach it?")
        config = controls()
    else:           # the projector layout: the figures first, the controls below them
        figures_slot = st.container()
        with st.expander("Settings", expanded=False):
            config = controls()
        if config is not None:
            with figures_slot:
                present_figures(config)
        return
    if config is None:
        return
    result = dirac.run(config)
    path = np.asarray(result["trajectory"], dtype=float).reshape(-1, 2)
    reading = read(config, path, result["diverged_at"])
    extra = f" Momentum β = {config.momentum}." if config.momentum else ""
    st.markdown(f"{DESCRIBE[config.objective]} Updates: {config.updates}, "
                f"{OPTIMIZER_TEXT[config.optimizer]}.{extra}")
    st.markdown(reading_markdown(reading), unsafe_allow_html=True)
    left, right = st.columns([3, 2])
    show(left, portrait_figure(config, path), "dirac_portrait", False)
    with right:
        show(st, distance_figure(path), "dirac_distance", False)
        rho = reading.spectral_radius
        m1, m2 = st.columns(2)
        m1.metric("spectral radius ρ", "none" if rho is None else f"{rho:.6g}")
        m2.metric("final distance", f"{result['distance']:.3g}")
        st.markdown(f"θ = {result['theta']:.4g}, ψ = {result['psi']:.4g} → "
                    f"**{reading.verdict}**")
        if result["diverged_at"]:
            st.error(f"diverged at step {result['diverged_at']}")
    stability_section(config, reading.spectral_radius)


def present_figures(config: dirac.DiracConfig) -> None:
    """The reading, the trajectory and the distance, large."""
    result = dirac.run(config)
    path = np.asarray(result["trajectory"], dtype=float).reshape(-1, 2)
    reading = read(config, path, result["diverged_at"])
    st.markdown(reading_markdown(reading), unsafe_allow_html=True)
    left, right = st.columns([3, 2])
    show(left, portrait_figure(config, path), "dirac_portrait", True)
    show(right, distance_figure(path), "dirac_distance", True)
