"""Every page's state, declared in one place.

Streamlit deletes the value of a widget that is not drawn in a run, so a setting that lived in
its widget was lost on a trip to another page (or when a dataset hid its controls). Here each
page's values live in one dataclass in st.session_state, created by the functions below; the
widgets only display and edit them: `bind` gives a widget its value back before it is drawn and
`keep` copies the widget's value into the state after.

One session holds: `flags` (URL flags that must survive navigation), `live`, `compare`,
`lecture` and `dirac` (each created the first time its page is opened).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from gan_core.settings import is_true

from .player import Playback

FLAGS = ("classroom", "present")


@dataclass
class Flags:
    """The URL flags of the session: read from the first link, then kept on every page."""
    classroom: bool = False
    present: bool = False


@dataclass
class LiveState:
    values: dict                      # every TrainConfig field as the sidebar shows it
    playback: Playback
    layers: list = field(default_factory=list)
    grid: int = 50
    iters_per_frame: int = 15
    diagnostics: bool = False         # the game's spectrum beside the charts
    spectra: object = None            # its explorer.diagnostics.SpectrumTracker
    errors: list = field(default_factory=list)   # what is wrong with `values`, all of it
    upload_id: str | None = None      # the custom-points file last read
    points_text: str = ""             # the custom points as typed (may be invalid)
    points_version: int = 0           # bumped when the points come from a file or the canvas
    points_error: str = ""


@dataclass
class CompareState:
    preset: str
    text: str                         # the variants, one `field=value, ...` line each
    playback: Playback | None = None
    error: str = ""
    fork_changes: str = ""
    fork_for: int | None = None


@dataclass
class LectureState:
    scenario: str
    seed: int
    playback: Playback
    fork_changes: str = ""
    fork_for: int | None = None


def _get(name: str, make):
    ss = st.session_state
    if name not in ss:
        ss[name] = make()
    return ss[name]


def flags() -> Flags:
    """The session's flags, updated by any flag the current URL carries."""
    state = _get("flags", Flags)
    query = st.query_params
    for name in FLAGS:
        if name in query:
            setattr(state, name, is_true(query[name]))
    return state


def write_flags(query: dict) -> dict:
    """`query` with the session's flags set (so they survive a trip to another page)."""
    state = flags()
    out = {k: v for k, v in query.items() if k not in FLAGS}
    out.update({name: "1" for name in FLAGS if getattr(state, name)})
    return out


def bind(key: str, value) -> None:
    """Before drawing widget `key`: give it `value` if Streamlit dropped its state."""
    if key not in st.session_state:
        st.session_state[key] = value


def keep(key: str, default=None):
    """After drawing widget `key`: its value (default if it was not drawn)."""
    return st.session_state.get(key, default)


def projector_css() -> None:
    """The projector layout gives the figures the screen: less space above the page."""
    st.html("<style>.stMainBlockContainer { padding-top: 4.2rem; }"
            " .stMainBlockContainer .gx-status { font-size: 1.3rem; }</style>")
