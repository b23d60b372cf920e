"""Converges / cycles / diverges (gan_core.dirac_stability.read): the rule on constructed
trajectories, the two cases issue 14 found wrong, and real runs at several step sizes and
step counts. A run of N steps is the first N steps of a longer run, so each case runs once
at its longest length and is read on prefixes."""
import dataclasses
import math

import numpy as np
import pytest

from gan_core.dirac import DiracConfig, run, trajectory
from gan_core.dirac_stability import OUTCOMES, REACHED, VERDICTS, envelope, read

RHO_ONE = DiracConfig(objective="bilinear", updates="alternating")      # ρ = 1 exactly
RHO_ABOVE = DiracConfig(objective="gan")                                # ρ = 1.005
RHO_BELOW = DiracConfig(objective="gradient-penalty")                   # ρ = 0.975
NO_RHO = DiracConfig(objective="wgan-gp")                               # no linearisation


def spiral(radius, steps=400, per_turn=40, squash=1.0):
    """(steps+1, 2) points at distance radius(n), turning once every per_turn steps."""
    n = np.arange(steps + 1)
    angle = 2 * np.pi * n / per_turn
    r = radius(n)
    return np.column_stack([r * np.cos(angle), squash * r * np.sin(angle)])


def outcome_at(points, config, steps):
    return read(dataclasses.replace(config, steps=steps), points[: steps + 1]).outcome


# --- the rule, on constructed trajectories ---------------------------------------------------

@pytest.mark.parametrize("config", [RHO_ONE, RHO_ABOVE, RHO_BELOW, NO_RHO], ids=str)
def test_a_flat_orbit_cycles_whatever_rho(config):
    points = spiral(lambda n: np.full(len(n), 1.3))
    assert read(config, points).outcome == "cycles"


@pytest.mark.parametrize("config", [RHO_ONE, RHO_ABOVE, RHO_BELOW, NO_RHO], ids=str)
def test_a_growing_envelope_diverges_whatever_rho(config):
    points = spiral(lambda n: 1.01 ** n)
    assert read(config, points).outcome == "diverges"


@pytest.mark.parametrize("config, outcome", [(RHO_BELOW, "converges"), (RHO_ONE, "cycles"),
                                             (RHO_ABOVE, "cycles"), (NO_RHO, "cycles")])
def test_a_shrinking_envelope_converges_only_if_the_equilibrium_attracts(config, outcome):
    """Otherwise the run is settling onto an orbit (ρ > 1 repels; ρ ≈ 1 does not contract)."""
    points = spiral(lambda n: 0.5 + np.exp(-n / 50))
    assert read(config, points).outcome == outcome


@pytest.mark.parametrize("config, outcome", [(RHO_ONE, "converges"), (RHO_ABOVE, "cycles"),
                                             (NO_RHO, "cycles")])
def test_a_steady_algebraic_shrink_converges_unless_the_equilibrium_repels(config, outcome):
    """At ρ = 1 the nonlinear terms decide: a shrink by the same factor each time the run
    doubles (distance ∝ n^(−1/2)) is convergence, not a run settling onto an orbit."""
    points = spiral(lambda n: 1.0 / np.sqrt(1.0 + n / 10.0))
    assert read(config, points).outcome == outcome
    short_of_turns = spiral(lambda n: 1.0 / np.sqrt(1.0 + n / 10.0), per_turn=300)
    assert read(RHO_ONE, short_of_turns).outcome == "cycles"     # cannot tell shape from trend


@pytest.mark.parametrize("config, outcome", [(RHO_BELOW, "converges"), (RHO_ONE, "cycles"),
                                             (RHO_ABOVE, "diverges"), (NO_RHO, "diverges")])
def test_without_a_full_turn_a_flat_envelope_leaves_it_to_the_theory(config, outcome):
    """A crawl (a saturated GAN far out) shows no trend within the run: ρ decides."""
    points = spiral(lambda n: 3.0 + 1e-4 * n, per_turn=10_000)
    assert read(config, points).outcome == outcome


def test_blow_up_diverges_and_reaching_the_equilibrium_converges():
    points = spiral(lambda n: np.full(len(n), 1.0))
    assert read(RHO_BELOW, points, diverged_at=401).outcome == "diverges"
    assert "blew up" in read(RHO_BELOW, points, diverged_at=401).reason
    reached = spiral(lambda n: np.where(n < 200, 1.0, 0.5 * REACHED))   # then rounding stalls
    assert read(RHO_ONE, reached).outcome == "converges"
    assert read(RHO_ABOVE, np.zeros((50, 2))).outcome == "converges"


def test_the_envelope_does_not_depend_on_where_on_an_elongated_orbit_the_run_stops():
    ellipse = spiral(lambda n: np.full(len(n), 2.0), steps=700, per_turn=37, squash=0.3)
    growths = [envelope(ellipse[: n + 1]).growth for n in range(300, 700, 3)]
    assert np.allclose(growths, 1.0, atol=2e-3)
    assert {read(RHO_ONE, ellipse[: n + 1]).outcome for n in range(300, 700, 7)} == {"cycles"}


def test_rho_near_one_is_judged_over_the_run_s_length():
    """ρ = 1.0003 (gan, h = 0.05): ×1.03 over 100 steps is "≈ 1", ×1.9 over 2,000 is not."""
    config = DiracConfig(objective="gan", h=0.05)
    points = trajectory(dataclasses.replace(config, steps=4000))
    assert outcome_at(points, config, 200) == "cycles"
    assert outcome_at(points, config, 4000) == "diverges"


def test_reading_fields_and_verdicts():
    reading = read(RHO_ABOVE, trajectory(RHO_ABOVE))
    assert reading.outcome in OUTCOMES and reading.verdict == VERDICTS[reading.outcome]
    assert reading.spectral_radius == pytest.approx(math.sqrt(1 + 0.2 ** 2 / 4))
    assert reading.reason.startswith("ρ = 1.00499 (the equilibrium repels")
    assert "envelope" in reading.reason
    assert read(NO_RHO, trajectory(NO_RHO)).reason.startswith("no spectral radius")


# --- issue 14's two cases -------------------------------------------------------------------

@pytest.mark.parametrize("updates, h, longest", [("simultaneous", 0.2, 20_000),
                                                ("simultaneous", 0.1, 5000),
                                                ("alternating", 0.2, 5000),
                                                ("alternating", 0.5, 5000)])
def test_wgan_gp_cycles_at_every_length(updates, h, longest):
    """Was "diverges (spirals out)" while the distance oscillates between 1.5 and 2."""
    config = DiracConfig(objective="wgan-gp", updates=updates, h=h)
    points = trajectory(dataclasses.replace(config, steps=longest))
    for steps in (500, 2000, longest):
        assert outcome_at(points, config, steps) == "cycles", steps
    for steps in range(480, 521, 4):            # wherever on the orbit it stops
        assert outcome_at(points, config, steps) == "cycles", steps


@pytest.mark.parametrize("h, longest", [(0.1, 20_000), (0.05, 5000), (0.2, 5000)])
def test_alternating_gan_cycles_at_500_and_at_20000_steps(h, longest):
    """Was "cycles / stalls" at 500 steps but "diverges" at 20,000 (final distance 1.41 =
    the start's, read against the start)."""
    config = DiracConfig(objective="gan", updates="alternating", h=h)
    points = trajectory(dataclasses.replace(config, steps=longest))
    for steps in (500, 2000, longest):
        assert outcome_at(points, config, steps) == "cycles", steps
    for steps in range(480, 521, 4):
        assert outcome_at(points, config, steps) == "cycles", steps


# --- real runs at several h and step counts ------------------------------------------------

STEP_COUNTS = (200, 500, 2000, 5000)
STEADY = [
    # (settings, outcome at every step count in STEP_COUNTS)
    (dict(objective="gan"), (0.1, 0.2, 0.5, 1.0), "diverges"),
    (dict(objective="bilinear"), (0.05, 0.2, 1.0), "diverges"),
    (dict(objective="nsgan"), (0.05, 0.2, 1.0), "cycles"),
    (dict(objective="wgan"), (0.2, 0.5, 1.0), "cycles"),
    (dict(objective="bilinear", updates="alternating"), (0.05, 0.2, 1.0), "cycles"),
    (dict(objective="wgan", updates="alternating"), (0.05, 0.2, 1.0), "cycles"),
    (dict(objective="gradient-penalty"), (0.2, 0.5, 1.0), "converges"),
    (dict(objective="consensus"), (0.2, 0.5, 1.0), "converges"),
    (dict(objective="gradient-penalty", updates="alternating"), (0.2, 0.5, 1.0), "converges"),
    (dict(objective="instance-noise"), (0.5,), "converges"),
    (dict(objective="gan", optimizer="extragradient"), (0.1, 0.2, 0.5), "converges"),
    (dict(objective="bilinear", optimizer="optimistic"), (0.1, 0.2, 0.5), "converges"),
    (dict(objective="gan", updates="alternating", optimizer="optimistic"), (0.1, 0.5, 1.0),
     "converges"),
]


@pytest.mark.parametrize("settings, h_values, outcome", STEADY,
                         ids=["-".join(map(str, s[0].values())) for s in STEADY])
def test_steady_outcomes_at_several_h_and_step_counts(settings, h_values, outcome):
    for h in h_values:
        config = DiracConfig(h=h, **settings)
        result = run(dataclasses.replace(config, steps=STEP_COUNTS[-1]))
        points = np.array(result["trajectory"])
        for steps in STEP_COUNTS:
            assert outcome_at(points, config, steps) == outcome, (h, steps)


@pytest.mark.parametrize("h, first", [(0.2, 300), (1.0, 60)])
def test_alternating_non_saturating_gan_converges_through_its_nonlinear_terms(h, first):
    """ρ = 1 exactly, yet θ·v_θ + ψ·v_ψ = −(ψθ)²/2 + O(|x|⁶) in continuous time: the distance
    falls like n^(−1/2) (×0.707 each time the run doubles)."""
    config = DiracConfig(objective="nsgan", updates="alternating", h=h)
    points = trajectory(dataclasses.replace(config, steps=4000))
    distance = np.hypot(points[:, 0], points[:, 1])
    shrink = distance[3800:].max() / distance[1800:2001].max()       # over whole turns
    assert shrink == pytest.approx(2 ** -0.5, abs=0.03)
    for steps in (first, 500, 4000):
        assert outcome_at(points, config, steps) == "converges", steps


def test_negative_momentum_alternating_converges_on_the_bilinear_game():
    config = DiracConfig(objective="bilinear", updates="alternating", momentum=-0.3)
    points = trajectory(dataclasses.replace(config, steps=2000))
    for steps in (500, 2000):
        assert outcome_at(points, config, steps) == "converges"
    plain = dataclasses.replace(config, momentum=0.0, steps=2000)
    assert read(plain, trajectory(plain)).outcome == "cycles"


def test_a_run_converged_to_rounding_level_still_reads_converges():
    """ρ = 0.71 (optimistic, bilinear, h = 0.5): after ~2,000 steps the iterates are denormal
    and stop shrinking; that is the equilibrium reached, not an orbit."""
    config = DiracConfig(objective="bilinear", optimizer="optimistic", h=0.5)
    points = trajectory(dataclasses.replace(config, steps=5000))
    assert np.hypot(*points[-1]) < 1e-300
    assert outcome_at(points, config, 5000) == "converges"


def test_a_spiral_out_to_a_limit_cycle_reads_diverges_then_cycles():
    """R1 with γ = 0.01 < h·a² is unstable (ρ > 1); the run spirals out to an orbit of radius
    2.84 by ~1,500 steps and circles it from then on: diverges while it is moving out, then
    cycles — the run changes character, and so does the reading."""
    config = DiracConfig(objective="gradient-penalty", r1=0.01)
    points = trajectory(dataclasses.replace(config, steps=6000))
    assert outcome_at(points, config, 500) == "diverges"
    assert outcome_at(points, config, 2000) == "cycles"
    assert outcome_at(points, config, 6000) == "cycles"
