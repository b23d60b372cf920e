"""Shareable links: the whole run configuration, seed included, lives in the URL query.

Only settings that differ from the defaults are written, so links stay short; a link opens the
same run. Flags: `classroom=1` hides the advanced controls, `present=1` is the projector
layout, `scenario=NAME` loads a lecture scenario.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from gan_core.config import DEFAULT_STD, ConfigError, TrainConfig
from gan_core.settings import format_value, is_true, parse_value

FLAGS = ("classroom", "present")
DEFAULTS = TrainConfig()


def query_from_config(config: TrainConfig) -> dict[str, str]:
    """The query parameters of `config`: its non-default settings, as text."""
    out = {}
    for f in fields(TrainConfig):
        value = getattr(config, f.name)
        if f.name == "std":
            if value is None or value == DEFAULT_STD[config.dataset]:
                continue
        elif value == getattr(DEFAULTS, f.name):
            continue
        out[f.name] = format_value(f.name, value)
    return out


def config_from_query(query: dict) -> tuple[TrainConfig, list[str]]:
    """The config a link describes, and a message for each part that had to be ignored.

    A bad value never blocks the page: that setting falls back to its default and the
    message says so.
    """
    names = {f.name for f in fields(TrainConfig)}
    values, problems = {}, []
    for name, text in query.items():
        name = name.replace("-", "_")            # lr-d or lr_d, as everywhere (gan_core.settings)
        if name in names:
            try:
                values[name] = parse_value(name, text)
            except ConfigError as err:
                problems.append(f"link setting ignored: {err}")
    while True:
        try:
            return TrainConfig(**values).resolved(), problems
        except ConfigError as err:
            problems.append(f"link setting ignored: {err}")
            field = str(err).split(":")[0]
            if field not in values:
                return DEFAULTS.resolved(), problems
            values.pop(field)


def flag(query: dict, name: str) -> bool:
    return is_true(query.get(name, ""))


def write_query(config: TrainConfig | None = None, extra: dict | None = None) -> None:
    """Keep the page's URL equal to what it shows, so copying it shares the run: the run's
    settings (Live), `extra` (a lecture's scenario) and the session's flags, which survive
    every trip to another page."""
    from .state import write_flags

    current = st.query_params.to_dict()
    wanted = write_flags({})
    wanted.update(query_from_config(config) if config is not None else {})
    wanted.update(extra or {})
    if wanted != current:
        st.query_params.from_dict(wanted)
