"""Game optimisers and stabilisers, as small functions on plain tensors.

The training loop decides *when* each runs; these functions only say *what* each method does,
so they can be tested against a hand-computed step on a tiny problem (tests/test_game_updates.py)
and slot into any engine layout.

- unrolled D (Metz et al. 2017, "Unrolled Generative Adversarial Networks"): G's loss is taken
  against D after `unroll` look-ahead steps of D's own optimiser, differentiated through them
  (`lookahead`);
- extragradient (Korpelevich 1976; for GANs Gidel et al. 2019, "A Variational Inequality
  Perspective on GANs", with Adam: ExtraAdam): step to an extrapolated point, then take the real
  step from the *original* point with the gradient found there (`ExtraStep`);
- optimistic updates (Daskalakis et al. 2018, "Training GANs with Optimism"; with Adam:
  optimistic Adam): θ ← θ + 2u_t − u_{t−1}, u the base optimiser's step (`optimistic_step`);
- consensus optimisation (Mescheder et al. 2017, "The Numerics of GANs"): both players also
  descend γ/2·‖v‖², v the joint gradient field of the game (`consensus_penalty`);
- G gradient penalty (Nagarajan & Kolter 2017, "Gradient descent GAN optimization is locally
  stable"): G's loss + η‖∇_θD V‖² (`gradient_norm_penalty`);
- generator averaging (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN
  Training"; Gidel et al. 2019): an exponential moving average of G's weights (`ema_update`);
- packing (Lin et al. 2018, "PacGAN"): D judges m samples at once (`pack`).
Negative momentum (Gidel et al. 2019, "Negative Momentum for Improved Game Dynamics") needs no
code of its own: SGD's heavy ball with β < 0 (see training.make_optimizer).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

Tensors = Sequence[torch.Tensor]


# ---------------------------------------------------------------------- penalties
def squared_gradient_norm(loss: torch.Tensor, params: Tensors) -> torch.Tensor:
    """‖∇_params loss‖², kept differentiable (double backprop) so it can be a penalty."""
    grads = torch.autograd.grad(loss, list(params), create_graph=True, allow_unused=True)
    return sum((g ** 2).sum() for g in grads if g is not None)


def gradient_norm_penalty(d_loss: torch.Tensor, d_params: Tensors, eta: float) -> torch.Tensor:
    """Nagarajan & Kolter 2017: η‖∇_θD V‖², added to G's loss. V is the game's value; D's loss
    is −V up to a sign, so its gradient has the same norm. G descending it steers towards
    points where D has nothing left to gain, which damps the rotation around the equilibrium."""
    return eta * squared_gradient_norm(d_loss, d_params)


def consensus_penalty(players: Sequence[tuple[torch.Tensor, Tensors]],
                      gamma: float) -> torch.Tensor:
    """Mescheder et al. 2017: γ/2·‖v‖², v = (∇_θD L_D, ∇_θG L_G) the game's gradient field.
    Each player adds it to its own loss; its gradient γ·Jᵀv pulls both towards points where v
    is small, which cancels the rotation (imaginary eigenvalues) of plain gradient play."""
    return 0.5 * gamma * sum(squared_gradient_norm(loss, params) for loss, params in players)


# ---------------------------------------------------------------------- unrolling
def differentiable_step(params: Tensors, grads: Tensors, rule: dict,
                        state: list[dict]) -> tuple[list[torch.Tensor], list[dict]]:
    """One step of an optimiser (sgd, adam, rmsprop) written as a function of the parameters,
    so autograd can see through it. `rule`: name, lr, and momentum / betas / eps / alpha;
    `state`: per parameter, the optimiser's buffers (taken as constants), updated copies out."""
    name, lr = rule["name"], rule["lr"]
    new_params, new_state = [], []
    for p, g, s in zip(params, grads, state):
        s = dict(s)
        if name == "adam":
            b1, b2 = rule["betas"]
            t = s.get("step", 0) + 1
            m = b1 * s.get("exp_avg", torch.zeros_like(p)) + (1 - b1) * g
            v = b2 * s.get("exp_avg_sq", torch.zeros_like(p)) + (1 - b2) * g * g
            denom = _sqrt(v / (1 - b2 ** t)) + rule.get("eps", 1e-8)
            step = lr * (m / (1 - b1 ** t)) / denom
            s.update(step=t, exp_avg=m, exp_avg_sq=v)
        elif name == "rmsprop":
            alpha, eps = rule.get("alpha", 0.99), rule.get("eps", 1e-8)
            sq = alpha * s.get("square_avg", torch.zeros_like(p)) + (1 - alpha) * g * g
            step = g / (_sqrt(sq) + eps)
            if rule.get("momentum", 0.0):
                step = rule["momentum"] * s.get("momentum_buffer", torch.zeros_like(p)) + step
                s["momentum_buffer"] = step
            step = lr * step
            s["square_avg"] = sq
        else:                                     # sgd, heavy ball (β may be negative)
            step = g
            if rule.get("momentum", 0.0):
                buf = s.get("momentum_buffer")
                step = g if buf is None else rule["momentum"] * buf + g
                s["momentum_buffer"] = step
            step = lr * step
        new_params.append(p - step)
        new_state.append(s)
    return new_params, new_state


def _sqrt(v: torch.Tensor) -> torch.Tensor:
    """√v whose derivative stays finite where v = 0 (a dead unit's zero gradient): there it
    would be ∞·0 = NaN in the backward pass through the look-ahead steps."""
    return v.clamp_min(1e-30).sqrt()


def lookahead(params: Tensors, loss_at: Callable[[list], torch.Tensor], steps: int,
              rule: dict, state: list[dict]) -> list[torch.Tensor]:
    """Metz et al. 2017: `params` after `steps` optimiser steps on loss_at(params), with the
    graph kept (create_graph) so that a loss at the result differentiates through them: G
    then answers the D that its move *will* provoke, not the current one."""
    params = list(params)
    for _ in range(steps):
        grads = torch.autograd.grad(loss_at(params), params, create_graph=True)
        params, state = differentiable_step(params, grads, rule, state)
    return params


def optimizer_rule(opt: torch.optim.Optimizer) -> tuple[dict, list[dict]]:
    """(rule, state) of a torch optimizer (one param group), for `differentiable_step`: its
    hyperparameters and detached copies of its current buffers."""
    group = opt.param_groups[0]
    name = ("adam" if "betas" in group else "rmsprop" if "alpha" in group else "sgd")
    rule = {"name": name, "lr": group["lr"], "momentum": group.get("momentum", 0.0),
            "betas": group.get("betas"), "eps": group.get("eps", 1e-8),
            "alpha": group.get("alpha", 0.99)}
    state = []
    for p in group["params"]:
        s = {}
        for key, value in opt.state.get(p, {}).items():
            if key == "step":
                s[key] = int(value)
            elif isinstance(value, torch.Tensor):
                s[key] = value.detach()
        state.append(s)
    return rule, state


# ---------------------------------------------------------------------- two-step updates
def optimistic_step(before: Tensors, params: Tensors, previous: list | None) -> list:
    """Daskalakis et al. 2018, in place: `params` hold θ_t + u_t after the base optimiser's
    step u_t from θ_t = `before`; they become θ_t + 2u_t − u_{t−1}. With SGD that is
    θ − 2ηg_t + ηg_{t−1} (optimistic gradient descent); with Adam, optimistic Adam. The first
    step has no u_{t−1} (taken as 0). Returns the u_t to pass as `previous` next time."""
    steps = []
    with torch.no_grad():
        for i, (b, p) in enumerate(zip(before, params)):
            u = p - b
            p.copy_(b + 2 * u - (previous[i] if previous is not None else 0))
            steps.append(u)
    return steps


def copy_of(params: Tensors) -> list[torch.Tensor]:
    return [p.detach().clone() for p in params]


def restore(params: Tensors, saved: Tensors) -> None:
    with torch.no_grad():
        for p, s in zip(params, saved):
            p.copy_(s)


# ---------------------------------------------------------------------- averaging, packing
def ema_update(average: Tensors, params: Tensors, beta: float) -> None:
    """In place: θ̄ ← β·θ̄ + (1 − β)·θ. The average moves along the middle of an orbit while
    θ circles it, so an oscillating generator's average sits near the centre."""
    with torch.no_grad():
        for a, p in zip(average, params):
            a.mul_(beta).add_(p.detach(), alpha=1 - beta)


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """Lin et al. 2018: (n·m, d) samples → (n, m·d), m consecutive samples side by side, so D
    judges them jointly and can see a lack of variety that no single sample shows."""
    if m == 1:
        return x
    return x.reshape(-1, m * x.shape[-1])


def extragradient(params: Tensors, grads_at: Callable[[], list | None],
                  apply: Callable[[list], None]) -> bool:
    """Gidel et al. 2019: θ_{t+½} = θ_t + u(∇(θ_t)); θ_{t+1} = θ_t + u(∇(θ_{t+½})), u the base
    optimiser's step (SGD: −η∇; Adam: ExtraAdam, whose moments see both gradients).
    `grads_at()` gives the gradients at the current parameters (None: non-finite, stop);
    `apply(grads)` makes one optimiser step with them. False (parameters as they were) when a
    gradient is not finite."""
    saved = copy_of(params)
    grads = grads_at()
    if grads is None:
        return False
    apply(grads)                                  # look ahead ...
    grads = grads_at()
    restore(params, saved)                        # ... and step from where we were
    if grads is None:
        return False
    apply(grads)
    return True
