"""The app's wiring, through Streamlit's AppTest: widgets change the run, buttons drive it.

The fragment timer never fires in AppTest, so training itself is tested in gan_core; here we
check that each control reaches the trainer and that nothing raises.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core.config import TrainConfig
from gan_core.training import Trainer

from .player_helpers import charts, shown

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    return app


def trainer(at) -> Trainer:
    return at.session_state.live.playback.group.members[0]


def params(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def main_figure(at) -> dict:
    return shown(at, "live_player")[0]["main"]


def status(at) -> str:
    return shown(at, "live_player")[1]["status"]


def test_opens_on_the_default_ring_at_iteration_zero(at):
    t = trainer(at)
    assert t.iteration == 0
    assert t.config == TrainConfig().resolved()
    main = main_figure(at)
    names = {trace.get("name") for trace in main["data"]}
    assert {"real", "generated"} <= names
    assert "Iteration 0<" in status(at)
    assert main["layout"]["title"]["text"] == "iteration 0 · nonsaturating · off the data"
    assert {"losses", "grads", "modes", "w1"} <= set(charts(at, "live_player"))


def test_step_advances_one_iteration(at):
    at.button(key="live_step").click().run()
    assert trainer(at).iteration == 1
    at.button(key="live_step").click().run()
    assert trainer(at).iteration == 2
    assert not at.exception


def test_step_d_and_step_g_move_only_their_player(at):
    g0, d0 = params(trainer(at).G), params(trainer(at).D)
    at.button(key="live_step_d").click().run()
    assert same(params(trainer(at).G), g0) and not same(params(trainer(at).D), d0)
    d1 = params(trainer(at).D)
    at.button(key="live_step_g").click().run()
    assert same(params(trainer(at).D), d1) and not same(params(trainer(at).G), g0)


def test_reset_returns_to_iteration_zero_with_the_same_weights(at):
    fresh = Trainer(trainer(at).config)
    for _ in range(3):
        at.button(key="live_step").click().run()
    assert not same(params(trainer(at).G), params(fresh.G))
    at.button(key="live_reset").click().run()
    assert trainer(at).iteration == 0
    assert same(params(trainer(at).G), params(fresh.G))
    assert same(params(trainer(at).D), params(fresh.D))


def test_play_and_pause_set_the_play_state(at):
    at.button_group(key="live_playback").set_value("play").run()
    assert at.session_state.live_playback == "play"
    at.button_group(key="live_playback").set_value("pause").run()
    assert at.session_state.live_playback == "pause"


def test_step_pauses_a_playing_run(at):
    at.button_group(key="live_playback").set_value("play").run()
    at.button(key="live_step").click().run()
    assert at.session_state.live_playback == "pause"
    assert not at.exception


def test_learning_rate_applies_live_without_reset(at):
    at.button(key="live_step").click().run()
    at.text_input(key="cfg_lr_d").set_value("0.005").run()
    t = trainer(at)
    assert t.iteration == 1
    assert t.config.lr_d == 0.005
    assert all(g["lr"] == 0.005 for g in t.opt_d.param_groups)


def test_loss_and_k_apply_live(at):
    at.button(key="live_step").click().run()
    at.selectbox(key="cfg_loss").set_value("hinge").run()
    at.number_input(key="cfg_k").set_value(3).run()
    t = trainer(at)
    assert (t.config.loss, t.config.k, t.iteration) == ("hinge", 3, 1)
    spec = main_figure(at)
    assert "critic" in json.dumps(spec["data"][0].get("colorbar", {}))


def test_changing_data_restarts_with_a_notice(at):
    at.button(key="live_step").click().run()
    at.selectbox(key="cfg_dataset").set_value("grid").run()
    t = trainer(at)
    assert t.iteration == 0 and t.config.dataset == "grid"
    assert t.config.std == 0.05, "the grid's own noise level, not the ring's"
    assert any("restarted" in i.value for i in at.info)


def test_changing_the_model_restarts(at):
    at.number_input(key="cfg_g_width").set_value(32).run()
    assert trainer(at).config.g_width == 32
    assert trainer(at).G[0].out_features == 32


@pytest.mark.parametrize("key,value,field", [
    ("cfg_lr_d", "-1", "lr_d:"), ("cfg_std", "0", "std:"), ("cfg_instance_noise", "-0.5",
                                                            "instance_noise:"),
    ("cfg_r1", "-1", "r1:"), ("cfg_lr_g", "1e999", "lr_g: inf is out of range"),
    ("cfg_radius", "abc", "radius: expected a number, got 'abc'")])
def test_bad_values_show_an_error_and_keep_the_run(at, key, value, field):
    at.button(key="live_step").click().run()
    before = trainer(at).config
    at.text_input(key=key).set_value(value).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(f"- {field}" in e for e in errors), errors
    assert trainer(at).config == before and trainer(at).iteration == 1
    at.button(key="live_step").click().run()
    assert trainer(at).iteration == 2, "the app stays usable"


def test_new_seed_restarts_with_another_seed(at):
    at.button(key="live_seed").click().run()
    assert trainer(at).config.seed == 1
    assert at.number_input(key="cfg_seed").value == 1


def test_custom_points_typed_in(at):
    at.selectbox(key="cfg_dataset").set_value("custom").run()
    at.text_area(key="custom_text_0").set_value("0, 0\n2, 2\n-2, 1").run()
    t = trainer(at)
    assert t.config.dataset == "custom"
    assert t.config.custom_points == ((0.0, 0.0), (2.0, 2.0), (-2.0, 1.0))
    at.text_area(key="custom_text_0").set_value("0, zero").run()
    assert not at.exception
    assert any("custom_points" in e.value for e in at.error)
    assert trainer(at).config.custom_points == ((0.0, 0.0), (2.0, 2.0), (-2.0, 1.0))


def test_layers_toggle_traces(at):
    at.multiselect(key="layers").set_value(["real", "fake"]).run()
    names = {trace.get("name") for trace in main_figure(at)["data"]}
    assert names == {"real", "generated"}


def test_a_link_opens_the_same_run():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"loss": "hinge", "lr_d": "0.004", "dataset": "grid", "seed": "7"})
    app.run()
    assert not app.exception
    config = trainer(app).config
    assert (config.loss, config.lr_d, config.dataset, config.seed) == ("hinge", 0.004, "grid", 7)
    assert config.std == 0.05
    assert app.text_input(key="cfg_lr_d").value == "0.004"


def test_a_bad_link_value_is_ignored_with_a_notice():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lr_d": "-3", "k": "4"})
    app.run()
    assert not app.exception
    assert trainer(app).config.k == 4 and trainer(app).config.lr_d == TrainConfig().lr_d
    assert any("lr_d" in i.value for i in app.info)


def test_changes_are_written_to_the_url(at):
    at.selectbox(key="cfg_loss").set_value("lsgan").run()
    assert at.query_params["loss"] == ["lsgan"] or at.query_params["loss"] == "lsgan"


def test_classroom_link_hides_advanced_controls():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"classroom": "1"})
    app.run()
    assert not app.exception
    keys = {w.key for w in app.number_input} | {w.key for w in app.text_input}
    assert "cfg_lr_d" in keys and "cfg_g_width" not in keys


def test_timeline_replays_and_continue_forks(at):
    t = trainer(at)
    t.step(250)                       # records at 0, 100, 200
    at.run()
    slider = at.select_slider[0]
    assert slider.options == ["0", "100", "200", "now (250)"]
    slider.set_value("100").run()
    spec = main_figure(at)
    assert "iteration 100" in json.dumps(spec["layout"]["title"])
    at.button(key="live_fork").click().run()
    assert not at.exception
    forked = trainer(at)
    assert forked is not t and forked.iteration == 100
    assert any("Continuing from iteration 100" in i.value for i in at.info)
    assert "iteration 100" in main_figure(at)["layout"]["title"]["text"]


def test_export_buttons_make_files_on_demand(at):
    trainer(at).step(120)
    at.run()
    assert not at.exception
    labels = {b.label for b in at.get("download_button")}
    assert {"Animation (HTML)", "Animation (GIF)", "This frame (PNG)",
            "Run record (.zip)"} <= labels


def test_open_record_replaces_the_run_and_a_bad_file_is_refused():
    from gan_core.records import run_bytes

    def app():
        import streamlit as st

        from explorer import session
        session.live()
        if st.session_state.get("upload") is not None:
            session.open_record(st.session_state.upload, "run.zip")

    other = Trainer(TrainConfig(loss="hinge", seed=3).resolved())
    other.step(5)
    at = AppTest.from_function(app, default_timeout=60)
    at.session_state["upload"] = b"not a zip"
    at.run()
    assert not at.exception
    assert trainer(at).iteration == 0
    assert "Could not open run.zip: not a run record" in at.session_state.live.playback.notice[1]
    at.session_state["upload"] = run_bytes(other)
    at.run()
    loaded = trainer(at)
    assert loaded.iteration == 5 and loaded.config == other.config
    assert at.session_state.live.values["loss"] == "hinge"
    assert at.session_state["cfg_loss"] == "hinge"


def test_a_diverging_run_stops_says_so_and_can_be_reset(at):
    at.selectbox(key="cfg_loss").set_value("lsgan").run()
    at.selectbox(key="cfg_opt_d").set_value("sgd").run()
    at.selectbox(key="cfg_opt_g").set_value("sgd").run()
    at.text_input(key="cfg_lr_d").set_value("10").run()
    at.text_input(key="cfg_lr_g").set_value("10").run()
    at.button_group(key="live_playback").set_value("play").run()
    for _ in range(20):
        if trainer(at).status:
            break
        at.button(key="live_step").click().run()
    t = trainer(at)
    assert t.status.startswith("diverged at iteration")
    assert all(torch.isfinite(p).all() for p in t.G.parameters())
    assert len(t.history) == t.iteration, "the history up to the last good iteration stays"
    at.run()
    assert not at.exception
    assert at.session_state.live_playback == "pause"
    assert "diverged at iteration" in status(at)
    at.button(key="live_reset").click().run()
    assert trainer(at).status == "" and trainer(at).iteration == 0


def test_drawing_adds_and_removes_custom_points():
    from explorer.controls import edited_points

    points = ((0.0, 0.0), (1.0, 1.0))
    assert edited_points(points, [(2.0, -1.0, 0)]) == ((0.0, 0.0), (1.0, 1.0), (2.0, -1.0))
    assert edited_points(points, [(1.0, 1.0, 1)]) == ((0.0, 0.0),)
    assert edited_points(points, [(0.0, 0.0, 1), (1.0, 1.0, 1)]) == ((0.0, 0.0),), \
        "the last point stays: a custom dataset needs one"
    assert edited_points(points, [(0.0, 0.0, 0)]) == points, "no duplicates"


def test_every_bad_value_is_listed_at_once_and_k_out_of_range_is_named(at):
    at.text_input(key="cfg_lr_d").set_value("-1")
    at.number_input(key="cfg_k").set_value(-3)
    at.number_input(key="cfg_batch_size").set_value(0).run()
    assert not at.exception
    text = "\n".join(e.value for e in at.error)
    for field in ("lr_d", "k", "batch_size"):
        assert f"- {field}:" in text, text
    at.number_input(key="cfg_k").set_value(10**6).run()
    assert "- k: 1000000 is out of range" in "\n".join(e.value for e in at.error)


def test_batch_size_shows_any_valid_value():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"batch_size": "100"})
    app.run()
    assert not app.exception
    assert app.number_input(key="cfg_batch_size").value == 100
    assert trainer(app).config.batch_size == 100


def test_game_diagnostics_and_the_optimal_d_overlay(at):
    trainer(at).step(60)
    at.checkbox(key="diagnostics").check().run()
    at.multiselect(key="layers").select("optimal_d").run()
    assert not at.exception
    figs, texts = shown(at, "live_player")
    spectrum = figs["spectrum"]
    assert any(t.get("meta") == "region" for t in spectrum["data"])     # where steps contract
    assert "spectrum_history" in charts(at, "live_player")
    assert "optimal_d" in {t.get("meta") for t in figs["main"]["data"]}
    assert "optimal D*: gap" in texts["status"]
    # paused at another moment: computed again for it
    at.button(key="live_step").click().run()
    assert at.session_state.live.spectra.latest.iteration == 61


def test_cures_apply_live_and_the_averaged_g_is_drawn_and_measured(at):
    at.button(key="live_step").click().run()
    at.number_input(key="cfg_unroll").set_value(2).run()
    at.text_input(key="cfg_consensus").set_value("0.5").run()
    at.text_input(key="cfg_ema").set_value("0.9").run()
    at.radio(key="cfg_updates").set_value("optimistic").run()
    t = trainer(at)
    assert not at.exception and t.iteration == 1, "live: the run goes on"
    assert (t.config.unroll, t.config.consensus, t.config.ema, t.config.updates) == (
        2, 0.5, 0.9, "optimistic")
    at.button(key="live_step").click().run()
    assert trainer(at).iteration == 2 and trainer(at).G_avg is not None
    assert "averaged" in [d.get("meta") for d in main_figure(at)["data"]]
    assert "averaged G" in status(at)
    assert at.query_params["ema"] in (["0.9"], "0.9")


def test_packing_restarts_with_a_wider_discriminator(at):
    at.button(key="live_step").click().run()
    at.number_input(key="cfg_pack").set_value(2).run()
    t = trainer(at)
    assert t.iteration == 0 and t.config.pack == 2 and t.D.net[0].in_features == 4


@pytest.mark.parametrize("key,value,message", [
    ("cfg_consensus", "-1", "- consensus: -1.0 is out of range; allowed [0.0, 100]"),
    ("cfg_ema", "1", "- ema: 1.0 is out of range; allowed [0.0, 0.999]"),
    ("cfg_gp_g", "-0.1", "- gp_g: -0.1 is out of range; allowed [0.0, 100]")])
def test_out_of_range_cures_are_named_and_keep_the_run(at, key, value, message):
    before = trainer(at).config
    at.text_input(key=key).set_value(value).run()
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert trainer(at).config == before
