"""Snapshot: everything a view draws of one moment of a run, as plain NumPy arrays.

It is the only thing that crosses from the engine to the UI, so it holds no tensors and no
reference to a model; a list of snapshots is a replayable, exportable run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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

    @property
    def decision_level(self) -> float:
        """The surface value where D cannot tell real from fake: halfway between its targets."""
        return 0.0 if self.surface_kind == "critic" else 0.5
