"""The toy 2D target distributions of the GAN literature, sampled with an explicit generator.

Mixtures (ring, grid, gaussian, custom) keep their mode centers so metrics can count modes:
  ring      PacGAN / VEEGAN: 8 Gaussians on a circle of radius 1, std 0.01
  grid      PacGAN / VEEGAN: 5x5 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05
Curves and areas (moons, circles, spiral, swissroll, checkerboard) follow sklearn, FFJORD's toy
sets and WGAN-GP's gan_toy.py, rewritten in torch.

Every sampler draws its randomness only from the torch.Generator it is given, so a run seeded
once replays exactly and never disturbs the global torch / NumPy RNGs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
import torch

from .config import TrainConfig

Sampler = Callable[[int, torch.Generator], torch.Tensor]

# Noiseless extent (xmin, xmax, ymin, ymax) of each non-mixture dataset, for its view box.
_EXTENT = {
    "moons": (-1.5, 1.5, -0.75, 0.75),
    "circles": (-1.0, 1.0, -1.0, 1.0),
    "spiral": (-math.pi, math.pi, -2.64, 2.64),         # t = 3*pi at the tips, divided by 3
    "swissroll": (-1.264, 1.681, -1.473, 1.885),        # t*(cos t, sin t)/7.5, t in [1.5, 4.5]pi
    "checkerboard": (-4.0, 4.0, -4.0, 4.0),
}
_SWISSROLL_SCALE = 7.5


@dataclass(frozen=True, eq=False)
class Distribution:
    name: str
    params: dict
    view_box: tuple[float, float, float, float]     # (xmin, xmax, ymin, ymax), square
    centers: np.ndarray | None = None                # (M, 2) float64, mixtures only
    weights: np.ndarray | None = None                # (M,) summing to 1, mixtures only
    std: float | None = None                         # per-mode std, mixtures only
    _sampler: Sampler = field(default=None, repr=False)

    @property
    def is_mixture(self) -> bool:
        return self.centers is not None

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 2) float32 samples; the only randomness used is `generator`."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self._sampler(int(n), generator)

    def describe(self) -> dict:
        """A JSON-ready description: name, params and, for mixtures, centers / std / weights."""
        out = {"name": self.name, "params": dict(self.params)}
        if self.is_mixture:
            out["centers"] = self.centers.tolist()
            out["std"] = float(self.std)
            out["weights"] = self.weights.tolist()
        return out


def make_distribution(config: TrainConfig) -> Distribution:
    """The target distribution a config asks for (std resolved to the dataset's default)."""
    name, std = config.dataset, float(config.resolved_std)
    if name == "ring":
        angles = 2 * np.pi * np.arange(config.n_modes) / config.n_modes
        centers = config.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return _mixture(name, {"n_modes": config.n_modes, "radius": config.radius, "std": std},
                        centers, std)
    if name == "grid":
        coords = (np.arange(config.grid_size) - (config.grid_size - 1) / 2) * config.spacing
        xs, ys = np.meshgrid(coords, coords, indexing="ij")
        centers = np.stack([xs.ravel(), ys.ravel()], axis=1)
        return _mixture(name, {"grid_size": config.grid_size, "spacing": config.spacing,
                               "std": std}, centers, std)
    if name == "gaussian":
        return _mixture(name, {"std": std}, np.zeros((1, 2)), std)
    if name == "custom":
        centers = np.asarray(config.custom_points, dtype=np.float64).reshape(-1, 2)
        return _mixture(name, {"n_points": len(centers), "std": std}, centers, std)
    samplers = {"moons": _moons, "circles": _circles, "spiral": _spiral,
                "swissroll": _swissroll, "checkerboard": _checkerboard}
    if name not in samplers:
        raise ValueError(f"unknown dataset {name!r}")
    if name == "checkerboard":
        params, noise = {}, 0.0                  # uniform on squares: std is not used
    elif name == "swissroll":
        params, noise = {"noise": std, "scale": 1 / _SWISSROLL_SCALE}, std / _SWISSROLL_SCALE
    else:
        params, noise = {"std": std}, std
    box = _square_box(*_EXTENT[name], pad_std=noise)
    return Distribution(name, params, box, _sampler=partial(samplers[name], std=std))


def _mixture(name: str, params: dict, centers: np.ndarray, std: float) -> Distribution:
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    weights = np.full(len(centers), 1.0 / len(centers))
    box = _square_box(centers[:, 0].min(), centers[:, 0].max(),
                      centers[:, 1].min(), centers[:, 1].max(), pad_std=std)
    sampler = partial(_sample_mixture, centers=torch.as_tensor(centers, dtype=torch.float32),
                      std=std)
    return Distribution(name, params, box, centers, weights, std, sampler)


def _square_box(xmin, xmax, ymin, ymax, pad_std: float) -> tuple[float, float, float, float]:
    """A square box around an extent, padded by a quarter of its size or 4 std, if larger.

    A quarter of the size gives the ring of radius 1 the box [-1.5, 1.5]^2; 4 std keeps ~all
    noisy samples inside when the noise is large. A single point (size 0) gets at least 1 unit
    each side, so the view is never degenerate.
    """
    span = max(xmax - xmin, ymax - ymin)
    pad = max(0.25 * span, 4.0 * pad_std)
    if span == 0:
        pad = max(pad, 1.0)
    half = span / 2 + pad
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return (float(cx - half), float(cx + half), float(cy - half), float(cy + half))


# --- samplers: (n, generator, std) -> (n, 2) float32, vectorised, randomness from `g` only

def _sample_mixture(n: int, g: torch.Generator, centers: torch.Tensor, std: float):
    """Pick a center uniformly for each sample, then add isotropic Gaussian noise."""
    idx = torch.randint(len(centers), (n,), generator=g)
    return centers[idx] + std * torch.randn(n, 2, generator=g)


def _branch(n: int, g: torch.Generator) -> torch.Tensor:
    """A fair coin per sample: which of the two components (moon, circle, spiral) it is on."""
    return torch.randint(2, (n,), generator=g).bool()


def _moons(n: int, g: torch.Generator, std: float):
    """sklearn's make_moons, with random (not evenly spaced) angles, centred on the origin."""
    t = math.pi * torch.rand(n, generator=g)
    lower = _branch(n, g)
    x = torch.where(lower, 1 - torch.cos(t), torch.cos(t)) - 0.5
    y = torch.where(lower, 0.5 - torch.sin(t), torch.sin(t)) - 0.25
    return torch.stack([x, y], dim=1) + std * torch.randn(n, 2, generator=g)


def _circles(n: int, g: torch.Generator, std: float):
    """sklearn's make_circles(factor=0.5): radii 1 and 0.5, half the samples on each."""
    t = 2 * math.pi * torch.rand(n, generator=g)
    r = torch.where(_branch(n, g), 0.5, 1.0)
    return r[:, None] * torch.stack([torch.cos(t), torch.sin(t)], dim=1) \
        + std * torch.randn(n, 2, generator=g)


def _spiral(n: int, g: torch.Generator, std: float):
    """FFJORD's 2spirals: angle t = sqrt(u) * 3pi (even density along the arm), radius t,
    the second arm the first rotated by 180 degrees; divided by 3 so it spans about [-3.2, 3.2].
    FFJORD's extra uniform jitter is left out: the noise is Gaussian with `std` only."""
    t = torch.sqrt(torch.rand(n, generator=g)) * 3 * math.pi
    arm = torch.stack([-torch.cos(t) * t, torch.sin(t) * t], dim=1) / 3
    sign = torch.where(_branch(n, g), -1.0, 1.0)
    return sign[:, None] * arm + std * torch.randn(n, 2, generator=g)


def _swissroll(n: int, g: torch.Generator, std: float):
    """sklearn make_swiss_roll(noise=std)[:, [0, 2]] / 7.5, as in WGAN-GP's gan_toy.py.
    The noise is added before the scaling (as sklearn does), so its effective std is std/7.5."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g))
    roll = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    return (roll + std * torch.randn(n, 2, generator=g)) / _SWISSROLL_SCALE


def _checkerboard(n: int, g: torch.Generator, std: float):
    """FFJORD's checkerboard: uniform on the 8 black squares of a 4x4 board on [-4, 4]^2.
    `std` is accepted for a uniform signature and ignored."""
    x = 4 * torch.rand(n, generator=g) - 2
    y = torch.rand(n, generator=g) - 2 * torch.randint(2, (n,), generator=g)
    y = y + torch.floor(x).remainder(2)
    return 2 * torch.stack([x, y], dim=1)
