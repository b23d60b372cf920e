"""The cure scenarios (gan_core.scenarios, issue 13): each uses its method, and its runs differ in
that method alone. What each shows is measured like every scenario's, on the engine the Lecture
page plays: its claims are in tests/scenario_claims.py, asserted by tests/test_scenarios.py.
"""
from __future__ import annotations

import dataclasses

from gan_core import scenarios

CURES = {"unrolled-gan": "unroll", "extragradient": "updates", "consensus": "consensus",
         "negative-momentum": "momentum", "generator-averaging": "ema"}


def test_the_cure_scenarios_exist_and_use_their_method():
    for name, field in CURES.items():
        configs = [config for _, config in scenarios.configs(scenarios.get(name))]
        values = {getattr(config, field) for config in configs}
        assert len(values) == len(configs), name          # each run its own setting
        assert any(values - {0, 0.0, "simultaneous", "alternating"}), name   # one uses it
    assert scenarios.get("generator-averaging").base.ema == 0.99
    assert scenarios.get("extragradient").base.custom_points == ((1.0, 0.5),)


def test_a_cure_scenarios_runs_differ_in_its_method_alone():
    """"Same step size, same updates, only gamma differs": nothing else changes between runs."""
    for name, field in CURES.items():
        configs = [dataclasses.asdict(c) for _, c in scenarios.configs(scenarios.get(name))]
        differ = {key for c in configs[1:] for key in c if c[key] != configs[0][key]}
        assert differ <= {field}, (name, differ)
