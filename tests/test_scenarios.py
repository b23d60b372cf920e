"""Lecture scenarios: valid data, and each one shows its phenomenon, measured, with its own seed.

Each `measure_*` function trains the scenario's runs for the fewest iterations that show the
effect and returns the numbers the assertions use (so they can be printed for other seeds while
tuning: `measure_k_steps(runs("k-steps", seed=1))`). Same seed, same numbers: not flaky.
The whole file takes about a minute on a busy 2-core machine (~35 s of CPU time).
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from gan_core import scenarios
from gan_core.config import TrainConfig
from gan_core.metrics import nearest_center
from gan_core.training import Trainer

QUIET = 10**9           # record_every: no recording while training


def runs(name: str, seed: int | None = None) -> dict[str, TrainConfig]:
    """{label: config} of a scenario, optionally with another seed."""
    out = dict(scenarios.configs(scenarios.get(name)))
    return out if seed is None else {k: c.replace(seed=seed) for k, c in out.items()}


def window(trainer: Trainer, column: str, start: int, stop: int) -> np.ndarray:
    """A training-history column over iterations start < i <= stop."""
    h = trainer.history.as_arrays()
    it = h["iteration"]
    return h[column][(it > start) & (it <= stop)]


def mode_shares(samples: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Fraction of the samples whose nearest mode is each center, however far away they lie."""
    idx, _ = nearest_center(samples, centers)
    return np.bincount(idx, minlength=len(centers)) / len(idx)


def top2(samples: np.ndarray, centers: np.ndarray) -> float:
    """Share of the samples on their two most popular modes: 0.25 when spread evenly over 8."""
    return float(np.sort(mode_shares(samples, centers))[-2:].sum())


# ---------------------------------------------------------------------- the data itself
def test_the_public_names_exist_and_every_scenario_is_well_formed():
    required = {"mode-collapse", "saturation", "k-steps", "learning-rates",
                "wgan-clipping-vs-gp", "r1-regularisation"}
    assert required <= set(scenarios.SCENARIOS)
    for name, scenario in scenarios.SCENARIOS.items():
        assert scenario.name == name
        assert name == name.lower() and " " not in name and name.isascii()
        assert scenario.title.strip() and scenario.watch.strip()
        assert "\n" not in scenario.watch
        text = scenario.explanation.replace("et al.", "et al").replace("e.g.", "eg")
        sentences = re.findall(r"[.!?](?:\s|$)", text)
        assert 3 <= len(sentences) <= 6, (name, len(sentences))
        assert scenario.steps > 0
        assert isinstance(scenario.base, TrainConfig)
        labels = [label for label, _ in scenario.variants]
        assert len(labels) == len(set(labels)) and all(labels)
        for _, overrides in scenario.variants:
            assert isinstance(overrides, dict) and overrides


def test_configs_are_valid_distinct_and_keep_the_seed():
    for scenario in scenarios.SCENARIOS.values():
        runs_ = scenarios.configs(scenario)
        assert runs_ and all(isinstance(c, TrainConfig) for _, c in runs_)
        for _, config in runs_:       # a full round trip through validation
            assert TrainConfig.from_dict(dataclasses.asdict(config)) == config
            assert config.seed == scenario.base.seed
        if scenario.variants:
            assert [label for label, _ in runs_] == [label for label, _ in scenario.variants]
            assert len({c for _, c in runs_}) == len(runs_), "variants must differ"
        else:
            assert runs_ == [("", scenario.base)]


def test_configs_without_variants_is_the_base_alone():
    single = scenarios.Scenario(name="single", title="t", explanation="a. b. c.", watch="w",
                                base=TrainConfig(), variants=(), steps=10)
    assert scenarios.configs(single) == [("", TrainConfig())]


def test_get_returns_the_scenario_and_unknown_names_list_the_choices():
    assert scenarios.get("mode-collapse") is scenarios.SCENARIOS["mode-collapse"]
    with pytest.raises(ValueError) as err:
        scenarios.get("no-such-scenario")
    message = str(err.value)
    assert "no-such-scenario" in message
    assert all(name in message for name in scenarios.SCENARIOS)
    with pytest.raises(ValueError):
        scenarios.get(None)


def test_a_bad_override_or_duplicate_label_is_refused_when_the_scenario_is_made():
    with pytest.raises(ValueError, match="lr_q"):
        scenarios.Scenario(name="x", title="t", explanation="e", watch="w", base=TrainConfig(),
                           variants=(("a", {"lr_q": 1.0}),), steps=1)
    with pytest.raises(ValueError, match="lr_d"):
        scenarios.Scenario(name="x", title="t", explanation="e", watch="w", base=TrainConfig(),
                           variants=(("a", {"lr_d": -1.0}),), steps=1)
    with pytest.raises(ValueError, match="unique"):
        scenarios.Scenario(name="x", title="t", explanation="e", watch="w", base=TrainConfig(),
                           variants=(("a", {"k": 2}), ("a", {"k": 3})), steps=1)


def test_scenarios_are_frozen_and_hashable():
    scenario = scenarios.get("saturation")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.steps = 1
    assert len({scenario, scenarios.get("saturation")}) == 1


# ---------------------------------------------------------------------- the phenomena
def measure_mode_collapse(configs: dict, n_collapse: int = 300, n_fixed: int = 200) -> dict:
    """Collapsing run: every 50 iterations from 100 on, the modes covered, the share of the
    samples on their two most popular modes and the most popular mode (it changes: hopping).
    Fixed run: the literature's final metrics after n_fixed iterations."""
    trainer = Trainer(configs["collapsing"], record_every=50)
    trainer.step(n_collapse)
    recs = [r for r in trainer.records if r.iteration >= 100]
    collapsing = {
        "modes": [int(r.metrics["modes_covered"]) for r in recs],
        "top2": [top2(r.fake, r.centers) for r in recs],
        "dominant": [int(np.argmax(mode_shares(r.fake, r.centers))) for r in recs],
    }
    fixed = Trainer(configs["fixed"], record_every=QUIET)
    fixed.step(n_fixed)
    metrics = fixed.final_metrics(w1_samples=200)
    return {"collapsing": collapsing, "fixed_modes": metrics["modes_covered"],
            "fixed_top2": top2(fixed.generate(2500), fixed.data.centers)}


def test_mode_collapse_collapses_and_hops_while_the_fix_covers_all_modes():
    # seeds 0/1/2: collapsing top2 = 1.0 at every record, <= 2 modes, dominant modes
    # 0,7,5,4,2 / 5,4,3,0,0 / 1,6,1,1,1; fixed after 200: 8/8/8 modes, top2 0.35/0.31/0.36
    m = measure_mode_collapse(runs("mode-collapse"))
    c = m["collapsing"]
    assert max(c["modes"]) <= 3, m            # never more than 3 modes at any record
    assert min(c["top2"]) >= 0.8, m           # nearly all samples on one or two modes
    assert len(set(c["dominant"])) >= 3, m    # ...and which mode that is keeps changing
    assert m["fixed_modes"] >= 7, m           # the same fast G with k=5 covers the ring
    assert m["fixed_top2"] <= 0.45, m         # ...evenly (0.25 is perfect)


def measure_saturation(configs: dict, n: int = 100) -> dict:
    """Per loss: median G gradient norm over iterations 50..n, the RMS distance the samples
    of one latent batch moved, and D's mean P(real) on the fakes."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        before = trainer.generate(500)
        trainer.step(n)
        moved = float(np.sqrt(((trainer.generate(500) - before) ** 2).sum(1).mean()))
        out[label] = {"g_grad": float(np.median(window(trainer, "g_grad_norm", 50, n))),
                      "moved": moved, "d_fake": float(window(trainer, "d_fake", 50, n).mean())}
    return out


def test_saturating_loss_stalls_against_a_confident_discriminator():
    # seeds 0/1/2: G grad 0.032/0.011/0.014 vs 2.9/2.7/3.7; moved 0.08/0.04/0.06 vs
    # 0.95/1.12/1.37; D(fake) 0.004 vs 0.22
    m = measure_saturation(runs("saturation"))
    sat, ns = m["saturating (minimax)"], m["non-saturating"]
    assert sat["d_fake"] < 0.02, m                       # D confidently rejects the fakes
    assert ns["g_grad"] > 10 * sat["g_grad"], m           # ~100x+ measured
    assert ns["moved"] > 5 * sat["moved"], m
    assert sat["moved"] < 0.2 < 0.5 < ns["moved"], m      # ring radius is 1


def measure_k_steps(configs: dict, n: int = 150) -> dict:
    """Per k: D's confidence gap mean(D(real) - D(fake)) over iterations 50..n, and the
    final mode metrics (modes covered, reverse KL of the mode histogram, top-2 share)."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n)
        metrics = trainer.final_metrics(w1_samples=200)
        gap = window(trainer, "d_real", 50, n) - window(trainer, "d_fake", 50, n)
        out[label] = {"gap": float(gap.mean()), "modes": metrics["modes_covered"],
                      "reverse_kl": metrics["reverse_kl"], "w1": metrics["w1"],
                      "top2": top2(trainer.generate(2500), trainer.data.centers)}
    return out


def test_k_steps_too_few_collapse_balanced_covers_too_many_overpower():
    # seeds 0/1/2, k=5 vs k=25: gap 0.29/0.30/0.26 vs 0.42/0.54/0.42; top2 0.33/0.29/0.36 vs
    # 0.44/0.56/0.45; reverse KL 0.11/0.39/0.21 vs 0.26/0.84/0.33; w1 0.18/0.30/0.26 vs
    # 0.33/0.52/0.30. k=1: top2 1.0 and gap ~0 on all three.
    m = measure_k_steps(runs("k-steps"))
    k1, k5, k25 = m["k=1"], m["k=5"], m["k=25"]
    assert k1["top2"] >= 0.9 and abs(k1["gap"]) < 0.05, m   # collapsed; D sees no difference
    assert k5["modes"] >= 7 and k5["top2"] <= 0.45, m
    assert k25["gap"] > 1.3 * k5["gap"], m                 # D far more confident...
    assert k25["top2"] > k5["top2"] + 0.05, m              # ...and the modes less even
    assert k25["reverse_kl"] > 1.5 * k5["reverse_kl"], m
    assert k25["w1"] > k5["w1"], m


def measure_learning_rates(configs: dict, n: int = 400, every: int = 25) -> dict:
    """Per variant, over the records of the second half of the run: how far the samples of
    the fixed view batch move between records (they keep jumping when the game oscillates),
    the fewest modes covered and lowest high-quality fraction at any record, and mean w1."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=every)
        trainer.step(n)
        recs = [r for r in trainer.records if r.iteration >= n // 2]
        moves = [float(np.sqrt(((b.fake - a.fake) ** 2).sum(1).mean()))
                 for a, b in zip(recs, recs[1:])]
        out[label] = {"move": float(np.median(moves)),
                      "min_modes": min(int(r.metrics["modes_covered"]) for r in recs),
                      "min_hq": min(r.metrics["high_quality"] for r in recs),
                      "w1": float(np.mean([r.metrics["w1"] for r in recs])),
                      "status": trainer.status}
    return out


def test_learning_rates_too_high_oscillates_ttur_settles():
    # seeds 0/1/2, too high vs TTUR: move 0.41/0.60/0.27 vs 0.09/0.14/0.10; min modes 6/0/0
    # vs 8/8/8; w1 0.24/0.68/0.33 vs 0.17/0.17/0.19. Balanced w1 1.21/0.85/0.20: collapsed
    # for seeds 0 and 1, fine for seed 2: the last assertion holds for this scenario's seed 0.
    m = measure_learning_rates(runs("learning-rates"))
    high, balanced, ttur = m["too high"], m["balanced"], m["TTUR"]
    assert ttur["min_modes"] == 8 and ttur["min_hq"] > 0.3, m
    assert high["move"] > 2 * ttur["move"], m        # samples keep jumping around,
    assert high["min_modes"] <= 6, m                 # modes are dropped now and then
    assert high["w1"] > 1.2 * ttur["w1"], m
    # with this seed, equal rates are still collapsed and hopping after 500 iterations
    assert balanced["w1"] > 2 * ttur["w1"], m


def critic_input_gradient(trainer: Trainer) -> float:
    """Mean ‖∇ₓ D(x)‖ over real data: ~1 for a 1-Lipschitz critic that uses its budget."""
    x = trainer.data.sample(512, torch.Generator().manual_seed(99)).requires_grad_(True)
    (grad,) = torch.autograd.grad(trainer.D(x).sum(), x)
    return float(grad.norm(dim=1).mean())


def measure_wgan(configs: dict, n: int = 150) -> dict:
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n)
        metrics = trainer.final_metrics(w1_samples=500)
        out[label] = {"critic_grad": critic_input_gradient(trainer),
                      "g_grad": float(np.median(window(trainer, "g_grad_norm", 50, n))),
                      "modes": metrics["modes_covered"], "w1": metrics["w1"]}
    return out


def test_weight_clipping_flattens_the_critic_gradient_penalty_does_not():
    # seeds 0/1/2: critic gradient ~1e-5 vs 1.9/1.8/1.9; G grad ~1e-4 vs 1.7/2.1/1.6;
    # w1 0.40/0.53/0.31 vs 0.18/0.19/0.19; GP 8 modes on all three
    m = measure_wgan(runs("wgan-clipping-vs-gp"))
    clip, gp = m["weight clipping"], m["gradient penalty"]
    assert clip["critic_grad"] < 1e-3, m                # vanishing critic gradients
    assert 0.3 < gp["critic_grad"] < 3, m               # the penalty keeps them near 1
    assert gp["g_grad"] > 1000 * clip["g_grad"], m
    assert gp["modes"] >= 7, m
    assert gp["w1"] < 0.8 * clip["w1"], m


def measure_r1(configs: dict, n: int = 200, last: int = 100) -> dict:
    """Per variant over the last `last` iterations: the std of D's loss (how much the game
    still swings) and mean |D(real) - D(fake)| (0 at Mescheder's equilibrium, D = 1/2)."""
    out = {}
    for label, config in configs.items():
        trainer = Trainer(config, record_every=QUIET)
        trainer.step(n)
        gap = window(trainer, "d_real", n - last, n) - window(trainer, "d_fake", n - last, n)
        metrics = trainer.final_metrics(w1_samples=200)
        out[label] = {"d_loss_std": float(window(trainer, "d_loss", n - last, n).std()),
                      "gap": float(np.abs(gap).mean()), "modes": metrics["modes_covered"],
                      "w1": metrics["w1"]}
    return out


def test_r1_makes_the_unstable_game_converge():
    # seeds 0/1/2: d_loss std 0.073/0.33/0.21 vs <= 5e-4; gap 0.06/0.17/0.17 vs <= 3e-4;
    # modes with R1 8/7/8
    m = measure_r1(runs("r1-regularisation"))
    plain, r1 = m["no R1"], m["R1, gamma = 10"]
    assert r1["d_loss_std"] < plain["d_loss_std"] / 20, m   # the swinging stops
    assert plain["gap"] > 0.03 and r1["gap"] < 0.01, m      # D -> 1/2 on real and fake alike
    assert r1["modes"] >= 7, m
