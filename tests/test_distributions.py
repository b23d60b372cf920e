import json
import math
import time

import numpy as np
import pytest
import torch

from gan_core.config import DATASETS, TrainConfig
from gan_core.distributions import make_distribution

MIXTURES = ("ring", "grid", "gaussian", "custom")
CUSTOM = ((0.0, 0.0), (1.0, 2.0), (-3.0, 0.5))


def config(dataset, **kw):
    if dataset == "custom" and "custom_points" not in kw:
        kw["custom_points"] = CUSTOM
    return TrainConfig(dataset=dataset, **kw)


def sample(dataset, n, seed=0, **kw):
    dist = make_distribution(config(dataset, **kw))
    return dist, dist.sample(n, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("dataset", DATASETS)
def test_shape_dtype_and_finite(dataset):
    dist, x = sample(dataset, 300)
    assert dist.name == dataset
    assert x.shape == (300, 2) and x.dtype == torch.float32
    assert torch.isfinite(x).all()
    assert dist.sample(0, torch.Generator().manual_seed(0)).shape == (0, 2)
    assert dist.is_mixture == (dataset in MIXTURES)


@pytest.mark.parametrize("dataset", DATASETS)
def test_same_seed_same_samples_different_seed_differs(dataset):
    _, a = sample(dataset, 200, seed=7)
    _, b = sample(dataset, 200, seed=7)
    _, c = sample(dataset, 200, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("dataset", DATASETS)
def test_sampling_leaves_global_rngs_alone(dataset):
    dist = make_distribution(config(dataset))
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    dist.sample(100, torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])


@pytest.mark.parametrize("dataset", DATASETS)
def test_view_box_holds_the_data(dataset):
    dist, x = sample(dataset, 5000, seed=1)
    xmin, xmax, ymin, ymax = dist.view_box
    x = x.numpy()
    inside = (x[:, 0] >= xmin) & (x[:, 0] <= xmax) & (x[:, 1] >= ymin) & (x[:, 1] <= ymax)
    assert inside.mean() >= 0.99
    width, height = xmax - xmin, ymax - ymin
    assert width > 0 and height > 0
    assert 0.8 <= width / height <= 1.25          # square-ish


@pytest.mark.parametrize("dataset", DATASETS)
def test_describe_is_json(dataset):
    dist = make_distribution(config(dataset))
    desc = json.loads(json.dumps(dist.describe()))
    assert desc["name"] == dataset and isinstance(desc["params"], dict)
    if dist.is_mixture:
        assert np.allclose(desc["centers"], dist.centers)
        assert desc["std"] == dist.std
        assert math.isclose(sum(desc["weights"]), 1.0)
    else:
        assert "centers" not in desc


def test_ring_defaults_match_the_literature():
    dist = make_distribution(TrainConfig(dataset="ring"))
    angles = np.arange(8) * np.pi / 4
    assert np.allclose(dist.centers, np.stack([np.cos(angles), np.sin(angles)], 1), atol=1e-12)
    assert np.allclose(dist.centers[0], [1.0, 0.0]) and np.allclose(dist.centers[2], [0.0, 1.0])
    assert dist.std == 0.01
    assert np.allclose(dist.weights, 1 / 8)
    assert np.allclose(dist.view_box, (-1.5, 1.5, -1.5, 1.5))


def test_grid_defaults_match_the_literature():
    dist = make_distribution(TrainConfig(dataset="grid"))
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert dist.centers.shape == (25, 2)
    assert {tuple(c) for c in dist.centers.tolist()} == expected
    assert dist.std == 0.05
    assert np.allclose(dist.weights, 1 / 25)


def test_ring_follows_config():
    dist = make_distribution(TrainConfig(dataset="ring", n_modes=3, radius=2.0, std=0.1))
    assert dist.centers.shape == (3, 2)
    assert np.allclose(np.linalg.norm(dist.centers, axis=1), 2.0)
    assert dist.std == 0.1 and dist.params["n_modes"] == 3


@pytest.mark.parametrize("dataset, kw", [
    ("ring", {}), ("grid", {}), ("gaussian", {}), ("custom", {}),
    ("ring", {"std": 0.05, "n_modes": 5}), ("grid", {"grid_size": 3, "spacing": 1.0}),
])
def test_mixture_samples_sit_on_their_centers(dataset, kw):
    dist, x = sample(dataset, 20000, seed=3, **kw)
    x = x.double().numpy()
    d2 = ((x[:, None, :] - dist.centers[None]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    residual = x - dist.centers[nearest]
    assert np.allclose(residual.std(axis=0), dist.std, rtol=0.05)
    assert np.allclose(residual.mean(axis=0), 0, atol=0.05 * dist.std)
    share = np.bincount(nearest, minlength=len(dist.centers)) / len(x)
    assert np.allclose(share, dist.weights, atol=0.02)


def test_custom_single_point():
    dist, x = sample("custom", 1000, custom_points=((2.0, -1.0),))
    assert dist.centers.shape == (1, 2) and np.allclose(dist.weights, [1.0])
    assert np.allclose(x.mean(0).numpy(), [2.0, -1.0], atol=0.01)
    xmin, xmax, ymin, ymax = dist.view_box
    assert xmin < 2.0 - 0.5 and xmax > 2.0 + 0.5 and ymin < -1.5 and ymax > -0.5


def test_custom_identical_points_give_a_real_box():
    dist = make_distribution(config("custom", custom_points=((1.0, 1.0),) * 4))
    xmin, xmax, ymin, ymax = dist.view_box
    assert xmax - xmin > 0.5 and ymax - ymin > 0.5


def test_custom_box_covers_the_points():
    dist = make_distribution(config("custom", custom_points=((0, 0), (10, 0))))
    xmin, xmax, ymin, ymax = dist.view_box
    assert xmin < 0 and xmax > 10 and ymin < 0 < ymax
    assert math.isclose(xmax - xmin, ymax - ymin)


def test_curves_have_their_shape():
    _, c = sample("circles", 4000, std=1e-4)
    r = np.linalg.norm(c.numpy(), axis=1)
    assert np.all((np.abs(r - 1) < 0.01) | (np.abs(r - 0.5) < 0.01))
    assert 0.45 < (r < 0.75).mean() < 0.55

    _, m = sample("moons", 4000, std=1e-4)
    m = m.double().numpy() + [0.5, 0.25]          # back to sklearn's frame
    upper = np.abs(np.linalg.norm(m, axis=1) - 1) < 0.01
    lower = np.abs(np.linalg.norm(m - [1, 0.5], axis=1) - 1) < 0.01
    assert np.all(upper | lower) and 0.45 < upper.mean() < 0.55

    _, s = sample("spiral", 4000, std=1e-4)
    assert np.abs(s.numpy()).max() < 3.3 and np.abs(s.numpy()).max() > 3.0
    assert np.allclose(s.mean(0).numpy(), 0, atol=0.15)  # two arms, 180 degrees apart


def test_swissroll_matches_sklearn_formula():
    _, x = sample("swissroll", 4000, std=1e-6)
    x = x.double().numpy() * 7.5
    t = np.linalg.norm(x, axis=1)                 # radius equals the angle parameter t
    assert t.min() >= 1.5 * np.pi - 1e-3 and t.max() <= 4.5 * np.pi + 1e-3
    assert np.allclose(np.cos(t), x[:, 0] / t, atol=1e-3)


def test_swissroll_noise_is_applied_before_scaling():
    _, a = sample("swissroll", 2000, seed=5, std=1e-6)
    _, b = sample("swissroll", 2000, seed=5, std=0.25)
    assert np.allclose((b - a).std(0).numpy(), 0.25 / 7.5, rtol=0.1)


def test_checkerboard_is_on_black_squares_only():
    _, x = sample("checkerboard", 5000)
    x = x.numpy()
    assert np.all(np.abs(x) <= 4)
    col, row = np.floor(x[:, 0] / 2), np.floor(x[:, 1] / 2)
    assert np.all((col + row) % 2 == 0)           # one colour of the 4x4 board
    counts = np.unique(np.stack([col, row], 1), axis=0, return_counts=True)[1]
    assert len(counts) == 8 and counts.min() > 5000 / 8 * 0.8


@pytest.mark.parametrize("dataset", ("ring", "grid", "custom"))
def test_mixture_sampling_is_fast(dataset):
    dist = make_distribution(config(dataset))
    g = torch.Generator().manual_seed(0)
    dist.sample(256, g)
    start = time.perf_counter()
    for _ in range(500):
        dist.sample(256, g)
    per_call = (time.perf_counter() - start) / 500
    assert per_call < 5e-4                        # ~30 us measured; generous for slow CI
