"""The Compare page: 2–6 variants of the Live page's settings, trained in lockstep (same data
batches, latent noise and initial weights), as small multiples with shared metric charts."""
from __future__ import annotations

import streamlit as st

from gan_core.batched import PRESETS, Group
from gan_core.config import ConfigError
from gan_core.settings import describe, parse_overrides

from . import links, playback, session, state
from .player import Playback
from .views import GroupView

MIN_VARIANTS, MAX_VARIANTS = 2, 6
PRESET_TITLES = {"objectives": "the six objectives", "k": "k = 1 / 5 / 10",
                 "ttur": "equal vs two-time-scale learning rates", "r1": "with and without R1",
                 "pacgan-ring": "PacGAN's ring: GAN vs PacGAN2",
                 "pacgan-grid": "PacGAN's grid: GAN vs PacGAN2",
                 "unrolled-ring": "Metz et al.'s ring: unroll 0 vs 5"}


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


def compare() -> state.CompareState:
    """This session's Compare state, made on first use (the six objectives)."""
    ss = st.session_state
    if "compare" not in ss:
        ss.compare = state.CompareState(preset="objectives",
                                        text=variants_text(PRESETS["objectives"]))
        build_group(ss.compare)
    return ss.compare


def build_group(cs: state.CompareState | None = None) -> None:
    """A new lockstep group from the Live page's settings and the variants text; a bad text
    keeps the group there was and says why."""
    cs = cs or compare()
    try:
        group = Group(session.trainer().config, parse_variants(cs.text))
    except ConfigError as err:
        cs.error = str(err)
        return
    cs.error = ""
    if cs.playback is None:
        cs.playback = Playback("compare", group, GroupView())
    else:
        cs.playback.pause()
        cs.playback.set_group(group)
    st.session_state["compare_playback"] = "pause"


def _set_preset() -> None:
    cs = compare()
    cs.preset = st.session_state.compare_preset
    cs.text = variants_text(PRESETS[cs.preset])
    st.session_state.compare_text = cs.text
    build_group(cs)


def _set_text() -> None:
    cs = compare()
    cs.text = st.session_state.compare_text
    build_group(cs)


def _forked(group) -> None:
    """The variants text says what runs, so editing it or Reset keeps a fork's changes."""
    cs = compare()
    cs.text = variants_text(group.variants)
    st.session_state.compare_text = cs.text


def editor(cs: state.CompareState) -> None:
    base = session.trainer().config
    st.caption(f"Base: the Live page's settings — {base.loss} on {base.dataset}, k={base.k}, "
               f"lr D {base.lr_d:g} / G {base.lr_g:g}, seed {base.seed}. Every variant starts "
               "from the same weights and sees the same batches.")
    state.bind("compare_preset", cs.preset)
    state.bind("compare_text", cs.text)
    c1, c2 = st.columns([1, 2])
    c1.selectbox("Preset", list(PRESETS), key="compare_preset", persist_state="session", format_func=PRESET_TITLES.get,
                 on_change=_set_preset)
    c2.text_area("Variants, one per line (field=value, ...)", key="compare_text", persist_state="session", height=150,
                 on_change=_set_text,
                 help="e.g. `loss=wgan-gp, k=5` — any setting of the Live page by its name")
    if cs.error:
        st.error(cs.error + ". The comparison keeps its current variants.")


def page() -> None:
    cs = compare()
    present = state.flags().present
    links.write_query()
    if not present:                  # the projector layout: the panels, large
        st.header("Compare")
        editor(cs)
    pb = cs.playback
    if pb is None:
        return
    pb.set_view(GroupView(present=present))
    playback.bar(pb, on_reset=build_group, play_label="Play all")
    row, notice = st.container(), st.container()
    with row:
        playback.timeline(pb, cs, label="Timeline", after_fork=_forked)
    with notice:
        playback.notice(pb)
    pb.player()
