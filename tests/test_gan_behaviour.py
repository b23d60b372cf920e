"""Known GAN behaviour on toy data that a broken engine would fail. Seeded, so not flaky.

These are the slowest tests of the suite (tens of seconds): real training runs.
"""
from __future__ import annotations

import pytest
import torch

from gan_core import objectives
from gan_core.config import TrainConfig
from gan_core.models import sample_latent
from gan_core.training import Trainer


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_nonsaturating_run_covers_the_ring(seed):
    trainer = Trainer(TrainConfig(seed=seed), record_every=10**9)
    trainer.step(3000)
    metrics = trainer.final_metrics(w1_samples=100)
    assert trainer.status == ""
    assert metrics["modes_covered"] >= 7, metrics
    if seed == 1:
        # 7 modes "covered", but 92 % of its samples sit at 4 of them (3 hold nearly every good
        # one): the uneven run the old flag missed; the verdict names it
        assert metrics["concentration"] >= 0.9 and metrics["collapsed"], metrics
    else:
        assert not metrics["collapsed"] and metrics["verdict"] != "diverged", metrics


def generator_gradient_norm(trainer: Trainer, loss: str) -> float:
    """‖∇_θ L_G‖ for `loss`, on one fixed latent batch, against the trainer's current D."""
    z = sample_latent(trainer.config, 512, torch.Generator().manual_seed(123))
    trainer.G.zero_grad(set_to_none=True)
    objectives.G_LOSSES[loss](trainer.D(trainer.G(z))).backward()
    return torch.nn.utils.get_total_norm([p.grad for p in trainer.G.parameters()]).item()


def test_saturating_loss_vanishes_against_a_confident_discriminator():
    """Goodfellow et al.'s reason for the non-saturating loss: early on D rejects fakes with
    confidence, log(1 - D(G(z))) saturates and G barely learns, while -log D(G(z)) does not."""
    trainer = Trainer(TrainConfig(seed=0, loss="minimax"), record_every=10**9)
    for _ in range(400):
        trainer.step_d()
    with torch.no_grad():
        p_fake = torch.sigmoid(trainer.D(trainer.G(trainer.view_z))).mean().item()
    assert p_fake < 0.05, "D should be confident that the untrained G's samples are fake"
    saturating = generator_gradient_norm(trainer, "minimax")
    nonsaturating = generator_gradient_norm(trainer, "nonsaturating")
    assert nonsaturating > 10 * saturating, (saturating, nonsaturating)


def test_minimax_generator_learns_less_than_nonsaturating_early():
    """Seen in training: after D gets ahead, the saturating G moves its samples far less.

    With plain SGD for G: Adam divides the gradient by its own running scale, which hides a
    vanishing gradient (it moves by ~lr whatever the gradient's size)."""
    moved = {}
    for loss in ("minimax", "nonsaturating"):
        config = TrainConfig(seed=0, loss=loss, opt_g="sgd", lr_g=0.05)
        trainer = Trainer(config, record_every=10**9)
        for _ in range(400):
            trainer.step_d()
        before = trainer.generate(500)
        for _ in range(50):
            trainer.step_g()
        moved[loss] = float(((trainer.generate(500) - before) ** 2).sum(1).mean() ** 0.5)
    assert moved["nonsaturating"] > 5 * moved["minimax"], moved


def test_wgan_gp_covers_most_grid_modes():
    config = TrainConfig(dataset="grid", loss="wgan-gp", gp_weight=0.1, k=5, beta2=0.9,
                         seed=0)
    trainer = Trainer(config, record_every=10**9)
    trainer.step(1000)
    metrics = trainer.final_metrics(w1_samples=100)
    assert metrics["modes_covered"] >= 20, metrics
