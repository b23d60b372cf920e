"""The Compare page: 2–6 variants of the current settings, trained in lockstep (same data
batches, latent noise and initial weights), as small multiples with shared metric charts."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from gan_core.batched import PRESETS, Group, describe
from gan_core.config import ConfigError, TrainConfig, parse_value

from gan_draw import figures

from . import pacing, session
from .live import COLLAPSE_GRACE

TICK_SECONDS = 0.15
TRAIN_BUDGET_S = 0.07      # training time per frame; drawing six panels takes about as long
PANEL_SAMPLES = 300
PANEL_GRID = 36
PANEL_LAYERS = ("surface", "contour", "real", "fake", "push")
MIN_VARIANTS, MAX_VARIANTS = 2, 6
BADGE_COLOR = "#c62828"
PRESET_TITLES = {"objectives": "the six objectives", "k": "k = 1 / 5 / 10",
                 "ttur": "equal vs two-time-scale learning rates", "r1": "with and without R1"}
# metric -> (title, True when larger is better)
METRICS = {"modes_covered": ("modes covered", True), "high_quality": ("high quality", True),
           "reverse_kl": ("reverse KL", False), "w1": ("w1", False)}


def parse_overrides(line: str) -> dict:
    """`field=value, field=value` -> {field: value}; an empty line or `base` is {}."""
    line = line.strip()
    overrides = {}
    if line and line != "base":
        for part in line.split(","):
            name, sep, value = part.partition("=")
            if not sep:
                raise ConfigError(f"expected field=value, got {part.strip()!r}")
            overrides[name.strip()] = parse_value(name.strip(), value)
    return overrides


def parse_variants(text: str) -> list[dict]:
    """One variant per line: `field=value, field=value` (an empty line is skipped; a line
    `base` is the current settings unchanged). ConfigError names the line and the field."""
    variants = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            variants.append(parse_overrides(line))
        except ConfigError as err:
            raise ConfigError(f"line {number}: {err}") from None
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ConfigError(f"variants: between {MIN_VARIANTS} and {MAX_VARIANTS}, "
                          f"got {len(variants)}")
    return variants


def variants_text(variants: list[dict]) -> str:
    return "\n".join(describe(v) for v in variants)


def _set_preset() -> None:
    ss = st.session_state
    ss.compare_text = variants_text(PRESETS[ss.compare_preset])
    build_group()


def build_group() -> None:
    """A new lockstep group from the current settings and the variants text."""
    ss = st.session_state
    ss.compare_playback = "pause"
    try:
        variants = parse_variants(ss.compare_text)
        ss.compare_group = Group(session.trainer().config, variants)
        ss.compare_error = ""
    except ConfigError as err:
        ss.compare_error = str(err)


def _step(prefix: str) -> None:
    st.session_state[f"{prefix}_playback"] = "pause"
    st.session_state[f"{prefix}_group"].step(1)


def init() -> None:
    ss = st.session_state
    session.init()
    if "compare_text" not in ss:
        ss.compare_preset = "objectives"
        ss.compare_text = variants_text(PRESETS["objectives"])
        ss.compare_playback = "pause"
        ss.compare_error = ""
        build_group()


def running(prefix: str) -> bool:
    return st.session_state.get(f"{prefix}_playback") == "play"


def editor() -> None:
    ss = st.session_state
    base: TrainConfig = session.trainer().config
    st.caption(f"Base: the Live page's settings — {base.loss} on {base.dataset}, k={base.k}, "
               f"lr D {base.lr_d:g} / G {base.lr_g:g}, seed {base.seed}. Every variant starts "
               "from the same weights and sees the same batches.")
    c1, c2 = st.columns([1, 2])
    c1.selectbox("Preset", list(PRESETS), key="compare_preset", format_func=PRESET_TITLES.get,
                 on_change=_set_preset)
    c2.text_area("Variants, one per line (field=value, ...)", key="compare_text", height=150,
                 on_change=build_group,
                 help="e.g. `loss=wgan-gp, k=5` — any setting of the Live page by its name")
    if ss.compare_error:
        st.error(ss.compare_error)


def playback(prefix: str, on_reset) -> None:
    """Play/Pause (a value widget: it cannot be lost to the timer's reruns), Step, Reset."""
    cols = st.columns([1.4, 1, 1, 3])
    cols[0].segmented_control(f"{prefix} playback", ["play", "pause"], key=f"{prefix}_playback",
                              required=True, label_visibility="collapsed", width="stretch",
                              format_func={"play": ":material/play_arrow: Play all",
                                           "pause": ":material/pause: Pause"}.get)
    cols[1].button("Step", key=f"{prefix}_step", on_click=_step, args=(prefix,),
                   icon=":material/skip_next:", width="stretch")
    cols[2].button("Reset", key=f"{prefix}_reset", on_click=on_reset,
                   icon=":material/restart_alt:", width="stretch")


def shared_ranges(snaps) -> list[tuple[float | None, float | None]]:
    """A colour range per panel, shared by the panels of one objective: their critic or score
    values compare at a glance, while a WGAN critic's arbitrary scale does not wash out an
    LSGAN score. Each range stays centred on the objective's decision level (the neutral
    colour); probabilities keep their own fixed range (None)."""
    ranges: dict[str, tuple[float, float]] = {}
    for snap in snaps:
        if snap.surface_kind != "probability":
            lo, hi = figures.surface_range(snap)
            old_lo, old_hi = ranges.get(snap.loss, (lo, hi))
            ranges[snap.loss] = (min(lo, old_lo), max(hi, old_hi))
    return [(None, None) if s.surface_kind == "probability" else ranges[s.loss] for s in snaps]


def badge(snap) -> str:
    """What is wrong with a panel's run, as Live's status line says it: diverged, or collapsed
    (not before COLLAPSE_GRACE iterations: an untrained G covers no mode yet)."""
    if snap.status:
        return snap.status
    if snap.metrics.get("collapsed") and snap.iteration >= COLLAPSE_GRACE:
        return "mode collapse"
    return ""


def panels(group: Group, height: int = 380, replay: int | None = None) -> None:
    """One panel per variant: the present, or every variant at recorded iteration `replay`."""
    if replay is None:
        snaps = [m.snapshot(grid=PANEL_GRID, n_samples=PANEL_SAMPLES, w1_samples=0)
                 for m in group.members]
    else:
        snaps = group.records_at(replay)
    ranges = shared_ranges(snaps)
    # One arrow scale for all panels: a vanishing generator gradient shows as short arrows.
    push_scale = max((figures.push_reference(s.push) for s in snaps), default=0.0) or None
    per_row = min(3, len(snaps))
    cols = st.columns(per_row)
    for i, (label, snap, (zmin, zmax)) in enumerate(zip(group.labels, snaps, ranges)):
        with cols[i % per_row]:
            title = f"{label} · it {snap.iteration:,}" if label else f"it {snap.iteration:,}"
            if problem := badge(snap):
                title += f" · <span style='color:{BADGE_COLOR}'>{problem}</span>"
            fig = figures.main_figure(snap, PANEL_LAYERS, title=title,
                                      height=height, zmin=zmin, zmax=zmax,
                                      show_colorbar=False, push_scale=push_scale)
            st.plotly_chart(fig, key=f"panel_{i}", config={"displayModeBar": False})


def metric_table(group: Group) -> pd.DataFrame:
    """The latest recorded figures per variant, the best of each column starred."""
    rows = {}
    for label, member in zip(group.labels, group.members):
        last = member.metric_history.last()
        rows[label] = {name: last.get(name, np.nan) for name in METRICS}
        rows[label]["status"] = member.status or "ok"
    table = pd.DataFrame.from_dict(rows, orient="index")
    shown = table.copy().astype(object)
    for name, (title, larger) in METRICS.items():
        values = table[name].astype(float)
        finite = values[np.isfinite(values)]
        best = (finite.max() if larger else finite.min()) if finite.nunique() > 1 else np.nan
        shown[name] = [("—" if not np.isfinite(v) else
                        f"{v:.3g}" + (" ★" if np.isfinite(best) and v == best else ""))
                       for v in values]
    return shown.rename(columns={k: v[0] for k, v in METRICS.items()})


def shared_charts(group: Group) -> None:
    metric_histories = {label: m.metric_history.as_arrays()
                        for label, m in zip(group.labels, group.members)}
    histories = {label: m.history.as_arrays() for label, m in zip(group.labels, group.members)}
    cols = st.columns(3)
    charts = [(metric_histories, key, title) for key, (title, _) in METRICS.items()]
    charts += [(histories, "d_loss", "D loss"), (histories, "g_loss", "G loss")]
    for i, (source, key, title) in enumerate(charts):
        with cols[i % 3]:
            st.plotly_chart(figures.compare_histories_figure(source, key, title=title),
                            key=f"cmp_chart_{key}", config={"displayModeBar": False})


def player(prefix: str, on_reset, stop_at: int | None = None, height: int = 380) -> None:
    """Playback and the live area of the group in session_state[f"{prefix}_group"]; playing
    stops by itself at `stop_at` iterations."""
    ss = st.session_state
    group: Group = ss[f"{prefix}_group"]
    playback(prefix, on_reset)
    # Both slots always exist, so the fragment keeps its place in the page whether the timeline
    # shows or not (a fragment whose path moved gets its deltas dropped by the browser).
    notice_slot, timeline_slot, area = st.container(), st.container(), st.container()
    with notice_slot:
        show_notice(prefix)
    with timeline_slot:
        replay = timeline(group, prefix)

    @st.fragment(run_every=TICK_SECONDS if running(prefix) else None)
    def tick():
        start = time.perf_counter()
        if running(prefix):
            advance(group, stop_at)
        # while the browser is behind, train on (or, paused, wait) instead of drawing
        pacing.train_while_behind((lambda: advance_one(group, stop_at)) if running(prefix)
                                  else None)
        if running(prefix) and stop_at is not None and group.iteration >= stop_at:
            ss[f"{prefix}_stop"] = True
            st.rerun()
        took = f" · tick {1e3 * (time.perf_counter() - start):.0f} ms" if running(prefix) else ""
        goal = f" of {stop_at:,}" if stop_at else ""
        st.container(key=f"{prefix}_status").markdown(
            f"**Iteration {group.iteration:,}**{goal} · {len(group.labels)} "
            f"run{'s' if len(group.labels) > 1 else ''}{took}")
        panels(group, height, replay)
        st.dataframe(metric_table(group), width="stretch")
        shared_charts(group)

    with area:
        tick()


def timeline(group: Group, prefix: str) -> int | None:
    """When paused, scrub every variant back to the same recorded iteration (they record in
    lockstep) and offer to continue from there; returns that iteration, None for the present."""
    points = group.record_points()
    if running(prefix) or len(points) < 2:
        return None
    now = f"now ({group.iteration:,})"
    labels = [f"{p:,}" for p in points]
    choice = st.select_slider("Timeline", labels + [now], value=now, key=f"{prefix}_timeline",
                              help="Drag back to replay every variant at the same iteration")
    if choice == now:
        return None
    iteration = points[labels.index(choice)]
    fork_controls(group, prefix, iteration)
    return iteration


def fork_controls(group: Group, prefix: str, iteration: int) -> None:
    """"Continue from here": every variant restarts from `iteration`, optionally with changed
    live settings for one variant or all; the later part of the run is left behind."""
    c1, c2, c3 = st.columns([3, 2, 1.4], vertical_alignment="bottom")
    c1.text_input("Change on continuing (optional)", key=f"{prefix}_fork_changes",
                  placeholder="e.g. lr_g=0.0005, r1=1",
                  help="Live settings only (loss, k, learning rates, optimizers, penalties, "
                       "batch size...): the networks and data stay those of the run.")
    c2.selectbox("For", [None] + list(range(len(group.labels))), key=f"{prefix}_fork_for",
                 format_func=lambda i: "every variant" if i is None else group.labels[i])
    c3.button("Continue from here", key=f"{prefix}_fork", on_click=continue_from,
              args=(prefix, iteration), icon=":material/call_split:", width="stretch",
              help="A new run of every variant from this iteration; the later part is dropped")
    st.caption(f"Replaying iteration {iteration:,} of {group.iteration:,}.")


def continue_from(prefix: str, iteration: int) -> None:
    """Fork the group at `iteration` (a button callback); a bad change leaves the run as it was
    and says why."""
    ss = st.session_state
    group: Group = ss[f"{prefix}_group"]
    variant = ss.get(f"{prefix}_fork_for")
    try:
        changes = parse_overrides(ss.get(f"{prefix}_fork_changes", ""))
        fork = group.fork(iteration, changes, variant)
    except (ConfigError, ValueError) as err:
        ss[f"{prefix}_notice"] = ("error", f"Could not continue from iteration "
                                           f"{iteration:,}: {err}")
        return
    ss[f"{prefix}_group"] = fork
    ss[f"{prefix}_playback"] = "pause"
    ss[f"{prefix}_fork_changes"] = ""
    ss.pop(f"{prefix}_timeline", None)
    if prefix == "compare":
        ss.compare_text = variants_text(fork.variants)
    who = "every variant" if variant is None else group.labels[variant]
    what = f" with {describe(changes)} for {who}" if changes else ""
    ss[f"{prefix}_notice"] = ("info", f"Continuing from iteration {iteration:,}{what}; the "
                                      f"later part of the previous run was left behind.")


def show_notice(prefix: str) -> None:
    """The message a callback left (shown once)."""
    kind, text = st.session_state.pop(f"{prefix}_notice", (None, ""))
    if text:
        (st.error if kind == "error" else st.info)(text)


def advance(group: Group, stop_at: int | None = None) -> int:
    """Train for about TRAIN_BUDGET_S (whole iterations, at least one), so six variants keep
    the frame rate up instead of taking 20 iterations' time per frame; returns how many ran."""
    deadline = time.perf_counter() + TRAIN_BUDGET_S
    done = 0
    while stop_at is None or group.iteration < stop_at:
        ran = group.step(1)
        done += ran
        if not ran or time.perf_counter() >= deadline:
            break
    return done


def advance_one(group: Group, stop_at: int | None = None) -> int:
    """One iteration unless the goal is reached; returns how many ran."""
    if stop_at is not None and group.iteration >= stop_at:
        return 0
    return group.step(1)


def settle(prefix: str) -> None:
    """Before the widgets: a run that reached its goal pauses."""
    if st.session_state.pop(f"{prefix}_stop", False):
        st.session_state[f"{prefix}_playback"] = "pause"


def page() -> None:
    init()
    settle("compare")
    st.header("Compare")
    editor()
    if st.session_state.get("compare_group") is None:
        return
    player("compare", build_group)
