"""What a run shows, apart from training it: generated samples, final metrics and verdict,
events, and the snapshots the views draw (samples, D's surface, G's push vectors, manifold).

`Looking` is a part of Trainer (its base class), kept in a module of its own so that
training.py holds the training. It reads the run's models, data and config; looking never
changes how the run trains (D is in eval mode meanwhile, and every sample it draws comes from
a generator of its own).
"""
from __future__ import annotations

import numpy as np
import torch

from . import objectives as obj
from .locking import locked
from .metrics import evaluate, history_events, verdict
from .models import latent_grid, sample_latent
from .snapshot import Snapshot

VIEW_SAMPLES = 1000      # fixed latent batch drawn in every snapshot
SNAPSHOT_W1_SAMPLES = 250  # exact OT costs ~O(n^3): small in snapshots, 1,000 in final metrics


class Looking:
    """Trainer's methods for looking at the game (see the module docstring)."""

    @locked
    def generate(self, n: int, seed: int | None = None, averaged: bool = False) -> np.ndarray:
        """n generated samples from a latent batch of its own seed (default: the run's + 5);
        `averaged`: from the averaged G (generator averaging must be on)."""
        G = self.G_avg if averaged else self.G
        if G is None:
            raise ValueError("averaged: generator averaging is off (ema = 0)")
        rng = torch.Generator().manual_seed(self.config.seed + 5 if seed is None else seed)
        with torch.inference_mode():
            return G(sample_latent(self.config, n, rng)).numpy().astype(np.float64)

    @locked
    def final_metrics(self, n: int = 2500, w1_samples: int = 1000,
                      averaged: bool = False) -> dict:
        """The literature's evaluation: 2,500 fresh samples, exact w1 on 1,000 of them (of the
        averaged G with `averaged`)."""
        real = self.data.sample(n, torch.Generator().manual_seed(self.config.seed + 6))
        return self._judged(evaluate(self.generate(n, averaged=averaged),
                                     real.numpy().astype(np.float64), self.data,
                                     w1_samples=w1_samples))

    def _judged(self, metrics: dict) -> dict:
        """`metrics` with the verdict of this run: "diverged" once it stopped on NaN/inf,
        however finite its last good samples are."""
        metrics["verdict"] = verdict(metrics, self.status)
        if metrics.get("collapsed") is not None:
            metrics["collapsed"] = metrics["verdict"] == "mode collapse"
        return metrics

    def events(self) -> list[dict]:
        """Where the verdict changed and a collapsed G hopped, at the recorded moments (see
        metrics.events), ending with "diverged" where a run stopped on NaN/inf."""
        return history_events(self.metric_history.as_arrays(), self.status, self.iteration)

    @locked
    def snapshot(self, grid: int = 60, n_samples: int = VIEW_SAMPLES, manifold: int = 21,
                 w1_samples: int = SNAPSHOT_W1_SAMPLES) -> Snapshot:
        """What the views draw now: samples, D's surface, G's push vectors, manifold, metrics.

        D is put in eval mode meanwhile, so that looking never advances spectral norm's power
        iteration: a run that is watched trains exactly like one that is not.
        """
        self.D.eval()
        try:
            return self._snapshot(grid, n_samples, manifold, w1_samples)
        finally:
            self.D.train()

    def _snapshot(self, grid: int, n_samples: int, manifold: int, w1_samples: int) -> Snapshot:
        fake_t = self.G(self.view_z[:n_samples]).detach()
        xs, ys, surface = self._surface(grid)
        return self.snapshot_of(fake_t, self._push(fake_t), xs, ys, surface,
                                self.manifold_points(manifold), w1_samples)

    def snapshot_of(self, fake_t: torch.Tensor, push: np.ndarray, xs: np.ndarray,
                    ys: np.ndarray, surface: np.ndarray, manifold: np.ndarray | None,
                    w1_samples: int = SNAPSHOT_W1_SAMPLES) -> Snapshot:
        """The Snapshot of these views of the run, with its metrics and verdict: the views
        computed by the run itself (`snapshot`) or, for several runs in one batched pass, by the
        stacked engine (gan_core.stacked.Stack.snapshots). `fake_t` are G's outputs on the
        first len(fake_t) latent codes of `view_z`."""
        cfg, n_samples = self.config, len(fake_t)
        real = self.view_real[:n_samples].numpy()
        fake = fake_t.numpy()
        metrics = self._judged(evaluate(fake.astype(np.float64), real.astype(np.float64),
                                        self.data, w1_samples=w1_samples))
        counts = metrics.pop("mode_counts", None)
        fake_avg, metrics_avg = None, {}
        if self.G_avg is not None:
            fake_avg = self.G_avg(self.view_z[:n_samples]).detach().numpy()
            metrics_avg = evaluate(fake_avg.astype(np.float64), real.astype(np.float64),
                                   self.data, w1_samples=w1_samples)
            metrics_avg.pop("mode_counts", None)
        return Snapshot(
            iteration=self.iteration, real=real, fake=fake, push=push,
            grid_x=xs, grid_y=ys, surface=surface,
            surface_kind=("probability" if cfg.uses_sigmoid
                          else "score" if cfg.loss == "lsgan" else "critic"),
            view_box=tuple(self.data.view_box), manifold=manifold,
            centers=self.data.centers,
            mode_counts=None if counts is None else np.asarray(counts),
            metrics=metrics, loss=cfg.loss, status=self.status, fake_avg=fake_avg,
            metrics_avg=metrics_avg)

    def surface_grid(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The n x n grid over the view box D's surface is drawn on: xs, ys, points (n*n, 2),
        row by row from the bottom."""
        x0, x1, y0, y1 = self.data.view_box
        xs, ys = torch.linspace(x0, x1, n), torch.linspace(y0, y1, n)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        return xs, ys, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)

    def _surface(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs, ys, points = self.surface_grid(n)
        with torch.inference_mode():
            score = self.D(points).reshape(n, n)
            if self.config.uses_sigmoid:
                score = torch.sigmoid(score)
        return xs.numpy(), ys.numpy(), score.numpy()

    def _push(self, fake: torch.Tensor) -> np.ndarray:
        """-∇ₓ of each fake sample's own generator loss: where G's update moves it."""
        x = fake.detach().requires_grad_(True)
        per_sample = obj.G_LOSSES[self.config.loss](self.D(x)) * len(x)
        (grad,) = torch.autograd.grad(per_sample, x)
        return (-grad).numpy()

    def manifold_points(self, n: int) -> np.ndarray | None:
        """G's image of an n x n grid of latent codes, (n, n, 2); None when the latent has no
        such grid (models.latent_grid)."""
        z = latent_grid(self.config, n)
        if z is None:
            return None
        with torch.inference_mode():
            points = self.G(z).numpy()
        return points.reshape(-1, n, 2)
