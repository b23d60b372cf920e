"""The Compare page through AppTest: presets, editing variants, stepping them in lockstep."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from explorer.compare_view import parse_variants
from gan_core.config import ConfigError

from .player_helpers import shown


def compare_app() -> AppTest:
    def app():
        import sys
        from pathlib import Path
        root = str(Path.cwd())
        if root not in sys.path:
            sys.path.insert(0, root)
        from explorer import compare_view
        compare_view.page()
    return AppTest.from_function(app, default_timeout=120).run()


@pytest.fixture
def at():
    app = compare_app()
    assert not app.exception
    return app


def group_of(at):
    return at.session_state.compare.playback.group


def panel_iteration(title: str) -> int:
    """The iteration a panel's title names ("TTUR · it 1,200 · partial" -> 1200)."""
    return int(re.search(r"it ([\d,]+)", title).group(1).replace(",", ""))


def panel_titles(at) -> list[str]:
    figs, _ = shown(at, "compare_player")
    return [fig["layout"]["title"]["text"] for fid, fig in sorted(figs.items())
            if fid.startswith("panel_")]


def test_opens_on_the_six_objectives(at):
    group = group_of(at)
    assert [c.loss for c in group.configs] == ["minimax", "nonsaturating", "wgan", "wgan-gp",
                                               "lsgan", "hinge"]
    assert len(panel_titles(at)) == 6


def test_step_advances_every_variant_by_one(at):
    at.button(key="compare_step").click().run()
    group = group_of(at)
    assert group.iteration == 1
    assert all(m.iteration == 1 for m in group.members)
    assert all(panel_iteration(t) == 1 for t in panel_titles(at))


def test_adding_and_removing_variants(at):
    at.text_area(key="compare_text").set_value("loss=hinge\nloss=lsgan, k=3\nbase").run()
    group = group_of(at)
    assert len(group.members) == 3
    assert (group.configs[1].loss, group.configs[1].k) == ("lsgan", 3)
    at.text_area(key="compare_text").set_value("loss=hinge\nbase").run()
    assert len(group_of(at).members) == 2
    assert len(panel_titles(at)) == 2


def test_preset_replaces_the_variants(at):
    at.selectbox(key="compare_preset").set_value("k").run()
    group = group_of(at)
    assert [c.k for c in group.configs] == [1, 5, 10]


def test_bad_variants_show_an_error_and_keep_the_group(at):
    before = group_of(at)
    at.text_area(key="compare_text").set_value("loss=foo\nbase").run()
    assert not at.exception
    assert any("loss" in e.value for e in at.error)
    assert group_of(at) is before


def test_parse_variants():
    assert parse_variants("loss=wgan, k=5\nbase\n") == [{"loss": "wgan", "k": 5}, {}]
    with pytest.raises(ConfigError, match="line 1: lr_d"):
        parse_variants("lr_d=abc\nbase")
    with pytest.raises(ConfigError, match="between 2 and 6"):
        parse_variants("base")
    with pytest.raises(ConfigError, match="field=value"):
        parse_variants("loss\nbase")


def test_timeline_replays_every_variant_at_the_same_iteration(at):
    group_of(at).step(150)
    at.run()
    slider = at.select_slider[0]
    assert slider.options[:2] == ["0", "100"]
    slider.set_value("100").run()
    assert not at.exception
    titles = panel_titles(at)
    assert len(titles) == 6 and all(panel_iteration(t) == 100 for t in titles)


def test_continue_from_a_past_point_forks_every_variant(at):
    old = group_of(at)
    old.step(150)
    at.run()
    at.select_slider(key="compare_timeline").set_value("100").run()
    at.button(key="compare_fork").click().run()
    assert not at.exception
    group = group_of(at)
    assert group is not old and group.iteration == 100
    assert all(m.iteration == 100 for m in group.members)
    assert group.configs == old.configs
    assert any("Continuing from iteration 100" in i.value for i in at.info)
    titles = panel_titles(at)
    assert len(titles) == 6 and all(panel_iteration(t) == 100 for t in titles)   # back at "now"


def test_continue_with_a_change_for_one_variant(at):
    group_of(at).step(100)
    at.run()
    at.select_slider(key="compare_timeline").set_value("0").run()
    at.text_input(key="compare_fork_changes").set_value("lr_g=0.0005, r1=1").run()
    at.selectbox(key="compare_fork_for").set_value(2).run()
    at.button(key="compare_fork").click().run()
    assert not at.exception
    group = group_of(at)
    assert group.iteration == 0
    assert group.configs[2].lr_g == 5e-4 and group.configs[2].r1 == 1.0
    assert all(c.r1 == 0.0 for i, c in enumerate(group.configs) if i != 2)
    assert group.labels[2] == "loss=wgan, lr_g=0.0005, r1=1"
    # the variants text says what runs, so editing it or Reset keeps the change
    assert at.text_area(key="compare_text").value.splitlines()[2] == group.labels[2]


def test_a_bad_change_on_continuing_is_named_and_keeps_the_run(at):
    old = group_of(at)
    old.step(100)
    at.run()
    at.select_slider(key="compare_timeline").set_value("0").run()
    at.text_input(key="compare_fork_changes").set_value("g_width=8").run()
    at.button(key="compare_fork").click().run()
    assert not at.exception
    assert group_of(at) is old and old.iteration == 100
    assert any("g_width" in e.value for e in at.error)


def test_panels_of_one_objective_share_a_colour_range_and_others_keep_theirs():
    import dataclasses

    import numpy as np

    from explorer.views import shared_ranges
    from gan_core.batched import Group
    from gan_core.config import TrainConfig

    group = Group(TrainConfig(g_width=16, d_width=16),
                  [{"loss": "lsgan"}, {"loss": "lsgan", "lr_d": 1e-2}, {"loss": "wgan"},
                   {"loss": "nonsaturating"}])
    group.step(20)
    snaps = group.snapshots(grid=12)
    # a critic far larger must not wash out the LSGAN panels
    snaps[2] = dataclasses.replace(snaps[2], surface=snaps[2].surface * 1e5)
    ranges = shared_ranges(snaps)
    # LSGAN scores: one range for both panels, wide enough for either, centred on 0.5
    assert ranges[0] == ranges[1]
    lo, hi = ranges[0]
    assert lo + hi == pytest.approx(1.0)
    for i in (0, 1):
        p2, p98 = np.percentile(snaps[i].surface, [2, 98])
        assert lo <= p2 + 1e-9 and p98 <= hi + 1e-9
    # the large critic has its own range, centred on its own level
    level = snaps[2].decision_level
    p2, p98 = np.percentile(snaps[2].surface, [2, 98])
    half = (ranges[2][1] - ranges[2][0]) / 2
    assert abs(sum(ranges[2]) / 2 - level) <= half / 20       # centred on it, rounded
    assert ranges[2][0] <= p2 and p98 <= ranges[2][1]          # wide enough...
    assert half <= 1.5 * max(abs(p2 - level), abs(p98 - level)) + half / 20   # ...not wider
    assert shared_ranges(snaps[:2])[0] == ranges[0], "the critic changed the LSGAN range"
    assert ranges[3] == (None, None)
