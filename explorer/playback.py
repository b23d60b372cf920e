"""The controls every animated page shares, over its Playback: Play/Pause, Step (and Step D /
Step G), Reset, the timeline that replays the run, "Continue from here" (a fork, optionally with
changed live settings for one variant or all) and the notice of the last action.

Widget values are kept in the Playback (`play`) or in the page's state, so leaving the page and
coming back finds them as they were. Play/Pause is a value widget, not a button: a click is a
one-shot trigger that could be lost in a race with the player's reruns, a value is not.
"""
from __future__ import annotations

import html

import streamlit as st

from gan_core.config import ConfigError
from gan_core.settings import describe, parse_overrides
from gan_draw import figures

from . import state
from .player import Playback

PLAY_LABELS = {"play": ":material/play_arrow: Play", "pause": ":material/pause: Pause"}


def bar(pb: Playback, *, on_reset, on_step=None, single: bool = False, on_new_seed=None,
        play_label: str = "Play") -> None:
    """Play/Pause, Step (Step D, Step G when `single`), Reset and, if given, New seed."""
    prefix = pb.prefix
    if pb.finished or pb.stream.finished:     # it stopped by itself: show it paused
        pb.pause()
        st.session_state[f"{prefix}_playback"] = pb.play
    state.bind(f"{prefix}_playback", pb.play)
    weights = [1.3, 1, 1, 1, 1, 1.1] if single else [1.4, 1, 1, 3]
    cols = st.columns(weights)
    labels = dict(PLAY_LABELS, play=f":material/play_arrow: {play_label}")
    cols[0].segmented_control(
        "Playback", ["play", "pause"], key=f"{prefix}_playback", persist_state="session", required=True,
        format_func=labels.get, label_visibility="collapsed", width="stretch",
        on_change=_play_changed, args=(pb,))
    pb.play = st.session_state[f"{prefix}_playback"]
    step = on_step or (lambda kind: _step(pb, kind))
    cols[1].button("Step", key=f"{prefix}_step", on_click=step, args=("iteration",),
                   icon=":material/skip_next:", width="stretch",
                   help="one iteration: k D-updates, then k_G G-updates")
    if single:
        cols[2].button("Step D", key=f"{prefix}_step_d", on_click=step, args=("d",),
                       help="one discriminator update alone", width="stretch")
        cols[3].button("Step G", key=f"{prefix}_step_g", on_click=step, args=("g",),
                       help="one generator update alone", width="stretch")
    reset_col = cols[4] if single else cols[2]
    reset_col.button("Reset", key=f"{prefix}_reset", on_click=on_reset,
                     icon=":material/restart_alt:", width="stretch",
                     help="back to iteration 0 with the same seed")
    if on_new_seed is not None:
        (cols[5] if single else cols[3]).button(
            "New seed", key=f"{prefix}_seed", on_click=on_new_seed, icon=":material/casino:",
            width="stretch" if single else "content")


def _play_changed(pb: Playback) -> None:
    """Play on a run that cannot go on says why instead of doing nothing."""
    key = f"{pb.prefix}_playback"
    if st.session_state.get(key) == "play" and pb.finished:
        st.session_state[key] = "pause"
        if pb.stop_at is not None and pb.group.iteration >= pb.stop_at:
            pb.say(f"The run ends at iteration {pb.stop_at:,}: Reset (or New seed) to play it "
                   "again, or drag the timeline back and Continue from there.")
        else:
            pb.say("Every run has stopped (diverged): Reset to start again, or drag the "
                   "timeline back and Continue from there with other settings.", "error")


def _step(pb: Playback, kind: str) -> None:
    pb.step(kind)
    st.session_state[f"{pb.prefix}_playback"] = pb.play


def notice(pb: Playback) -> None:
    """The message the last action left (shown once)."""
    kind, text = pb.take_notice()
    if text:
        (st.error if kind == "error" else st.info)(text)


def timeline(pb: Playback, fork_state=None, label: str | None = None, after_fork=None) -> None:
    """When paused, a slider back through the recorded iterations (every variant at the same
    one) and "Continue from here"; sets `pb.replay` (None: now)."""
    group = pb.group
    points = group.record_points()
    key = f"{pb.prefix}_timeline"
    if pb.playing or len(points) < 2:
        pb.replay = None
        st.session_state.pop(key, None)
        return
    now = f"now ({group.iteration:,})"
    labels = [f"{p:,}" for p in points]
    options = labels + [now]
    shown = f"{pb.replay:,}" if pb.replay in points else now
    if st.session_state.get(key) not in options:
        st.session_state[key] = shown
    every = group.members[0].record_every
    choice = st.select_slider(label or f"Timeline (recorded every {every:,} iterations)",
                              options, key=key,
                              help="Drag back to replay the run; back at the end for now.")
    pb.replay = None if choice == now else points[labels.index(choice)]
    if text := events_text(group):
        st.caption(text, unsafe_allow_html=True)
    if pb.replay is not None:
        fork_controls(pb, pb.replay, fork_state, after_fork)


def events_text(group, last: int = 6) -> str:
    """The runs' events (where the verdict changed, where a collapsed G hopped: the charts'
    markers) as one line per run, the `last` few of each, for under the timeline."""
    lines = []
    for label, member in zip(group.labels, group.members):
        found = member.events()
        if not found:
            continue
        shown = ", ".join(
            f"<span style='color:{figures.EVENT_MARKS[e['kind']][0]}'>"
            f"{figures.EVENT_GLYPHS[e['kind']]}</span> {e['kind']} at {e['iteration']:,}"
            for e in found[-last:])
        more = f"{len(found) - last} earlier, " if len(found) > last else ""
        lines.append(f"{html.escape(label) + ': ' if label else ''}{more}{shown}")
    return ("Events: " + "<br>".join(lines)) if lines else ""


def fork_controls(pb: Playback, iteration: int, fork_state, after_fork=None) -> None:
    """"Continue from here": every variant restarts from `iteration`, optionally with changed
    live settings for one variant or all; the later part of the run is left behind."""
    prefix, group = pb.prefix, pb.group
    several = len(group.members) > 1
    c1, c2, c3 = st.columns([3, 2, 1.4] if several else [3, 0.01, 1.4],
                            vertical_alignment="bottom")
    state.bind(f"{prefix}_fork_changes", getattr(fork_state, "fork_changes", ""))
    c1.text_input("Change on continuing (optional)", key=f"{prefix}_fork_changes", persist_state="session",
                  placeholder="e.g. lr_g=0.0005, r1=1",
                  help="Live settings only (loss, k, learning rates, optimizers, penalties, "
                       "batch size...): the networks and data stay those of the run.")
    if several:
        state.bind(f"{prefix}_fork_for", getattr(fork_state, "fork_for", None))
        c2.selectbox("For", [None] + list(range(len(group.labels))), key=f"{prefix}_fork_for", persist_state="session",
                     format_func=lambda i: "every variant" if i is None else group.labels[i])
    if fork_state is not None:
        fork_state.fork_changes = st.session_state.get(f"{prefix}_fork_changes", "")
        fork_state.fork_for = st.session_state.get(f"{prefix}_fork_for")
    c3.button("Continue from here", key=f"{prefix}_fork", on_click=continue_from,
              args=(pb, iteration, after_fork), icon=":material/call_split:", width="stretch",
              help="A new run from this iteration; the later part is dropped")
    st.caption(f"Replaying iteration {iteration:,} of {group.iteration:,}.")


def continue_from(pb: Playback, iteration: int, after_fork=None) -> None:
    """Fork the group at `iteration` (a button callback); a bad change leaves the run as it
    was and says why. The fork starts paused at that iteration; `after_fork(group)` lets the
    page follow (Compare's variants text)."""
    ss = st.session_state
    variant = ss.get(f"{pb.prefix}_fork_for")
    try:
        changes = parse_overrides(ss.get(f"{pb.prefix}_fork_changes", ""))
        fork = pb.group.fork(iteration, changes, variant)
    except (ConfigError, ValueError) as err:
        pb.say(f"Could not continue from iteration {iteration:,}: {err}", "error")
        return
    labels = pb.group.labels
    pb.set_group(fork)
    if after_fork is not None:
        after_fork(fork)
    pb.pause()
    ss[f"{pb.prefix}_playback"] = pb.play
    ss[f"{pb.prefix}_fork_changes"] = ""
    ss.pop(f"{pb.prefix}_timeline", None)
    who = "every variant" if variant is None else labels[variant]
    what = f" with {describe(changes)} for {who}" if changes else ""
    pb.say(f"Continuing from iteration {iteration:,}{what}; the later part of the previous "
           f"run was left behind. Press Play to go on.")
