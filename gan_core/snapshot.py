"""Snapshot: everything a view draws of one moment of a run, as plain NumPy arrays.

It is the only thing that crosses from the engine to the UI, so it holds no tensors and no
reference to a model; a list of snapshots is a replayable, exportable run.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np


WASSERSTEIN_LOSSES = ("wgan", "wgan-gp")


@dataclass
class Snapshot:
    iteration: int
    real: np.ndarray                 # (n, 2) real samples
    fake: np.ndarray                 # (m, 2) generated samples for the run's fixed latent batch
    push: np.ndarray                 # (m, 2) -grad_x of the generator loss at each fake sample
    grid_x: np.ndarray               # (N,) x coordinates of the D grid
    grid_y: np.ndarray               # (N,) y coordinates of the D grid
    surface: np.ndarray              # (N, N) D on the grid, surface[i, j] at (grid_x[j], grid_y[i])
    surface_kind: str                # "probability" (sigmoid of D's logit), "score" (LSGAN's
                                     # raw output, targets 0/1) or "critic" (WGAN / hinge value)
    view_box: tuple                  # (xmin, xmax, ymin, ymax)
    manifold: np.ndarray | None = None   # (L, L, 2) image of a latent grid, latent_dim <= 2
    centers: np.ndarray | None = None    # (M, 2) mode centers for mixtures
    mode_counts: np.ndarray | None = None  # (M,) high-quality fakes nearest each center
    metrics: dict = field(default_factory=dict)
    loss: str = ""
    status: str = ""                 # "" or e.g. "diverged at iteration 812"
    fake_avg: np.ndarray | None = None   # (m, 2) the averaged G's samples (config.ema > 0)
    metrics_avg: dict = field(default_factory=dict)   # the averaged G's metrics, if any

    @property
    def verdict(self) -> str | None:
        """The verdict of the samples this moment shows (gan_core.metrics; "diverged" once the
        run stopped on NaN/inf); None for data without modes. Snapshots recorded before
        verdicts existed are judged from their metrics."""
        if self.status:
            return "diverged"
        if "verdict" in self.metrics:
            return self.metrics["verdict"]
        from .metrics import verdict
        return verdict(self.metrics)

    @functools.cached_property
    def decision_level(self) -> float:
        """The surface value where D cannot tell real from fake: halfway between its targets
        (probability and LSGAN 0.5, hinge 0). A Wasserstein critic has no targets (adding a
        constant changes neither loss), so its level is halfway between its mean on the real
        and on the generated samples. (Kept once computed: a snapshot's samples and surface
        do not change, and a frame reads the level several times.)"""
        if self.loss in WASSERSTEIN_LOSSES:
            return self.critic_midpoint()
        return 0.0 if self.surface_kind == "critic" else 0.5

    def surface_at(self, points: np.ndarray) -> np.ndarray:
        """The surface at each (x, y) point, from the nearest grid node."""
        pts = np.asarray(points, dtype=float).reshape(-1, 2)
        j = np.abs(pts[:, :1] - np.asarray(self.grid_x)[None, :]).argmin(axis=1)
        i = np.abs(pts[:, 1:] - np.asarray(self.grid_y)[None, :]).argmin(axis=1)
        return np.asarray(self.surface, dtype=float)[i, j]

    def critic_midpoint(self) -> float:
        means = [np.nanmean(self.surface_at(p)) for p in (self.real, self.fake) if len(p)]
        level = float(np.mean(means)) if len(means) == 2 else float("nan")
        if not np.isfinite(level):
            finite = np.asarray(self.surface, dtype=float)
            finite = finite[np.isfinite(finite)]
            level = float(np.median(finite)) if finite.size else 0.0
        return level
