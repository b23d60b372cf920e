"""The two players: small MLPs. G maps latent codes to 2D points; D maps 2D points to a raw score."""
from __future__ import annotations

import torch
from torch import nn

from .config import TrainConfig

ACTIVATION_LAYERS = {"relu": nn.ReLU, "leakyrelu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh,
                     "elu": nn.ELU}


def mlp(n_in: int, width: int, depth: int, n_out: int, activation: str,
        spectral_norm: bool = False) -> nn.Sequential:
    """`depth` hidden layers of `width` units; the output layer is linear."""
    sizes = [n_in] + [width] * depth
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [_linear(a, b, spectral_norm), ACTIVATION_LAYERS[activation]()]
    layers.append(_linear(sizes[-1], n_out, spectral_norm))
    return nn.Sequential(*layers)


def _linear(n_in: int, n_out: int, spectral_norm: bool) -> nn.Module:
    layer = nn.Linear(n_in, n_out)
    return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer


class PackedD(nn.Module):
    """PacGAN's discriminator (Lin et al. 2018): an MLP on m samples side by side, (n, 2m).

    Given plain 2D points (n, 2) instead (D's surface, G's push arrows, diagnostics), each
    point is judged packed with m - 1 copies of itself: D's opinion of a region where every
    sample of the pack lands.
    """

    def __init__(self, net: nn.Module, m: int):
        super().__init__()
        self.net, self.m = net, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != 2 * self.m:
            x = x.repeat(1, self.m)
        return self.net(x)


def build_models(config: TrainConfig) -> tuple[nn.Sequential, nn.Module]:
    """G and D with weights drawn from `config.seed` alone, without touching the global RNG.
    With packing (config.pack > 1) D is a PackedD on 2·pack inputs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        generator = mlp(config.latent_dim, config.g_width, config.g_depth, 2, config.activation)
        discriminator = mlp(2 * config.pack, config.d_width, config.d_depth, 1,
                            config.activation, config.spectral_norm)
    if config.pack > 1:
        discriminator = PackedD(discriminator, config.pack)
    return generator, discriminator


def sample_latent(config: TrainConfig, n: int, rng: torch.Generator) -> torch.Tensor:
    """Latent codes: standard normal, or uniform on [-1, 1]^latent_dim."""
    if config.latent == "uniform":
        return torch.rand(n, config.latent_dim, generator=rng) * 2 - 1
    return torch.randn(n, config.latent_dim, generator=rng)


def latent_grid(config: TrainConfig, n: int = 21) -> torch.Tensor | None:
    """A regular grid of latent codes (n^latent_dim, latent_dim) for drawing G's manifold.

    Covers ±2.5 std for a Gaussian latent and [-1, 1] for a uniform one; None above 2 dims.
    """
    if config.latent_dim > 2:
        return None
    span = 1.0 if config.latent == "uniform" else 2.5
    axis = torch.linspace(-span, span, n)
    if config.latent_dim == 1:
        return axis[:, None]
    u, v = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([u.reshape(-1), v.reshape(-1)], dim=1)
