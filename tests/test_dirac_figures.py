"""gan_draw.dirac_figures: what each Dirac-GAN figure draws, read back from its JSON."""
import json

import numpy as np
import pytest

from gan_core.dirac import DiracConfig, trajectory
from gan_core.dirac_phase import phase_diagram
from gan_core.dirac_stability import radius_over_h, spectral_radius
from gan_draw.dirac_figures import (distance_figure, phase_figure, portrait_figure,
                                    stability_figure, stable_intervals)


def spec(figure):
    return json.loads(figure.to_json())


def traces(figure, meta):
    """The traces whose meta is `meta`, as plotly objects (arrays stay arrays)."""
    return [t for t in figure.data if t.meta == meta]


def test_portrait_and_distance_draw_the_run():
    config = DiracConfig(steps=30)
    path = trajectory(config)
    portrait = portrait_figure(config, path)
    (line,) = traces(portrait, "trajectory")
    assert len(line.x) == 31 and line.x[0] == 1.0
    assert "gd" in spec(portrait)["layout"]["title"]["text"]
    (distance,) = traces(distance_figure(path), "distance")
    assert len(distance.y) == 31 and distance.y[0] == pytest.approx(2 ** 0.5)


def test_stable_intervals():
    h = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    rho = np.array([1.1, 0.9, 0.95, 1.2, 0.8, 0.7])
    assert stable_intervals(h, rho) == [(0.2, 0.3), (0.5, 0.6)]
    assert stable_intervals(h, np.full(6, 1.0)) == []


def test_stability_figure_shades_where_rho_is_below_one_and_marks_h():
    config = DiracConfig(objective="bilinear", optimizer="extragradient", h=0.4)
    h = np.linspace(0.01, 2.0, 200)
    rho = radius_over_h(config, h)
    figure = stability_figure(h, rho, config.h, spectral_radius(config))
    rects = [s for s in spec(figure)["layout"]["shapes"] if s["type"] == "rect"]
    assert len(rects) == 1
    assert rects[0]["x0"] == pytest.approx(0.01) and rects[0]["x1"] == pytest.approx(1.0, abs=0.011)
    (current,) = traces(figure, "current")
    assert list(current.x) == [0.4] and current.y[0] == pytest.approx(spectral_radius(config))
    (curve,) = traces(figure, "radius")
    assert len(curve.x) == 200


def test_stability_figure_without_a_linearisation_says_so():
    config = DiracConfig(objective="wgan-gp")
    h = np.linspace(0.01, 2.0, 20)
    figure = stability_figure(h, radius_over_h(config, h), config.h, None)
    assert "no linearisation" in spec(figure)["layout"]["annotations"][0]["text"]


def test_phase_figure_cells_boundary_and_current_point():
    config = DiracConfig(objective="gradient-penalty", steps=500)
    diagram = phase_diagram(config, "h-gamma", np.linspace(0.05, 2, 20), np.linspace(0, 3, 15))
    figure = phase_figure(diagram, (config.h, config.r1))
    (cells,) = traces(figure, "cells")
    codes = np.array(cells.z, dtype=float)
    assert codes.shape == (15, 20)
    names = {0: "converges", 1: "cycles", 2: "diverges"}
    assert all(names[int(c)] == o for c, o in zip(codes.ravel(), diagram.outcome.ravel()))
    boundary = traces(figure, "boundary")
    assert len(boundary) == len(diagram.boundary) and boundary[0].name == "ρ = 1 (closed form)"
    assert np.array_equal(boundary[0].x, diagram.boundary[0][:, 0], equal_nan=True)
    (current,) = traces(figure, "current")
    assert list(current.x) == [0.2] and list(current.y) == [0.3]


def test_phase_figure_without_closed_form_draws_the_grid_level():
    config = DiracConfig(objective="gan", updates="alternating", optimizer="optimistic")
    diagram = phase_diagram(config, "ratio-k", np.geomspace(0.1, 100, 10), np.arange(1, 5))
    figure = phase_figure(diagram)
    (level,) = traces(figure, "boundary")
    assert level.type == "contour" and level.contours.start == 1.0
    assert spec(figure)["layout"]["xaxis"]["type"] == "log"
    assert not traces(figure, "current")
