import json
import math
import time

import numpy as np
import pytest
import torch

from gan_core.config import TrainConfig
from gan_core.distributions import make_distribution
from gan_core.metrics import evaluate, mode_statistics, nearest_center, wasserstein1

RING = make_distribution(TrainConfig(dataset="ring"))
GRID = make_distribution(TrainConfig(dataset="grid"))


def true_samples(dist, n, seed=0):
    return dist.sample(n, torch.Generator().manual_seed(seed)).double().numpy()


def test_true_ring_samples_score_perfectly():
    stats = mode_statistics(true_samples(RING, 2500), RING.centers, RING.std, RING.weights)
    assert stats["modes_covered"] == 8 and stats["n_modes"] == 8
    assert 0.985 <= stats["high_quality"] <= 0.993     # theory 1 - exp(-4.5) = 0.9889
    assert 0 <= stats["reverse_kl"] < 0.01
    assert stats["collapsed"] is False
    assert stats["mode_counts"].shape == (8,) and stats["mode_counts"].dtype.kind == "i"
    assert stats["mode_counts"].sum() == round(stats["high_quality"] * 2500)


def test_true_grid_samples_cover_all_25_modes():
    stats = mode_statistics(true_samples(GRID, 2500), GRID.centers, GRID.std)
    assert stats["modes_covered"] == 25 and stats["n_modes"] == 25
    assert stats["high_quality"] > 0.98 and stats["reverse_kl"] < 0.02


def test_all_samples_on_one_center():
    samples = np.repeat(RING.centers[3:4], 100, axis=0)
    stats = mode_statistics(samples, RING.centers, RING.std)
    assert stats["modes_covered"] == 1
    assert stats["high_quality"] == 1.0
    assert math.isclose(stats["reverse_kl"], math.log(8))   # 1 * log(1 / (1/8))
    assert stats["collapsed"] is True
    assert stats["mode_counts"].tolist() == [0, 0, 0, 100, 0, 0, 0, 0]


def test_samples_on_three_centers_unevenly():
    samples = np.concatenate([np.repeat(RING.centers[[0]], 50, 0),
                              np.repeat(RING.centers[[1]], 25, 0),
                              np.repeat(RING.centers[[5]], 25, 0)])
    stats = mode_statistics(samples, RING.centers, RING.std)
    kl = 0.5 * math.log(0.5 * 8) + 2 * 0.25 * math.log(0.25 * 8)   # = 1.5 log 2
    assert math.isclose(stats["reverse_kl"], kl) and math.isclose(kl, 1.5 * math.log(2))
    assert stats["modes_covered"] == 3 and stats["collapsed"] is True


def test_collapse_threshold_is_half_the_modes():
    samples = RING.centers[:4]
    stats = mode_statistics(samples, RING.centers, RING.std)
    assert stats["modes_covered"] == 4 and stats["collapsed"] is False
    assert math.isclose(stats["reverse_kl"], math.log(2))


def test_samples_far_from_every_center():
    samples = np.full((50, 2), 10.0)
    stats = mode_statistics(samples, RING.centers, RING.std)
    assert stats["high_quality"] == 0.0 and stats["modes_covered"] == 0
    assert stats["reverse_kl"] == float("inf") and stats["collapsed"] is True


def test_quality_radius_is_three_std():
    c = RING.centers[0]
    inside = c + [0.029, 0.0]
    outside = c + [0.031, 0.0]
    stats = mode_statistics(np.stack([inside, outside]), RING.centers, RING.std)
    assert stats["high_quality"] == 0.5 and stats["mode_counts"][0] == 1


def test_weights_are_respected():
    centers = np.array([[0.0, 0.0], [5.0, 0.0]])
    samples = np.array([[0.0, 0.0]] * 3 + [[5.0, 0.0]])
    stats = mode_statistics(samples, centers, 0.1, weights=np.array([0.75, 0.25]))
    assert abs(stats["reverse_kl"]) < 1e-12


def test_non_finite_samples_are_never_high_quality():
    samples = np.array([[np.nan, 0.0], [np.inf, 1.0], RING.centers[0]])
    stats = mode_statistics(samples, RING.centers, RING.std)
    assert math.isclose(stats["high_quality"], 1 / 3) and stats["modes_covered"] == 1


def test_nearest_center_is_fast_and_right():
    x = true_samples(GRID, 2500, seed=4)
    idx, dist = nearest_center(x, GRID.centers)
    brute = ((x[:, None] - GRID.centers[None]) ** 2).sum(-1)
    assert np.array_equal(idx, brute.argmin(1))
    assert np.allclose(dist, np.sqrt(brute.min(1)))
    start = time.perf_counter()
    for _ in range(20):
        mode_statistics(x, GRID.centers, GRID.std)
    assert (time.perf_counter() - start) / 20 < 0.02   # ~1 ms measured


def test_wasserstein_by_hand():
    a = np.array([[0.0, 0.0], [10.0, 0.0]])
    b = np.array([[10.0, 1.0], [0.0, 1.0]])          # the crossed pairing would cost ~10
    assert math.isclose(wasserstein1(a, b), 1.0)
    c = np.array([[0.0, 0.0], [1.0, 0.0]])
    d = np.array([[0.0, 3.0], [1.0, 4.0]])            # costs 3 and 4 (crossing: 2*sqrt(10))
    assert math.isclose(wasserstein1(c, d), 3.5)


def test_wasserstein_identical_and_translated():
    x = true_samples(RING, 300, seed=2)
    perm = np.random.default_rng(0).permutation(len(x))
    assert wasserstein1(x, x[perm]) == pytest.approx(0.0, abs=1e-12)
    assert wasserstein1(x, x + [3.0, 4.0]) == pytest.approx(5.0)


def test_wasserstein_uses_the_first_points_when_sizes_differ():
    a = np.array([[0.0, 0.0], [1.0, 0.0], [100.0, 100.0]])
    b = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert wasserstein1(a, b) == 0.0
    assert wasserstein1(b, a) == 0.0


def test_wasserstein_edge_cases():
    with pytest.raises(ValueError):
        wasserstein1(np.zeros((0, 2)), np.zeros((3, 2)))
    assert wasserstein1(np.array([[np.nan, 0.0]]), np.zeros((1, 2))) == float("inf")


def test_evaluate_mixture_is_json_ready():
    fake, real = true_samples(RING, 2500, seed=1), true_samples(RING, 2500, seed=2)
    out = evaluate(fake, real, RING, w1_samples=300)
    json.dumps(out)
    assert out["modes_covered"] == 8 and out["collapsed"] is False
    assert isinstance(out["mode_counts"], list) and len(out["mode_counts"]) == 8
    assert all(type(c) is int for c in out["mode_counts"])
    assert type(out["high_quality"]) is float and type(out["w1"]) is float
    assert 0 < out["w1"] < 0.2


def test_evaluate_collapsed_mixture():
    real = true_samples(RING, 500, seed=1)
    fake = np.repeat(RING.centers[:1], 500, axis=0)
    out = evaluate(fake, real, RING, w1_samples=200)
    assert out["collapsed"] is True and math.isclose(out["reverse_kl"], math.log(8))
    assert out["w1"] > 0.5


def test_evaluate_non_mixture():
    moons = make_distribution(TrainConfig(dataset="moons"))
    fake, real = true_samples(moons, 400, seed=1), true_samples(moons, 400, seed=2)
    out = evaluate(fake, real, moons)
    json.dumps(out)
    assert type(out["w1"]) is float and out["w1"] < 0.3
    for key in ("modes_covered", "high_quality", "reverse_kl", "collapsed"):
        assert out[key] is None
    assert evaluate(fake + [2.0, 0.0], real, moons)["w1"] > 1.5
