"""gan_draw.contour: the decision boundary as polylines, against curves known in closed form."""
from __future__ import annotations

import numpy as np

from gan_draw.contour import chain, contour_lines, contour_segments

AXIS = np.linspace(-1, 1, 41)
X, Y = np.meshgrid(AXIS, AXIS)


def test_a_circle_is_one_closed_polyline_on_the_circle():
    lines = contour_lines(AXIS, AXIS, X**2 + Y**2, 0.25)
    assert len(lines) == 1
    line = lines[0]
    assert np.allclose(line[0], line[-1])                       # closed
    assert np.allclose(np.hypot(*line.T), 0.5, atol=2e-3)       # on the circle
    assert len(line) > 40


def test_a_straight_boundary_and_the_grid_orientation():
    # z[i, j] at (x[j], y[i]): z = x crosses 0.3 along the vertical line x = 0.3
    lines = contour_lines(AXIS, AXIS, X, 0.3)
    assert len(lines) == 1
    assert np.allclose(lines[0][:, 0], 0.3)
    assert np.ptp(lines[0][:, 1]) == 2.0


def test_saddles_split_by_the_centre_and_no_crossing_gives_nothing():
    lines = contour_lines(AXIS, AXIS, X * Y + 1e-3, 0.0)   # two branches of a hyperbola
    assert len(lines) == 2
    assert contour_lines(AXIS, AXIS, X * 0 + 1.0, 0.5) == []


def test_non_finite_cells_are_skipped():
    z = X**2 + Y**2
    z[20, 20] = np.nan
    segments = contour_segments(AXIS, AXIS, z, 0.25)
    assert np.isfinite(segments).all() and len(segments) > 0


def test_chain_joins_segments_end_to_end():
    segments = np.array([[[0, 0], [1, 0]], [[2, 0], [1, 0]], [[5, 5], [6, 5]]], dtype=float)
    lines = chain(segments)
    assert [len(line) for line in lines] == [3, 2]
    assert {tuple(p) for p in lines[0]} == {(0, 0), (1, 0), (2, 0)}
