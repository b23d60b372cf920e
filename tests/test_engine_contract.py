"""The engine contract (gan_core.engine): the stacked engine trains every setting exactly like
the single Trainer, and no setting that changes training goes without such a case.

CASES lists, for every TrainConfig field, runs where that field differs from its default. Each
case trains in float64 as a member of a batched Group and alone, and the two must agree to
~1e-9 (weights, counters, status and history). A field added to TrainConfig (a new loss,
regulariser, optimizer or schedule) fails `test_every_field_has_an_equivalence_case` until it
has a case here: a stacked engine that ignored it would otherwise go unnoticed.
"""
from __future__ import annotations

import itertools
from dataclasses import fields

import numpy as np
import pytest
import torch

from gan_core.batched import STACK_FIELDS, Group, stack_key
from gan_core.config import TrainConfig
from gan_core.training import Trainer

SMALL = dict(g_width=12, d_width=12, batch_size=24)
STEPS = 12
NEVER = 10 ** 9       # no replay snapshots: their exact W1 costs more than the training
POINTS = ((0.0, 0.0), (1.0, 1.0), (2.0, -1.0))

# field -> runs (overrides) where it differs from its default
CASES: dict[str, list[dict]] = {
    "dataset": [{"dataset": "grid"}, {"dataset": "moons"}, {"dataset": "swissroll"}],
    "n_modes": [{"n_modes": 3}],
    "radius": [{"radius": 2.5}],
    "grid_size": [{"dataset": "grid", "grid_size": 3}],
    "spacing": [{"dataset": "grid", "spacing": 1.0}],
    "std": [{"std": 0.2}],
    "custom_points": [{"dataset": "custom", "custom_points": POINTS}],
    "seed": [{"seed": 7}],
    "latent_dim": [{"latent_dim": 4}],
    "latent": [{"latent": "uniform"}],
    "g_width": [{"g_width": 20}],
    "g_depth": [{"g_depth": 2}],
    "d_width": [{"d_width": 20}],
    "d_depth": [{"d_depth": 2}],
    "activation": [{"activation": "leakyrelu"}, {"activation": "tanh"}, {"activation": "elu"}],
    "spectral_norm": [{"spectral_norm": True}],
    "loss": [{"loss": "minimax"}, {"loss": "wgan"}, {"loss": "wgan-gp"}, {"loss": "lsgan"},
             {"loss": "hinge"}],
    "clip": [{"loss": "wgan", "clip": 0.05}],
    "gp_weight": [{"loss": "wgan-gp", "gp_weight": 2.0}],
    "r1": [{"r1": 1.0}],
    "r2": [{"r2": 0.5}],
    "instance_noise": [{"instance_noise": 0.1}],
    "k": [{"k": 3}],
    "k_g": [{"k_g": 2}],
    "lr_d": [{"lr_d": 4e-3}],
    "lr_g": [{"lr_g": 3e-3}],
    "opt_d": [{"opt_d": "sgd", "lr_d": 0.02}, {"opt_d": "rmsprop"}],
    "opt_g": [{"opt_g": "sgd", "lr_g": 0.02}, {"opt_g": "rmsprop"}],
    "beta1": [{"beta1": 0.0}],
    "beta2": [{"beta2": 0.9}],
    "momentum": [{"opt_d": "sgd", "opt_g": "rmsprop", "momentum": 0.5},
                 {"opt_d": "sgd", "opt_g": "sgd", "momentum": -0.5}],
    "batch_size": [{"batch_size": 16}],
    "updates": [{"updates": "simultaneous"}, {"updates": "simultaneous", "k": 2, "k_g": 2},
                {"updates": "extragradient"}, {"updates": "optimistic", "k": 2}],
    # the game optimisers and stabilisers (gan_core.game_updates): never stacked
    "unroll": [{"unroll": 2}],
    "consensus": [{"consensus": 0.5}],
    "ema": [{"ema": 0.9}],
    "pack": [{"pack": 2}],
    "gp_g": [{"gp_g": 0.3}],
}
# Settings the stacked engine never batches (batched.stack_key is None): such a member trains
# with its own Trainer, still in the Group's lockstep, which its case checks too. Every other
# field must reach the stacked engine in at least one of its cases.
NEVER_STACKED = {"spectral_norm", "unroll", "consensus", "ema", "pack", "gp_g"}

ALL_CASES = [(name, case) for name, cases in CASES.items() for case in cases]


def test_every_field_has_an_equivalence_case():
    missing = [f.name for f in fields(TrainConfig) if f.name not in CASES]
    assert missing == [], (f"TrainConfig fields without a batched-vs-single equivalence case: "
                           f"{missing}; add them to CASES in {__file__}")
    default = TrainConfig()
    for name, case in ALL_CASES:
        assert getattr(TrainConfig(**case), name) != getattr(default, name), (name, case)


def test_the_stacked_engine_sees_every_stackable_field():
    unstacked = [name for name, cases in CASES.items() if name not in NEVER_STACKED
                 and all(stack_key(TrainConfig(**{**SMALL, **c})) is None for c in cases)]
    assert unstacked == []


def _params(trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in itertools.chain(trainer.G.parameters(),
                                                        trainer.D.parameters())]


@pytest.mark.parametrize("name, case", ALL_CASES,
                         ids=[f"{n}:{','.join(f'{k}={v}' for k, v in c.items())}"[:60]
                              for n, c in ALL_CASES])
def test_stacked_and_single_engines_agree(float64, name, case):
    if set(case) & set(STACK_FIELDS):      # rows of a stack share these: set them for all
        group = Group(TrainConfig(**{**SMALL, **case}), [{}, {"loss": "hinge", "r1": 0.5}],
                      record_every=NEVER)
    else:                                   # a row of its own next to a default one
        group = Group(TrainConfig(**SMALL), [case, {}], record_every=NEVER)
    stacked = any(len(unit) > 1 for unit in group.grouping)
    assert stacked == all(stack_key(c) is not None for c in group.configs), group.grouping
    group.step(STEPS)
    for config, member in zip(group.configs, group.members, strict=True):
        alone = Trainer(config, record_every=NEVER)
        alone.step(STEPS)
        for x, y in zip(_params(member), _params(alone), strict=True):
            torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-12)
        assert (member.iteration, member.d_updates, member.g_updates, member.status) == (
            alone.iteration, alone.d_updates, alone.g_updates, alone.status)
        ours, theirs = member.history.as_arrays(), alone.history.as_arrays()
        assert ours.keys() == theirs.keys()
        for column in ours:
            np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-9, atol=1e-12,
                                       err_msg=column)
