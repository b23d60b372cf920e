"""The browser frame player: one Streamlit component that Live, Compare and Lecture all use.

It is an `st.components.v2` component (no build step): explorer/player/player.js draws with
plotly.js, which Streamlit's component API serves straight from the installed `plotly` package
(`plotly/package_data/plotly.min.js`), so nothing is fetched from a CDN. Both asset folders are
declared to Streamlit's component manager the way an installed component's pyproject.toml
would declare them (`register_from_manifest`), on whichever runtime runs the script (AppTest
makes one per test).

`Playback` is what the three pages share: a group (a Live run is a group of one), the Stream
that trains it while playing, the Play/Pause value (kept here, not in the widget, so a page trip
cannot lose it), the notice of the last action, and the player's fragment, which the browser
reruns each time it wants more frames.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import plotly
import streamlit as st
from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

from .stream import Stream

PROJECT = "gan_explorer"
PLAYER = f"{PROJECT}.player"                 # player.js / player.css
PLOTLY = f"{PROJECT}.plotly"                 # plotly.min.js of the installed plotly package
FRAME_WAIT_S = 0.08          # a rerun asked for frames waits this long for the next one
BACKSTOP_S = 2.0             # reruns while playing even if the player stopped asking
MAX_FPS = 30

_component = None
_canvas = None


def _register() -> None:
    """Declare the two asset folders on the active runtime (idempotent)."""
    manager = get_bidi_component_manager()
    for name, folder, root in (("player", "player", Path(__file__).parent),
                               ("canvas", "player", Path(__file__).parent),
                               ("plotly", "package_data", Path(plotly.__file__).parent)):
        if manager.get_component_path(f"{PROJECT}.{name}") is None:
            manager.register_from_manifest(
                ComponentManifest(PROJECT, "1", [ComponentConfig(name, folder)]), root)


def _mount(**kwargs):
    global _component
    _register()
    if _component is None:
        _component = st.components.v2.component(PLAYER, js="player.js", css="player.css",
                                                isolate_styles=False)
    return _component(**kwargs)


def canvas(key: str, points, extent: float, steps: int, on_edit):
    """The drawing canvas (player/canvas.js): its edits arrive as the trigger `edit`
    ({add: [[x, y], ...], remove: [...]}), handled by `on_edit` before the rerun."""
    global _canvas
    _register()
    if _canvas is None:
        _canvas = st.components.v2.component(f"{PROJECT}.canvas", js="canvas.js",
                                             isolate_styles=False)
    return _canvas(key=key, data={"points": [list(p) for p in points], "extent": extent,
                                  "steps": steps}, on_edit_change=on_edit, height="content")


def _ignore() -> None:
    """The ack's change callback: the rerun it causes is all that is needed."""


@dataclass
class Playback:
    """A page's run on screen: group, stream, play state and last notice."""
    prefix: str
    group: object
    view: object
    frame_every: int | None = None       # Live: iterations per frame; else time-based frames
    frame_seconds: float = 0.15          # time-based frames: training time between two
    stop_at: int | None = None           # Lecture: the scenario's length
    play: str = "pause"
    notice: tuple = ("", "")             # (kind "info"/"error", text), shown once
    replay: int | None = None            # the iteration the timeline shows, None: now
    room: int | None = None              # px the browser has below the player's top
    stream: Stream | None = field(default=None, repr=False)
    shown: tuple | None = field(default=None, repr=False)

    def __post_init__(self):
        self.stream = self._new_stream()

    def _new_stream(self) -> Stream:
        return Stream(self.group, self.view, frame_every=self.frame_every,
                      frame_seconds=self.frame_seconds, stop_at=self.stop_at)

    # ------------------------------------------------------------------ actions
    @property
    def playing(self) -> bool:
        return self.play == "play"

    def set_group(self, group) -> None:
        """Show another run (reset, new seed, restart, fork, record): paused at its start."""
        self.stream.pause()
        self.group = group
        self.replay = None
        self.stream = self._new_stream()
        self.shown = None

    def set_view(self, view, frame_every: int | None = None) -> None:
        if self.room is not None:
            view = dataclasses.replace(view, room=self.room)
        self.view = view
        self.stream.maker.view = view
        if frame_every is not None:
            self.frame_every = self.stream.frame_every = frame_every

    def pause(self) -> None:
        self.play = "pause"
        self.stream.pause()

    def step(self, kind: str = "iteration") -> None:
        """Step, Step D or Step G (pausing first)."""
        self.pause()
        self.replay = None
        if kind == "d":
            self.group.step_d()
        elif kind == "g":
            self.group.step_g()
        elif self.stop_at is None or self.group.iteration < self.stop_at:
            self.group.step(1)

    def say(self, text: str, kind: str = "info") -> None:
        self.notice = (kind, text)

    def take_notice(self) -> tuple:
        notice, self.notice = self.notice, ("", "")
        return notice

    @property
    def finished(self) -> bool:
        """Nothing left to play: every variant stopped, or the goal is reached."""
        done = all(m.status for m in self.group.members)
        return done or (self.stop_at is not None and self.group.iteration >= self.stop_at)

    # ------------------------------------------------------------------ the player
    def _what(self) -> tuple:
        """What the player's epoch shows: (run and view, moment). A new epoch when the first
        changes, or, paused, when the moment does (a step, a replay)."""
        run = (id(self.group), repr(self.view), tuple(repr(m.config) for m in self.group.members))
        moment = (self.replay, self.group.iteration,
                  tuple((m.d_updates, m.g_updates, m.status) for m in self.group.members))
        return run, moment

    def sync(self) -> None:
        """Before drawing: the stream plays or not, and shows what the page asks for."""
        if self.playing and (self.finished or self.replay is not None):
            self.play = "pause"
        if not self.playing:
            self.stream.pause()
        what = self._what()
        stale = self.shown is None or (what[0] != self.shown[0] if self.playing
                                       else what != self.shown)
        if stale:
            self.stream.rebase(None if self.playing else self.replay, still=not self.playing)
            self.shown = what
        if self.playing:
            self.stream.play()

    def player(self, key: str | None = None) -> None:
        """The fragment holding the player: the browser reruns it to ask for frames."""
        key = key or f"{self.prefix}_player"
        seen = _widget_values()              # the page's widgets as this run drew them

        @st.fragment(run_every=BACKSTOP_S if self.playing else None)
        def area():
            if _moved(seen):
                self._missed_change()
            ack = (st.session_state.get(key) or {}).get("ack") or {}
            room = ack.get("room")
            if isinstance(room, int) and (self.room is None or abs(room - self.room) > 40):
                self.room = room
                self.set_view(self.view)
            self.sync()
            maker = self.stream.maker
            fresh = ack.get("epoch") == maker.epoch
            if self.playing and fresh:
                self.stream.heard(ack.get("drawn", -1))
            if self.playing and self.stream.finished:
                self.play = "pause"
                st.rerun()              # the page redraws paused (buttons, timeline)
            data = {"epoch": maker.epoch, "mode": "play" if self.playing else "still",
                    "max_fps": MAX_FPS, "prefix": self.prefix}
            if self.playing:
                since = ack.get("received", -1) if fresh else maker.first["seq"] - 1
                data["frames"] = self.stream.wait_for_frames(since, FRAME_WAIT_S)
                if not fresh:
                    data["static"] = maker.static
                    data["frames"] = [maker.first] + [f for f in data["frames"]
                                                      if f["seq"] > maker.first["seq"]]
            else:
                data["static"] = maker.static
                data["frames"] = [maker.first]
            _mount(key=key, data=data, on_ack_change=_ignore, height="content")

        area()

    def _missed_change(self) -> None:
        """A change of the page's widgets that reached only a rerun of the player's fragment.

        The browser sends a widget change that meets the player's report (a click on Pause, a
        loss picked in the sidebar) in one rerun of the fragment alone: the widget's new value
        (and its callback) is then in the session, but the page around the player is not
        redrawn, so Pause did not pause (the runs trained on under "Pause") and a new setting
        waited for the next click. So the fragment compares the widgets with what the page
        last drew and, when one moved, pauses if Pause was chosen and reruns the whole page.
        """
        if st.session_state.get(f"{self.prefix}_playback") == "pause":
            self.pause()
        st.rerun()


PLAIN = (str, int, float, bool, type(None), list, tuple)


def _widget_values() -> dict:
    """The session's plain values: those of the widgets (and any other plain entry)."""
    return {k: v for k, v in st.session_state.items() if isinstance(v, PLAIN)}


def _moved(seen: dict) -> bool:
    """A value of `seen` that is different now. A key that is gone is not a change: Streamlit
    drops the state of widgets that the last run did not draw, after the run."""
    now = _widget_values()
    return any(k in now and _differs(now[k], v) for k, v in seen.items())


def _differs(a, b) -> bool:
    try:
        return bool(a != b)
    except (TypeError, ValueError):      # e.g. lists of arrays: not a widget's value
        return False
