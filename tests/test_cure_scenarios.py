"""The cure scenarios (gan_core.scenarios, issue 13): each phenomenon measured at five seeds and
required at four of them at least, so no scenario holds only on the seed it was tuned on.

Same seed, same numbers: the counts are deterministic, not flaky. The numbers found while
tuning are in each test's comment (seeds 0/1/2/3/4).
"""
from __future__ import annotations

import numpy as np
import pytest

from gan_core import scenarios
from gan_core.config import TrainConfig
from gan_core.metrics import nearest_center
from gan_core.training import Trainer

QUIET = 10**9           # record_every: no recording while training

SEEDS = range(5)
POINT = np.array([1.0, 0.5])        # the 2D Dirac-GAN's data point (scenarios.POINT)


def runs(name: str, seed: int | None = None) -> dict[str, TrainConfig]:
    """{label: config} of a scenario, optionally with another seed."""
    out = dict(scenarios.configs(scenarios.get(name)))
    return out if seed is None else {k: c.replace(seed=seed) for k, c in out.items()}


def window(trainer: Trainer, column: str, start: int, stop: int) -> np.ndarray:
    """A training-history column over iterations start < i <= stop."""
    h = trainer.history.as_arrays()
    it = h["iteration"]
    return h[column][(it > start) & (it <= stop)]


def top2(samples: np.ndarray, centers: np.ndarray) -> float:
    """Share of the samples on their two most popular modes: 0.25 when spread evenly over 8."""
    idx, _ = nearest_center(samples, centers)
    shares = np.bincount(idx, minlength=len(centers)) / len(idx)
    return float(np.sort(shares)[-2:].sum())


def holds(per_seed: list[bool]) -> bool:
    return sum(per_seed) >= 4


def mean_distance(trainer: Trainer, averaged: bool = False) -> float:
    """How far the mean of 200 generated samples is from the data point."""
    return float(np.linalg.norm(trainer.generate(200, seed=7, averaged=averaged).mean(0) - POINT))


def test_the_cure_scenarios_exist_and_use_their_method():
    cures = {"unrolled-gan": "unroll", "extragradient": "updates", "consensus": "consensus",
             "negative-momentum": "momentum", "generator-averaging": "ema"}
    for name, field in cures.items():
        configs = scenarios.configs(scenarios.get(name))
        values = {getattr(config, field) for _, config in configs}
        assert len(values) == len(configs) or name == "generator-averaging", name
    assert scenarios.get("generator-averaging").base.ema == 0.99
    assert scenarios.get("extragradient").base.custom_points == (tuple(POINT),)


def measure_unrolled(configs: dict, n_plain: int = 150, n_unrolled: int = 100) -> dict:
    """Modes covered and the share of the two most popular modes, of each run's G."""
    out = {}
    for label, config, n in (("plain", configs["plain GAN"], n_plain),
                             ("unrolled", configs["unrolled, 5 steps"], n_unrolled)):
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n)
        metrics = trainer.final_metrics(n=1000, w1_samples=0)
        out[label] = {"modes": metrics["modes_covered"],
                      "top2": top2(trainer.generate(1000), trainer.data.centers)}
    return out


def test_unrolling_ends_the_collapse_on_the_ring():
    # plain: 1 mode and top2 = 1.0 at every seed; unrolled after 100: 8/8/8/7-8/8 modes,
    # top2 ~0.3 (0.25 is even)
    results = [measure_unrolled(runs("unrolled-gan", seed=s)) for s in SEEDS]
    assert holds([r["plain"]["modes"] <= 2 and r["plain"]["top2"] >= 0.8 for r in results]), \
        results
    assert holds([r["unrolled"]["modes"] >= 7 and r["unrolled"]["top2"] <= 0.45
                  for r in results]), results


def measure_spiral(configs: dict, n: int = 300) -> dict:
    """Per run: the generated mean's distance from the point after n iterations."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n)
        out[label] = mean_distance(trainer)
    return out


def test_extragradient_closes_the_spiral_of_simultaneous_steps():
    # simultaneous: 25/35/48/28/39 away; extragradient: <= 0.02 at every seed
    results = [measure_spiral(runs("extragradient", seed=s)) for s in SEEDS]
    assert holds([r["simultaneous"] > 1.0 for r in results]), results
    assert holds([r["extragradient"] < 0.05 for r in results]), results


def test_consensus_turns_the_spiral_inwards():
    # simultaneous as above; consensus gamma 0.5: <= 0.03 at every seed
    results = [measure_spiral(runs("consensus", seed=s)) for s in SEEDS]
    assert holds([r["simultaneous"] > 1.0 for r in results]), results
    assert holds([r["consensus, gamma = 0.5"] < 0.05 for r in results]), results


def measure_momentum(configs: dict, n: int = 400, last: int = 200, every: int = 10) -> dict:
    """Per run over the last `last` iterations: how far a fixed latent batch's samples move
    between looks `every` iterations apart (RMS), and mean |D(real) - D(fake)|."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n - last)
        moves, before = [], trainer.generate(300, seed=7)
        while trainer.iteration < n:
            trainer.step(every)
            now = trainer.generate(300, seed=7)
            moves.append(np.sqrt(((now - before) ** 2).sum(1).mean()))
            before = now
        gap = window(trainer, "d_real", n - last, n) - window(trainer, "d_fake", n - last, n)
        out[label] = {"jitter": float(np.mean(moves)), "gap": float(np.abs(gap).mean())}
    return out


def test_negative_momentum_calms_alternating_sgd_and_positive_momentum_unsettles_it():
    # jitter none vs -0.5: 1.28/0.97/0.22/0.71/0.21 vs 0.32/0.77/0.09/0.59/0.11;
    # gap +0.5 vs -0.5: 0.31/0.30/0.12/0.36/0.23 vs 0.03/0.28/0.02/0.08/0.02
    results = [measure_momentum(runs("negative-momentum", seed=s)) for s in SEEDS]
    assert holds([r["momentum -0.5"]["jitter"] < r["no momentum"]["jitter"]
                  for r in results]), results
    assert holds([r["momentum +0.5"]["gap"] > 2 * r["momentum -0.5"]["gap"]
                  for r in results]), results


def measure_averaging(config: TrainConfig, n: int = 600, last: int = 300,
                      every: int = 5) -> dict:
    """Over the last `last` iterations, the largest distance of the trained G's and of the
    averaged G's generated mean from the point."""
    trainer = Trainer(config, record_every=QUIET)
    trainer.step(n - last)
    raw, averaged = [], []
    while trainer.iteration < n:
        trainer.step(every)
        raw.append(mean_distance(trainer))
        averaged.append(mean_distance(trainer, averaged=True))
    return {"raw": max(raw), "averaged": max(averaged)}


def test_the_averaged_generator_sits_still_while_the_trained_one_swings():
    # largest distance raw vs averaged: 0.33/0.33/0.44/0.36/0.31 vs 0.02/0.04/0.04/0.04/0.04
    base = scenarios.get("generator-averaging").base
    results = [measure_averaging(base.replace(seed=s)) for s in SEEDS]
    assert holds([r["raw"] > 0.15 for r in results]), results
    assert holds([r["averaged"] < r["raw"] / 3 for r in results]), results


@pytest.mark.parametrize("name", ["extragradient", "consensus", "generator-averaging"])
def test_cure_scenarios_are_listed_with_a_watch_line(name):
    scenario = scenarios.get(name)
    assert scenario.watch and scenario.steps >= 300
