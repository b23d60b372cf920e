"""The live view: playback buttons, then a fragment that trains a few iterations per tick and
redraws. Buttons live outside the fragment, so Pause and every control answer at once."""
from __future__ import annotations

import time

import streamlit as st

from gan_core.records import MAX_RECORD_BYTES, run_bytes

from gan_draw import export, figures

from . import pacing, session

TICK_SECONDS = 0.1
SIDE_CHART_SECONDS = 1.0
LIVE_SAMPLES = 500       # real and generated points drawn per frame: SVG stays fast
PLAYBACK_LABELS = {"play": ":material/play_arrow: Play", "pause": ":material/pause: Pause"}
COLLAPSE_GRACE = 500   # an untrained G covers no mode yet: that is not "collapse"


def playback_bar() -> None:
    ss = st.session_state
    cols = st.columns([1.2, 1, 1, 1, 1, 1.1])
    cols[0].segmented_control(
        "Playback", ["play", "pause"], key="playback", required=True,
        format_func=PLAYBACK_LABELS.get, label_visibility="collapsed", width="stretch",
        disabled=bool(session.trainer().status))
    cols[1].button("Step", on_click=session.step_once, key="btn_step",
                   icon=":material/skip_next:",
                   help="one iteration: k D-updates, then k_G G-updates",
                   width="stretch")
    cols[2].button("Step D", on_click=session.step_d, key="btn_step_d",
                   help="one discriminator update alone", width="stretch")
    cols[3].button("Step G", on_click=session.step_g, key="btn_step_g",
                   help="one generator update alone", width="stretch")
    cols[4].button("Reset", on_click=session.reset, key="btn_reset",
                   icon=":material/restart_alt:",
                   help="back to iteration 0 with the same seed", width="stretch")
    cols[5].button("New seed", on_click=session.new_seed, key="btn_seed",
                   icon=":material/casino:",
                   width="stretch")


def advance() -> None:
    """One tick of training, timed, when playing; stops the timer when the run diverges."""
    ss = st.session_state
    if not session.is_running():
        return
    start = time.perf_counter()
    session.trainer().step(int(ss.iters_per_frame))
    tick = ss.tick
    tick["seconds"] = time.perf_counter() - start
    now = time.perf_counter()
    if tick.get("last_time"):
        elapsed = now - tick["last_time"]
        done = session.trainer().iteration - tick["last_iteration"]
        tick["rate"] = 0.7 * tick.get("rate", 0.0) + 0.3 * (done / max(elapsed, 1e-6))
    tick["last_time"], tick["last_iteration"] = now, session.trainer().iteration
    if session.trainer().status:
        ss.pause_requested = True
        st.rerun()    # a full rerun turns the fragment's timer off and shows the badge


def status_line(snap) -> None:
    ss = st.session_state
    m = snap.metrics
    parts = [f"**Iteration {snap.iteration:,}**"]
    if session.is_running():
        parts.append(f"{ss.tick.get('rate', 0):,.0f} it/s")
    if m.get("modes_covered") is not None:
        parts.append(f"modes {m['modes_covered']}/{m['n_modes']}")
        parts.append(f"high quality {100 * m['high_quality']:.0f}%")
    w1 = session.trainer().metric_history.last().get("w1")   # exact OT: every 100 iterations
    if w1 is not None and w1 == w1:
        parts.append(f"w1 {w1:.3f}")
    if snap.status:
        parts.append(f":red-background[**{snap.status}** — Reset to start again]")
    elif m.get("collapsed") and snap.iteration >= COLLAPSE_GRACE:
        parts.append(":orange-background[**mode collapse**]")
    st.container(key="status_line").markdown(" · ".join(parts))


def timeline() -> int | None:
    """When paused, a slider back through the recorded points; returns the chosen record's
    index, or None for "now". "Continue from here" forks the run there."""
    trainer = session.trainer()
    if session.is_running() or len(trainer.records) < 2:
        return None
    points = [r.iteration for r in trainer.records]
    now = f"now ({trainer.iteration:,})"
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    choice = c1.select_slider(
        f"Timeline (recorded every {trainer.record_every:,} iterations)",
        [f"{p:,}" for p in points] + [now], value=now,
        help="Drag back to replay the run; back at the end for the present.")
    if choice == now:
        return None
    index = [f"{p:,}" for p in points].index(choice)
    c2.button("Continue from here", key="btn_fork", on_click=session.continue_from,
              args=(index,), icon=":material/call_split:",
              help="Start a new run from this point with the current settings")
    st.caption(f"Replaying iteration {points[index]:,} of {trainer.iteration:,}.")
    return index


def export_bar(replay: int | None) -> None:
    """Downloads of the run (paused only): files are made when a button is clicked."""
    trainer = session.trainer()
    if session.is_running():
        return
    records = list(trainer.records[: None if replay is None else replay + 1])
    layers = list(st.session_state.layers) or list(figures.LAYERS)
    shown = trainer.iteration if replay is None else records[-1].iteration
    stem = f"gan-{trainer.config.dataset}-{trainer.config.loss}-it{shown}"

    def frame() -> bytes:
        snap = records[-1] if replay is not None else trainer.snapshot(grid=80)
        return export.export_bytes("png", [snap], layers=layers)

    with st.expander("Export this run", icon=":material/download:"):
        cols = st.columns(4)
        cols[0].download_button("Animation (HTML)", lambda: export.export_bytes(
            "html", records, layers=layers), f"{stem}.html", "text/html", on_click="ignore",
            help="Self-contained: opens in any browser, no server", key="dl_html")
        cols[1].download_button("Animation (GIF)", lambda: export.export_bytes(
            "gif", records, layers=layers), f"{stem}.gif", "image/gif", on_click="ignore",
            help="For slides", key="dl_gif")
        cols[2].download_button("This frame (PNG)", frame, f"{stem}.png", "image/png",
                                on_click="ignore", key="dl_png")
        cols[3].download_button("Run record (.zip)", lambda: run_bytes(trainer), f"{stem}.zip",
                                "application/zip",
                                on_click="ignore", key="dl_record",
                                help="Config, history, replay snapshots and weights")
        st.file_uploader("Open a run record (.zip)", type=["zip"], key="record_upload",
                         on_change=session.open_uploaded_record,
                         help=f"At most {MAX_RECORD_BYTES >> 20} MB; a file is only read, "
                              "never executed")


def main_frame(trainer, grid: int, layers, replay: int | None = None,
               present: bool = False) -> tuple:
    """The snapshot and the main figure: what changes every frame (a record when replaying)."""
    if replay is not None:
        snap = trainer.records[replay]
    else:
        snap = trainer.snapshot(grid=grid, n_samples=LIVE_SAMPLES, w1_samples=0)
    if present:
        return snap, figures.main_figure(snap, layers, height=820, font_size=22)
    return snap, figures.main_figure(snap, layers, height=600)


def side_charts(trainer, snap) -> dict:
    """Losses, gradient norms, mode coverage and distances over iterations."""
    history = trainer.history.as_arrays()
    metrics = trainer.metric_history.as_arrays()
    charts = {
        "chart_losses": figures.history_figure(history, ["d_loss", "g_loss"], title="Losses"),
        "chart_grads": figures.history_figure(history, ["d_grad_norm", "g_grad_norm"],
                                              title="Gradient norms", log_y=True),
    }
    if snap.mode_counts is not None:
        charts["chart_bar"] = figures.mode_bar_figure(snap.mode_counts)
        charts["chart_modes"] = figures.history_figure(metrics, ["modes_covered"],
                                                       title="Modes covered")
        charts["chart_w1"] = figures.history_figure(
            metrics, ["high_quality", "reverse_kl", "w1"],
            title="High-quality fraction, reverse KL, w1")
    else:
        charts["chart_w1"] = figures.history_figure(metrics, ["w1"], title="w1")
    return charts


def current_side_charts(trainer, snap) -> dict:
    """Side charts rebuilt at most every SIDE_CHART_SECONDS while playing: an unchanged figure
    costs the browser nothing to redraw, which leaves its time for the main figure."""
    ss = st.session_state
    cache = ss.get("side_cache")
    now = time.perf_counter()
    if (cache is None or not session.is_running() or cache["trainer"] is not trainer
            or now - cache["time"] >= SIDE_CHART_SECONDS):
        cache = {"trainer": trainer, "time": now, "charts": side_charts(trainer, snap)}
        ss.side_cache = cache
    return cache["charts"]


def live_area() -> None:
    """The animated part: re-run every TICK_SECONDS while playing, never otherwise."""
    period = TICK_SECONDS if session.is_running() else None

    area = st.container()           # the figure first, its timeline and export below it
    replay = timeline()
    export_bar(replay)

    @st.fragment(run_every=period)
    def tick():
        # A browser that draws slower than this would be dropped by Streamlit (see pacing):
        # wait for it, without training, so frames stay `iters_per_frame` iterations apart.
        pacing.train_while_behind(None)
        advance()
        trainer = session.trainer()
        snap, main = main_frame(trainer, int(st.session_state.grid), st.session_state.layers,
                                replay, present=st.session_state.get("present", False))
        status_line(snap)
        if st.session_state.get("present"):
            st.plotly_chart(main, key="main_figure", config={"displayModeBar": False})
            return
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(main, key="main_figure", config={"displayModeBar": False})
        with right:
            for key, fig in current_side_charts(trainer, snap).items():
                st.plotly_chart(fig, key=key, config={"displayModeBar": False})

    with area:
        tick()


def page(present: bool = False) -> None:
    """The live page; `present` is the projector layout: one large figure, large fonts."""
    ss = st.session_state
    ss.present = present
    if not present:
        st.caption("Real data in green, generated samples in purple, the background is what the "
               "discriminator believes; orange arrows show where the generator's loss pushes "
               "each sample.")
    notice = st.empty()     # always there, so a notice never shifts the page under the cursor
    if ss.notice:
        notice.info(ss.notice)
        ss.notice = ""
    playback_bar()
    live_area()
