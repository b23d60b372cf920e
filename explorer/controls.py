"""The sidebar: every TrainConfig setting as a widget, grouped as a user thinks of them.

Widgets only hold values (keyed `cfg_<field>`); explorer.session turns them into a config.
Continuous values are free number inputs: the config validator, not the widget, decides what is
allowed, and its message is shown next to the controls.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core import config as C
from gan_core.points import read_points

from . import session
from gan_draw.figures import LAYERS

K = session.widget_key
LAYER_LABELS = {"surface": "D surface", "contour": "decision contour", "real": "real samples",
                "fake": "generated samples", "push": "G's push (gradient arrows)",
                "manifold": "G manifold (latent grid)"}


def _on_dataset_change() -> None:
    """A new dataset brings its own noise level (a ring's 0.01 would starve a Gaussian)."""
    st.session_state[K("std")] = C.DEFAULT_STD[st.session_state[K("dataset")]]


def data_controls() -> None:
    st.selectbox("Dataset", C.DATASETS, key=K("dataset"), on_change=_on_dataset_change)
    dataset = st.session_state[K("dataset")]
    if dataset == "ring":
        c1, c2 = st.columns(2)
        c1.number_input("Modes", min_value=1, max_value=64, step=1, key=K("n_modes"))
        c2.number_input("Radius", step=0.5, format="%.2f", key=K("radius"))
    elif dataset == "grid":
        c1, c2 = st.columns(2)
        c1.number_input("Modes per side", min_value=1, max_value=12, step=1,
                        key=K("grid_size"))
        c2.number_input("Spacing", step=0.5, format="%.2f", key=K("spacing"))
    elif dataset == "custom":
        custom_points_controls()
    if dataset != "checkerboard":
        st.number_input("Noise std", step=0.01, format="%.3f", key=K("std"))
    st.number_input("Seed", min_value=0, max_value=2**31 - 2, step=1, key=K("seed"))


def custom_points_controls() -> None:
    """Custom data: upload a CSV/.npy, or type points, one `x, y` per line."""
    ss = st.session_state
    points = ss.get("custom_points") or ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0))
    if ss.get("custom_points") is None:
        ss.custom_points = points
    upload = st.file_uploader("Points file (CSV x,y or .npy)", type=["csv", "txt", "npy"],
                              key="custom_upload")
    if upload is not None and ss.get("custom_upload_id") != upload.file_id:
        ss.custom_upload_id = upload.file_id
        try:
            ss.custom_points = read_points(upload.getvalue())
            ss.custom_text = _points_text(ss.custom_points)
        except C.ConfigError as err:
            st.error(str(err))
    draw_canvas()
    if "custom_text" not in ss:
        ss.custom_text = _points_text(ss.custom_points)
    st.text_area("Points (x, y per line)", key="custom_text", height=120,
                 on_change=_on_points_typed)
    if ss.get("custom_text_error"):
        st.error(ss.custom_text_error)
    st.caption(f"{len(ss.custom_points)} point(s); each becomes a mode.")


CANVAS_EXTENT, CANVAS_STEPS = 4.0, 33


def draw_canvas() -> None:
    """Draw by clicking: a click (or a box/lasso) on empty space adds points there, a click on
    a point removes it. The clickable targets are a fine invisible grid."""
    ss = st.session_state
    axis = np.linspace(-CANVAS_EXTENT, CANVAS_EXTENT, CANVAS_STEPS)
    gx, gy = np.meshgrid(axis, axis)
    points = np.asarray(ss.custom_points, dtype=float).reshape(-1, 2)
    fig = go.Figure(dict(
        data=[dict(type="scatter", mode="markers", x=gx.ravel(), y=gy.ravel(),
                   marker=dict(size=7, color="rgba(0,0,0,0.04)"), hoverinfo="x+y",
                   name="add"),
              dict(type="scatter", mode="markers", x=points[:, 0], y=points[:, 1],
                   marker=dict(size=9, color="#1b7837"), name="points", hoverinfo="x+y")],
        layout=dict(height=260, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                    dragmode="select", template="none",
                    xaxis=dict(range=[-CANVAS_EXTENT - 0.3, CANVAS_EXTENT + 0.3],
                               showgrid=True, zeroline=True, fixedrange=True),
                    yaxis=dict(range=[-CANVAS_EXTENT - 0.3, CANVAS_EXTENT + 0.3],
                               scaleanchor="x", showgrid=True, zeroline=True,
                               fixedrange=True))))
    event = st.plotly_chart(fig, key="custom_canvas", on_select="rerun",
                            selection_mode=("points", "box", "lasso"),
                            config={"displayModeBar": False})
    picked = [(round(p["x"], 3), round(p["y"], 3), p.get("curve_number", 0))
              for p in (event.selection.points if event else [])]
    if picked and picked != ss.get("canvas_done"):
        ss.canvas_done = picked
        ss.custom_points = edited_points(ss.custom_points, picked)
        ss.custom_text = _points_text(ss.custom_points)
    st.caption("Click empty space to add a point, click a point to remove it; "
               "box or lasso to add many.")


def edited_points(points, picked) -> tuple:
    """`points` with picked grid targets (curve 0) added and picked points (curve 1) removed;
    never fewer than one point."""
    removed = {(x, y) for x, y, curve in picked if curve == 1}
    kept = [p for p in points if (round(p[0], 3), round(p[1], 3)) not in removed]
    added = [(float(x), float(y)) for x, y, curve in picked if curve == 0]
    result = tuple(dict.fromkeys(kept + added))
    return result or tuple(points[:1])


def _on_points_typed() -> None:
    ss = st.session_state
    try:
        ss.custom_points = read_points(ss.custom_text.encode())
        ss.custom_text_error = ""
    except C.ConfigError as err:
        ss.custom_text_error = str(err)


def _points_text(points) -> str:
    return "\n".join(f"{x:g}, {y:g}" for x, y in points)


def objective_controls() -> None:
    st.selectbox("Loss", C.LOSSES, key=K("loss"),
                 help="minimax: the saturating generator loss of Goodfellow et al. 2014")
    loss = st.session_state[K("loss")]
    if loss == "wgan":
        st.number_input("Weight clip", step=0.005, format="%.3f", key=K("clip"))
    if loss == "wgan-gp":
        st.number_input("Gradient penalty λ", step=0.1, format="%.2f", key=K("gp_weight"))
    c1, c2 = st.columns(2)
    c1.number_input("R1 γ (real)", step=0.1, format="%.2f", key=K("r1"))
    c2.number_input("R2 γ (fake)", step=0.1, format="%.2f", key=K("r2"))
    st.number_input("Instance noise σ", step=0.05, format="%.2f", key=K("instance_noise"))


def training_controls() -> None:
    c1, c2 = st.columns(2)
    c1.number_input("k (D steps)", min_value=1, max_value=100, step=1, key=K("k"))
    c2.number_input("k_G (G steps)", min_value=1, max_value=100, step=1, key=K("k_g"))
    c1, c2 = st.columns(2)
    c1.number_input("lr D", step=1e-4, format="%.5f", key=K("lr_d"))
    c2.number_input("lr G", step=1e-4, format="%.5f", key=K("lr_g"))
    c1, c2 = st.columns(2)
    c1.selectbox("Optimizer D", C.OPTIMIZERS, key=K("opt_d"))
    c2.selectbox("Optimizer G", C.OPTIMIZERS, key=K("opt_g"))
    optimizers = {st.session_state[K("opt_d")], st.session_state[K("opt_g")]}
    if "adam" in optimizers:
        c1, c2 = st.columns(2)
        c1.number_input("Adam β1", step=0.05, format="%.2f", key=K("beta1"))
        c2.number_input("Adam β2", step=0.001, format="%.3f", key=K("beta2"))
    if optimizers & {"sgd", "rmsprop"}:
        st.number_input("Momentum", step=0.05, format="%.2f", key=K("momentum"))
    st.select_slider("Batch size", options=[16, 32, 64, 128, 256, 512, 1024],
                     key=K("batch_size"))
    st.radio("Updates", C.UPDATES, key=K("updates"), horizontal=True)


def model_controls() -> None:
    c1, c2 = st.columns(2)
    c1.number_input("Latent size", min_value=1, max_value=16, step=1, key=K("latent_dim"))
    c2.selectbox("Latent", C.LATENTS, key=K("latent"))
    c1, c2 = st.columns(2)
    c1.number_input("G width", min_value=1, max_value=1024, step=16, key=K("g_width"))
    c2.number_input("G depth", min_value=1, max_value=8, step=1, key=K("g_depth"))
    c1, c2 = st.columns(2)
    c1.number_input("D width", min_value=1, max_value=1024, step=16, key=K("d_width"))
    c2.number_input("D depth", min_value=1, max_value=8, step=1, key=K("d_depth"))
    st.selectbox("Activation", C.ACTIVATIONS, key=K("activation"))
    st.checkbox("Spectral norm on D", key=K("spectral_norm"))


def display_defaults() -> None:
    ss = st.session_state
    ss.setdefault("layers", list(LAYERS))
    ss.setdefault("grid", 50)
    ss.setdefault("iters_per_frame", 20)


def display_controls() -> None:
    display_defaults()
    st.multiselect("Layers", LAYERS, key="layers", format_func=LAYER_LABELS.get)
    st.slider("Surface resolution", 20, 120, step=10, key="grid")
    st.slider("Iterations per frame", 1, 200, key="iters_per_frame",
              help="More trains faster; fewer animates more smoothly.")


def sidebar(classroom: bool = False):
    """All control groups (the basic ones only in classroom mode). Returns the slot, above
    them, where a bad value's message goes."""
    with st.sidebar:
        st.header("Controls")
        error_slot = st.empty()
        with st.expander("Data", expanded=True):
            data_controls()
        with st.expander("Objective", expanded=True):
            objective_controls()
        with st.expander("Training", expanded=True):
            training_controls()
        if classroom:
            display_defaults()
            return error_slot
        with st.expander("Models"):
            model_controls()
        with st.expander("Display"):
            display_controls()
    return error_slot


def show_config_error(slot) -> None:
    """A bad value keeps the run going on its last good settings and says what is wrong."""
    message = st.session_state.get("config_error")
    if message:
        slot.error(f"{message}. The run keeps its last valid settings.")
