"""The Phase diagram page: a sweep over two settings, drawn as it trains.

Pick two axes and their values; every other setting comes from the fixed settings box, which
starts from the Live page's run (`live_config`). **Run** starts the sweep in a background
thread of this session (gan_core.sweep_backends.run_sweep on the local backend: batched chunks
on worker processes), so the page stays responsive; a fragment polls it every second and the
diagram fills in chunk by chunk. Click a cell to see its figures and open its run on the Live
page (a link with the run's settings in the URL query, explorer.links.query_from_config).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import streamlit as st

from gan_core.config import LOSSES, ConfigError, TrainConfig
from gan_core.settings import parse_axis, parse_overrides
from gan_core.sweep import FIELD_NAMES, SUMMARY_METRICS, SweepSpec, document, make_spec
from gan_core.sweep_backends import LocalBackend, run_sweep
from gan_draw.phase import cell_text, phase_figure

from . import dirac_view, links

STATE = "phase_run"
WORKERS: int | None = None      # local backend processes (None: one per core; 0: in-process)
W1_SAMPLES = 250                # the snapshots' exact-W1 size: a diagram cell costs no more
MAX_PAGE_RUNS = 400
POLL_S = 1.0
AXIS_DEFAULTS = {
    "lr_d": "1e-4, 3e-4, 1e-3, 3e-3", "lr_g": "1e-4, 3e-4, 1e-3, 3e-3", "k": "1, 2, 5, 10",
    "loss": ", ".join(LOSSES), "r1": "0, 0.1, 1, 10", "r2": "0, 0.1, 1, 10",
    "batch_size": "32, 64, 128, 256", "beta1": "0, 0.5, 0.9", "instance_noise": "0, 0.05, 0.2",
    "g_width": "16, 32, 64, 128", "d_width": "16, 32, 64, 128", "n_modes": "2, 4, 8, 16",
    "k_g": "1, 2, 5", "momentum": "0, 0.5, 0.9", "seed": "0, 1, 2, 3",
}
COLOURS = ("verdict",) + SUMMARY_METRICS


def live_config() -> TrainConfig:
    """The Live page's current settings (its run's config), or the defaults if this session
    has not opened Live. Reads the Live state without creating it."""
    live = st.session_state.get("live")
    if live is None:
        return TrainConfig()
    return live.playback.group.members[0].config


@dataclass
class PhaseRun:
    """One sweep of this session, trained by a background thread."""
    spec: SweepSpec
    done: dict = field(default_factory=dict)
    error: str = ""
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def document(self) -> dict:
        with self.lock:
            done = dict(self.done)
        end = self.finished or time.perf_counter()
        return document(self.spec, done, end - self.started)


def start(spec: SweepSpec) -> PhaseRun:
    """Train `spec` in a daemon thread; the run object fills in as chunks finish."""
    run = PhaseRun(spec)

    def on_chunk(done, _chunk):
        with run.lock:
            run.done = dict(done)

    def work():
        try:
            run_sweep(spec, LocalBackend(WORKERS), on_chunk=on_chunk, stop=run.stop)
        except Exception as err:                     # shown on the page, never lost
            run.error = f"the sweep stopped: {err}"
        finally:
            run.finished = time.perf_counter()

    run.thread = threading.Thread(target=work, name="phase-sweep", daemon=True)
    run.thread.start()
    return run


# ---------------------------------------------------------------------- controls
def parse_values(name: str, text: str) -> list:
    return parse_axis(name, text)[1]


def fixed_text(config: TrainConfig) -> str:
    """The Live run's non-default settings as `field=value, ...` (the URL's own text)."""
    return ", ".join(f"{k}={v}" for k, v in links.query_from_config(config).items()
                     if k != "custom_points")


def controls() -> tuple[SweepSpec | None, str]:
    """The sweep the controls describe (None and a message if they are invalid)."""
    names = [n for n in FIELD_NAMES if n != "custom_points"]
    c1, c2 = st.columns(2)
    x_name = c1.selectbox("x axis", names, index=names.index("lr_d"), key="phase_x")
    x_text = c1.text_input("x values", AXIS_DEFAULTS.get(x_name, ""), key=f"phase_x_{x_name}")
    y_name = c2.selectbox("y axis", names, index=names.index("lr_g"), key="phase_y")
    y_text = c2.text_input("y values", AXIS_DEFAULTS.get(y_name, ""), key=f"phase_y_{y_name}")
    if "phase_fixed" not in st.session_state:
        st.session_state.phase_fixed = fixed_text(live_config())
    fixed = st.text_input("Fixed settings (from the Live page; field=value, ...)",
                          key="phase_fixed")
    c1, c2, c3 = st.columns(3)
    steps = c1.number_input("Iterations per run", 10, 20_000, 300, step=100, key="phase_steps")
    seeds = c2.number_input("Seeds per cell", 1, 10, 1, key="phase_seeds")
    c3.selectbox("Colour", COLOURS, key="phase_colour")
    try:
        if x_name == y_name:
            raise ConfigError(f"axes: x and y are both {x_name}; choose two settings")
        base = parse_overrides(fixed)
        clash = sorted(set(base) & {x_name, y_name})
        if clash:
            raise ConfigError(f"fixed settings: {clash[0]} is also an axis")
        points = live_config().custom_points       # a file's points: not in the text box
        spec = make_spec(TrainConfig(custom_points=points).replace(**base),
                         [(x_name, parse_values(x_name, x_text)),
                          (y_name, parse_values(y_name, y_text))],
                         seeds=int(seeds), steps=int(steps), w1_samples=W1_SAMPLES)
        if spec.n_runs > MAX_PAGE_RUNS:
            raise ConfigError(f"sweep: {spec.n_runs} runs; the page trains at most "
                              f"{MAX_PAGE_RUNS} (the command line has no such limit)")
        return spec, ""
    except ConfigError as err:
        return None, str(err)


# ---------------------------------------------------------------------- the page
def page() -> None:
    st.markdown("## Phase diagram")
    st.caption("Where does training converge, collapse or diverge? Every cell is a full run "
               "with the cell's two settings; same-shaped runs train together in batched "
               "passes on this machine's cores.")
    st.page_link(st.Page(dirac_view.page, title="Dirac-GAN", url_path="dirac"),
                 icon=":material/cyclone:",
                 label="For the Dirac-GAN and the bilinear game, the diagrams over (h, γ) and "
                       "(lr ratio, k) come in closed form from the spectral radius, with the "
                       "stability boundary drawn: on the Dirac-GAN page")
    spec, problem = controls()
    run: PhaseRun | None = st.session_state.get(STATE)
    c1, c2, _ = st.columns([1, 1, 4])
    running = run is not None and run.running
    if c1.button("Run", type="primary", disabled=spec is None or running, key="phase_run_btn"):
        st.session_state.pop("phase_cell", None)
        run = st.session_state[STATE] = start(spec)
        running = True
    if c2.button("Stop", disabled=not running, key="phase_stop_btn"):
        run.stop.set()
    if problem:
        st.error(problem)
    elif spec is not None and not running:
        st.caption(f"{spec.n_runs} runs of {spec.steps} iterations in "
                   f"{len(spec.chunks())} batched chunks.")
    if run is None:
        st.info("Choose two settings and press **Run**.")
        return
    poll = POLL_S if running else None
    st.fragment(_diagram, run_every=poll)(run)


def _diagram(run: PhaseRun) -> None:
    """The diagram so far; reruns every second while the sweep trains (a fragment)."""
    doc = run.document()
    if run.error:
        st.error(run.error)
    cell = st.session_state.get("phase_cell")
    colour = st.session_state.get("phase_colour", "verdict")
    fig = phase_figure(doc, colour, selected=cell)
    event = st.plotly_chart(fig, width="content", key="phase_chart", on_select="rerun",
                            selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points and points[0].get("customdata") is not None:
        picked = int(_first(points[0]["customdata"]))
        if picked != cell:
            st.session_state.phase_cell = picked
            cell = picked
    if cell is not None and cell < len(doc["cells"]):
        _cell_panel(run.spec, doc["cells"][cell])
    elapsed = doc["elapsed_s"]
    state = ("training" if run.running else "stopped" if run.stop.is_set()
             else "done")
    st.caption(f"{doc['runs_done']} of {doc['total_runs']} runs · {elapsed:.0f} s · {state}")
    if not run.running and run.finished is not None and st.session_state.get(
            "phase_polling") is run:
        st.session_state.phase_polling = None
        st.rerun(scope="app")              # stop the fragment's timer
    if run.running:
        st.session_state.phase_polling = run


def _first(value):
    return value[0] if isinstance(value, (list, tuple)) else value


def live_link(config: TrainConfig) -> str:
    """The Live page's URL for `config`: its settings in the query, as links.py writes them.
    Live is the app's default page, which Streamlit serves at the app's root (not at /live),
    so the link is relative to the root: "./?lr_d=0.003&..." from /phase."""
    query = links.query_from_config(config)
    return "./" + ("?" + urlencode(query) if query else "")


def _cell_panel(spec: SweepSpec, cell: dict) -> None:
    config = spec.run_config(_typed(spec, cell["values"]), 0)
    st.markdown("**Selected cell**  \n" + cell_text(cell).replace("<br>", "  \n"))
    st.link_button("Open this run on the Live page ↗", live_link(config))


def _typed(spec: SweepSpec, values: dict) -> dict:
    """The cell's values as the spec holds them (JSON turned tuples into lists)."""
    axes = dict(spec.axes)
    out = {}
    for name, value in values.items():
        match = [v for v in axes[name] if v == value or (isinstance(v, tuple) and
                                                          list(v) == value)]
        out[name] = match[0] if match else value
    return out
