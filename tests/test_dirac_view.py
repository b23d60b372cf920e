"""The Dirac-GAN page through AppTest: it draws the paper's findings and rejects bad input."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def dirac_app() -> AppTest:
    def app():
        from explorer import dirac_view
        dirac_view.page()
    return AppTest.from_function(app, default_timeout=60).run()


def test_unregularised_simultaneous_diverges_and_r1_converges():
    at = dirac_app()
    assert not at.exception
    assert any("diverges" in m.value for m in at.markdown)
    at.selectbox(key="dirac_objective").set_value("gradient-penalty").run()
    assert any("converges to the equilibrium" in m.value for m in at.markdown)
    trajectory = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][2]
    assert trajectory["name"] == "trajectory"


def test_alternating_gan_cycles():
    at = dirac_app()
    at.radio(key="dirac_updates").set_value("alternating").run()
    assert any("does not converge" in m.value for m in at.markdown)


def test_bad_step_size_shows_an_error():
    at = dirac_app()
    at.number_input(key="dirac_h").set_value(-0.1).run()
    assert not at.exception
    assert any(e.value.startswith("h ") for e in at.error), [e.value for e in at.error]
