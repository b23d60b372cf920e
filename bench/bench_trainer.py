"""Trainer speed against a plain PyTorch GAN loop written the usual way, in one process.

    python bench/bench_trainer.py [--steps 1500] [--repeats 3]

Same networks, batch size, data sampler and update order (k=1 D step on a fresh batch, then one
G step). The plain loop uses PyTorch's defaults (all cores' threads, Adam without fused
kernels, D's weights receiving gradients during G's step, a detached-but-recorded fake batch).
Prints steps/s of both, their ratio, and the cost of one snapshot at grid 100.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from gan_core import tuning
from gan_core.config import TrainConfig
from gan_core.distributions import make_distribution
from gan_core.models import build_models
from gan_core.training import Trainer


def plain_loop(config: TrainConfig, steps: int) -> float:
    """The reference: a textbook non-saturating GAN loop. Returns steps/s."""
    G, D = build_models(config)
    data = make_distribution(config)
    rng = torch.Generator().manual_seed(config.seed)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2))
    n = config.batch_size
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
    losses = []
    start = time.perf_counter()
    for _ in range(steps):
        real = data.sample(n, rng)
        fake = G(torch.randn(n, config.latent_dim, generator=rng))
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        fake = G(torch.randn(n, config.latent_dim, generator=rng))
        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        losses.append((d_loss.item(), g_loss.item()))
    return steps / (time.perf_counter() - start)


def trainer_loop(config: TrainConfig, steps: int) -> float:
    tuning.for_training()          # what the app and the CLI opt into: one thread
    trainer = Trainer(config, record_every=10**9)    # no replay snapshots inside the timing
    start = time.perf_counter()
    trainer.step(steps)
    return steps / (time.perf_counter() - start)


def snapshot_ms(config: TrainConfig, repeats: int = 20) -> float:
    tuning.for_training()
    trainer = Trainer(config, record_every=10**9)
    trainer.step(100)
    trainer.snapshot(grid=100)
    start = time.perf_counter()
    for _ in range(repeats):
        trainer.snapshot(grid=100, w1_samples=0)
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = TrainConfig()
    default_threads = torch.get_num_threads()
    plain, ours = [], []
    for _ in range(args.repeats):          # interleaved, best of each: fair under noise
        torch.set_num_threads(default_threads)
        plain.append(plain_loop(config, args.steps))
        ours.append(trainer_loop(config, args.steps))
    best_plain, best_ours = max(plain), max(ours)
    print(f"default config: G/D {config.g_depth}x{config.g_width}, batch {config.batch_size}, "
          f"{args.steps} iterations, best of {args.repeats}")
    print(f"plain PyTorch loop : {best_plain:8.0f} it/s  ({default_threads} threads)")
    print(f"gan_core Trainer   : {best_ours:8.0f} it/s")
    print(f"ratio              : {best_ours / best_plain:8.2f}x")
    print(f"snapshot at grid 100 (1,000 samples, push, manifold, mode metrics): "
          f"{snapshot_ms(config):.1f} ms")


if __name__ == "__main__":
    main()
