"""The Live page: the playback bar, the timeline row (scrub back, continue, export) and the
frame player with the main figure, the status line and the side charts."""
from __future__ import annotations

import streamlit as st

from gan_core.records import MAX_RECORD_BYTES, run_bytes
from gan_draw import export, figures

from . import playback, session
from .diagnostics import SpectrumTracker
from .views import LiveView

PRESENT_HEIGHT = 820


def view_of(live_state, present: bool) -> LiveView:
    layers = tuple(live_state.layers) or figures.LAYERS
    if live_state.diagnostics and live_state.spectra is None:
        live_state.spectra = SpectrumTracker()
    return LiveView(layers=layers, grid=int(live_state.grid), present=present,
                    chart_every=int(live_state.iters_per_frame),
                    diagnostics=bool(live_state.diagnostics) and not present,
                    tracker=live_state.spectra)


def export_menu(pb) -> None:
    """Downloads of the run (paused only): files are made when a button is clicked."""
    if pb.playing:
        return
    trainer = pb.group.members[0]
    replay = pb.replay
    records = [r for r in trainer.records if replay is None or r.iteration <= replay]
    layers = list(pb.view.layers)
    shown = trainer.iteration if replay is None else records[-1].iteration
    stem = f"gan-{trainer.config.dataset}-{trainer.config.loss}-it{shown}"

    def frame() -> bytes:
        snap = records[-1] if replay is not None else trainer.snapshot(grid=80)
        return export.export_bytes("png", [snap], layers=layers)

    with st.popover("Export", icon=":material/download:"):
        st.download_button("Animation (HTML)", lambda: export.export_bytes(
            "html", records, layers=layers), f"{stem}.html", "text/html", on_click="ignore",
            help="Self-contained: opens in any browser, no server", key="dl_html")
        st.download_button("Animation (GIF)", lambda: export.export_bytes(
            "gif", records, layers=layers), f"{stem}.gif", "image/gif", on_click="ignore",
            help="For slides", key="dl_gif")
        st.download_button("This frame (PNG)", frame, f"{stem}.png", "image/png",
                           on_click="ignore", key="dl_png")
        st.download_button("Run record (.zip)", lambda: run_bytes(trainer), f"{stem}.zip",
                           "application/zip", on_click="ignore", key="dl_record",
                           help="Config, history, replay snapshots and weights")
        st.file_uploader("Open a run record (.zip)", type=["zip"], key="record_upload",
                         max_upload_size=MAX_RECORD_BYTES >> 20,
                         on_change=session.open_uploaded_record,
                         help=f"At most {MAX_RECORD_BYTES >> 20} MB; a file is only read, "
                              "never executed")


def page(present: bool = False) -> None:
    """The live page; `present` is the projector layout: one large figure, large fonts."""
    live_state = session.live()
    pb = live_state.playback
    if not present:
        st.caption("Real data in green, generated samples in purple, the background is what the "
                   "discriminator believes; orange arrows show where the generator's loss pushes "
                   "each sample.")
    playback.bar(pb, single=True, on_step=session.step, on_reset=session.reset,
                 on_new_seed=session.new_seed)
    # Fixed slots above the player (each always present), so the player keeps its place in the
    # page whatever shows in them: it is never remounted, so never blank.
    row, notice = st.container(), st.container()
    with row:
        c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
        with c1:
            playback.timeline(pb)
            if pb.playing and not present:
                st.caption("Pause to scrub back through the run, continue from a past point "
                           "or export it.")
        if not present:
            with c2:
                export_menu(pb)
    with notice:
        playback.notice(pb)
    pb.set_view(view_of(live_state, present), frame_every=int(live_state.iters_per_frame))
    pb.player()
