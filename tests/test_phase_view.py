"""The Phase diagram page through AppTest: controls from the Live run's settings, one-sentence
errors, a tiny sweep filling the diagram from its background thread, and a cell's link to the
Live page with that cell's settings."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from explorer import phase_view
from gan_core.config import TrainConfig
from gan_draw.phase import phase_figure

pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")


def phase_app(live_config: TrainConfig | None = None) -> AppTest:
    def app():
        from explorer import phase_view
        phase_view.WORKERS = 0              # train in the test's process (no worker pool)
        phase_view.page()

    at = AppTest.from_function(app, default_timeout=60)
    if live_config is not None:                     # the Live page's run, where Live keeps it
        from gan_core.training import Trainer

        member = Trainer(live_config)
        at.session_state["live"] = SimpleNamespace(playback=SimpleNamespace(
            group=SimpleNamespace(members=[member])))
    return at.run()


def tiny(at: AppTest) -> AppTest:
    at.text_input(key="phase_x_lr_d").set_value("1e-3, 3e-3")
    at.text_input(key="phase_y_lr_g").set_value("1e-3, 2e-3")
    at.number_input(key="phase_steps").set_value(20)
    at.text_input(key="phase_fixed").set_value("g_width=8, d_width=8, g_depth=1, d_depth=1, "
                                              "batch_size=32, loss=hinge")
    return at.run()


def test_fixed_settings_start_from_the_live_run_and_the_size_is_shown():
    at = phase_app(TrainConfig(loss="hinge", k=2))
    assert not at.exception
    assert at.text_input(key="phase_fixed").value == "loss=hinge, k=2"
    assert any("16 runs of 300 iterations in" in c.value for c in at.caption)
    assert not at.button(key="phase_run_btn").disabled
    assert any("press **Run**" in i.value for i in at.info)


@pytest.mark.parametrize("key, value, words", [
    ("phase_x_lr_d", "1e-3, 20", ["axis lr_d", "out of range"]),
    ("phase_x_lr_d", "", ["axis lr_d", "no values"]),
    ("phase_fixed", "lr_d=1e-3", ["fixed settings", "lr_d is also an axis"]),
    ("phase_fixed", "colour=red", ["unknown setting 'colour'"]),
])
def test_bad_input_is_one_sentence_and_disables_run(key, value, words):
    at = phase_app()
    at.text_input(key=key).set_value(value).run()
    assert not at.exception
    (error,) = at.error
    assert all(w in error.value for w in words), error.value
    assert at.button(key="phase_run_btn").disabled


def test_the_same_setting_on_both_axes_is_refused():
    at = phase_app()
    at.selectbox(key="phase_y").set_value("lr_d").run()
    assert "x and y are both lr_d" in at.error[0].value


def test_a_sweep_fills_the_diagram_and_a_cell_links_to_its_live_run():
    at = tiny(phase_app())
    at.button(key="phase_run_btn").click().run()
    run = at.session_state[phase_view.STATE]
    run.thread.join(120)
    assert not run.running and not run.error
    at.run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    cells = [t for t in spec["data"] if t.get("meta") == "cells"]
    assert sorted(i for t in cells for i in t["customdata"]) == [0, 1, 2, 3]
    assert all(t["name"] != "training…" for t in cells)
    assert any("4 of 4 runs" in c.value and "done" in c.value for c in at.caption)

    at.session_state["phase_cell"] = 3                   # what a click on a cell selects
    at.run()
    (link,) = at.get("link_button")
    url = urlparse(link.proto.url)
    assert url.path == "./"                              # Live: the app's default page
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["lr_d"] == "0.003" and query["lr_g"] == "0.002"  # cell 3: x 3e-3, y 2e-3
    assert query["loss"] == "hinge" and query["g_width"] == "8"
    assert any("lr_d=0.003, lr_g=0.002" in m.value for m in at.markdown)


def test_stop_ends_a_running_sweep():
    at = tiny(phase_app())
    at.number_input(key="phase_steps").set_value(20_000).run()
    at.button(key="phase_run_btn").click().run()
    run = at.session_state[phase_view.STATE]
    assert run.running
    at.button(key="phase_stop_btn").click().run()
    run.thread.join(30)
    assert not run.running and run.stop.is_set()
    assert run.document()["runs_done"] == 0


def test_phase_figure_puts_cells_in_product_order():
    doc = {"spec": {"axes": [{"field": "lr_d", "values": [1e-3, 3e-3]},
                             {"field": "k", "values": [1, 2, 5]}]},
           "complete": False, "runs_done": 1, "total_runs": 6,
           "cells": [{"cell": i, "values": {}, "runs_done": int(i == 4), "verdict":
                      "converged" if i == 4 else None, "verdicts": {},
                      "metrics": {m: {"mean": 0.5, "std": 0.0, "n": 1}
                                  for m in ("modes_covered", "high_quality", "reverse_kl",
                                            "w1")}} for i in range(6)]}
    fig = phase_figure(doc)
    (done,) = [t for t in fig.data if t.name == "converged"]
    assert [list(done.x), list(done.y), list(done.customdata)] == [[1.0], [1.0], [4]]
    (pending,) = [t for t in fig.data if t.name == "training…"]
    assert len(pending.x) == 5
    assert list(fig.layout.xaxis.ticktext) == ["0.001", "0.003"]
    assert list(fig.layout.yaxis.ticktext) == ["1", "2", "5"]
    assert "1 of 6 runs done" in fig.layout.title.text


def test_the_page_points_to_the_closed_form_diagrams_of_the_dirac_page():
    at = phase_app()
    assert not at.exception
    (link,) = [e for e in at.main if getattr(e, "proto", None) is not None
               and type(e.proto).__name__ == "PageLink"]
    assert "Dirac-GAN page" in link.proto.label and link.proto.page.endswith("dirac")
