"""Dirac-GAN (Mescheder et al. 2018): the paper's findings with the notebook defaults
(h = 0.2, start (1, 1), 500 steps), plus field values, API shape and validation."""

import json
import math

import numpy as np
import pytest
from scipy import integrate

from gan_core.dirac import (
    OBJECTIVES,
    DiracConfig,
    phase_portrait,
    run,
    trajectory,
    vector_field,
)

UPDATES = ("simultaneous", "alternating")
START_DISTANCE = math.sqrt(2.0)


def distances(config):
    points = trajectory(config)
    return np.hypot(points[:, 0], points[:, 1])


# --- fields ------------------------------------------------------------------

@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_field_vanishes_at_the_equilibrium(objective):
    v_theta, v_psi = vector_field(DiracConfig(objective=objective), 0.0, 0.0)
    assert v_theta == pytest.approx(0.0, abs=1e-12)
    assert v_psi == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_field_is_not_identically_zero(objective):
    v_theta, v_psi = vector_field(DiracConfig(objective=objective), 0.5, -0.8)
    assert abs(v_theta) + abs(v_psi) > 1e-3


def test_gan_field_by_hand():
    theta, psi = 0.5, 2.0
    fp = 1.0 / (1.0 + math.exp(psi * theta))  # f(t) = -log(1+e^-t)  =>  f'(t) = 1/(1+e^t)
    v_theta, v_psi = vector_field(DiracConfig(objective="gan"), theta, psi)
    assert v_theta == pytest.approx(-psi * fp, rel=1e-12)   # = -0.5379...
    assert v_psi == pytest.approx(theta * fp, rel=1e-12)    # = +0.1344...
    assert v_theta == pytest.approx(-0.537882842739990, rel=1e-9)


def test_gan_field_is_the_gradient_of_the_game():
    """v = (−∂L/∂θ, +∂L/∂ψ) with L = f(ψθ), by central differences."""
    def L(theta, psi):
        return -math.log1p(math.exp(-psi * theta))
    theta, psi, e = -0.7, 1.3, 1e-6
    v_theta, v_psi = vector_field(DiracConfig(), theta, psi)
    assert v_theta == pytest.approx(-(L(theta + e, psi) - L(theta - e, psi)) / (2 * e), rel=1e-6)
    assert v_psi == pytest.approx((L(theta, psi + e) - L(theta, psi - e)) / (2 * e), rel=1e-6)


def test_nsgan_wgan_and_penalties_by_hand():
    theta, psi = 0.5, 2.0
    fp = lambda t: 1.0 / (1.0 + math.exp(t))
    v = vector_field(DiracConfig(objective="nsgan"), theta, psi)
    assert v == pytest.approx((-psi * fp(-psi * theta), theta * fp(psi * theta)))
    assert vector_field(DiracConfig(objective="wgan"), theta, psi) == pytest.approx((-psi, theta))
    v = vector_field(DiracConfig(objective="wgan-gp", gp_weight=0.7, gp_target=1.0), theta, psi)
    assert v == pytest.approx((-psi, theta - 0.7 * (abs(psi) - 1.0)))
    v = vector_field(DiracConfig(objective="gradient-penalty", r1=0.3), theta, psi)
    assert v == pytest.approx((-psi * fp(psi * theta), theta * fp(psi * theta) - 0.3 * psi))


def test_consensus_field_matches_finite_difference_jacobian():
    """consensus = v − γ Jᵀv, with J of the GAN field by central differences."""
    gamma, theta, psi, e = 0.8, 0.9, -0.4, 1e-6
    gan = DiracConfig(objective="gan")
    v = np.array(vector_field(gan, theta, psi), dtype=float)
    J = np.column_stack([
        (np.array(vector_field(gan, theta + e, psi)) - np.array(vector_field(gan, theta - e, psi))) / (2 * e),
        (np.array(vector_field(gan, theta, psi + e)) - np.array(vector_field(gan, theta, psi - e))) / (2 * e),
    ])
    expected = v - gamma * J.T @ v
    got = vector_field(DiracConfig(objective="consensus", consensus=gamma), theta, psi)
    assert got == pytest.approx(tuple(expected), rel=1e-6)


def test_instance_noise_quadrature_matches_numerical_integration():
    sigma, theta, psi = 0.7, 0.6, -1.1
    fp = lambda t: 0.5 * (1.0 - math.tanh(0.5 * t))
    pdf = lambda e: math.exp(-0.5 * (e / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    expect = lambda g: integrate.quad(lambda e: g(e) * pdf(e), -12 * sigma, 12 * sigma)[0]
    v_theta = expect(lambda e: -psi * fp(psi * (theta + e)))
    v_psi = expect(lambda e: (theta + e) * fp(psi * (theta + e)) - e * fp(-psi * e))
    got = vector_field(DiracConfig(objective="instance-noise", noise_std=sigma), theta, psi)
    assert got == pytest.approx((v_theta, v_psi), rel=1e-8, abs=1e-10)


def test_instance_noise_with_zero_std_is_the_plain_gan():
    a = vector_field(DiracConfig(objective="instance-noise", noise_std=0.0), 0.4, 1.7)
    b = vector_field(DiracConfig(objective="gan"), 0.4, 1.7)
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_vector_field_broadcasts_over_arrays(objective):
    config = DiracConfig(objective=objective)
    theta = np.linspace(-1.5, 1.5, 4)[:, None]
    psi = np.linspace(-1.0, 1.0, 3)[None, :]
    v_theta, v_psi = vector_field(config, theta, psi)
    assert np.shape(v_theta) == np.shape(v_psi) == (4, 3)
    i, j = 2, 1
    point = vector_field(config, float(theta[i, 0]), float(psi[0, j]))
    assert (v_theta[i, j], v_psi[i, j]) == pytest.approx(point, rel=1e-12, abs=1e-15)


def test_phase_portrait_grid():
    tg, pg, vt, vp = phase_portrait(DiracConfig(), extent=2.0, n=21)
    assert tg.shape == pg.shape == vt.shape == vp.shape == (21, 21)
    assert tg[0, 0] == -2.0 and tg[0, -1] == 2.0 and pg[0, 0] == -2.0 and pg[-1, 0] == 2.0
    assert vt[10, 10] == 0.0 and vp[10, 10] == 0.0      # centre is the equilibrium
    assert vt[15, 12] == pytest.approx(vector_field(DiracConfig(), tg[15, 12], pg[15, 12])[0])


# --- the paper's findings -------------------------------------------------------

def test_simultaneous_gan_spirals_outward():
    """x·v = 0 for the GAN field, so |x + h v|² = |x|² + h²|v|²: the distance grows every step."""
    d = distances(DiracConfig(objective="gan", updates="simultaneous"))
    assert len(d) == 501
    assert np.all(np.diff(d) > 0)
    assert d[-1] > START_DISTANCE + 1.0      # measured: 3.097
    assert d[250] > START_DISTANCE + 0.5     # measured: 2.645


def test_alternating_gan_cycles_without_converging():
    points = trajectory(DiracConfig(objective="gan", updates="alternating"))
    d = np.hypot(points[:, 0], points[:, 1])
    assert d.min() > 1.3 and d.max() < 1.6   # measured band: [1.406, 1.489]
    sign_changes = np.count_nonzero(np.diff(np.sign(points[:, 0])) != 0)
    assert sign_changes >= 4                 # it keeps going round


@pytest.mark.parametrize("updates", UPDATES)
@pytest.mark.parametrize("objective", ["instance-noise", "gradient-penalty", "consensus"])
def test_regularised_methods_converge(objective, updates):
    result = run(DiracConfig(objective=objective, updates=updates))
    assert result["diverged_at"] is None
    assert result["distance"] < 0.05        # measured: 1e-4 or far less


def test_wgan_with_clipping_does_not_converge():
    points = trajectory(DiracConfig(objective="wgan", updates="simultaneous"))
    d = np.hypot(points[:, 0], points[:, 1])
    assert np.all(np.abs(points[:, 1]) <= 1.0)   # the clip holds
    assert d[250:].min() > 0.9                   # measured: ≥ 1.0 over the second half


def test_gradient_penalty_regularisation_is_needed():
    """Same run, r1 = 0, is the plain GAN again and does not converge."""
    result = run(DiracConfig(objective="gradient-penalty", r1=0.0))
    assert result["distance"] > START_DISTANCE


# --- run / trajectory API -----------------------------------------------------

def test_run_is_json_ready_and_consistent():
    config = DiracConfig(objective="nsgan", updates="alternating", steps=20, d_steps=3)
    result = run(config)
    assert json.loads(json.dumps(result)) == result
    assert result["config"]["objective"] == "nsgan" and result["config"]["d_steps"] == 3
    assert len(result["trajectory"]) == 21
    assert result["trajectory"][0] == [1.0, 1.0]
    assert [result["theta"], result["psi"]] == result["trajectory"][-1]
    assert result["distance"] == pytest.approx(math.hypot(result["theta"], result["psi"]))
    assert result["diverged_at"] is None
    assert np.array_equal(trajectory(config), np.array(result["trajectory"]))


def test_alternating_uses_the_new_psi_and_d_steps():
    h = 0.2
    config = DiracConfig(objective="wgan", updates="alternating", d_steps=2, h=h, steps=1,
                         theta0=0.5, psi0=0.1, clip=10.0)
    psi = 0.1 + h * 0.5
    psi = psi + h * 0.5
    theta = 0.5 + h * (-psi)
    assert trajectory(config)[1] == pytest.approx([theta, psi])
    simultaneous = DiracConfig(objective="wgan", h=h, steps=1, theta0=0.5, psi0=0.1, clip=10.0)
    assert trajectory(simultaneous)[1] == pytest.approx([0.5 - h * 0.1, 0.1 + h * 0.5])


def test_divergence_is_reported_not_hidden():
    config = DiracConfig(objective="wgan-gp", h=10.0)   # h·γ = 7 > 2: the ψ-update is unstable
    result = run(config)
    assert result["diverged_at"] is not None and 1 <= result["diverged_at"] <= 500
    points = np.array(result["trajectory"])
    assert len(points) == result["diverged_at"]
    assert np.all(np.isfinite(points))
    assert math.isfinite(result["distance"])
    json.dumps(result, allow_nan=False)
    assert len(trajectory(config)) == result["diverged_at"]


def test_runs_are_deterministic():
    config = DiracConfig(objective="instance-noise", steps=50)
    assert run(config) == run(config)


# --- validation ----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"objective": "lsgan"}, "objective"),
    ({"updates": "sometimes"}, "updates"),
    ({"h": 0.0}, "h"),
    ({"h": -0.1}, "h"),
    ({"h": float("nan")}, "h"),
    ({"steps": 0}, "steps"),
    ({"steps": 2.5}, "steps"),
    ({"d_steps": 0}, "d_steps"),
    ({"theta0": float("inf")}, "theta0"),
    ({"psi0": float("nan")}, "psi0"),
    ({"clip": 0.0}, "clip"),
    ({"gp_weight": -1.0}, "gp_weight"),
    ({"noise_std": -0.1}, "noise_std"),
    ({"r1": -0.3}, "r1"),
    ({"consensus": -1.0}, "consensus"),
])
def test_validation_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field} must"):
        DiracConfig(**kwargs)


def test_config_is_frozen():
    with pytest.raises(Exception):
        DiracConfig().h = 0.5
