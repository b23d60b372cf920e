import json
import math

import numpy as np
import pytest
import torch

from gan_core.config import TrainConfig
from gan_core.distributions import make_distribution
from gan_core.metrics import (HOPPING, VERDICTS, evaluate, events, mode_statistics,
                              nearest_center, reach, verdict, verdict_code, verdict_name,
                              wasserstein1)

RING = make_distribution(TrainConfig(dataset="ring"))
GRID = make_distribution(TrainConfig(dataset="grid"))


def true_samples(dist, n, seed=0):
    return dist.sample(n, torch.Generator().manual_seed(seed)).double().numpy()


def test_true_ring_samples_score_perfectly():
    stats = mode_statistics(true_samples(RING, 2500), RING.centers, RING.std, RING.weights)
    assert stats["modes_covered"] == 8 and stats["n_modes"] == 8
    assert 0.985 <= stats["high_quality"] <= 0.993     # theory 1 - exp(-4.5) = 0.9889
    assert 0 <= stats["reverse_kl"] < 0.01
    assert stats["collapsed"] is False and stats["verdict"] == "converged"
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


def on_modes(counts) -> np.ndarray:
    """counts[i] samples exactly on ring mode i."""
    return np.concatenate([np.repeat(RING.centers[[i]], c, 0) for i, c in enumerate(counts)
                           if c])


def test_collapse_is_90_percent_of_all_samples_on_at_most_half_the_modes():
    four = mode_statistics(on_modes([25, 25, 25, 25, 0, 0, 0, 0]), RING.centers, RING.std)
    assert four["modes_covered"] == 4 and four["concentration"] == 1.0
    assert four["verdict"] == "mode collapse" and four["collapsed"] is True
    # 90 of 100 samples on 4 modes (of 8) is collapse, 89 is not, however many modes are covered
    edge = mode_statistics(on_modes([30, 30, 20, 10, 4, 3, 2, 1]), RING.centers, RING.std)
    assert edge["modes_covered"] == 8 and edge["concentration"] == 0.9
    assert edge["verdict"] == "mode collapse"
    below = mode_statistics(on_modes([30, 30, 20, 9, 5, 3, 2, 1]), RING.centers, RING.std)
    assert below["concentration"] == 0.89 and below["verdict"] == "partial"
    assert below["collapsed"] is False
    five = mode_statistics(on_modes([20] * 5 + [0] * 3), RING.centers, RING.std)
    assert five["concentration"] == 0.8 and five["verdict"] == "partial"


def test_samples_far_from_every_center_sit_at_no_mode():
    samples = np.full((50, 2), 10.0)
    stats = mode_statistics(samples, RING.centers, RING.std)
    assert stats["high_quality"] == 0.0 and stats["modes_covered"] == 0
    assert stats["reverse_kl"] == float("inf")
    assert stats["concentration"] == 0.0 and stats["nearest_counts"].sum() == 0
    assert stats["verdict"] == "off the data" and stats["collapsed"] is False


def test_reach_is_the_distance_to_the_nearest_other_mode():
    assert np.allclose(reach(RING.centers), 2 * np.sin(np.pi / 8))     # ring radius 1: 0.765
    spacing = np.sort(np.unique(GRID.centers[:, 0]))
    assert np.allclose(reach(GRID.centers), spacing[1] - spacing[0])   # the grid's spacing
    assert reach(np.zeros((1, 2))).tolist() == [np.inf]


# ---------------------------------------------------------------------- verdicts
RNG = np.random.default_rng(14)
WIDE_RING = make_distribution(TrainConfig(dataset="ring", std=0.05))   # the lectures' ring


def judged(samples, dist=WIDE_RING) -> dict:
    return mode_statistics(samples, dist.centers, dist.std, dist.weights)


def test_verdict_of_a_tight_cluster_on_one_mode_is_mode_collapse():
    stats = judged(RING.centers[2] + RNG.normal(0, 0.01, (1000, 2)))
    assert stats["verdict"] == "mode collapse" and stats["dominant_mode"] == 2
    assert stats["modes_covered"] == 1 and stats["high_quality"] == 1.0


def test_verdict_of_a_cluster_just_off_a_mode_is_mode_collapse():
    # 0.3 further out than mode 5 (beyond 3 std = 0.15, so not one good sample) but at it
    stats = judged(1.3 * RING.centers[5] + RNG.normal(0, 0.02, (1000, 2)))
    assert WIDE_RING.std == 0.05
    assert stats["high_quality"] == 0.0 and stats["modes_covered"] == 0
    assert stats["verdict"] == "mode collapse" and stats["dominant_mode"] == 5


def test_verdict_of_a_uniform_spread_is_off_the_data_at_any_sample_size():
    # the WGAN-clip panel: spread over the whole square, a few samples on every mode
    for n in (300, 1000, 2500):
        stats = judged(RNG.uniform(-1.5, 1.5, (n, 2)))
        assert stats["modes_covered"] >= 4 and stats["high_quality"] < 0.2
        assert stats["concentration"] < 0.7
        assert stats["verdict"] == "off the data", n


def test_verdict_of_a_perfect_mixture_is_converged():
    for dist in (RING, WIDE_RING, GRID):
        assert judged(true_samples(dist, 2500, seed=3), dist)["verdict"] == "converged"


def test_verdict_of_two_distant_clusters_is_mode_collapse():
    samples = np.concatenate([RING.centers[0] + RNG.normal(0, 0.03, (500, 2)),
                              RING.centers[4] + RNG.normal(0, 0.03, (500, 2))])
    stats = judged(samples)
    assert stats["modes_covered"] == 2 and stats["verdict"] == "mode collapse"


def test_verdict_of_a_blob_between_all_modes_is_off_the_data():
    # an untrained G: a small blob near the ring's center, nearest to one mode by a hair
    stats = judged(np.array([0.05, 0.02]) + RNG.normal(0, 0.03, (1000, 2)))
    assert stats["verdict"] == "off the data" and stats["concentration"] == 0.0


def test_verdict_of_nan_samples_is_diverged():
    samples = true_samples(RING, 1000)
    samples[17] = [np.nan, 0.0]
    assert judged(samples)["verdict"] == "diverged"
    assert judged(np.full((10, 2), np.nan))["verdict"] == "diverged"
    assert judged(np.full((10, 2), np.inf))["collapsed"] is False
    moons = make_distribution(TrainConfig(dataset="moons"))
    bad = true_samples(moons, 100)
    assert evaluate(bad, bad, moons, w1_samples=0)["verdict"] is None
    bad[3] = np.inf
    assert evaluate(bad, bad, moons, w1_samples=0)["verdict"] == "diverged"


def test_partial_is_the_rest():
    # six modes, evenly, on the data: not collapsed, not off, not every mode
    stats = judged(np.concatenate([RING.centers[i] + RNG.normal(0, 0.02, (100, 2))
                                   for i in range(6)]))
    assert stats["verdict"] == "partial"
    # every mode but too uneven for converged (reverse KL > 0.1)
    stats = judged(on_modes([40, 20, 10, 10, 5, 5, 5, 5]))
    assert stats["modes_covered"] == 8 and stats["reverse_kl"] > 0.1
    assert stats["verdict"] == "partial"


def test_verdict_of_a_stopped_run_is_diverged_and_old_metrics_still_read():
    good = judged(true_samples(RING, 1000))
    assert verdict(good) == "converged"
    assert verdict(good, status="diverged at iteration 7") == "diverged"
    assert verdict({**good, "w1": float("inf")}) == "diverged"
    old = {k: good[k] for k in ("modes_covered", "n_modes", "high_quality", "reverse_kl")}
    assert verdict({**old, "collapsed": False}) == "converged"
    assert verdict({**old, "modes_covered": 2, "collapsed": True}) == "mode collapse"
    assert verdict({"w1": 0.1, "collapsed": None, "n_modes": None}) is None


def test_verdict_codes_round_trip():
    for name in VERDICTS:
        assert verdict_name(verdict_code(name)) == name
    assert math.isnan(verdict_code(None)) and verdict_name(float("nan")) is None


# ---------------------------------------------------------------------- events
def test_events_mark_verdict_changes_and_hops_of_a_collapsed_generator():
    its = [0, 100, 200, 300, 400, 500, 600, 700]
    verdicts = ["off the data", "mode collapse", "mode collapse", "mode collapse",
                "mode collapse", "partial", "partial", "converged"]
    modes = [3, 3, 3, 6, 1, 1, 4, 4]          # hops at 300 and 400; 600 is not collapsed
    assert events(its, verdicts, modes) == [
        {"iteration": 100, "kind": "mode collapse"},
        {"iteration": 300, "kind": HOPPING, "mode": 6},
        {"iteration": 400, "kind": HOPPING, "mode": 1},
        {"iteration": 500, "kind": "partial"},
        {"iteration": 700, "kind": "converged"}]
    assert events([0], ["mode collapse"], [2]) == []       # where a run starts is no event
    assert events([0, 10, 20], ["partial", None, "partial"], [0, 0, 0]) == []


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


def test_nearest_center_is_right():
    """(Its speed is no unit test's business: a timed assertion fails on a loaded machine.)"""
    x = true_samples(GRID, 2500, seed=4)
    idx, dist = nearest_center(x, GRID.centers)
    brute = ((x[:, None] - GRID.centers[None]) ** 2).sum(-1)
    assert np.array_equal(idx, brute.argmin(1))
    assert np.allclose(dist, np.sqrt(brute.min(1)))


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
    assert out["verdict"] == "converged" and out["finite"] is True
    assert isinstance(out["nearest_counts"], list) and sum(out["nearest_counts"]) == 2500
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
    for key in ("modes_covered", "high_quality", "reverse_kl", "collapsed", "verdict"):
        assert out[key] is None
    assert evaluate(fake + [2.0, 0.0], real, moons)["w1"] > 1.5
