"""The optimal discriminator of the sigmoid losses: D*(x) = p_data(x) / (p_data(x) + p_g(x)).

For a fixed G, the minimax and non-saturating D loss is minimised by D* (Goodfellow et al.
2014, Prop. 1); the generator only learns about the data through D, so the gap between the
learned D and D* says how well D tells G where the data is. p_data is exact for the mixtures
(ring, grid, gaussian, custom: a sum of isotropic Gaussians); for the other datasets, and for
p_g always, it is a Gaussian kernel density estimate of the samples (Scott's bandwidth).
Everything is computed in log densities, so regions where both densities underflow (far from
all samples) still get the ratio right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit, logsumexp

from .distributions import Distribution
from .models import build_models

CHUNK = 4096                      # points per block of the pairwise kernel sums


@dataclass(frozen=True)
class OptimalD:
    grid_x: np.ndarray            # (N,)
    grid_y: np.ndarray            # (M,)
    surface: np.ndarray           # (M, N): D*(grid_x[j], grid_y[i]) at [i, j], as Snapshot
    gap: float | None             # mean |D - D*| over the real and generated samples
    bandwidth: float              # of p_g's kernel density estimate


def scott_bandwidth(samples: np.ndarray, floor: float = 1e-4) -> float:
    """Scott's rule for an isotropic 2D kernel: σ n^(-1/6), σ the mean per-axis std."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    sigma = float(np.sqrt(samples.var(axis=0).mean())) if len(samples) > 1 else 0.0
    return max(sigma * len(samples) ** (-1 / 6), floor)


def log_kde(points: np.ndarray, samples: np.ndarray, bandwidth: float) -> np.ndarray:
    """log of the Gaussian KDE of `samples` (bandwidth h) at `points`."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    samples = samples[np.isfinite(samples).all(axis=1)]
    if not len(samples):
        return np.full(len(points), -np.inf)
    out = np.empty(len(points))
    norm = math.log(len(samples)) + math.log(2 * math.pi * bandwidth ** 2)
    for start in range(0, len(points), CHUNK):
        block = points[start:start + CHUNK]
        d2 = ((block[:, None, :] - samples[None, :, :]) ** 2).sum(axis=2)
        out[start:start + CHUNK] = logsumexp(-d2 / (2 * bandwidth ** 2), axis=1) - norm
    return out


def log_mixture(points: np.ndarray, data: Distribution) -> np.ndarray:
    """The exact log density of a mixture dataset at `points`."""
    return log_kde_weighted(points, data.centers, data.weights, data.std)


def log_kde_weighted(points, centers, weights, std) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    d2 = ((points[:, None, :] - np.asarray(centers)[None, :, :]) ** 2).sum(axis=2)
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(weights, dtype=np.float64))
    return logsumexp(log_w[None, :] - d2 / (2 * std ** 2), axis=1) - math.log(
        2 * math.pi * std ** 2)


def optimal_d_at(points: np.ndarray, data: Distribution, fake: np.ndarray,
                 real: np.ndarray | None = None, bandwidth: float | None = None
                 ) -> tuple[np.ndarray, float]:
    """(D* at `points`, p_g's bandwidth). `real` samples are needed for non-mixtures only."""
    h = bandwidth or scott_bandwidth(fake)
    if data.is_mixture:
        log_p_data = log_mixture(points, data)
    else:
        if real is None:
            raise ValueError("real: samples of the data are needed for a non-mixture dataset")
        log_p_data = log_kde(points, real, scott_bandwidth(real))
    log_p_g = log_kde(points, fake, h)
    with np.errstate(invalid="ignore"):
        logit = log_p_data - log_p_g
    logit = np.where(np.isnan(logit), 0.0, logit)          # both -inf: no information
    return expit(logit), h


def optimal_d(data: Distribution, fake: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray,
              real: np.ndarray | None = None, d_real: np.ndarray | None = None,
              d_fake: np.ndarray | None = None, bandwidth: float | None = None) -> OptimalD:
    """D* on the grid, and its gap to the learned D when D's probabilities at the `real` and
    `fake` samples (`d_real`, `d_fake`) are given: the mean of |D - D*| over both sets, i.e.
    over the mixture ½(p_data + p_g) where the losses are evaluated."""
    gx, gy = np.meshgrid(np.asarray(grid_x, float), np.asarray(grid_y, float), indexing="xy")
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    fake = np.asarray(fake, dtype=np.float64).reshape(-1, 2)
    surface, h = optimal_d_at(grid, data, fake, real, bandwidth)
    gap = None
    if d_real is not None and d_fake is not None and real is not None:
        points = np.concatenate([np.asarray(real, float).reshape(-1, 2), fake])
        learned = np.concatenate([np.ravel(d_real), np.ravel(d_fake)]).astype(float)
        star, _ = optimal_d_at(points, data, fake, real, h)
        ok = np.isfinite(learned) & np.isfinite(points).all(axis=1)
        gap = float(np.abs(learned[ok] - star[ok]).mean()) if ok.any() else None
    return OptimalD(np.asarray(grid_x, float), np.asarray(grid_y, float),
                    surface.reshape(len(grid_y), len(grid_x)), gap, h)


def optimal_d_of(trainer, snapshot) -> OptimalD | None:
    """D* for a snapshot of `trainer`'s run, on the snapshot's grid, with the gap to the
    learned D at the snapshot's samples; None unless the loss is a sigmoid one (minimax,
    non-saturating). D is evaluated on a copy of its current weights (`Trainer.state()`), so
    call it right after the snapshot."""
    if not trainer.config.uses_sigmoid:
        return None
    _, D = build_models(trainer.config)
    D.load_state_dict(trainer.state()["D"])
    D.eval()
    with torch.inference_mode():
        d_real, d_fake = (torch.sigmoid(D(torch.as_tensor(np.asarray(x, np.float32)))).numpy()
                          for x in (snapshot.real, snapshot.fake))
    return optimal_d(trainer.data, snapshot.fake, snapshot.grid_x, snapshot.grid_y,
                     real=snapshot.real, d_real=d_real, d_fake=d_fake)
