"""GAN objectives and regularisers, one short function each.

D always returns a raw score s(x): a logit for the sigmoid-based losses, a critic value for WGAN
and hinge, a least-squares output for LSGAN. r = s(real), f = s(fake); every loss is a batch mean
and is *minimised* by its player. softplus(t) = log(1 + e^t), so -log σ(t) = softplus(-t) and
-log(1 - σ(t)) = softplus(t), computed without overflow.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def gan_d_loss(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al. 2014: L_D = -E[log σ(r)] - E[log(1 - σ(f))]."""
    return F.softplus(-r).mean() + F.softplus(f).mean()


def minimax_g_loss(f: torch.Tensor) -> torch.Tensor:
    """Saturating minimax generator: L_G = E[log(1 - σ(f))] = -E[softplus(f)].

    Its gradient σ(f) vanishes when D confidently rejects fakes (f → -inf): the early-training
    problem that made Goodfellow et al. propose the non-saturating loss.
    """
    return -F.softplus(f).mean()


def nonsaturating_g_loss(f: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator: L_G = -E[log σ(f)] = E[softplus(-f)]."""
    return F.softplus(-f).mean()


def wgan_d_loss(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic (Arjovsky et al. 2017): L_D = E[f] - E[r]."""
    return f.mean() - r.mean()


def wgan_g_loss(f: torch.Tensor) -> torch.Tensor:
    """Wasserstein / hinge generator: L_G = -E[f]."""
    return -f.mean()


def lsgan_d_loss(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Least squares (Mao et al. 2017), targets 1/0: L_D = ½E[(r - 1)²] + ½E[f²]."""
    return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()


def lsgan_g_loss(f: torch.Tensor) -> torch.Tensor:
    """Least squares generator: L_G = ½E[(f - 1)²]."""
    return 0.5 * ((f - 1) ** 2).mean()


def hinge_d_loss(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Hinge (Lim & Ye 2017; Miyato et al. 2018): L_D = E[relu(1 - r)] + E[relu(1 + f)]."""
    return F.relu(1 - r).mean() + F.relu(1 + f).mean()


D_LOSSES: dict[str, Callable] = {
    "minimax": gan_d_loss, "nonsaturating": gan_d_loss, "wgan": wgan_d_loss,
    "wgan-gp": wgan_d_loss, "lsgan": lsgan_d_loss, "hinge": hinge_d_loss,
}
G_LOSSES: dict[str, Callable] = {
    "minimax": minimax_g_loss, "nonsaturating": nonsaturating_g_loss, "wgan": wgan_g_loss,
    "wgan-gp": wgan_g_loss, "lsgan": lsgan_g_loss, "hinge": wgan_g_loss,
}


def input_gradient(D: Callable, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(D(x), ∇ₓD(x)), keeping the graph so a penalty on the gradient can be backpropagated."""
    x = x.detach().requires_grad_(True)
    score = D(x)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return score, grad


def gradient_penalty(D: Callable, real: torch.Tensor, fake: torch.Tensor, weight: float,
                     rng: torch.Generator) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): λ E[(‖∇D(x̂)‖ - 1)²], x̂ uniform on real-fake segments."""
    t = torch.rand(real.shape[0], 1, generator=rng)
    _, grad = input_gradient(D, t * real + (1 - t) * fake)
    return weight * ((grad.norm(dim=1) - 1) ** 2).mean()


def zero_centred_penalty(grad: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 (on real data) or R2 (on fake data), Mescheder et al. 2018: γ/2 E[‖∇D(x)‖²]."""
    return 0.5 * gamma * (grad ** 2).sum(dim=1).mean()


def add_instance_noise(x: torch.Tensor, sigma: float, rng: torch.Generator) -> torch.Tensor:
    """Instance noise (Sønderby et al. 2016): D sees x + N(0, σ²I), for real and fake alike."""
    if sigma == 0:
        return x
    return x + sigma * torch.randn(x.shape, generator=rng)
