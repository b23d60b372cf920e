"""The game's Jacobian at the current parameters: its leading eigenvalues, and where
simultaneous gradient steps at the current learning rates contract (Mescheder et al. 2017,
"The numerics of GANs"; Berard et al. 2020, "A closer look at the optimization landscapes of
GANs").

The two players follow the vector field v(w) = -(∇_θ L_G, ∇_ψ L_D), w = (θ, ψ) the weights of
G and D; its Jacobian J = ∂v/∂w is not symmetric (a game, not one loss). Near a stationary
point, simultaneous gradient descent w ← w + Λ v(w) (Λ: each weight's learning rate) behaves
like its linearisation, whose map has the eigenvalues 1 + μ, μ those of ΛJ. It contracts when
every |1 + μ| < 1. Here the eigenvalues are reported as λ = μ / η with η = lr_d, i.e. those of
(Λ/η) J, J itself when lr_g = lr_d: the contraction region is then the disk of centre -1/η and
radius 1/η. An eigenvalue with Re λ > 0 pushes away (divergence); a large |Im λ| / |Re λ|
means rotation (cycling) rather than attraction. The region describes plain simultaneous
steps: Adam, alternating updates and k > 1 change the map (the picture is then a guide).

J is never formed: ARPACK (`scipy.sparse.linalg.eigs`) works on a `LinearOperator` whose
product Jᵀu is one reverse pass through the graph of v (a Hessian-vector product; Jᵀ has J's
eigenvalues). The losses are evaluated on one fixed batch (seeded), on float32 copies of the
weights (`Trainer.state()`; float64 on request), so the live run is never touched. ARPACK's
restarts are capped: if the rightmost eigenvalues have not converged by then, those that
have are reported (the figures stay within about a second for the default nets; see
bench/bench_spectrum.py). Instance noise and WGAN's
weight clipping are left out (neither is part of the gradient field).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigs

from . import objectives as obj
from .config import TrainConfig
from .models import build_models, sample_latent

BATCH = 256                      # samples of each kind in the fixed batch
LEADING = 4                      # eigenvalues asked of ARPACK per end of the spectrum
RESTARTS = 8                     # ARPACK restarts at most: ~120 products, bounded time


@dataclass(frozen=True)
class Spectrum:
    """The leading eigenvalues of (Λ/lr_ref) J at one iteration."""
    iteration: int
    eigenvalues: np.ndarray      # complex, the rightmost and the largest, each once
    lr_ref: float                # η: the contraction region is |1 + η λ| < 1
    seconds: float               # what the computation took

    @property
    def max_real(self) -> float:
        """Largest real part: > 0 means a direction the game is pushed away along."""
        return float(self.eigenvalues.real.max()) if len(self.eigenvalues) else float("nan")

    @property
    def rotation(self) -> float:
        """Largest |Im λ| / |Re λ|: rotation against attraction (inf for a pure rotation)."""
        ev = self.eigenvalues
        if not len(ev):
            return float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(ev.imag) / np.abs(ev.real)
        ratio = np.where(np.abs(ev.imag) == 0, 0.0, ratio)
        return float(ratio.max())

    @property
    def region(self) -> tuple[complex, float]:
        """(centre, radius) of the disk where simultaneous steps contract."""
        return complex(-1.0 / self.lr_ref, 0.0), 1.0 / self.lr_ref

    @property
    def contracts(self) -> bool:
        """Every computed eigenvalue inside the region."""
        return bool(np.all(np.abs(1.0 + self.lr_ref * self.eigenvalues) < 1.0))


def game_field(G, D, config: TrainConfig, real: torch.Tensor, z: torch.Tensor,
               t: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(-∇_θ L_G, -∇_ψ L_D) with the graph kept, on a fixed batch: the game's vector field.

    D's loss sees G's samples without detaching them, so J holds ∂(∇_ψ L_D)/∂θ, and the
    penalties (R1, R2, WGAN-GP with interpolation weights `t`) are differentiated through.
    """
    fake = G(z)
    real = real.detach().requires_grad_(config.r1 > 0)
    r, f = D(real), D(fake)
    d_loss = obj.D_LOSSES[config.loss](r, f)
    if config.r1 > 0:
        d_loss = d_loss + obj.zero_centred_penalty(_input_grad(r, real), config.r1)
    if config.r2 > 0:
        d_loss = d_loss + obj.zero_centred_penalty(_input_grad(f, fake), config.r2)
    if config.loss == "wgan-gp":
        mix = t * real.detach() + (1 - t) * fake
        grad = _input_grad(D(mix), mix)
        d_loss = d_loss + config.gp_weight * ((grad.norm(dim=1) - 1) ** 2).mean()
    g_loss = obj.G_LOSSES[config.loss](f)
    g_params, d_params = list(G.parameters()), list(D.parameters())
    v_g = torch.autograd.grad(g_loss, g_params, create_graph=True)
    v_d = torch.autograd.grad(d_loss, d_params, create_graph=True)
    return [-g for g in v_g], [-g for g in v_d]


def _input_grad(score: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return grad


def _copies(trainer, dtype: torch.dtype):
    """Copies of G and D with the trainer's current weights."""
    state = trainer.state()
    G, D = build_models(trainer.config)
    G.load_state_dict(state["G"])
    D.load_state_dict(state["D"])
    return G.to(dtype), D.to(dtype)


def fixed_batch(trainer, n: int = BATCH, dtype: torch.dtype = torch.float32):
    """(real, z, t): one seeded batch, the same at every call for a run."""
    rng = torch.Generator().manual_seed(trainer.config.seed + 7)
    real = trainer.data.sample(n, rng).to(dtype)
    z = sample_latent(trainer.config, n, rng).to(dtype)
    t = torch.rand(n, 1, generator=rng).to(dtype)
    return real, z, t


def field_operator(G, D, config: TrainConfig, batch) -> tuple[LinearOperator, float]:
    """(u ↦ ((Λ/η) J)ᵀ u as a LinearOperator, η): see the module docstring."""
    v_g, v_d = game_field(G, D, config, *batch)
    v = torch.cat([g.reshape(-1) for g in v_g + v_d])
    params = list(G.parameters()) + list(D.parameters())
    n_g = sum(p.numel() for p in G.parameters())
    lr_ref = config.lr_d
    scale = torch.ones(len(v), dtype=v.dtype)
    scale[:n_g] = config.lr_g / lr_ref

    def rmatvec(u: np.ndarray) -> np.ndarray:
        u = torch.from_numpy(np.asarray(u, dtype=np.float64).reshape(-1)).to(v.dtype) * scale
        grads = torch.autograd.grad(v, params, grad_outputs=u, retain_graph=True,
                                    allow_unused=True)
        out = torch.cat([torch.zeros(p.numel(), dtype=v.dtype) if g is None
                         else g.reshape(-1) for p, g in zip(params, grads)])
        return out.numpy().astype(np.float64)

    return LinearOperator((len(v), len(v)), matvec=rmatvec, dtype=np.float64), lr_ref


def leading_eigenvalues(op: LinearOperator, k: int = LEADING, tol: float = 1e-3,
                        restarts: int = RESTARTS, seed: int = 0) -> np.ndarray:
    """The k rightmost and the k largest eigenvalues of `op` (duplicates dropped)."""
    n = op.shape[0]
    k = min(k, n - 2)
    if k < 1:
        raise ValueError("the game has too few parameters for ARPACK (need at least 3)")
    v0 = np.random.default_rng(seed).standard_normal(n)
    found = []
    for which in ("LR", "LM"):           # the rightmost, then the largest
        try:
            found.append(eigs(op, k=k, which=which, tol=tol, v0=v0, ncv=min(n, 4 * k + 1),
                              maxiter=restarts, return_eigenvectors=False))
        except ArpackNoConvergence as err:          # keep what converged
            found.append(np.asarray(err.eigenvalues))
    values = np.concatenate(found) if found else np.zeros(0, dtype=complex)
    return _unique(values.astype(complex), tol)


def _unique(values: np.ndarray, tol: float) -> np.ndarray:
    scale = max(float(np.abs(values).max()) if len(values) else 1.0, 1e-12)
    kept: list[complex] = []
    for v in values[np.argsort(-values.real)]:
        if all(abs(v - w) > 10 * tol * scale for w in kept):
            kept.append(v)
    return np.array(kept, dtype=complex)


def game_spectrum(trainer, k: int = LEADING, batch_size: int = BATCH,
                  dtype: torch.dtype = torch.float32, restarts: int = RESTARTS,
                  tol: float = 1e-3) -> Spectrum:
    """The leading eigenvalues of the game's Jacobian at `trainer`'s current weights (any
    object with Trainer's `state()`, `config`, `data` and `iteration`)."""
    start = time.perf_counter()
    G, D = _copies(trainer, dtype)
    op, lr_ref = field_operator(G, D, trainer.config, fixed_batch(trainer, batch_size, dtype))
    values = leading_eigenvalues(op, k, tol, restarts)
    return Spectrum(trainer.iteration, values, lr_ref, time.perf_counter() - start)


class SpectrumHistory:
    """The history figures: largest real part and rotation ratio, per computed iteration."""

    def __init__(self, capacity: int = 2_000):
        self.capacity = capacity
        self.iterations: list[int] = []
        self.max_real: list[float] = []
        self.rotation: list[float] = []

    def append(self, spectrum: Spectrum) -> None:
        if self.iterations and spectrum.iteration <= self.iterations[-1]:
            self.truncate(spectrum.iteration - 1)         # a replay or a fork went back
        self.iterations.append(spectrum.iteration)
        self.max_real.append(spectrum.max_real)
        self.rotation.append(spectrum.rotation)
        if len(self.iterations) > self.capacity:          # thin out, as Trainer's records
            for name in ("iterations", "max_real", "rotation"):
                setattr(self, name, getattr(self, name)[::2])

    def truncate(self, iteration: int) -> None:
        keep = sum(1 for i in self.iterations if i <= iteration)
        for name in ("iterations", "max_real", "rotation"):
            setattr(self, name, getattr(self, name)[:keep])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"iteration": np.array(self.iterations, dtype=int),
                "max_real": np.array(self.max_real, dtype=float),
                "rotation": np.array(self.rotation, dtype=float)}


def finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None
