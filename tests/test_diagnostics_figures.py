"""Drawing the diagnostics (gan_draw.diagnostics): the eigenvalue plot over its contraction
disk, the attraction-vs-rotation history, and the optimal-D contour trace."""
import json

import numpy as np
import plotly.graph_objects as go

from gan_core.optimal_d import OptimalD
from gan_core.spectrum import Spectrum, SpectrumHistory
from gan_draw.diagnostics import (optimal_d_trace, spectrum_figure, spectrum_history_figure)


def layer(fig, meta):
    return [t for t in fig.data if t.meta == meta]


def test_eigenvalues_are_split_by_the_contraction_disk():
    spectrum = Spectrum(50, np.array([-5 + 2j, -5 - 2j, 0.3 + 0j, -2500 + 0j]), 1e-3, 0.2)
    fig = spectrum_figure(spectrum)
    (region,) = layer(fig, "region")
    x, y = np.asarray(region.x, float), np.asarray(region.y, float)
    assert np.allclose(np.hypot(x + 1000, y), 1000, rtol=1e-5)     # centre -1/η, radius 1/η
    (inside,) = layer(fig, "eigenvalues inside")
    (outside,) = layer(fig, "eigenvalues outside")
    assert sorted(inside.x) == [-5, -5] and sorted(outside.x) == [-2500, 0.3]
    assert "do not contract" in fig.layout.title.text
    x0, x1 = fig.layout.xaxis.range
    assert x0 < -2500 and x1 > 0.3                                   # every eigenvalue shows
    fig.to_json()


def test_an_empty_spectrum_says_so():
    fig = spectrum_figure(Spectrum(0, np.zeros(0, dtype=complex), 1e-3, 0.0))
    assert fig.data == () and "no eigenvalue" in fig.layout.annotations[0].text


def test_history_chart_draws_both_figures_and_caps_a_pure_rotation():
    history = SpectrumHistory()
    for it, ev in ((10, [1j, -1j]), (20, [-1 + 3j, -1 - 3j]), (30, [0.5 + 0j])):
        history.append(Spectrum(it, np.array(ev), 1e-3, 0.0))
    fig = spectrum_history_figure(history.arrays())
    (real,) = layer(fig, "max_real")
    (rotation,) = layer(fig, "rotation")
    assert list(real.y) == [0.0, -1.0, 0.5]
    assert rotation.y[0] == 1e3 and rotation.y[1] == 3.0 and np.isnan(rotation.y[2])
    assert rotation.yaxis == "y2" and fig.layout.yaxis2.type == "log"
    json.loads(fig.to_json())
    assert "no data" in spectrum_history_figure({}).layout.annotations[0].text


def test_optimal_d_contour_trace_adds_to_a_figure():
    xs = np.linspace(-1, 1, 11)
    surface = np.tile(np.linspace(0, 1, 11), (11, 1))                # crosses 0.5 at x = 0
    trace = optimal_d_trace(OptimalD(xs, xs, surface, 0.123, 0.1))
    assert trace["meta"] == "optimal_d" and trace["contours"]["start"] == 0.5
    assert "gap 0.12" in trace["name"]
    fig = go.Figure(dict(data=[trace], layout={}))
    assert layer(fig, "optimal_d")
    assert optimal_d_trace(OptimalD(xs, xs, np.full((11, 11), 0.9), None, 0.1)) is None
