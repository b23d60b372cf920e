"""The Lecture page through AppTest: scenarios load with their explanation, from a menu or a
link, and play in lockstep up to their length."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import scenarios

from .player_helpers import shown


def lecture_app(query: dict | None = None) -> AppTest:
    def app():
        import sys
        from pathlib import Path
        root = str(Path.cwd())
        if root not in sys.path:
            sys.path.insert(0, root)
        from explorer import lecture_view
        lecture_view.page()
    at = AppTest.from_function(app, default_timeout=120)
    if query:
        at.query_params.update(query)
    return at.run()


def test_opens_on_the_first_scenario_with_its_explanation():
    at = lecture_app()
    assert not at.exception
    first = scenarios.get(list(scenarios.SCENARIOS)[0])
    assert at.session_state.lecture.scenario == first.name
    assert any(first.watch in m.value for m in at.markdown)
    assert any(first.explanation.split("\n")[0][:40] in m.value for m in at.markdown)
    assert len(at.session_state.lecture.playback.group.members) == max(1, len(first.variants))


@pytest.mark.parametrize("name", list(scenarios.SCENARIOS))
def test_every_scenario_loads_from_the_menu(name):
    at = lecture_app()
    at.selectbox(key="lecture_pick").set_value(name).run()
    assert not at.exception
    scenario = scenarios.get(name)
    group = at.session_state.lecture.playback.group
    assert group.labels == [label for label, _ in scenario.variants] or not scenario.variants
    assert [c for c in group.configs] == [c for _, c in scenarios.configs(scenario)]


def test_a_link_opens_a_scenario():
    at = lecture_app({"scenario": "saturation"})
    assert not at.exception
    assert at.session_state.lecture.scenario == "saturation"


def test_an_unknown_scenario_in_a_link_is_named():
    at = lecture_app({"scenario": "nope"})
    assert not at.exception
    assert any("nope" in w.value for w in at.warning)


def test_step_and_reset():
    at = lecture_app()
    at.button(key="lecture_step").click().run()
    assert at.session_state.lecture.playback.group.iteration == 1
    at.button(key="lecture_reset").click().run()
    assert at.session_state.lecture.playback.group.iteration == 0


def test_continue_from_here_forks_the_scenario_and_keeps_its_goal():
    at = lecture_app({"scenario": "learning-rates"})
    old = at.session_state.lecture.playback.group
    old.step(200)
    at.run()
    at.select_slider(key="lecture_timeline").set_value("100").run()
    at.text_input(key="lecture_fork_changes").set_value("lr_d=0.0001").run()
    at.button(key="lecture_fork").click().run()
    assert not at.exception
    group = at.session_state.lecture.playback.group
    assert group.iteration == 100 and all(c.lr_d == 1e-4 for c in group.configs)
    assert all(label.endswith("lr_d=0.0001") for label in group.labels)
    _, texts = shown(at, "lecture_player")
    assert f"of {scenarios.get('learning-rates').steps:,}" in texts["status"]
