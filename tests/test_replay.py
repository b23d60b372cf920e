"""Replay and fork: recorded points keep the run's state; a fork continues from one exactly."""
from __future__ import annotations

import pytest
import torch

from gan_core.config import TrainConfig
from gan_core.training import Trainer

SMALL = TrainConfig(g_width=16, d_width=16, g_depth=2, d_depth=2, batch_size=64)


def weights(trainer):
    return [p.detach().clone() for p in list(trainer.G.parameters()) + list(trainer.D.parameters())]


def test_checkpoints_follow_records():
    trainer = Trainer(SMALL, record_every=10, max_records=4)
    trainer.step(100)
    assert len(trainer.checkpoints) == len(trainer.records) <= 5
    assert [c["iteration"] for c in trainer.checkpoints] == [r.iteration for r in trainer.records]


def test_fork_without_changes_replays_the_run_bit_identically():
    run = Trainer(SMALL, record_every=20)
    run.step(60)
    index = [r.iteration for r in run.records].index(20)
    fork = run.fork(index)
    assert fork.iteration == 20
    assert len(fork.history) == 20 and fork.history.as_arrays()["iteration"][-1] == 20
    fork.step(40)
    assert all(torch.equal(a, b) for a, b in zip(weights(fork), weights(run)))


def test_fork_with_changed_settings_diverges_from_the_original():
    run = Trainer(SMALL, record_every=20)
    run.step(40)
    fork = run.fork(1, lr_g=0.01, loss="hinge")
    assert fork.config.lr_g == 0.01 and fork.config.loss == "hinge"
    assert run.config.loss == "nonsaturating", "the original run is untouched"
    fork.step(20)
    run_at_60 = Trainer(SMALL, record_every=20)
    run_at_60.step(60)
    assert not all(torch.equal(a, b) for a, b in zip(weights(fork), weights(run_at_60)))


def test_training_on_does_not_change_saved_checkpoints():
    run = Trainer(SMALL, record_every=10)
    run.step(10)
    saved = [t.clone() for t in run.checkpoints[-1]["G"].values()]
    run.step(30)
    assert all(torch.equal(a, b) for a, b in zip(saved, run.checkpoints[1]["G"].values()))


def test_fork_rejects_new_networks_and_bad_points():
    run = Trainer(SMALL, record_every=10)
    run.step(10)
    with pytest.raises(ValueError, match="g_width"):
        run.fork(0, g_width=32)
    with pytest.raises(ValueError, match="index"):
        run.fork(5)


def test_rmsprop_momentum_switched_on_live_keeps_training():
    trainer = Trainer(SMALL.replace(opt_d="rmsprop", opt_g="rmsprop"), record_every=10**9)
    trainer.step(3)
    trainer.update(momentum=0.9)
    assert trainer.step(3) == 3
    assert all(g["momentum"] == 0.9 for g in trainer.opt_d.param_groups)
