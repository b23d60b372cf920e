"""Paper reproductions (gan_core.reproduce): each setup against the paper's reference settings
(PacGAN's synthetic_data_experiments configs, Metz et al.'s notebook / appendix A), and the
CLI's report. Training to the papers' numbers takes minutes per run: see README."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import reproduce as R
from gan_core.batched import PRESETS
from gan_cli.main import main
from gan_core.config import TrainConfig


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


# ---------------------------------------------------------------------- PacGAN
def test_pacgan_data_is_the_papers_ring_and_grid():
    ring, ring_std = R.centers_of("pacgan-ring")
    assert ring_std == 0.01 and len(ring) == 8
    assert np.allclose(np.linalg.norm(ring, axis=1), 1.0)
    grid, grid_std = R.centers_of("pacgan-grid")
    assert grid_std == 0.05 and len(grid) == 25
    assert sorted({x for x, _ in grid}) == [-4, -2, 0, 2, 4]


@pytest.mark.parametrize("pack", [1, 2])
def test_pacgan_models_are_the_papers(pack):
    """G: 4 x (linear 400 without bias, batch norm, ReLU), linear 2; D: 3 maxout layers of 200
    units with 5 pieces on 2·pack inputs, linear 1; weights N(0, 0.02²), zero biases."""
    G, D = R.pacgan_models(pack)
    g_lin = linear_layers(G)
    assert [(l.in_features, l.out_features) for l in g_lin] == [(2, 400), (400, 400),
                                                                 (400, 400), (400, 400), (400, 2)]
    assert [l.bias is None for l in g_lin] == [True] * 4 + [False]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == 4
    maxouts = [m for m in D.modules() if isinstance(m, R.Maxout)]
    assert [(m.linear.in_features, m.n_out, m.pieces) for m in maxouts] == [
        (2 * pack, 200, 5), (200, 200, 5), (200, 200, 5)]
    assert linear_layers(D)[-1].out_features == 1
    big = linear_layers(D)[1].weight
    assert big.std().item() == pytest.approx(0.02, rel=0.05)
    assert all(float(l.bias.detach().abs().max()) == 0 for l in linear_layers(D))


def test_maxout_takes_the_largest_of_its_pieces():
    layer = R.Maxout(2, 3, 4)
    x = torch.randn(5, 2)
    manual = layer.linear(x).view(5, 3, 4).max(dim=2).values
    assert torch.equal(layer(x), manual)


def test_pacgan_run_uses_the_papers_optimiser_batch_and_packing():
    repro = R.get("pacgan-ring")
    run = R.Run(repro, R.Arm("PacGAN2", pack=2), seed=0)
    for opt in (run.opt_d, run.opt_g):
        group = opt.param_groups[0]
        assert (group["lr"], group["betas"], group["eps"]) == (1e-4, (0.8, 0.999), 1e-8)
    assert run.pool.shape == (100_000, 4)             # 100,000 packed examples of 2 samples
    assert run.real_batch().shape == (100, 4)
    assert run.fake_batch().shape == (100, 4)
    run.cursor = len(run.pool) - 50                   # the epoch ends: reshuffled, from 0
    run.real_batch()
    assert run.cursor == 100


# ---------------------------------------------------------------------- unrolled GAN
def test_unrolled_setup_is_metz_et_al():
    centers, std = R.centers_of("metz-ring")
    assert std == 0.02 and np.allclose(np.linalg.norm(centers, axis=1), 2.0)
    G, D = R.unrolled_models()
    assert [(l.in_features, l.out_features) for l in linear_layers(G)] == [
        (256, 128), (128, 128), (128, 2)]
    assert [(l.in_features, l.out_features) for l in linear_layers(D)] == [(2, 128), (128, 1)]
    x = torch.randn(3, 2)
    assert torch.allclose(D(x), D[1:](x / 4))          # D sees x / 4
    s = R.UNROLLED_SETTINGS
    assert (s["lr"], s["beta1"], s["eps"], s["batch_size"], s["g_loss"]) == (
        1e-4, 0.5, 1e-8, 512, "minimax")
    assert [arm.unroll for arm in R.get("unrolled-ring").arms] == [0, 5]


def test_an_unrolled_step_moves_g_differently_and_d_identically():
    repro = R.get("unrolled-ring")
    plain, unrolled = R.Run(repro, R.Arm("a", unroll=0), 1), R.Run(repro, R.Arm("b", unroll=5), 1)
    plain.step()
    unrolled.step()
    for a, b in zip(plain.D.parameters(), unrolled.D.parameters()):
        assert torch.equal(a, b), "D's own update does not depend on unrolling"
    assert not all(torch.allclose(a, b) for a, b in zip(plain.G.parameters(),
                                                         unrolled.G.parameters()))


# ---------------------------------------------------------------------- the report
def test_summarise_gives_mean_and_std_and_counts_infinite_kl_apart():
    s = R.summarise([{"modes": 6, "high_quality": 90.0, "reverse_kl": 0.5},
                     {"modes": 8, "high_quality": 100.0, "reverse_kl": float("inf")}])
    assert s["modes"] == {"mean": 7.0, "std": 1.0, "infinite": 0}
    assert s["reverse_kl"] == {"mean": 0.5, "std": None, "infinite": 1}


def test_cli_reports_measured_beside_the_paper_and_says_the_budget_is_shorter(capsys):
    assert main(["reproduce", "pacgan-ring", "--runs", "2", "--steps", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 2 and data["steps"] == 2 and data["paper_steps"] == 400_000
    assert "shorter than the paper's budget" in data["budget_note"]
    gan, pac = data["arms"]
    assert (gan["label"], gan["pack"], pac["label"], pac["pack"]) == ("GAN", 1, "PacGAN2", 2)
    assert pac["paper"]["modes"] == {"mean": 7.9, "spread": 0.1}
    assert len(gan["runs"]) == 2 and set(gan["measured"]) == {"modes", "high_quality",
                                                               "reverse_kl"}
    assert main(["reproduce", "unrolled-ring", "--runs", "1", "--steps", "1"]) == 0
    text = capsys.readouterr().out
    assert "paper" in text and "measured" in text and "1 of its 25,000" in text


@pytest.mark.parametrize("args, message", [
    (["--runs", "0"], "error: runs: 0 is out of range; allowed [1, 20]"),
    (["--steps", "500000"], "error: steps: 500000 is out of range; allowed [1, 400000]")])
def test_cli_refuses_bad_budgets_in_one_sentence(capsys, args, message):
    assert main(["reproduce", "pacgan-grid", *args]) == 2
    assert capsys.readouterr().err.strip().endswith(message)


def test_each_reproduction_has_a_compare_preset_with_the_papers_data_and_optimiser():
    ring = [TrainConfig().replace(**v) for v in PRESETS["pacgan-ring"]]
    assert [c.pack for c in ring] == [1, 2]
    assert all((c.radius, c.std, c.lr_d, c.beta1, c.batch_size) == (1.0, 0.01, 1e-4, 0.8, 100)
               for c in ring)
    grid = [TrainConfig().replace(**v) for v in PRESETS["pacgan-grid"]]
    assert [(c.dataset, c.std, c.pack) for c in grid] == [("grid", 0.05, 1), ("grid", 0.05, 2)]
    metz = [TrainConfig().replace(**v) for v in PRESETS["unrolled-ring"]]
    assert [(c.radius, c.std, c.unroll, c.batch_size, c.loss) for c in metz] == [
        (2.0, 0.02, 0, 512, "minimax"), (2.0, 0.02, 5, 512, "minimax")]
