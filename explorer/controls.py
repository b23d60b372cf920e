"""The sidebar: every TrainConfig setting as a widget, grouped as a user thinks of them.

Widgets only display and edit values (keyed `cfg_<field>`) that live in the Live page's state
(explorer.session); the session turns them into a config. Every number is a free number input:
the config validator, not the widget, decides what is allowed, and all its messages are shown
above the controls at once.
"""
from __future__ import annotations

import streamlit as st

from gan_core import config as C
from gan_core.points import MAX_COORDINATE, MAX_POINTS_FILE_BYTES, read_points

from . import session, state
from .diagnostics import OPTIMAL_D
from .player import canvas
from gan_draw.figures import LAYERS

K = session.widget_key
LAYER_LABELS = {"surface": "D surface", "contour": "decision contour", "real": "real samples",
                "fake": "generated samples", "push": "G's push (gradient arrows)",
                "manifold": "G manifold (latent grid)",
                "averaged": "averaged G (generator averaging, ema > 0)",
                OPTIMAL_D: "optimal D* = 0.5 (sigmoid losses)"}


def float_field(where, label: str, name: str) -> None:
    """A setting that is a real number, as text: "3e-4" reads naturally, and whatever is typed
    reaches the validator as typed ("1e999" is named as too large, not read as 0)."""
    meta = C.field_of(name).metadata
    where.text_input(label, key=K(name), persist_state="session",
                     help=f"{meta['help']}; {C.range_text(meta)}")


def data_controls() -> None:
    st.selectbox("Dataset", C.DATASETS, key=K("dataset"), persist_state="session", on_change=session.dataset_changed)
    dataset = st.session_state[K("dataset")]
    if dataset == "ring":
        c1, c2 = st.columns(2)
        c1.number_input("Modes", step=1, key=K("n_modes"), persist_state="session")
        float_field(c2, "Radius", "radius")
    elif dataset == "grid":
        c1, c2 = st.columns(2)
        c1.number_input("Modes per side", step=1, key=K("grid_size"), persist_state="session")
        float_field(c2, "Spacing", "spacing")
    elif dataset == "custom":
        custom_points_controls()
    if dataset != "checkerboard":
        float_field(st, "Noise std", "std")
    st.number_input("Seed", step=1, key=K("seed"), persist_state="session")


DEFAULT_POINTS = ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0))


def custom_points_controls() -> None:
    """Custom data: upload a CSV/.npy, draw on a canvas, or type points, one `x, y` per line.
    The points live in the Live state's values; the text box shows them (or what was typed,
    with its error, until it reads)."""
    live_state = session.live()
    values = live_state.values
    if not values.get("custom_points"):
        values["custom_points"] = DEFAULT_POINTS
    if not live_state.points_text:
        live_state.points_text = _points_text(values["custom_points"])
    upload = st.file_uploader("Points file (CSV x,y or .npy)", type=["csv", "txt", "npy"],
                              key="custom_upload", max_upload_size=MAX_POINTS_FILE_BYTES >> 20,
                              help=f"At most {MAX_POINTS_FILE_BYTES >> 20} MB, "
                                   f"{C.MAX_CUSTOM_POINTS:,} points, coordinates within "
                                   f"±{MAX_COORDINATE:g}")
    if upload is not None and live_state.upload_id != upload.file_id:
        live_state.upload_id = upload.file_id
        try:
            set_points(read_points(upload.getvalue()))
        except C.ConfigError as err:
            st.error(str(err))
    if st.button("Draw points…", icon=":material/draw:", key="custom_draw",
                 help="A large canvas: click to add or remove points, box or lasso to add many"):
        draw_dialog()
    key = text_key(live_state)
    state.bind(key, live_state.points_text)
    st.text_area("Points (x, y per line)", key=key, height=120, on_change=_on_points_typed)
    if live_state.points_error:
        st.error(live_state.points_error)
    st.caption(f"{len(values['custom_points'])} point(s); each becomes a mode.")


def text_key(live_state) -> str:
    """The points text box's key: a new one whenever the points come from elsewhere (a file,
    the canvas), so the box shows them instead of what the browser still holds."""
    return f"custom_text_{live_state.points_version}"


def set_points(points) -> None:
    """New custom points from a file or the canvas: the text box follows."""
    live_state = session.live()
    live_state.values["custom_points"] = tuple(points)
    live_state.points_text = _points_text(points)
    live_state.points_error = ""
    live_state.points_version += 1


CANVAS_EXTENT, CANVAS_STEPS = 4.0, 33


@st.dialog("Draw the custom points", width="large", on_dismiss="rerun")
def draw_dialog() -> None:
    draw_canvas()


def draw_canvas() -> None:
    """Draw by clicking: a click on empty space adds a point there, a click on a point
    removes it, a box or lasso adds points on a fine grid inside it."""
    points = session.live().values["custom_points"]
    canvas("custom_canvas", points, CANVAS_EXTENT, CANVAS_STEPS, _on_canvas_edit)
    st.caption(f"{len(points)} point(s). Click empty space to add a point, click a point to "
               "remove it; box or lasso to add many. Close this window when done.")


def _on_canvas_edit() -> None:
    edit = (st.session_state.get("custom_canvas") or {}).get("edit") or {}
    picked = ([(x, y, 0) for x, y in edit.get("add", [])]
              + [(x, y, 1) for x, y in edit.get("remove", [])])
    if picked:
        set_points(edited_points(session.live().values["custom_points"], picked))


def edited_points(points, picked) -> tuple:
    """`points` with picked grid targets (curve 0) added and picked points (curve 1) removed;
    never fewer than one point."""
    removed = {(x, y) for x, y, curve in picked if curve == 1}
    kept = [p for p in points if (round(p[0], 3), round(p[1], 3)) not in removed]
    added = [(float(x), float(y)) for x, y, curve in picked if curve == 0]
    result = tuple(dict.fromkeys(kept + added))
    return result or tuple(points[:1])


def _on_points_typed() -> None:
    live_state = session.live()
    live_state.points_text = st.session_state[text_key(live_state)]
    try:
        live_state.values["custom_points"] = read_points(live_state.points_text.encode())
        live_state.points_error = ""
    except C.ConfigError as err:
        live_state.points_error = str(err)


def _points_text(points) -> str:
    return "\n".join(f"{x:g}, {y:g}" for x, y in points)


def objective_controls() -> None:
    st.selectbox("Loss", C.LOSSES, key=K("loss"), persist_state="session",
                 help="minimax: the saturating generator loss of Goodfellow et al. 2014")
    loss = st.session_state[K("loss")]
    if loss == "wgan":
        float_field(st, "Weight clip", "clip")
    if loss == "wgan-gp":
        float_field(st, "Gradient penalty λ", "gp_weight")
    c1, c2 = st.columns(2)
    float_field(c1, "R1 γ (real)", "r1")
    float_field(c2, "R2 γ (fake)", "r2")
    float_field(st, "Instance noise σ", "instance_noise")


def training_controls() -> None:
    c1, c2 = st.columns(2)
    c1.number_input("k (D steps)", step=1, key=K("k"), persist_state="session")
    c2.number_input("k_G (G steps)", step=1, key=K("k_g"), persist_state="session")
    c1, c2 = st.columns(2)
    float_field(c1, "lr D", "lr_d")
    float_field(c2, "lr G", "lr_g")
    c1, c2 = st.columns(2)
    c1.selectbox("Optimizer D", C.OPTIMIZERS, key=K("opt_d"), persist_state="session")
    c2.selectbox("Optimizer G", C.OPTIMIZERS, key=K("opt_g"), persist_state="session")
    optimizers = {st.session_state[K("opt_d")], st.session_state[K("opt_g")]}
    if "adam" in optimizers:
        c1, c2 = st.columns(2)
        float_field(c1, "Adam β1", "beta1")
        float_field(c2, "Adam β2", "beta2")
    if optimizers & {"sgd", "rmsprop"}:
        float_field(st, "Momentum", "momentum")
    st.number_input("Batch size", step=32, key=K("batch_size"), persist_state="session",
                    help="1 to 8,192 samples per update")
    st.radio("Updates", C.UPDATES, key=K("updates"), persist_state="session", horizontal=True,
             help="extragradient (Gidel et al. 2019) and optimistic (Daskalakis et al. 2018) "
                  "work with SGD and with Adam (ExtraAdam, optimistic Adam)")


def game_controls() -> None:
    """The cures of gan_core.game_updates: 0 (pack 1) is off. Each help names its paper."""
    c1, c2 = st.columns(2)
    c1.number_input("Unroll D (steps)", step=1, key=K("unroll"), persist_state="session",
                    help=f"{C.field_of('unroll').metadata['help']}; 0 to 20")
    c2.number_input("Pack m (PacGAN)", step=1, key=K("pack"), persist_state="session",
                    help=f"{C.field_of('pack').metadata['help']}; 1 to 8 (1 is off)")
    c1, c2 = st.columns(2)
    float_field(c1, "Consensus γ", "consensus")
    float_field(c2, "G gradient penalty η", "gp_g")
    float_field(st, "Averaging β (EMA of G)", "ema")


def model_controls() -> None:
    c1, c2 = st.columns(2)
    c1.number_input("Latent size", step=1, key=K("latent_dim"), persist_state="session")
    c2.selectbox("Latent", C.LATENTS, key=K("latent"), persist_state="session")
    c1, c2 = st.columns(2)
    c1.number_input("G width", step=16, key=K("g_width"), persist_state="session")
    c2.number_input("G depth", step=1, key=K("g_depth"), persist_state="session")
    c1, c2 = st.columns(2)
    c1.number_input("D width", step=16, key=K("d_width"), persist_state="session")
    c2.number_input("D depth", step=1, key=K("d_depth"), persist_state="session")
    st.selectbox("Activation", C.ACTIVATIONS, key=K("activation"), persist_state="session")
    st.checkbox("Spectral norm on D", key=K("spectral_norm"), persist_state="session")


def display_controls() -> None:
    st.multiselect("Layers", LAYERS + (OPTIMAL_D,), key="layers", persist_state="session",
                   format_func=LAYER_LABELS.get)
    st.slider("Surface resolution", 20, 120, step=10, key="grid", persist_state="session")
    st.slider("Iterations per frame", 1, 200, key="iters_per_frame", persist_state="session",
              help="More trains faster; fewer animates more smoothly.")
    st.checkbox("Game diagnostics", key="diagnostics", persist_state="session",
                help="The leading eigenvalues of the game's Jacobian at the current weights, "
                     "with the region where simultaneous gradient steps contract, and their "
                     "history (every few seconds while playing)")


def sidebar(classroom: bool = False) -> None:
    """All control groups (the basic ones only in classroom mode), with every problem of the
    values above them; the values are kept in the Live state whatever is drawn."""
    live_state = session.live()
    session.before_widgets(live_state)
    with st.sidebar:
        st.header("Controls")
        errors = st.container()
        with st.expander("Data", expanded=True):
            data_controls()
        with st.expander("Objective", expanded=True):
            objective_controls()
        with st.expander("Training", expanded=True):
            training_controls()
        with st.expander("Cures (game optimisers)", expanded=not classroom):
            game_controls()
        if not classroom:
            with st.expander("Models"):
                model_controls()
            with st.expander("Display"):
                display_controls()
    session.after_widgets(live_state)
    session.apply_config(live_state)
    if live_state.errors:
        errors.error("\n".join(f"- {e}" for e in live_state.errors)
                     + "\n\nThe run keeps its last valid settings.")
