"""The Lecture page: named, seeded scenarios that show each convergence problem on cue, with
what to watch and why, played side by side where the point is a contrast."""
from __future__ import annotations

import streamlit as st

from gan_core import scenarios
from gan_core.batched import Group
from gan_draw import export

from . import links, playback, state
from .player import Playback
from .views import GroupView

PREFIX = "lecture"
FRAME_SECONDS = 0.08       # two panels: a frame every 80 ms of training (~10 frames/s)
MAX_SEED = 2**31 - 2


def scenario_group(name: str, seed: int) -> Group:
    """The scenario's runs, all from `seed` (so they share initial weights and batches)."""
    return scenarios.group(scenarios.get(name), seed)


def view_of(name: str, present: bool) -> GroupView:
    scenario = scenarios.get(name)
    return GroupView(height=420, goal=scenario.steps, present=present,
                     extra_charts=tuple(getattr(scenario, "charts", ())))


def lecture() -> state.LectureState:
    """This session's Lecture state, made on first use (from `?scenario=` if the link has it)."""
    ss = st.session_state
    if "lecture" not in ss:
        wanted = st.query_params.get("scenario")
        name = wanted if wanted in scenarios.SCENARIOS else next(iter(scenarios.SCENARIOS))
        scenario = scenarios.get(name)
        pb = Playback(PREFIX, scenario_group(name, scenario.base.seed),
                      view_of(name, state.flags().present), stop_at=scenario.steps,
                      frame_seconds=FRAME_SECONDS)
        ss.lecture = state.LectureState(scenario=name, seed=scenario.base.seed, playback=pb)
    return ss.lecture


def load(name: str, seed: int | None = None) -> None:
    """Show scenario `name` at `seed` (its own seed by default), paused at iteration 0."""
    ls = lecture()
    scenario = scenarios.get(name)
    ls.scenario = name
    ls.seed = scenario.base.seed if seed is None else seed
    pb = ls.playback
    pb.pause()
    pb.stop_at = pb.stream.stop_at = scenario.steps
    pb.set_group(scenario_group(name, ls.seed))
    pb.set_view(view_of(name, state.flags().present))
    ss = st.session_state
    ss[f"{PREFIX}_playback"] = "pause"
    ss.lecture_pick = name
    ss.lecture_seed = ls.seed


def _on_pick() -> None:
    load(st.session_state.lecture_pick)


def _on_seed() -> None:
    load(lecture().scenario, int(st.session_state.lecture_seed))


def _new_seed() -> None:
    ls = lecture()
    load(ls.scenario, (ls.seed + 1) % MAX_SEED)
    ls.playback.say(f"New seed {ls.seed}: the scenario restarted from iteration 0.")


def _reset() -> None:
    ls = lecture()
    load(ls.scenario, ls.seed)


def page() -> None:
    ls = lecture()
    names = list(scenarios.SCENARIOS)
    wanted = st.query_params.get("scenario")     # read when the session's state was made
    if wanted and wanted not in names:
        st.warning(f"Unknown scenario {wanted!r} in the link; choose one of: {', '.join(names)}")
    links.write_query(extra={"scenario": ls.scenario})
    present = state.flags().present
    pb = ls.playback
    scenario = scenarios.get(ls.scenario)

    pb.set_view(view_of(ls.scenario, present))
    state.bind("lecture_pick", ls.scenario)
    state.bind("lecture_seed", ls.seed)
    c1, c2, c3 = st.columns([2, 0.8, 0.8], vertical_alignment="bottom")
    c1.selectbox("Scenario", names, key="lecture_pick", persist_state="session", on_change=_on_pick,
                 format_func=lambda n: scenarios.get(n).title)
    c2.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="lecture_seed", persist_state="session",
                    on_change=_on_seed,
                    help="Every run of the scenario starts from this seed")
    c3.button("New seed", key="lecture_new_seed", on_click=_new_seed, icon=":material/casino:",
              width="stretch")
    st.markdown(f"#### {scenario.title}\n**Watch:** {scenario.watch}")
    if not present:
        with st.expander("Why it happens", expanded=True):
            st.markdown(scenario.explanation)
    playback.bar(pb, on_reset=_reset, play_label="Play all")
    row, notice = st.container(), st.container()
    with row:
        playback.timeline(pb, ls, label="Timeline")
    with notice:
        playback.notice(pb)
    pb.player()
    if not pb.playing and pb.group.iteration > 0:
        downloads(scenario, pb.group)


def downloads(scenario, group: Group) -> None:
    with st.expander("Export for slides", icon=":material/download:"):
        cols = st.columns(len(group.members))
        for i, (label, member) in enumerate(zip(group.labels, group.members)):
            records = list(member.records)
            stem = f"{scenario.name}-{label or 'run'}".replace(" ", "-").replace("/", "-")
            cols[i].download_button(f"{label or 'run'} (GIF)",
                                    lambda r=records: export.export_bytes("gif", r),
                                    f"{stem}.gif", "image/gif", on_click="ignore",
                                    key=f"lecture_gif_{i}")
            cols[i].download_button(f"{label or 'run'} (HTML)",
                                    lambda r=records: export.export_bytes("html", r),
                                    f"{stem}.html", "text/html", on_click="ignore",
                                    key=f"lecture_html_{i}")
