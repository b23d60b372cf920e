"""One iteration of GAN training, defined once: the engine contract.

Both engines follow this module and nothing else: `training.Trainer` (one run) and
`stacked.Stack` (K runs of the same shapes and schedule, trained as one batched pass). They
differ only in how they evaluate the networks and step the optimizers. What is defined here:

- the *schedule*: which updates one iteration makes, in order (`schedule`);
- each player's *loss assembly* with the regularisers (`d_losses`, `g_losses`): instance noise
  on D's inputs, the zero-centred penalties R1 (real) and R2 (fake), WGAN-GP;
- the *divergence rule* (`healthy`, `diverged_status`): an update whose loss or gradient is
  NaN/inf is not applied, and the run stops at its last good state;
- WGAN's weight *clipping* (`clip_critic`).

The loss functions work on *rows*: real and fake batches are (K, B, dim) tensors, row i being
run i's batch, and D maps them to (K, B, 1) scores. The single trainer is the case K = 1, given
without the leading dimension ((B, dim) batches, one config): the arithmetic is the same, and
nn.Linear on a 3-D input would cost a flatten and a view per layer (~8 % of an iteration).
Every run has its own config (`configs[i]`) and its own noise generator.

A new regulariser or objective is written once, here (and in objectives.py); a new TrainConfig
field that changes training needs a batched-vs-single equivalence case
(tests/test_engine_contract.py fails until it has one).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from . import objectives as obj
from .config import TrainConfig

D_UPDATE, G_UPDATE, BOTH_UPDATE = "d", "g", "dg"
# Update schemes in which both players step together ("dg"); the two-step ones
# (gan_core.game_updates) run in the single Trainer only (batched.stack_key).
JOINT_UPDATES = ("simultaneous", "extragradient", "optimistic")


def schedule(config: TrainConfig) -> tuple[str, ...]:
    """The updates of one iteration, in order: "d" (a D update on a fresh batch), "g" (a G
    update), "dg" (simultaneous: both players step from the same point, on the same batch).

    Alternating (Goodfellow et al.'s algorithm): k D updates, then k_G G updates. Simultaneous,
    extragradient and optimistic (JOINT_UPDATES): the last D update and the first G update are
    one joint step, made by that scheme.
    """
    if config.updates in JOINT_UPDATES:
        return ((D_UPDATE,) * (config.k - 1) + (BOTH_UPDATE,)
                + (G_UPDATE,) * (config.k_g - 1))
    return (D_UPDATE,) * config.k + (G_UPDATE,) * config.k_g


def _rows(x: torch.Tensor, configs: Sequence[TrainConfig]):
    """Row i of a batch: x[i] for K stacked runs, x itself for one run's (B, dim) batch."""
    if x.dim() == 2:
        if len(configs) != 1:
            raise ValueError(f"a (B, dim) batch is one run's, got {len(configs)} configs")
        return lambda t, i: t
    return lambda t, i: t[i]


def add_noise(x: torch.Tensor, configs: Sequence[TrainConfig],
              rngs: Sequence[torch.Generator]) -> torch.Tensor:
    """Instance noise (Sønderby et al. 2016): row i of D's input plus N(0, σ_i²), drawn from run
    i's own noise generator; rows without noise are unchanged."""
    if not any(c.instance_noise > 0 for c in configs):
        return x
    if x.dim() == 2:                       # one run's batch
        return obj.add_instance_noise(x, configs[0].instance_noise, rngs[0])
    noisy = x.clone()
    for i, config in enumerate(configs):
        if config.instance_noise > 0:
            noisy[i] = obj.add_instance_noise(x[i], config.instance_noise, rngs[i])
    return noisy


def d_losses(configs: Sequence[TrainConfig], D: Callable, real: torch.Tensor,
             fake: torch.Tensor, rngs: Sequence[torch.Generator],
             critic_of: Callable[[int], Callable]) -> tuple[list, torch.Tensor, torch.Tensor]:
    """Each run's discriminator loss with its regularisers, and the raw scores r, f (K, B, 1).

    Real and fake pass through D separately: one pass over both would sum the halves in another
    order, and cancellations that are exact here (a hidden bias of hinge / WGAN: the same sum
    of ±w/B over real and over fake) would leave rounding noise, which Adam's first step turns
    into a full ±lr step. `critic_of(i)` is run i's own D, for WGAN-GP's double backward.
    """
    row = _rows(real, configs)
    real, fake = add_noise(real, configs, rngs), add_noise(fake, configs, rngs)
    penalties: list = [0.0] * len(configs)
    r = _scored(D, real, [c.r1 for c in configs], row, penalties)      # R1: on real data
    f = _scored(D, fake, [c.r2 for c in configs], row, penalties)      # R2: on fakes
    losses = []
    for i, c in enumerate(configs):
        loss = obj.D_LOSSES[c.loss](row(r, i), row(f, i))
        if not isinstance(penalties[i], float):
            loss = loss + penalties[i]
        if c.loss == "wgan-gp":
            loss = loss + obj.gradient_penalty(critic_of(i), row(real, i), row(fake, i),
                                               c.gp_weight, rngs[i])
        losses.append(loss)
    return losses, r, f


def g_losses(configs: Sequence[TrainConfig], D: Callable, fake: torch.Tensor,
             rngs: Sequence[torch.Generator]) -> list:
    """Each run's generator loss: its objective on D's scores of its (noisy) fakes."""
    row = _rows(fake, configs)
    f = D(add_noise(fake, configs, rngs))
    return [obj.G_LOSSES[c.loss](row(f, i)) for i, c in enumerate(configs)]


def healthy(losses: torch.Tensor, norms: torch.Tensor) -> list[bool]:
    """The divergence rule, per run: an update may be applied only if its loss and its
    gradient's norm are finite."""
    return (torch.isfinite(losses) & torch.isfinite(norms)).reshape(-1).tolist()


def healthy_one(loss: float, norm: float) -> bool:
    """`healthy` for one run's plain numbers (no tensor ops: 0.4 µs instead of 13)."""
    return math.isfinite(loss) and math.isfinite(norm)


def diverged_status(iteration: int) -> str:
    """The status of a run that diverged in the iteration after `iteration`; it keeps the
    weights it had before (its last good state)."""
    return f"diverged at iteration {iteration + 1}"


def clip_critic(config: TrainConfig, weights: Sequence[torch.Tensor]) -> None:
    """WGAN (Arjovsky et al. 2017): every weight of the critic clipped to [-c, c] after its
    update."""
    if config.loss == "wgan":
        with torch.no_grad():
            for w in weights:
                w.clamp_(-config.clip, config.clip)


def _scored(D, x, weights: list, row, penalties: list):
    """D(x); where weights[i] > 0, run i's penalty gains the zero-centred gradient penalty
    weights[i]/2 * ||grad_x D||^2 on these inputs (R1 on real data, R2 on fakes)."""
    if not any(w > 0 for w in weights):
        return D(x)
    out, grad = obj.input_gradient(D, x)
    for i, w in enumerate(weights):
        if w > 0:
            penalties[i] = penalties[i] + obj.zero_centred_penalty(row(grad, i), w)
    return out
