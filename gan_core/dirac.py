"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018), "Which training methods
for GANs do actually converge?".

A two-scalar world: the generator is p_θ = δ_θ, the discriminator is
D_ψ(x) = ψ·x and the real data is δ_0. The game is

    L(θ, ψ) = f(ψθ) + f(0),        f(t) = −log(1 + e^(−t)),

maximised by the discriminator (ψ) and minimised by the generator (θ); its only
equilibrium is (θ, ψ) = (0, 0). Every training method is a closed-form vector
field v(θ, ψ) = (v_θ, v_ψ), and training is a discrete iteration of it:

* simultaneous:  (θ, ψ) ← (θ, ψ) + h·v(θ, ψ)
* alternating:   ψ ← ψ + h·v_ψ(θ, ψ)  (d_steps times), then θ ← θ + h·v_θ(θ, ψ)

ψ moves with step size h·lr_ratio, θ with h. The objective "bilinear" is the plain linear
game L = ψθ (f(t) = t, i.e. WGAN without clipping): the textbook example on which
simultaneous gradient descent spirals out.

Each move ("turn") of a player — both at once when simultaneous — is one step of the chosen
optimizer on that player's own coordinates, the other player's held fixed:

* gd:            x ← x + s·v(x)
* extragradient: x ← x + s·v(x + s·v(x))   (Korpelevich 1976; Gidel et al. 2019): the
  gradient is taken at a look-ahead point. Under alternating updates the look-ahead moves
  only the player whose turn it is.
* optimistic:    x ← x + s·(2·v(x) − v_prev)   (Daskalakis et al. 2018), v_prev the gradient
  of that player's previous turn (its first turn uses v(x) itself: a plain gd step).
* momentum β (heavy ball, Polyak 1964; negative β: Gidel et al. 2019): every turn also adds
  β·(the player's displacement on its previous turn).

The optimistic and momentum memories make those methods two-step recurrences; their state is
(θ, ψ, v_prev_θ, v_prev_ψ, Δθ, Δψ) — see STATE — and gan_core.dirac_stability linearises
that map at the equilibrium.

Pure NumPy; every field broadcasts over arrays so it can be drawn on a grid.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

OBJECTIVES = ("gan", "nsgan", "wgan", "wgan-gp", "instance-noise", "gradient-penalty", "consensus",
              "bilinear")
UPDATES = ("simultaneous", "alternating")
OPTIMIZERS = ("gd", "extragradient", "optimistic")
MOMENTUM_RANGE = (-0.9, 0.999)
LR_RATIO_RANGE = (0.01, 100.0)

#: The iteration's state: the parameters, then the optimizers' memories (the gradient of each
#: player's previous turn for optimistic, its previous displacement for momentum).
STATE = ("theta", "psi", "v_prev_theta", "v_prev_psi", "delta_theta", "delta_psi")

#: Order of the Gauss–Hermite rule used for the instance-noise expectation.
NOISE_QUADRATURE_ORDER = 40


# ---------------------------------------------------------------------------
# f and its derivatives
# ---------------------------------------------------------------------------

def f(t):
    """f(t) = −log(1 + e^(−t))  (= log sigmoid(t))."""
    return -np.logaddexp(0.0, -np.asarray(t, dtype=float))


def f_prime(t):
    """f′(t) = 1 / (1 + e^t) = sigmoid(−t). Written with tanh: no overflow."""
    return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(t, dtype=float)))


def f_second(t):
    """f″(t) = −sigmoid(t)·sigmoid(−t)."""
    s = f_prime(t)
    return -s * (1.0 - s)


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class DiracConfig:
    """One Dirac-GAN run. Defaults are those of the authors' notebook."""

    objective: str = "gan"
    updates: str = "simultaneous"
    h: float = 0.2
    steps: int = 500
    d_steps: int = 1
    theta0: float = 1.0
    psi0: float = 1.0
    clip: float = 1.0          # wgan: ψ is clipped to [−clip, clip]
    gp_weight: float = 0.7     # wgan-gp: penalty (γ/2)(|ψ| − target)²
    gp_target: float = 1.0
    noise_std: float = 0.7     # instance-noise: σ
    r1: float = 0.3            # gradient-penalty: γ of the zero-centred R1 penalty
    consensus: float = 1.0     # consensus: γ
    optimizer: str = "gd"      # gd, extragradient or optimistic
    momentum: float = 0.0      # heavy-ball β, may be negative
    lr_ratio: float = 1.0      # ψ's step size is h·lr_ratio

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.updates not in UPDATES:
            raise ValueError(f"updates must be one of {UPDATES}, got {self.updates!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("steps", "d_steps"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("h", "theta0", "psi0", "clip", "gp_weight", "gp_target",
                     "noise_std", "r1", "consensus", "momentum", "lr_ratio"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.h <= 0:
            raise ValueError(f"h must be > 0 (step size), got {self.h!r}")
        if self.clip <= 0:
            raise ValueError(f"clip must be > 0, got {self.clip!r}")
        for name in ("gp_weight", "gp_target", "noise_std", "r1", "consensus"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name, (lo, hi) in (("momentum", MOMENTUM_RANGE), ("lr_ratio", LR_RATIO_RANGE)):
            if not lo <= getattr(self, name) <= hi:
                raise ValueError(f"{name} must be in [{lo}, {hi}], got {getattr(self, name)!r}")


# ---------------------------------------------------------------------------
# Vector fields, one per objective: each returns (v_θ, v_ψ)
# ---------------------------------------------------------------------------

def gan_field(theta, psi):
    """Unregularised GAN (saturating minimax):
    v_θ = −ψ f′(ψθ),   v_ψ = θ f′(ψθ)."""
    g = f_prime(psi * theta)
    return -psi * g, theta * g


def nsgan_field(theta, psi):
    """Non-saturating GAN: the generator maximises f(−ψθ) instead of minimising f(ψθ):
    v_θ = −ψ f′(−ψθ),   v_ψ = θ f′(ψθ)."""
    return -psi * f_prime(-psi * theta), theta * f_prime(psi * theta)


def wgan_field(theta, psi):
    """WGAN, f(t) = t:  v_θ = −ψ,  v_ψ = θ.
    (Weight clipping ψ ∈ [−clip, clip] is applied after every update, not here.)"""
    return -psi + 0.0 * theta, theta + 0.0 * psi


def bilinear_field(theta, psi):
    """The bilinear game L = ψθ (f(t) = t, no clipping):  v_θ = −ψ,  v_ψ = θ."""
    return -psi + 0.0 * theta, theta + 0.0 * psi


def wgan_gp_field(theta, psi, weight, target):
    """WGAN-GP, penalty (γ/2)(|ψ| − g₀)² on the critic's gradient norm |∇ₓD| = |ψ|:
    v_θ = −ψ,   v_ψ = θ − γ (|ψ| − g₀) sign(ψ)."""
    return -psi + 0.0 * theta, theta - weight * (np.abs(psi) - target) * np.sign(psi)


@functools.lru_cache(maxsize=4)
def _hermite_rule(order=NOISE_QUADRATURE_ORDER):
    """Nodes/weights with Σ wᵢ φ(xᵢ) ≈ E[φ(ε)], ε ~ N(0, 1)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / weights.sum()


def instance_noise_field(theta, psi, std):
    """GAN with instance noise ε ~ N(0, σ²) added to real (0) and fake (θ) samples:
    L = E_ε[f(ψ(θ+ε))] + E_ε[f(−ψε)], so
    v_θ = −E[ψ f′(ψ(θ+ε))],
    v_ψ =  E[(θ+ε) f′(ψ(θ+ε))] − E[ε f′(−ψε)].
    The expectations are a deterministic Gauss–Hermite quadrature."""
    theta, psi = np.broadcast_arrays(np.asarray(theta, float), np.asarray(psi, float))
    nodes, weights = _hermite_rule()
    eps = std * nodes                                   # (K,)
    x_fake = theta[..., None] + eps                     # (..., K)
    p = psi[..., None]
    v_theta = -(p * f_prime(p * x_fake)) @ weights
    v_psi = (x_fake * f_prime(p * x_fake)) @ weights - (eps * f_prime(-p * eps)) @ weights
    return v_theta, v_psi


def gradient_penalty_field(theta, psi, gamma):
    """GAN with the zero-centred R1 penalty (γ/2)|∇ₓD|² = (γ/2)ψ² on real data:
    v_θ = −ψ f′(ψθ),   v_ψ = θ f′(ψθ) − γψ."""
    v_theta, v_psi = gan_field(theta, psi)
    return v_theta, v_psi - gamma * psi


def consensus_field(theta, psi, gamma):
    """Consensus optimisation on the GAN: v − γ ∇(½‖v‖²) = v − γ Jᵀv, with
    ½‖v‖² = ½(θ² + ψ²) f′(ψθ)², hence (g = f′(ψθ), g′ = f″(ψθ))
    ∇_θ = θ g² + ψ(θ² + ψ²) g g′,   ∇_ψ = ψ g² + θ(θ² + ψ²) g g′."""
    v_theta, v_psi = gan_field(theta, psi)
    g, dg = f_prime(psi * theta), f_second(psi * theta)
    r2 = theta**2 + psi**2
    grad_theta = theta * g**2 + psi * r2 * g * dg
    grad_psi = psi * g**2 + theta * r2 * g * dg
    return v_theta - gamma * grad_theta, v_psi - gamma * grad_psi


def field_function(config: DiracConfig):
    """config.objective's field as a function (theta, psi) -> (v_θ, v_ψ), without
    `vector_field`'s conversions (for the training loop's scalars)."""
    obj = config.objective
    if obj == "gan":
        return gan_field
    if obj == "nsgan":
        return nsgan_field
    if obj == "wgan":
        return wgan_field
    if obj == "wgan-gp":
        return functools.partial(wgan_gp_field, weight=config.gp_weight, target=config.gp_target)
    if obj == "instance-noise":
        return functools.partial(instance_noise_field, std=config.noise_std)
    if obj == "gradient-penalty":
        return functools.partial(gradient_penalty_field, gamma=config.r1)
    if obj == "consensus":
        return functools.partial(consensus_field, gamma=config.consensus)
    if obj == "bilinear":
        return bilinear_field
    raise ValueError(f"objective must be one of {OBJECTIVES}, got {obj!r}")  # pragma: no cover


def vector_field(config: DiracConfig, theta, psi):
    """(v_θ, v_ψ) of config.objective at (θ, ψ); broadcasts over NumPy arrays."""
    theta = np.asarray(theta, dtype=float)
    psi = np.asarray(psi, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return field_function(config)(theta, psi)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def _project_psi(config: DiracConfig, psi: float) -> float:
    """WGAN weight clipping; the identity for every other objective."""
    if config.objective == "wgan":
        return min(max(psi, -config.clip), config.clip)
    return psi


def initial_state(config: DiracConfig) -> list[float]:
    """The STATE at step 0: (theta0, psi0), the start's gradient as every player's previous
    one (so optimistic's first turn is a gd step) and no previous displacement."""
    theta, psi = float(config.theta0), _project_psi(config, float(config.psi0))
    v_theta, v_psi = (float(v) for v in vector_field(config, theta, psi))
    return [theta, psi, v_theta, v_psi, 0.0, 0.0]


def _turn(config: DiracConfig, state: list, players: tuple, field, project) -> None:
    """One optimizer step of `players` (indices into (θ, ψ)), the others fixed; in place.

    Only arithmetic on the state's entries and config's h, lr_ratio and momentum, so they
    may as well be NumPy arrays (gan_core.dirac_stability linearises many settings at once)."""
    sizes = (config.h, config.h * config.lr_ratio)
    v = field(state[0], state[1])
    direction = {p: v[p] for p in players}
    if config.optimizer == "extragradient":
        ahead = [state[0], state[1]]
        for p in players:
            ahead[p] = ahead[p] + sizes[p] * direction[p]
        v = field(ahead[0], project(config, ahead[1]))
        direction = {p: v[p] for p in players}
    elif config.optimizer == "optimistic":
        previous = {p: state[2 + p] for p in players}
        for p in players:
            state[2 + p] = direction[p]
        direction = {p: 2.0 * direction[p] - previous[p] for p in players}
    moved = [state[0], state[1]]
    for p in players:
        moved[p] = moved[p] + sizes[p] * direction[p] + config.momentum * state[4 + p]
    moved[1] = project(config, moved[1])
    for p in players:
        state[4 + p] = moved[p] - state[p]
    state[0], state[1] = moved


def _no_projection(config: DiracConfig, psi: float) -> float:
    return psi


def advance(config: DiracConfig, state, field=None, project: bool = True) -> list:
    """One training iteration from `state` (a STATE sequence); returns the new state.

    `field(theta, psi) -> (v_theta, v_psi)` defaults to the objective's vector field;
    `project=False` turns WGAN clipping off (for the linearisation at the equilibrium,
    where the clip is inactive). `config` may be any object with DiracConfig's update
    settings (updates, d_steps, optimizer, momentum, h, lr_ratio, objective, clip)."""
    with np.errstate(over="ignore", invalid="ignore"):  # blow-ups are caught by the caller
        return _advance(config, state, field or _scalar_field(config),
                        _project_psi if project else _no_projection)


def _scalar_field(config: DiracConfig):
    raw = field_function(config)

    def field(theta: float, psi: float) -> tuple[float, float]:
        v_theta, v_psi = raw(theta, psi)
        return float(v_theta), float(v_psi)
    return field


def _advance(config, state, field, project) -> list:
    state = list(state)
    turns = [(0, 1)] if config.updates == "simultaneous" else [(1,)] * config.d_steps + [(0,)]
    for players in turns:
        _turn(config, state, players, field, project)
    return state


def _integrate(config: DiracConfig) -> tuple[np.ndarray, int | None]:
    """Iterate from the start; stop at the first non-finite point.
    Returns (the finite points so far, step at which it diverged or None)."""
    points = np.empty((config.steps + 1, 2))
    state = initial_state(config)
    points[0] = state[:2]
    field = _scalar_field(config)
    with np.errstate(over="ignore", invalid="ignore"):  # blow-ups are caught below
        for k in range(1, config.steps + 1):
            state = _advance(config, state, field, _project_psi)
            if not (math.isfinite(state[0]) and math.isfinite(state[1])):
                return points[:k].copy(), k
            points[k] = state[:2]
    return points, None


def trajectory(config: DiracConfig) -> np.ndarray:
    """(steps+1, 2) array of (θ, ψ), row 0 = (theta0, psi0).

    If the iteration blows up (non-finite) at step k, the array is cut to the
    k finite rows; `run` reports the step as "diverged_at"."""
    return _integrate(config)[0]


def run(config: DiracConfig) -> dict:
    """A JSON-ready summary of one run."""
    points, diverged_at = _integrate(config)
    theta, psi = (float(v) for v in points[-1])
    return {
        "config": asdict(config),
        "theta": theta,
        "psi": psi,
        "distance": math.hypot(theta, psi),
        "diverged_at": diverged_at,
        "trajectory": points.tolist(),
    }


def phase_portrait(config: DiracConfig, extent: float = 2.0, n: int = 21):
    """(theta_grid, psi_grid, v_theta, v_psi) on an n×n grid over [−extent, extent]²,
    indexed [i_psi, j_theta] (meshgrid "xy"), ready for a quiver plot."""
    if not (_is_real(extent) and math.isfinite(extent) and extent > 0):
        raise ValueError(f"extent must be a finite number > 0, got {extent!r}")
    if not _is_int(n) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    axis = np.linspace(-extent, extent, n)
    theta_grid, psi_grid = np.meshgrid(axis, axis)
    v_theta, v_psi = vector_field(config, theta_grid, psi_grid)
    return theta_grid, psi_grid, np.asarray(v_theta, float), np.asarray(v_psi, float)
