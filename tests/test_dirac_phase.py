"""Phase diagrams over (h, γ) and (lr ratio, k): cells from the spectral radius, and the
closed-form boundary against stability limits derived by hand (J = [[−p, −a], [a, −q]]):

* simultaneous gd, R1-like (p = 0): stable iff h a² < q < 2/(rh) + h a²/2
  (det < 1 and 1 + tr + det > 0 with tr = 2 − rhq, det = 1 − rhq + r h² a²);
* simultaneous gd, consensus (p = q = c = γa²): eigenvalues 1 − hc ± iha, stable iff
  h a² γ² − 2γ + h < 0, i.e. γ between (1 ± √(1 − h²a²)) / (h a²);
* alternating gd, k = 1, r = 1, R1: tr = 2 − hq − h²a², det = 1 − hq; stable iff
  0 < q < (4 − h²a²) / (2h);
* alternating gd, unregularised: det = 1, tr = 2 − k r h² a², so ρ = 1 up to k·r = 4/(h²a²);
* alternating gd, R1, k steps: det = c^k (c = 1 − rhq) and 1 + tr + det > 0 ⇔
  c^k > (ha² − 2q)/(ha² + 2q) =: s; for odd k the boundary is c = s^(1/k) (real root),
  r = (1 − s^(1/k))/(hq); for even k (here s < 0) it is |c| = 1, r = 2/(hq).
"""
import dataclasses
import itertools

import numpy as np
import pytest

from gan_core.dirac import DiracConfig
from gan_core.dirac_phase import gd_trace_det, phase_diagram
from gan_core.dirac_stability import outcome_from_rho, spectral_radius, update_matrix

H_AXIS = np.linspace(0.05, 2.0, 25)


def boundary_points(diagram):
    points = np.concatenate(diagram.boundary)
    return points[~np.isnan(points[:, 0])]


def test_cells_are_the_spectral_radius_read_over_the_run_length():
    config = DiracConfig(objective="consensus", lr_ratio=2.0, steps=800)
    gamma = np.linspace(0.0, 4.0, 9)
    diagram = phase_diagram(config, "h-gamma", H_AXIS, gamma)
    assert diagram.rho.shape == diagram.outcome.shape == (9, 25)
    for i, j in [(0, 0), (3, 7), (8, 24), (5, 12)]:
        cell = dataclasses.replace(config, h=float(H_AXIS[j]), consensus=float(gamma[i]))
        assert diagram.rho[i, j] == pytest.approx(spectral_radius(cell), rel=1e-12)
        assert diagram.outcome[i, j] == outcome_from_rho(diagram.rho[i, j], 800)
    assert {"converges", "diverges"} <= set(diagram.outcome.ravel())


def test_ratio_k_cells():
    config = DiracConfig(objective="gradient-penalty", updates="alternating")
    ratio = np.geomspace(0.1, 100, 12)
    diagram = phase_diagram(config, "ratio-k", ratio, np.arange(1, 6))
    assert diagram.x_name == "lr_ratio" and diagram.y_name == "d_steps"
    cell = dataclasses.replace(config, lr_ratio=float(ratio[7]), d_steps=4)
    assert diagram.rho[3, 7] == pytest.approx(spectral_radius(cell), rel=1e-12)


@pytest.mark.parametrize("r", [1.0, 2.0])
def test_r1_simultaneous_boundary(r):
    a = 0.5
    config = DiracConfig(objective="gradient-penalty", lr_ratio=r)
    diagram = phase_diagram(config, "h-gamma", H_AXIS, np.linspace(0.0, 5.0, 20))
    h, gamma = boundary_points(diagram).T
    lower, upper = h * a * a, 2 / (r * h) + h * a * a / 2
    assert np.all(np.isclose(gamma, lower, atol=1e-9) | np.isclose(gamma, upper, atol=1e-9))
    assert np.isclose(gamma, lower, atol=1e-9).sum() > 100        # both curves are drawn
    assert np.isclose(gamma, upper, atol=1e-9).sum() > 50


def test_instance_noise_boundary_in_sigma():
    a = 0.5
    diagram = phase_diagram(DiracConfig(objective="instance-noise"), "h-gamma", H_AXIS,
                            np.linspace(0.0, 3.0, 20))
    h, sigma = boundary_points(diagram).T
    q = sigma ** 2 / 2
    assert np.all(np.isclose(q, h * a * a, atol=1e-9) | np.isclose(q, 2 / h + h * a * a / 2,
                                                                    atol=1e-9))


def test_consensus_simultaneous_boundary():
    a = 0.5
    diagram = phase_diagram(DiracConfig(objective="consensus"), "h-gamma", H_AXIS,
                            np.linspace(0.0, 40.0, 20))
    h, gamma = boundary_points(diagram).T
    root = np.sqrt(1 - h * h * a * a)
    low, high = (1 - root) / (h * a * a), (1 + root) / (h * a * a)
    assert np.all(np.isclose(gamma, low, rtol=1e-8) | np.isclose(gamma, high, rtol=1e-8))


def test_r1_alternating_one_step_boundary():
    a = 0.5
    diagram = phase_diagram(DiracConfig(objective="gradient-penalty", updates="alternating"),
                            "h-gamma", H_AXIS, np.linspace(0.0, 50.0, 20))
    h, gamma = boundary_points(diagram).T
    assert gamma == pytest.approx((4 - h * h * a * a) / (2 * h), abs=1e-9)
    assert len(h) == len(np.linspace(H_AXIS.min(), H_AXIS.max(), 241))


@pytest.mark.parametrize("objective, a", [("bilinear", 1.0), ("gan", 0.5)])
def test_unregularised_alternating_ratio_k_boundary(objective, a):
    h = 0.5
    config = DiracConfig(objective=objective, updates="alternating", h=h)
    k = np.arange(1, 13)
    diagram = phase_diagram(config, "ratio-k", np.geomspace(0.01, 100, 30), k)
    ratio, ks = boundary_points(diagram).T
    expected = 4 / (ks * h * h * a * a)
    assert ratio == pytest.approx(expected, rel=1e-9)
    assert set(ks) == {v for v in k if 4 / (v * h * h * a * a) <= 100}
    assert set(diagram.outcome.ravel()) == {"cycles", "diverges"}     # never converges


def test_r1_alternating_ratio_k_boundary_odd_and_even_k():
    h, q, a = 0.2, 0.3, 0.5
    config = DiracConfig(objective="gradient-penalty", updates="alternating", h=h, r1=q)
    diagram = phase_diagram(config, "ratio-k", np.geomspace(0.1, 100, 30), np.arange(1, 9))
    s = (h * a * a - 2 * q) / (h * a * a + 2 * q)
    for ratio, k in boundary_points(diagram):
        k = int(k)
        expected = (1 - np.sign(s) * abs(s) ** (1 / k)) / (h * q) if k % 2 else 2 / (h * q)
        assert ratio == pytest.approx(expected, rel=1e-9), k


@pytest.mark.parametrize("config, axes, x, y", [
    (DiracConfig(objective="consensus", updates="alternating", d_steps=3, lr_ratio=2.0),
     "h-gamma", H_AXIS, np.linspace(0, 10, 15)),
    (DiracConfig(objective="instance-noise", updates="alternating", d_steps=2), "h-gamma",
     H_AXIS, np.linspace(0, 4, 15)),
    (DiracConfig(objective="wgan-gp", gp_target=0.0), "h-gamma", H_AXIS, np.linspace(0, 5, 15)),
    (DiracConfig(objective="consensus", updates="alternating"), "ratio-k",
     np.geomspace(0.01, 100, 20), np.arange(1, 10)),
])
def test_every_boundary_point_has_rho_one_and_separates_the_phases(config, axes, x, y):
    diagram = phase_diagram(config, axes, x, y)
    points = boundary_points(diagram)
    assert len(points) > 3
    for px, py in points[:: max(1, len(points) // 40)]:
        names = (diagram.x_name, diagram.y_name)
        at = dataclasses.replace(config, **{names[0]: float(px), names[1]: py.item() if
                                            names[1] != "d_steps" else int(py)})
        assert spectral_radius(at) == pytest.approx(1.0, abs=1e-7)


def test_crossing_the_r1_boundary_changes_stability():
    h, a = 0.5, 0.5
    for gamma, stable in [(h * a * a * 0.98, False), (h * a * a * 1.02, True),
                          ((2 / h + h * a * a / 2) * 0.99, True),
                          ((2 / h + h * a * a / 2) * 1.01, False)]:
        rho = spectral_radius(DiracConfig(objective="gradient-penalty", h=h, r1=gamma))
        assert (rho < 1) == stable, gamma


@pytest.mark.parametrize("kwargs", [dict(optimizer="optimistic"), dict(momentum=-0.2),
                                    dict(optimizer="extragradient")])
def test_no_closed_form_beyond_plain_gd(kwargs):
    diagram = phase_diagram(DiracConfig(objective="gradient-penalty", **kwargs), "h-gamma",
                            H_AXIS, np.linspace(0, 3, 10))
    assert diagram.boundary is None
    assert np.all(np.isfinite(diagram.rho))


@pytest.mark.parametrize("objective, updates, k, r", itertools.product(
    ["gan", "bilinear", "gradient-penalty", "consensus", "instance-noise"],
    ["simultaneous", "alternating"], [1, 4], [0.5, 3.0]))
def test_closed_form_trace_and_determinant_match_the_update(objective, updates, k, r):
    config = DiracConfig(objective=objective, updates=updates, d_steps=k, lr_ratio=r, h=0.35)
    matrix, _ = update_matrix(config)
    trace, det = gd_trace_det(config)
    assert float(trace) == pytest.approx(np.trace(matrix), abs=1e-12)
    assert float(det) == pytest.approx(np.linalg.det(matrix), abs=1e-12)


@pytest.mark.parametrize("config, axes, field", [
    (DiracConfig(objective="gan"), "h-gamma", "objective"),
    (DiracConfig(objective="wgan-gp"), "h-gamma", "gp_target"),
    (DiracConfig(objective="gan"), "ratio-k", "updates"),
    (DiracConfig(objective="gradient-penalty"), "h-k", "axes"),
])
def test_diagrams_that_do_not_apply_are_refused_naming_the_field(config, axes, field):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        phase_diagram(config, axes, H_AXIS, np.linspace(0, 1, 3))


def test_out_of_range_axis_values_get_the_config_message():
    config = DiracConfig(objective="gan", updates="alternating")
    with pytest.raises(ValueError, match=r"^lr_ratio must be in \[0.01, 100.0\]"):
        phase_diagram(config, "ratio-k", np.array([0.1, 500.0]), np.arange(1, 3))
    with pytest.raises(ValueError, match=r"^r1 must be >= 0"):
        phase_diagram(DiracConfig(objective="gradient-penalty"), "h-gamma", H_AXIS,
                      np.array([-1.0, 1.0]))
