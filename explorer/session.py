"""A browser session's run: its trainer, its play state and what changed, in st.session_state.

Each session owns its Trainer (never cached across sessions). Widgets describe a TrainConfig;
`apply_config` makes the running game match it: live settings apply in place, data or model
changes start a new run and leave a notice saying so.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from gan_core.config import LIVE_FIELDS, ConfigError, TrainConfig
from gan_core.records import RecordError, load_run
from gan_core.training import Trainer

CONFIG_FIELDS = tuple(f.name for f in fields(TrainConfig))


def widget_key(name: str) -> str:
    return f"cfg_{name}"


def init(config: TrainConfig | None = None, notice: str = "") -> None:
    """Create this session's run (once) and seed every config widget with its value."""
    ss = st.session_state
    if "trainer" in ss:
        return
    config = (config or TrainConfig()).resolved()
    ss.notice = notice
    ss.trainer = Trainer(config)
    ss.playback = "pause"
    ss.config_error = ""
    ss.tick = {"iterations": 0, "seconds": 0.0, "rate": 0.0}
    load_widgets(config)


def load_widgets(config: TrainConfig) -> None:
    """Set each widget's value from `config` (before the widgets are drawn)."""
    for name in CONFIG_FIELDS:
        if name != "custom_points":
            st.session_state[widget_key(name)] = getattr(config, name)
    st.session_state.custom_points = config.custom_points
    st.session_state[widget_key("std")] = config.resolved_std


def trainer() -> Trainer:
    return st.session_state.trainer


def config_from_widgets() -> TrainConfig:
    """The config the widgets describe; raises ConfigError naming the bad field."""
    ss = st.session_state
    values = {name: ss[widget_key(name)] for name in CONFIG_FIELDS
              if name != "custom_points" and widget_key(name) in ss}
    values["custom_points"] = ss.get("custom_points")
    if values.get("dataset") != "custom":
        values["custom_points"] = None
    return TrainConfig(**values)


def apply_config() -> None:
    """Make the run match the widgets: live changes in place, others restart the run."""
    ss = st.session_state
    try:
        wanted = config_from_widgets()
    except ConfigError as err:
        ss.config_error = str(err)
        return
    ss.config_error = ""
    current = trainer().config
    changed = {n for n in CONFIG_FIELDS if getattr(wanted, n) != getattr(current, n)}
    if not changed:
        return
    if changed <= LIVE_FIELDS:
        trainer().update(**{n: getattr(wanted, n) for n in changed})
        return
    restart(wanted)
    what = ", ".join(sorted(changed - LIVE_FIELDS))
    ss.notice = f"Changed {what}: the run restarted from iteration 0."


def restart(config: TrainConfig) -> None:
    ss = st.session_state
    ss.trainer = Trainer(config.resolved())
    ss.tick = {"iterations": 0, "seconds": 0.0, "rate": 0.0}


# ---------------------------------------------------------------- playback
# Play/Pause is a value widget (key "playback"), not a button: a button's click is a one-shot
# trigger that can be lost when it races the live fragment's timer reruns; a value is resent
# with every rerun, so Pause always lands.
def is_running() -> bool:
    return st.session_state.get("playback") == "play" and not trainer().status


def before_widgets() -> None:
    """Settle the play state before the widgets are drawn (a diverged run cannot play)."""
    ss = st.session_state
    if ss.pop("pause_requested", False) or trainer().status:
        ss.playback = "pause"


def pause() -> None:
    st.session_state.playback = "pause"


def step_once() -> None:
    pause()
    trainer().step(1)


def step_d() -> None:
    pause()
    trainer().step_d()


def step_g() -> None:
    pause()
    trainer().step_g()


def reset() -> None:
    """Back to iteration 0 with the same seed: the same initial weights."""
    pause()
    restart(trainer().config)
    st.session_state.notice = ""


def new_seed() -> None:
    ss = st.session_state
    pause()
    seed = (trainer().config.seed + 1) % (2**31 - 1)
    ss[widget_key("seed")] = seed
    restart(trainer().config.replace(seed=seed))
    ss.notice = f"New seed {seed}: the run restarted from iteration 0."


def continue_from(index: int) -> None:
    """Fork the run at recorded point `index` with the current settings; play on from it."""
    ss = st.session_state
    parent = trainer()
    ss.trainer = parent.fork(index)
    ss.tick = {"iterations": 0, "seconds": 0.0, "rate": 0.0}
    ss.notice = (f"Continuing from iteration {ss.trainer.iteration:,} with the current "
                 f"settings; the later part of the previous run was left behind.")


def open_uploaded_record() -> None:
    upload = st.session_state.get("record_upload")
    if upload is not None:
        open_record(upload.getvalue(), upload.name)


def open_record(data: bytes, name: str) -> None:
    """Replace the run by a saved record; a bad file leaves the run as it was and says why."""
    ss = st.session_state
    try:
        loaded = load_run(data)
    except RecordError as err:
        ss.notice = f"Could not open {name}: {err}"
        return
    pause()
    ss.trainer = loaded
    ss.tick = {"iterations": 0, "seconds": 0.0, "rate": 0.0}
    load_widgets(loaded.config)
    ss.notice = f"Opened {name}: iteration {loaded.iteration:,}."
