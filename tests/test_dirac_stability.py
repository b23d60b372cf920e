"""The Dirac-GAN / bilinear linearisation: Jacobians, update matrices and spectral radii against
closed forms derived by hand (below, per method) and against a numerically differentiated
update map."""
import dataclasses
import itertools
import math

import numpy as np
import pytest

from gan_core import dirac
from gan_core.dirac import DiracConfig, advance, vector_field
from gan_core.dirac_stability import (
    equilibrium_jacobian,
    radii,
    radius_over_h,
    spectral_radius,
    update_matrix,
)

H_VALUES = (0.05, 0.2, 0.7, 1.5)


def a_of(objective):
    return 1.0 if objective in ("wgan", "wgan-gp", "bilinear") else 0.5


def rho_of_roots(coefficients):
    return max(abs(z) for z in np.roots(coefficients))


def rho_2x2(trace, det):
    """ρ of a real 2×2 matrix from its trace and determinant."""
    disc = complex(trace * trace / 4 - det)
    return max(abs(trace / 2 + disc ** 0.5), abs(trace / 2 - disc ** 0.5))


# --- the Jacobian at the equilibrium -------------------------------------------------

DIFFERENTIABLE = [dict(objective=o) for o in dirac.OBJECTIVES if o != "wgan-gp"] + [
    dict(objective="wgan-gp", gp_target=0.0), dict(objective="wgan-gp", gp_weight=0.0),
    dict(objective="gradient-penalty", r1=1.7), dict(objective="instance-noise", noise_std=1.3),
    dict(objective="consensus", consensus=0.4)]


@pytest.mark.parametrize("kwargs", DIFFERENTIABLE, ids=str)
def test_jacobian_matches_central_differences_of_the_field(kwargs):
    config = DiracConfig(**kwargs)
    e = 1e-6

    def v(theta, psi):
        return np.array(vector_field(config, theta, psi))

    numeric = np.column_stack([(v(e, 0.0) - v(-e, 0.0)) / (2 * e),
                               (v(0.0, e) - v(0.0, -e)) / (2 * e)])
    assert equilibrium_jacobian(config) == pytest.approx(numeric, abs=1e-7)


def test_jacobian_closed_forms():
    assert equilibrium_jacobian(DiracConfig(objective="gan")) == pytest.approx(
        np.array([[0, -0.5], [0.5, 0]]))
    assert equilibrium_jacobian(DiracConfig(objective="bilinear")) == pytest.approx(
        np.array([[0, -1], [1, 0]]))
    assert equilibrium_jacobian(DiracConfig(objective="instance-noise", noise_std=0.6)) == \
        pytest.approx(np.array([[0, -0.5], [0.5, -0.18]]))         # −σ²/2
    assert equilibrium_jacobian(DiracConfig(objective="consensus", consensus=2.0)) == \
        pytest.approx(np.array([[-0.5, -0.5], [0.5, -0.5]]))       # −γa² on the diagonal


def test_wgan_gp_with_a_target_has_no_linearisation_because_its_field_jumps():
    config = DiracConfig(objective="wgan-gp", gp_weight=0.7, gp_target=1.0)
    assert equilibrium_jacobian(config) is None and spectral_radius(config) is None
    jump = vector_field(config, 0.0, 1e-9)[1] - vector_field(config, 0.0, -1e-9)[1]
    assert jump == pytest.approx(2 * 0.7 * 1.0)                    # 2γg₀, away from ψ = 0
    assert update_matrix(config) is None
    assert np.all(np.isnan(radius_over_h(config, [0.1, 0.2])))


# --- closed forms: plain gradient descent ----------------------------------------------
# J = [[−p, −a], [a, −q]], step sizes h (θ) and rh (ψ).
# simultaneous: M = I + h·diag(1, r)·J.  Unregularised (p = q = 0, r = 1): eigenvalues
#   1 ± iha, so ρ = √(1 + h²a²) > 1 for every h.
# alternating, k ψ-steps then one θ-step, bilinear (p = q = 0):
#   ψ' = ψ + k·rha·θ,  θ' = θ − ha·ψ'  ⇒  det M = 1, tr M = 2 − k·r·h²a²,
#   so ρ = 1 while k r h² a² ≤ 4, and ρ = |tr|/2 + √(tr²/4 − 1) beyond.

@pytest.mark.parametrize("objective", ["gan", "nsgan", "wgan", "bilinear"])
@pytest.mark.parametrize("h", H_VALUES)
def test_gd_simultaneous_unregularised_rotation(objective, h):
    a = a_of(objective)
    assert spectral_radius(DiracConfig(objective=objective, h=h)) == pytest.approx(
        math.sqrt(1 + h * h * a * a), rel=1e-12)


@pytest.mark.parametrize("objective", ["gan", "bilinear"])
@pytest.mark.parametrize("h, k, r", [(0.2, 1, 1.0), (1.0, 3, 2.0), (3.0, 1, 1.0), (1.5, 2, 1.0),
                                     (0.5, 5, 4.0)])
def test_gd_alternating_unregularised(objective, h, k, r):
    a = a_of(objective)
    config = DiracConfig(objective=objective, updates="alternating", h=h, d_steps=k, lr_ratio=r)
    matrix, _ = update_matrix(config)
    trace = 2 - k * r * h * h * a * a
    assert np.linalg.det(matrix) == pytest.approx(1.0, abs=1e-12)
    assert np.trace(matrix) == pytest.approx(trace, abs=1e-12)
    expected = 1.0 if abs(trace) <= 2 else abs(trace) / 2 + math.sqrt(trace * trace / 4 - 1)
    assert spectral_radius(config) == pytest.approx(expected, abs=1e-7)


# Regularised, simultaneous: tr = 2 − hp − rhq, det = (1 − hp)(1 − rhq) + r h² a².
# R1 (p = 0, q = γ) with complex eigenvalues (γ < 2a): ρ = √det = √(1 − hγ + h²a²).
# Consensus (p = q = γa²): eigenvalues 1 − hγa² ± iha, ρ = √((1 − hγa²)² + h²a²).

@pytest.mark.parametrize("h", H_VALUES)
@pytest.mark.parametrize("objective, weight_field, weight, p_q", [
    ("gradient-penalty", "r1", 0.3, lambda w, a: (0.0, w)),
    ("gradient-penalty", "r1", 4.0, lambda w, a: (0.0, w)),          # real eigenvalues
    ("instance-noise", "noise_std", 0.7, lambda w, a: (0.0, w * w / 2)),
    ("wgan-gp", "gp_weight", 0.7, lambda w, a: (0.0, w)),
    ("consensus", "consensus", 1.0, lambda w, a: (w * a * a, w * a * a)),
])
@pytest.mark.parametrize("r", [1.0, 3.0])
def test_gd_simultaneous_regularised(h, objective, weight_field, weight, p_q, r):
    extra = {"gp_target": 0.0} if objective == "wgan-gp" else {}
    config = DiracConfig(objective=objective, h=h, lr_ratio=r, **{weight_field: weight}, **extra)
    a = a_of(objective)
    p, q = p_q(weight, a)
    trace = 2 - h * p - r * h * q
    det = (1 - h * p) * (1 - r * h * q) + r * h * h * a * a
    assert spectral_radius(config) == pytest.approx(rho_2x2(trace, det), rel=1e-9)


def test_r1_and_consensus_explicit_radii():
    h, gamma = 0.2, 0.3
    assert spectral_radius(DiracConfig(objective="gradient-penalty", h=h, r1=gamma)) == \
        pytest.approx(math.sqrt(1 - h * gamma + h * h / 4), rel=1e-12)
    c = 1.0 * 0.25
    assert spectral_radius(DiracConfig(objective="consensus", h=h, consensus=1.0)) == \
        pytest.approx(math.sqrt((1 - h * c) ** 2 + h * h / 4), rel=1e-12)


# Alternating, regularised: with c = 1 − rhq, C = c^k and B = rha(1 + c + … + c^(k−1)),
#   tr = 1 − hp − haB + C,  det = (1 − hp)·C.  For k = 1, r = 1 and R1 that is
#   tr = 2 − hγ − h²a², det = 1 − hγ.

@pytest.mark.parametrize("objective, weight_field, weight, p_q", [
    ("gradient-penalty", "r1", 0.3, lambda w, a: (0.0, w)),
    ("consensus", "consensus", 1.5, lambda w, a: (w * a * a, w * a * a)),
    ("instance-noise", "noise_std", 1.1, lambda w, a: (0.0, w * w / 2)),
])
@pytest.mark.parametrize("h, k, r", [(0.2, 1, 1.0), (0.4, 3, 2.0), (1.2, 2, 0.5)])
def test_gd_alternating_regularised(objective, weight_field, weight, p_q, h, k, r):
    config = DiracConfig(objective=objective, updates="alternating", h=h, d_steps=k, lr_ratio=r,
                         **{weight_field: weight})
    a = a_of(objective)
    p, q = p_q(weight, a)
    c = 1 - r * h * q
    big_c = c ** k
    b = r * h * a * sum(c ** j for j in range(k))
    trace, det = 1 - h * p - h * a * b + big_c, (1 - h * p) * big_c
    matrix, _ = update_matrix(config)
    assert np.trace(matrix) == pytest.approx(trace, abs=1e-12)
    assert np.linalg.det(matrix) == pytest.approx(det, abs=1e-12)
    assert spectral_radius(config) == pytest.approx(rho_2x2(trace, det), rel=1e-9)


def test_alternating_r1_explicit():
    h, gamma = 0.2, 0.3
    matrix, _ = update_matrix(DiracConfig(objective="gradient-penalty", updates="alternating",
                                          h=h, r1=gamma))
    assert np.trace(matrix) == pytest.approx(2 - h * gamma - h * h / 4)
    assert np.linalg.det(matrix) == pytest.approx(1 - h * gamma)
    assert spectral_radius(DiracConfig(objective="gradient-penalty", updates="alternating",
                                       h=h, r1=gamma)) == pytest.approx(math.sqrt(1 - h * gamma))


# --- closed forms: extragradient, optimistic, heavy ball ------------------------------------
# μ runs over the eigenvalues of h·diag(1, r)·J.
# extragradient, simultaneous: M = I + A + A² (A = h·diag(1, r)·J), eigenvalues 1 + μ + μ²;
#   bilinear: ρ = √(1 − h²a² + h⁴a⁴) < 1 iff ha < 1.
# optimistic, simultaneous: x' = x + A(2x − x_prev): z² − (1 + 2μ)z + μ = 0 per μ.
# heavy ball, simultaneous: x' = x + Ax + β(x − x_prev): z² − (1 + β + μ)z + β = 0 per μ.

def mus(config):
    jac = equilibrium_jacobian(config)
    return np.linalg.eigvals(config.h * np.diag([1.0, config.lr_ratio]) @ jac)


@pytest.mark.parametrize("h", H_VALUES)
@pytest.mark.parametrize("objective", ["gan", "bilinear", "gradient-penalty", "consensus"])
def test_extragradient_simultaneous(h, objective):
    config = DiracConfig(objective=objective, h=h, optimizer="extragradient", lr_ratio=1.5)
    assert spectral_radius(config) == pytest.approx(max(abs(1 + m + m * m) for m in mus(config)),
                                                    rel=1e-9)


@pytest.mark.parametrize("h", H_VALUES)
def test_extragradient_bilinear_explicit(h):
    config = DiracConfig(objective="bilinear", h=h, optimizer="extragradient")
    assert spectral_radius(config) == pytest.approx(math.sqrt(1 - h ** 2 + h ** 4), rel=1e-12)
    assert (spectral_radius(config) < 1) == (h < 1)


def test_alternating_extragradient_is_alternating_gd_on_the_bilinear_game():
    """A player's own look-ahead does not change its gradient when its field does not depend
    on its own parameter (v_θ = −ψ, v_ψ = θ)."""
    for h in H_VALUES:
        gd = update_matrix(DiracConfig(objective="bilinear", updates="alternating", h=h))[0]
        eg = update_matrix(DiracConfig(objective="bilinear", updates="alternating", h=h,
                                       optimizer="extragradient"))[0]
        assert eg == pytest.approx(gd)


@pytest.mark.parametrize("h", H_VALUES)
@pytest.mark.parametrize("objective", ["gan", "bilinear", "gradient-penalty", "instance-noise"])
def test_optimistic_simultaneous(h, objective):
    config = DiracConfig(objective=objective, h=h, optimizer="optimistic")
    expected = max(rho_of_roots([1, -(1 + 2 * m), m]) for m in mus(config))
    assert spectral_radius(config) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("h", H_VALUES)
@pytest.mark.parametrize("beta", [-0.5, -0.1, 0.3, 0.9])
@pytest.mark.parametrize("objective", ["gan", "bilinear", "consensus"])
def test_heavy_ball_simultaneous(h, beta, objective):
    config = DiracConfig(objective=objective, h=h, momentum=beta)
    expected = max(rho_of_roots([1, -(1 + beta + m), beta]) for m in mus(config))
    assert spectral_radius(config) == pytest.approx(expected, rel=1e-8)


# Alternating two-step methods on the bilinear game (v_θ = −aψ, v_ψ = aθ), by z-transform:
# optimistic:  (z−1)Ψ = rha(2 − 1/z)Θ,  (z−1)Θ = −ha(2z − 1)Ψ
#              ⇒ z(z−1)² + r h²a² (2z − 1)² = 0   (and 0 for the fourth state coordinate);
# heavy ball:  ((z−1)(z−β)/z)Ψ = rhaΘ,  ((z−1)(z−β)/z)Θ = −haz·Ψ
#              ⇒ (z−1)²(z−β)² + r h²a² z³ = 0.

@pytest.mark.parametrize("objective", ["gan", "bilinear"])
@pytest.mark.parametrize("h, r", [(0.05, 1.0), (0.2, 1.0), (0.7, 2.0), (1.5, 0.5)])
def test_optimistic_alternating_bilinear(objective, h, r):
    a = a_of(objective)
    config = DiracConfig(objective=objective, updates="alternating", optimizer="optimistic", h=h,
                         lr_ratio=r)
    s = r * h * h * a * a
    cubic = np.polyadd(np.polymul([1, 0], [1, -2, 1]), np.multiply(s, [4, -4, 1]))
    eig = np.linalg.eigvals(update_matrix(config)[0])
    assert sorted(np.abs(eig))[1:] == pytest.approx(sorted(np.abs(np.roots(cubic))), rel=1e-7)
    assert spectral_radius(config) == pytest.approx(rho_of_roots(cubic), rel=1e-8)


@pytest.mark.parametrize("objective", ["gan", "bilinear"])
@pytest.mark.parametrize("h, r", [(0.05, 1.0), (0.2, 1.0), (0.7, 2.0)])
@pytest.mark.parametrize("beta", [-0.6, -0.2, 0.4])
def test_heavy_ball_alternating_bilinear(objective, h, r, beta):
    a = a_of(objective)
    config = DiracConfig(objective=objective, updates="alternating", h=h, lr_ratio=r,
                         momentum=beta)
    quartic = np.polyadd(np.polymul(np.polymul([1, -1], [1, -1]),
                                    np.polymul([1, -beta], [1, -beta])),
                         [0, r * h * h * a * a, 0, 0, 0])
    assert spectral_radius(config) == pytest.approx(rho_of_roots(quartic), rel=1e-7)


def test_negative_momentum_makes_alternating_gd_converge_on_the_bilinear_game():
    """Gidel et al. (2019): alternating gd with β < 0 converges on the bilinear game, where
    plain alternating gd cycles (ρ = 1) and simultaneous gd with momentum diverges."""
    for h in (0.05, 0.2, 0.5):
        plain = DiracConfig(objective="bilinear", updates="alternating", h=h)
        assert spectral_radius(plain) == pytest.approx(1.0, abs=1e-12)
        assert spectral_radius(dataclasses.replace(plain, momentum=-0.3)) < 1.0
        assert spectral_radius(dataclasses.replace(plain, momentum=0.3)) > 1.0
        for beta in (-0.5, -0.1, 0.5):
            assert spectral_radius(DiracConfig(objective="bilinear", h=h, momentum=beta)) > 1.0


# --- against the numerically differentiated update map ---------------------------------------

def numeric_update_matrix(config, e=1e-6):
    """Central differences of the real (nonlinear, clipped) `advance` at the equilibrium."""
    _, names = update_matrix(config)
    used = [dirac.STATE.index(name) for name in names]
    columns = []
    for i in used:
        plus, minus = [0.0] * len(dirac.STATE), [0.0] * len(dirac.STATE)
        plus[i], minus[i] = e, -e
        diff = np.array(advance(config, plus)) - np.array(advance(config, minus))
        columns.append(diff[used] / (2 * e))
    return np.array(columns).T


NUMERIC_CASES = [
    dict(objective=o, updates=u, optimizer=opt, momentum=m, h=0.3, d_steps=2, lr_ratio=1.5)
    for o, u, opt, m in itertools.product(
        ["gan", "nsgan", "wgan", "bilinear", "gradient-penalty", "instance-noise", "consensus"],
        ["simultaneous", "alternating"], ["gd", "extragradient", "optimistic"], [0.0, -0.4])
]


@pytest.mark.parametrize("kwargs", NUMERIC_CASES, ids=lambda k: "-".join(
    str(k[f]) for f in ("objective", "updates", "optimizer", "momentum")))
def test_update_matrix_matches_the_numerically_differentiated_update(kwargs):
    config = DiracConfig(**kwargs)
    matrix, _ = update_matrix(config)
    numeric = numeric_update_matrix(config)
    assert matrix == pytest.approx(numeric, abs=2e-6)
    rho_numeric = float(np.max(np.abs(np.linalg.eigvals(numeric))))
    assert spectral_radius(config) == pytest.approx(rho_numeric, abs=1e-4)


def test_state_coordinates_follow_the_method():
    assert update_matrix(DiracConfig())[1] == ("theta", "psi")
    assert update_matrix(DiracConfig(optimizer="extragradient"))[1] == ("theta", "psi")
    assert update_matrix(DiracConfig(optimizer="optimistic"))[1] == (
        "theta", "psi", "v_prev_theta", "v_prev_psi")
    assert update_matrix(DiracConfig(optimizer="optimistic", momentum=0.2))[0].shape == (6, 6)


# --- many settings at once -------------------------------------------------------------------

def test_radii_over_arrays_equal_one_by_one():
    config = DiracConfig(objective="gradient-penalty", updates="alternating",
                         optimizer="optimistic", momentum=-0.2)
    h = np.array([0.1, 0.4, 1.3])[None, :]
    gamma = np.array([0.0, 0.5, 2.0, 7.0])[:, None]
    grid = radii(config, h=h, r1=gamma)
    assert grid.shape == (4, 3)
    for i, j in itertools.product(range(4), range(3)):
        one = dataclasses.replace(config, h=float(h[0, j]), r1=float(gamma[i, 0]))
        assert grid[i, j] == pytest.approx(spectral_radius(one), rel=1e-12)
    assert radius_over_h(config, [0.1, 0.4]) == pytest.approx(
        [spectral_radius(dataclasses.replace(config, h=v)) for v in (0.1, 0.4)])


def test_radii_refuses_settings_that_are_not_arithmetic():
    with pytest.raises(ValueError, match="update_matrix takes arrays only"):
        radii(DiracConfig(), d_steps=np.array([1, 2]))
