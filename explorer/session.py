"""The Live page's run and settings (explorer.state.LiveState) and what its controls do to them.

The run is a Group of one (the same player, timeline and fork as Compare and Lecture). The
sidebar's values live in `LiveState.values` (every TrainConfig field, as shown, possibly
invalid); `apply_config` makes the run match them: live settings apply in place, data or model
changes start a new run and leave a notice saying so, and bad values are all listed while the
run keeps its last valid settings.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from gan_core.batched import Group
from gan_core.config import DEFAULT_STD, LIVE_FIELDS, TrainConfig, problems
from gan_core.records import RecordError, load_run
from gan_core.training import Trainer
from gan_draw.figures import LAYERS

from . import links, state
from .player import Playback
from .views import LiveView

CONFIG_FIELDS = tuple(f.name for f in fields(TrainConfig))
# Real-valued settings are typed as text (controls.float_field): the widget holds the text,
# the state the number it reads as (or the text itself, which the validator then names).
FLOAT_FIELDS = frozenset(f.name for f in fields(TrainConfig) if f.type.startswith("float"))
DISPLAY_KEYS = ("layers", "grid", "iters_per_frame", "diagnostics")


def shown(name: str, value):
    """What the widget of setting `name` shows for `value`."""
    if name in FLOAT_FIELDS and isinstance(value, float):
        return f"{value:g}"
    return value


def read(name: str, value):
    """The setting's value from what its widget holds ("1e999" reads as inf: out of range)."""
    if name in FLOAT_FIELDS and isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def widget_key(name: str) -> str:
    return f"cfg_{name}"


def values_of(config: TrainConfig) -> dict:
    """The sidebar's values for `config` (std resolved: the widget shows a number)."""
    values = {name: getattr(config, name) for name in CONFIG_FIELDS}
    values["std"] = config.resolved_std
    return values


def group_of(config: TrainConfig) -> Group:
    return Group(config.resolved(), [{}], labels=[""])


def live() -> state.LiveState:
    """This session's Live state, made on first use from the page's link."""
    ss = st.session_state
    if "live" not in ss:
        config, notes = links.config_from_query(st.query_params.to_dict())
        playback = Playback("live", group_of(config), LiveView(), frame_every=15)
        if notes:
            playback.say("\n\n".join(notes))
        ss.live = state.LiveState(values=values_of(config.resolved()), playback=playback,
                                  layers=list(LAYERS))
        load_widgets(ss.live)
    return ss.live


def trainer() -> Trainer:
    """The Live run's trainer (Compare starts from its settings)."""
    return live().playback.group.members[0]


# ---------------------------------------------------------------- widgets <-> values
def load_widgets(live_state: state.LiveState) -> None:
    """Set every sidebar widget from the state (before the widgets are drawn)."""
    ss = st.session_state
    for name, value in live_state.values.items():
        if name != "custom_points":
            ss[widget_key(name)] = shown(name, value)
    for name in DISPLAY_KEYS:
        ss[name] = getattr(live_state, name)


def before_widgets(live_state: state.LiveState) -> None:
    """Give back the widgets Streamlit dropped (not drawn on the last run: another page, or
    a dataset that hides them), and settle the play state."""
    for name, value in live_state.values.items():
        if name != "custom_points":
            state.bind(widget_key(name), shown(name, value))
    for name in DISPLAY_KEYS:
        state.bind(name, getattr(live_state, name))


def after_widgets(live_state: state.LiveState) -> None:
    """Copy what the drawn widgets hold into the state."""
    ss = st.session_state
    for name in CONFIG_FIELDS:
        if name != "custom_points" and widget_key(name) in ss:
            live_state.values[name] = read(name, ss[widget_key(name)])
    for name in DISPLAY_KEYS:
        if name in ss:
            setattr(live_state, name, ss[name])


def wanted_values(live_state: state.LiveState) -> dict:
    values = dict(live_state.values)
    if values.get("dataset") != "custom":
        values["custom_points"] = None
    return values


def apply_config(live_state: state.LiveState) -> None:
    """Make the run match the values: live changes in place, others restart the run."""
    values = wanted_values(live_state)
    live_state.errors = problems(values)
    if live_state.errors:
        return
    wanted = TrainConfig(**values)
    pb = live_state.playback
    current = pb.group.members[0].config
    changed = {n for n in CONFIG_FIELDS if getattr(wanted, n) != getattr(current, n)}
    if not changed:
        return
    if changed <= LIVE_FIELDS:
        pb.group.update(0, **{n: getattr(wanted, n) for n in changed})
        return
    pb.set_group(group_of(wanted))
    what = ", ".join(sorted(changed - LIVE_FIELDS))
    pb.say(f"Changed {what}: the run restarted from iteration 0.")


def dataset_changed() -> None:
    """A new dataset brings its own noise level (a ring's 0.01 would starve a Gaussian)."""
    ss = st.session_state
    dataset = ss[widget_key("dataset")]
    ss[widget_key("std")] = shown("std", DEFAULT_STD[dataset])
    live().values.update(dataset=dataset, std=DEFAULT_STD[dataset])


# ---------------------------------------------------------------- actions (button callbacks)
def _paused(pb) -> None:
    pb.pause()
    st.session_state[f"{pb.prefix}_playback"] = pb.play


def step(kind: str = "iteration") -> None:
    pb = live().playback
    pb.step(kind)
    st.session_state[f"{pb.prefix}_playback"] = pb.play


def reset() -> None:
    """Back to iteration 0 with the same seed: the same initial weights."""
    pb = live().playback
    _paused(pb)
    pb.set_group(group_of(pb.group.members[0].config))


def new_seed() -> None:
    live_state = live()
    pb = live_state.playback
    _paused(pb)
    seed = (pb.group.members[0].config.seed + 1) % (2**31 - 1)
    live_state.values["seed"] = seed
    st.session_state[widget_key("seed")] = seed
    pb.set_group(group_of(pb.group.members[0].config.replace(seed=seed)))
    pb.say(f"New seed {seed}: the run restarted from iteration 0.")


def open_uploaded_record() -> None:
    upload = st.session_state.get("record_upload")
    if upload is not None:
        open_record(upload.getvalue(), upload.name)


def open_record(data: bytes, name: str) -> None:
    """Replace the run by a saved record; a bad file leaves the run as it was and says why."""
    live_state = live()
    pb = live_state.playback
    try:
        loaded = load_run(data)
    except RecordError as err:
        pb.say(f"Could not open {name}: {err}", "error")
        return
    _paused(pb)
    pb.set_group(Group(loaded.config, [{}], labels=[""], members=[loaded]))
    live_state.values = values_of(loaded.config)
    load_widgets(live_state)
    pb.say(f"Opened {name}: iteration {loaded.iteration:,}.")
