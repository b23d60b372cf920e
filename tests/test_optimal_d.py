"""The optimal discriminator D* = p_data / (p_data + p_g) (gan_core.optimal_d) against its closed
form where p_g is known, and its gap to the learned D."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gan_core.config import TrainConfig
from gan_core.distributions import make_distribution
from gan_core.optimal_d import optimal_d, optimal_d_at, optimal_d_of, scott_bandwidth
from gan_core.training import Trainer

GRID = np.linspace(-3, 3, 25)


def closed_form(data, mean, var):
    """D* with p_data the exact mixture and p_g = N(mean, var I), from scipy's densities."""
    gx, gy = np.meshgrid(GRID, GRID, indexing="xy")
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    p_data = sum(w * multivariate_normal(c, data.std ** 2).pdf(points)
                 for c, w in zip(data.centers, data.weights))
    p_g = multivariate_normal(mean, var).pdf(points)
    shape = (len(GRID), len(GRID))
    return (p_data / (p_data + p_g)).reshape(shape), (p_data + p_g).reshape(shape)


def test_a_generator_at_one_point_has_a_gaussian_kde_so_d_star_is_exact():
    """All generated samples at one point: the KDE is exactly N(point, h² I)."""
    data = make_distribution(TrainConfig(dataset="ring", n_modes=4, std=0.5, radius=1.5))
    fake = np.tile([[0.5, -0.25]], (300, 1))
    result = optimal_d(data, fake, GRID, GRID, bandwidth=0.4)
    expected, _ = closed_form(data, [0.5, -0.25], 0.4 ** 2)
    assert result.surface.shape == (25, 25) and result.bandwidth == 0.4
    assert np.allclose(result.surface, expected, atol=1e-9)
    assert result.gap is None


def test_gaussian_samples_match_the_closed_form_within_sampling_error():
    """G ~ N(m, s² I): its KDE with bandwidth h estimates N(m, (s² + h²) I)."""
    data = make_distribution(TrainConfig(dataset="gaussian", std=1.0))
    rng = np.random.default_rng(0)
    fake = rng.normal([1.0, 0.5], 0.6, size=(8_000, 2))
    result = optimal_d(data, fake, GRID, GRID, bandwidth=0.4)
    expected, mass = closed_form(data, [1.0, 0.5], 0.6 ** 2 + 0.4 ** 2)
    where = mass > 0.02                                   # where the densities are estimable
    assert np.abs(result.surface - expected)[where].max() < 0.06     # 8,000 samples' noise
    assert np.abs(result.surface - expected)[where].mean() < 0.015
    wrong, _ = closed_form(data, [1.0, 0.5], 0.6 ** 2)   # forgetting the kernel's width
    assert np.abs(result.surface - wrong)[where].max() > 0.15


def test_gap_is_zero_for_d_star_itself_and_grows_for_a_blind_d():
    data = make_distribution(TrainConfig(dataset="gaussian", std=1.0))
    rng = np.random.default_rng(1)
    real, fake = rng.normal(0, 1, (500, 2)), rng.normal(2, 1, (500, 2))
    h = scott_bandwidth(fake)
    star = optimal_d(data, fake, GRID, GRID)
    d_real, _ = optimal_d_at(real, data, fake, bandwidth=h)     # D* at the samples themselves
    d_fake, _ = optimal_d_at(fake, data, fake, bandwidth=h)
    exact = optimal_d(data, fake, GRID, GRID, real=real, d_real=d_real, d_fake=d_fake)
    assert star.bandwidth == pytest.approx(h) and exact.gap == pytest.approx(0.0, abs=1e-12)
    blind = optimal_d(data, fake, GRID, GRID, real=real, d_real=np.full(500, 0.5),
                      d_fake=np.full(500, 0.5))
    assert blind.gap > 0.25                              # D* is near 1 on real, 0 on fake


def test_optimal_d_of_a_run_only_for_sigmoid_losses():
    config = TrainConfig(g_width=16, d_width=16, batch_size=64)
    trainer = Trainer(config)
    trainer.step(30)
    snap = trainer.snapshot(grid=20)
    result = optimal_d_of(trainer, snap)
    assert result.surface.shape == (20, 20)
    assert np.all((result.surface >= 0) & (result.surface <= 1))
    assert 0 <= result.gap <= 1
    assert optimal_d_of(Trainer(config.replace(loss="hinge")), snap) is None
