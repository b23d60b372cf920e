"""The Lecture page: named, seeded scenarios that show each convergence problem on cue, with
what to watch and why, played side by side where the point is a contrast."""
from __future__ import annotations

import streamlit as st

from gan_core import scenarios
from gan_core.batched import Group

from gan_draw import export

from . import compare_view

PREFIX = "lecture"


def load(name: str) -> None:
    """Build the scenario's runs (all from its seed) and pause at iteration 0."""
    ss = st.session_state
    scenario = scenarios.get(name)
    variants = scenario.variants or (("", {}),)
    ss[f"{PREFIX}_group"] = Group(scenario.base, [dict(o) for _, o in variants],
                                  labels=[label for label, _ in variants])
    ss[f"{PREFIX}_loaded"] = name
    ss[f"{PREFIX}_playback"] = "pause"


def _on_pick() -> None:
    load(st.session_state.lecture_pick)
    st.query_params["scenario"] = st.session_state.lecture_pick


def _reset() -> None:
    load(st.session_state[f"{PREFIX}_loaded"])


def page() -> None:
    ss = st.session_state
    names = list(scenarios.SCENARIOS)
    wanted = st.query_params.get("scenario")
    if wanted and wanted not in names:
        st.warning(f"Unknown scenario {wanted!r} in the link; choose one of: {', '.join(names)}")
        wanted = None
    if f"{PREFIX}_loaded" not in ss:
        ss.lecture_pick = wanted or names[0]
        load(ss.lecture_pick)
    compare_view.settle(PREFIX)
    present = str(st.query_params.get("present", "")).lower() in ("1", "true", "yes")

    scenario = scenarios.get(ss[f"{PREFIX}_loaded"])
    c1, c2 = st.columns([2, 3])
    c1.selectbox("Scenario", names, key="lecture_pick", on_change=_on_pick,
                 format_func=lambda n: scenarios.get(n).title)
    c2.markdown(f"#### {scenario.title}\n**Watch:** {scenario.watch}")
    if not present:
        with st.expander("Why it happens", expanded=True):
            st.markdown(scenario.explanation)
    compare_view.player(PREFIX, _reset, stop_at=scenario.steps, height=620 if present else 420)
    group: Group = ss[f"{PREFIX}_group"]
    if ss.get(f"{PREFIX}_playback") != "play" and group.iteration > 0:
        downloads(scenario, group)


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
