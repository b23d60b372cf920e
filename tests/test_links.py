"""URL query <-> config: a link round-trips to the same run; bad parts are ignored, named."""
from __future__ import annotations

import pytest

from explorer.links import config_from_query, query_from_config
from gan_core.config import TrainConfig


@pytest.mark.parametrize("config", [
    TrainConfig(),
    TrainConfig(loss="wgan-gp", gp_weight=1.0, k=5, lr_d=4e-3, lr_g=1e-4, seed=42),
    TrainConfig(dataset="grid", std=0.1, spectral_norm=True, opt_g="sgd", momentum=0.9),
    TrainConfig(dataset="custom", custom_points=((0.5, -1.0), (2.0, 3.25))),
    TrainConfig(dataset="moons", latent_dim=5, latent="uniform", updates="simultaneous"),
])
def test_round_trip(config):
    query = query_from_config(config.resolved())
    assert all(isinstance(v, str) for v in query.values())
    back, problems = config_from_query(query)
    assert problems == []
    assert back == config.resolved()


def test_defaults_make_an_empty_query():
    assert query_from_config(TrainConfig().resolved()) == {}


def test_bad_values_fall_back_and_are_named():
    config, problems = config_from_query({"lr_d": "-1", "k": "x", "loss": "hinge",
                                          "unknown": "1"})
    assert config.loss == "hinge" and config.lr_d == TrainConfig().lr_d and config.k == 1
    assert any(p.startswith("link setting ignored: lr_d") for p in problems)
    assert any(p.startswith("link setting ignored: k") for p in problems)


def test_custom_without_points_falls_back_to_the_default_run():
    config, problems = config_from_query({"dataset": "custom"})
    assert config == TrainConfig().resolved()
    assert problems
