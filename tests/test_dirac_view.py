"""The Dirac-GAN page through AppTest: it draws the paper's findings, shows the spectral radius
with one reading in its text and its verdict, the stability region over h and the phase
diagram, and rejects bad input."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from explorer.dirac_view import AXES_LABELS, DIAGRAM_KEY, SETTING_KEYS


def dirac_app() -> AppTest:
    def app():
        from explorer import dirac_view
        dirac_view.page()
    return AppTest.from_function(app, default_timeout=60).run()


def charts(at) -> list:
    """The page's charts in order (portrait, distance, stability over h, phase diagram), as
    JSON specs."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def metas(spec) -> list:
    return [t.get("meta") for t in spec["data"]]


def reading_text(at) -> str:
    return next(m.value for m in at.markdown if "background:" in m.value)


def verdict_text(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("θ = "))


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
    assert "<b>cycles</b>" in reading_text(at)


def test_bad_step_size_shows_an_error():
    at = dirac_app()
    at.number_input(key="dirac_h").set_value(-0.1).run()
    assert not at.exception
    assert any(e.value.startswith("h ") for e in at.error), [e.value for e in at.error]


def test_spectral_radius_and_one_reading_in_text_and_verdict():
    at = dirac_app()
    rho = next(m for m in at.metric if m.label == "spectral radius ρ")
    assert rho.value == "1.00499"
    assert "<b>diverges</b>" in reading_text(at) and "ρ = 1.00499" in reading_text(at)
    assert "diverges (spirals out)" in verdict_text(at)
    # issue 14: WGAN-GP said "keeps cycling" in the text and "diverges" in the verdict
    at.selectbox(key="dirac_objective").set_value("wgan-gp").run()
    assert next(m for m in at.metric if m.label == "spectral radius ρ").value == "none"
    assert "<b>cycles</b>" in reading_text(at)
    assert "does not converge (cycles / stalls)" in verdict_text(at)
    assert not any("diverges" in m.value for m in at.markdown)


def test_optimizers_momentum_and_the_bilinear_game():
    at = dirac_app()
    at.selectbox(key="dirac_objective").set_value("bilinear").run()
    assert "<b>diverges</b>" in reading_text(at)
    at.selectbox(key="dirac_optimizer").set_value("extragradient").run()
    assert "<b>converges</b>" in reading_text(at)
    assert "look-ahead" in " ".join(m.value for m in at.markdown)
    at.selectbox(key="dirac_optimizer").set_value("gd").run()
    at.radio(key="dirac_updates").set_value("alternating").run()
    assert "<b>cycles</b>" in reading_text(at)
    at.number_input(key="dirac_momentum").set_value(-0.3).run()     # Gidel et al. 2019
    assert "<b>converges</b>" in reading_text(at)
    assert at.session_state[SETTING_KEYS["momentum"]] == -0.3
    at.number_input(key="dirac_lr_ratio").set_value(2.0).run()
    assert not at.exception


def test_out_of_range_momentum_names_the_field_and_its_range():
    at = dirac_app()
    at.number_input(key="dirac_momentum").set_value(-0.95).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["momentum must be in [-0.9, 0.999], got -0.95"]


def test_stability_over_h_and_phase_diagram():
    at = dirac_app()
    specs = charts(at)
    stability, phase = specs[2], specs[3]
    assert {"radius", "current"} <= set(metas(stability))
    assert not [s for s in stability["layout"]["shapes"] if s["type"] == "rect"]  # gan: ρ > 1
    assert "cells" in metas(phase) and "boundary" in metas(phase)
    assert at.radio(key=DIAGRAM_KEY).options == [AXES_LABELS["ratio-k"]]   # no γ for the GAN
    at.selectbox(key="dirac_objective").set_value("gradient-penalty").run()
    specs = charts(at)
    assert [s for s in specs[2]["layout"]["shapes"] if s["type"] == "rect"]   # a stable range
    assert at.radio(key=DIAGRAM_KEY).options == [AXES_LABELS["h-gamma"], AXES_LABELS["ratio-k"]]
    at.radio(key=DIAGRAM_KEY).set_value("h-gamma").run()
    phase = charts(at)[3]
    assert phase["layout"]["yaxis"]["title"]["text"] == "R1 weight γ"
    assert "current" in metas(phase)
    at.radio(key=DIAGRAM_KEY).set_value("ratio-k").run()
    assert charts(at)[3]["layout"]["yaxis"]["title"]["text"] == "k (ψ steps per θ step)"
    at.selectbox(key="dirac_optimizer").set_value("optimistic").run()
    phase = charts(at)[3]
    boundary = [t for t in phase["data"] if t.get("meta") == "boundary"]
    assert boundary and boundary[0]["type"] == "contour"                  # no closed form
