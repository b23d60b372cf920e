"""Linear stability of the Dirac-GAN iteration at its equilibrium (θ, ψ) = (0, 0).

Near the equilibrium the vector field is v(x) ≈ J·x, J its Jacobian there (written out per
objective below), and one training iteration — whatever the updates, optimizer, momentum and
step sizes — is a linear map of the iteration's state (gan_core.dirac.STATE): the parameters,
plus, for the two-step methods, the memories (optimistic's previous gradients, momentum's
previous displacements). Its matrix M is the update's linearisation (for the two-step methods,
the companion matrix of the recurrence) and its spectral radius ρ = max |eig M| decides the
fate of every start close enough to the equilibrium: the distance shrinks like ρⁿ.

M is obtained by running the very update code of gan_core.dirac (`advance`) on the linear
field J·x, once per state coordinate; so the linearisation cannot drift from the iteration it
describes.
"""
from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np

from . import dirac
from .dirac import DiracConfig

#: f′(0) for the saturating losses, f(t) = −log(1 + e^(−t)); f″(0) = −1/4.
F_PRIME_0 = 0.5
F_SECOND_0 = -0.25


def coupling(objective: str) -> float:
    """a in J = [[−p, −a], [a, −q]]: f′(0) = 1/2 for the log-loss objectives, 1 for the
    linear ones (wgan, wgan-gp, bilinear)."""
    return 1.0 if objective in ("wgan", "wgan-gp", "bilinear") else F_PRIME_0


#: The field of DiracConfig that weighs each regularised objective's regulariser.
REGULARISER = {"gradient-penalty": "r1", "instance-noise": "noise_std", "wgan-gp": "gp_weight",
               "consensus": "consensus"}


def damping(objective: str, weight):
    """(p, q) in J = [[−p, −a], [a, −q]] for the regulariser weight `weight` (the field
    REGULARISER names; broadcasts over arrays). See `equilibrium_jacobian`."""
    weight = np.asarray(weight, dtype=float)
    zero = np.zeros_like(weight)
    if objective in ("gradient-penalty", "wgan-gp"):
        return zero, weight
    if objective == "instance-noise":
        return zero, -2.0 * F_SECOND_0 * weight ** 2
    if objective == "consensus":
        a = coupling(objective)
        return weight * a * a, weight * a * a
    return zero, zero


def has_linearisation(config: DiracConfig) -> bool:
    """False for WGAN-GP with a target g₀ > 0 (and a weight > 0): its field jumps at ψ = 0."""
    return not (config.objective == "wgan-gp" and config.gp_weight > 0 and config.gp_target > 0)


def equilibrium_jacobian(config: DiracConfig) -> np.ndarray | None:
    """J = ∂v/∂(θ, ψ) at (0, 0), or None where the field is not differentiable there.

    Every objective has the form J = [[−p, −a], [a, −q]] (Mescheder et al. 2018, Sec. 2-3):
    * gan, nsgan, wgan, bilinear:   p = q = 0 (a pure rotation);
    * gradient-penalty (R1 γ):     q = γ;
    * instance-noise (σ):          q = −2 f″(0) σ² = σ²/2;
    * wgan-gp with target 0:       q = γ (the penalty (γ/2)ψ² is R1's); with a target g₀ > 0
      the critic's field jumps by 2γg₀ across ψ = 0 (sign ψ), so there is no linearisation;
    * consensus (γ):               J − γ JᵀJ with JᵀJ = a²·I, so p = q = γa².
    """
    if not has_linearisation(config):
        return None
    a = coupling(config.objective)
    field = REGULARISER.get(config.objective)
    p, q = damping(config.objective, getattr(config, field) if field else 0.0)
    return np.array([[0.0 - float(p), -a], [a, 0.0 - float(q)]])


def used_state(config) -> tuple[int, ...]:
    """Indices into STATE of the coordinates the method carries from one iteration to the
    next: (θ, ψ), plus the previous gradients (optimistic), plus the previous displacements
    (momentum ≠ 0)."""
    used = [0, 1]
    if config.optimizer == "optimistic":
        used += [2, 3]
    if np.any(np.asarray(config.momentum) != 0.0):
        used += [4, 5]
    return tuple(used)


#: Settings `update_matrix` accepts as arrays: they enter the update only through arithmetic.
ARRAY_SETTINGS = ("h", "lr_ratio", "momentum", *REGULARISER.values())


def update_matrix(config: DiracConfig, **arrays) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """(M, names): the iteration's linearisation at the equilibrium over the state coordinates
    it uses (names from STATE), or None when the field has no linearisation there.

    Keyword arguments from ARRAY_SETTINGS replace config's values and may be arrays (they
    broadcast together); M then has shape (*broadcast shape, d, d) — a whole diagram's worth
    of matrices from one pass of the update code."""
    unknown = set(arrays) - set(ARRAY_SETTINGS)
    if unknown:
        raise ValueError(f"update_matrix takes arrays only for {ARRAY_SETTINGS}, "
                         f"not {sorted(unknown)}")
    if not has_linearisation(config):
        return None
    settings = SimpleNamespace(**{**dataclasses.asdict(config), **arrays})
    weight_field = REGULARISER.get(config.objective)
    p, q = damping(config.objective, getattr(settings, weight_field) if weight_field else 0.0)
    a = coupling(config.objective)

    def linear_field(theta, psi):
        return -p * theta - a * psi, a * theta - q * psi

    used = used_state(settings)
    shape = np.broadcast_shapes(*(np.shape(getattr(settings, name)) for name in ARRAY_SETTINGS),
                                np.shape(p))
    matrix = np.zeros((*shape, len(used), len(used)))
    for column, i in enumerate(used):
        basis = [0.0] * len(dirac.STATE)
        basis[i] = 1.0
        image = dirac.advance(settings, basis, field=linear_field, project=False)
        for row, j in enumerate(used):
            matrix[..., row, column] = image[j]
    return matrix, tuple(dirac.STATE[i] for i in used)


def radii(config: DiracConfig, **arrays) -> np.ndarray:
    """ρ for every setting of `arrays` (as in `update_matrix`); NaN without a linearisation."""
    found = update_matrix(config, **arrays)
    if found is None:
        shape = np.broadcast_shapes(*(np.shape(v) for v in arrays.values())) if arrays else ()
        return np.full(shape, np.nan)
    return np.max(np.abs(np.linalg.eigvals(found[0])), axis=-1)


def spectral_radius(config: DiracConfig) -> float | None:
    """ρ(M) of the linearised iteration, or None where there is no linearisation."""
    rho = radii(config)
    return None if np.isnan(rho) else float(rho)


def radius_over_h(config: DiracConfig, h_values) -> np.ndarray:
    """ρ at each step size h (the rest of config fixed): the stability region over h is where
    it is below 1. NaN everywhere when there is no linearisation."""
    return radii(config, h=np.asarray(h_values, dtype=float))


# ---------------------------------------------------------------------------
# Reading a run: converges / cycles / diverges
# ---------------------------------------------------------------------------

OUTCOMES = ("converges", "cycles", "diverges")
#: The CLI's and the page's verdict sentence for each outcome.
VERDICTS = {"converges": "converges to the equilibrium",
            "cycles": "does not converge (cycles / stalls)",
            "diverges": "diverges (spirals out)"}
#: A change of the distance by less than this factor over the compared span (≥ half the run)
#: reads as "no change".
TOLERANCE = 1.05


@dataclasses.dataclass(frozen=True)
class Reading:
    """How a run ends, and why (see `read`)."""

    outcome: str                      # one of OUTCOMES
    spectral_radius: float | None
    envelope_growth: float | None     # the distance's envelope, end / baseline (`envelope`)
    circling: bool                    # see Envelope.circling
    reason: str                       # one sentence: the evidence for the outcome

    @property
    def verdict(self) -> str:
        return VERDICTS[self.outcome]


def _trend(log_ratio: float | None) -> str | None:
    """"in", "out" or "flat": the log of a ratio of distances against TOLERANCE."""
    if log_ratio is None:
        return None
    if log_ratio > math.log(TOLERANCE):
        return "out"
    if log_ratio < -math.log(TOLERANCE):
        return "in"
    return "flat"


def outcome_from_rho(rho: float | None, steps: int) -> str | None:
    """The outcome the linearisation alone predicts over a run of `steps`: converges when
    ρ^(steps/2) < 1/TOLERANCE, diverges above TOLERANCE, cycles in between (see `read`).
    None without a ρ."""
    if rho is None or not math.isfinite(rho):
        return None
    theory = _trend(_log_change(rho, max(steps, 1) / 2))
    return {"in": "converges", "out": "diverges", "flat": "cycles"}[theory]


def _log(ratio: float | None) -> float | None:
    if ratio is None:
        return None
    return -math.inf if ratio == 0.0 else math.log(ratio)


def _times(log_ratio: float) -> str:
    """×factor for a log-ratio, readable when it is astronomically large or small."""
    if abs(log_ratio) < math.log(100):
        return f"×{math.exp(log_ratio):.3f}"
    if abs(log_ratio) < math.log(1e6):
        return f"×{math.exp(log_ratio):.3g}"
    return f"×10^{log_ratio / math.log(10):.0f}" if math.isfinite(log_ratio) else "×0"


#: A run whose late envelope is this small relative to its farthest point has reached the
#: equilibrium (to the precision the arithmetic allows: closer in, rounding can keep a
#: converged run from shrinking further).
REACHED = 1e-9


@dataclasses.dataclass(frozen=True)
class Envelope:
    """The distance's upper envelope late in a run against an earlier baseline."""

    growth: float            # envelope at the end / envelope at the baseline
    span: int                # steps between the baseline and the end
    circling: bool           # full turns round the equilibrium end at the baseline and the end
    reached: bool            # the late envelope is below REACHED × the largest distance


def envelope(points) -> Envelope | None:
    """How the distance's upper envelope changed late in the run; None below 2 steps.

    The baseline is half the run back, or one full turn round the equilibrium back if the
    last turn took longer than that (a saturated GAN crawls for thousands of steps between
    quick bursts; comparing within one crawl would miss the bursts). When the run circles,
    the envelope at a step is the largest distance over the full turn ending there — a
    turn's maximum does not depend on where on an elongated orbit the run stops; without a
    full turn the distance itself is smooth and is used as it is."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    n = len(points) - 1
    if n < 2:
        return None
    with np.errstate(over="ignore"):
        distance = np.hypot(points[:, 0], points[:, 1])
    angle = np.unwrap(np.arctan2(points[:, 1], points[:, 0]))

    def turn_start(end: int) -> int | None:
        behind = np.nonzero(np.abs(angle[end] - angle[: end + 1]) >= 2 * np.pi)[0]
        return int(behind[-1]) if len(behind) else None

    last_turn = turn_start(n)
    base = n // 2 if last_turn is None else min(n // 2, last_turn)
    base_turn = turn_start(base)
    circling = last_turn is not None and base_turn is not None
    if circling:
        late = distance[last_turn:].max()
        early = distance[base_turn: base + 1].max()
    else:
        late, early = distance[n], distance[base]
    reached = bool(distance[base:].max() <= REACHED * distance.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = float(late / early) if early > 0 else (1.0 if late == 0 else math.inf)
    return Envelope(growth, n - base, circling, reached)


def read(config: DiracConfig, points, diverged_at: int | None = None) -> Reading:
    """Converges / cycles / diverges, from the spectral radius ρ and the run's envelope.

    Two pieces of evidence, judged over the same span — from the envelope's baseline to the
    end of the run: S ≥ N/2 steps of the N run (see `envelope`) — and with the same
    tolerance, a factor TOLERANCE = 1.05:

    * theory: near the equilibrium the distance changes like ρ^S: "in" below 1/1.05, "out"
      above 1.05, "flat" in between. So ρ ≈ 1 means within a tolerance that shrinks as the
      run grows: |ln ρ| · S ≤ ln 1.05. ρ is exact, but holds only near the equilibrium.
      WGAN-GP with a target g₀ > 0 has no ρ: its critic field jumps by 2γg₀ across ψ = 0,
      always away from ψ = 0, so its equilibrium repels ("out").
    * trajectory: the growth of the distance's upper envelope over the same span, "in",
      "out" or "flat" against the same factor. It is what the picture shows, also far from
      the equilibrium where the nonlinear terms rule: the log-loss saturates far out and
      stalls, WGAN's clip bounds ψ, an unstable equilibrium can sit inside a stable orbit.

    The rule:
    1. non-finite iterates → diverges; a run whose late envelope fell below REACHED × its
       largest distance → converges (it is at the equilibrium).
    2. envelope "out" → diverges: the run moves away, whatever the linearisation says.
    3. envelope "in" → converges if the theory says "in". If it says "out" (ρ > 1 repels),
       cycles: the run is settling onto an orbit. If ρ ≈ 1, the nonlinear terms decide, and
       the envelope's pace tells which way: converges if, circling, it shrank over the span
       before at most twice as fast (in log) as over the last — a steady shrink, as the
       distance ∝ n^(−1/2) of the non-saturating GAN with alternating updates — otherwise
       cycles: a shrink that is dying out is a run settling onto an orbit.
    4. envelope "flat" while circling → cycles: an orbit, whatever ρ (a stable orbit round
       an unstable equilibrium, as nsgan's or clipped WGAN's, or ρ ≈ 1).
    5. envelope "flat" without full turns (a stall or a slow approach, where the picture
       cannot show a trend within the run) → the theory decides: "in" → converges, "out" →
       diverges, "flat" → cycles.

    The tolerance depends on nothing but the run's length, so the outcome changes with the
    number of steps only when the run itself changes character — a spiral out for 500 steps
    that then circles a limit cycle for 20,000, or a slow rotation (ρ = 1 + 10⁻⁵) that shows
    only over many steps — never with where on an orbit the run happens to stop.
    """
    rho = spectral_radius(config)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    env = envelope(points)
    if diverged_at is not None:
        return Reading("diverges", rho, None if env is None else env.growth,
                       bool(env and env.circling),
                       f"the iterates blew up (non-finite) at step {diverged_at}")
    span = env.span if env else max(len(points) - 1, 1)
    theory = "out" if rho is None else _trend(_log_change(rho, span))
    said_rho = _say_rho(rho, theory, span)
    if env is None:                      # 0 or 1 step: only the theory
        outcome = {"in": "converges", "out": "diverges"}.get(theory, "cycles")
        return Reading(outcome, rho, None, False, said_rho)
    trend = _trend(_log(env.growth))
    said_env = (f"the distance's envelope changed {_times(_log(env.growth))} over the last "
                f"{span} steps{' while circling' if env.circling else ' without a full turn'}")
    if env.reached:
        outcome, said_env = "converges", f"the run reached the equilibrium ({said_env})"
    elif trend == "out":
        outcome = "diverges"
    elif trend == "in":
        outcome = "converges" if theory == "in" else "cycles"
        if theory == "flat" and _steady_shrink(points, env):
            outcome = "converges"
            said_env += (", as much as over the span before: the nonlinear terms pull it in "
                         "although ρ ≈ 1")
    elif env.circling:
        outcome = "cycles"
    else:
        outcome = {"in": "converges", "out": "diverges"}.get(theory, "cycles")
    return Reading(outcome, rho, env.growth, env.circling, f"{said_rho}; {said_env}")


def _steady_shrink(points: np.ndarray, env: Envelope) -> bool:
    """Whether the envelope, circling, shrank over the span before the last at most twice
    as fast (in log) as over the last. A run settling onto an orbit slows down quickly; one
    pulled in by nonlinear terms at ρ = 1 (the non-saturating GAN with alternating updates:
    distance ∝ n^(−1/2)) shrinks by the same factor each time the run doubles. Without full
    turns in both spans an orbit's shape cannot be told from a trend: False."""
    earlier = envelope(points[: len(points) - env.span])
    if earlier is None or not (env.circling and earlier.circling) or earlier.growth >= 1.0:
        return False
    return math.log(env.growth) <= 0.5 * math.log(earlier.growth)


def _log_change(rho: float, steps: float) -> float:
    """ln(ρ^steps): how the linearisation changes the distance over `steps`."""
    return -math.inf if rho == 0.0 else steps * math.log(rho)


def _say_rho(rho: float | None, theory: str | None, span: int) -> str:
    if rho is None:
        return ("no spectral radius: the field jumps at the equilibrium, where the penalty "
                "pushes |ψ| towards its target from both sides, so the equilibrium repels")
    meaning = {"in": "the equilibrium attracts", "out": "the equilibrium repels",
               "flat": "≈ 1 over this run"}[theory]
    return (f"ρ = {rho:.6g} ({meaning}: {_times(_log_change(rho, span))} over {span} steps "
            "near it)")
