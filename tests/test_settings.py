"""The one settings language (gan_core.settings): every reader accepts the same spellings and
says the same thing about the same mistake."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.compare_view import parse_variants
from explorer.links import config_from_query
from gan_cli.compare import parse_variant
from gan_core import scenarios
from gan_core.config import ConfigError, TrainConfig
from gan_core.settings import (describe, format_value, parse_axis, parse_axis_text,
                               parse_overrides, parse_value)

SPELLINGS = [
    ("lr-d=4e-3, lr_g=1e-4", {"lr_d": 4e-3, "lr_g": 1e-4}),
    ("spectral_norm=on", {"spectral_norm": True}),
    ("spectral-norm=off", {"spectral_norm": False}),
    ("spectral_norm=yes, k=5", {"spectral_norm": True, "k": 5}),
    ("spectral_norm=0", {"spectral_norm": False}),
    ("std=none", {"std": None}), ("std=default", {"std": None}), ("std=", {"std": None}),
    ("custom_points=0:0;1:2.5", {"custom_points": ((0.0, 0.0), (1.0, 2.5))}),
    ("base", {}), ("", {}), ("  ", {}),
]


@pytest.mark.parametrize("text, expected", SPELLINGS)
def test_every_reader_accepts_the_same_spellings(text, expected):
    assert parse_overrides(text) == expected
    assert parse_variant(text) == expected                         # the command line
    if text.strip():                                             # Compare's box skips blanks
        assert parse_variants(f"{text}\nbase") == [expected, {}]


@pytest.mark.parametrize("text, message", [
    ("k=two", "k: expected a whole number, got 'two'"),
    ("lr_d=fast", "lr_d: expected a number, got 'fast'"),
    ("spectral_norm=maybe", "spectral_norm: expected true or false, got 'maybe'"),
    ("colour=red", "unknown setting 'colour'"),
    ("k=1, k=2", "k is given twice"),
    ("loss", "expected field=value, got 'loss'"),
])
def test_the_same_mistake_gets_the_same_message_everywhere(text, message):
    for read in (parse_overrides, parse_variant, lambda t: parse_variants(f"{t}\nbase")):
        with pytest.raises(ConfigError) as err:
            read(text)
        assert message in str(err.value)


@pytest.mark.parametrize("name, text, message", [
    ("k", "two", "k: expected a whole number, got 'two'"),
    ("lr-d", "fast", "lr_d: expected a number, got 'fast'"),
    ("spectral_norm", "maybe", "spectral_norm: expected true or false, got 'maybe'"),
])
def test_a_link_says_the_same(name, text, message):
    config, problems = config_from_query({name: text})
    assert config == TrainConfig().resolved()
    assert problems == [f"link setting ignored: {message}"]


def test_files_only_where_the_user_owns_the_machine(tmp_path):
    points = tmp_path / "pts.npy"
    np.save(points, np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert parse_value("custom_points", str(points), files=True) == ((0.0, 1.0), (2.0, 3.0))
    with pytest.raises(ConfigError, match="command line only"):
        parse_value("custom_points", str(points))


@pytest.mark.parametrize("name, value", [
    ("lr_d", 3.0000000000000004e-4), ("k", 7), ("spectral_norm", True), ("std", None),
    ("loss", "wgan-gp"), ("custom_points", ((0.5, -1.0), (2.0, 3.25))),
])
def test_format_value_reads_back(name, value):
    assert parse_value(name, format_value(name, value)) == value


def test_axes():
    assert parse_axis("lr-d", "1e-4, 3e-4") == ("lr_d", [1e-4, 3e-4])
    assert parse_axis_text("k=1,5") == ("k", [1, 5])
    with pytest.raises(ConfigError, match="axis k: k: expected a whole number"):
        parse_axis_text("k=1,two")
    with pytest.raises(ConfigError, match="axis 'k': expected FIELD=v1,v2"):
        parse_axis_text("k")


def test_scenarios_are_written_in_the_language():
    assert scenarios.get("k-steps").variants[2] == ("k=15", {"k": 15})
    assert describe({"lr_d": 4e-3, "spectral_norm": True}) == "lr_d=0.004, spectral_norm=true"
    assert parse_overrides(describe({"lr_d": 4e-3, "k": 5})) == {"lr_d": 4e-3, "k": 5}
    assert TrainConfig().replace(**parse_overrides("loss=hinge, r1=1")).r1 == 1.0


@pytest.mark.parametrize("module, what", [("scenarios", "scenario"),
                                          ("reproduce", "reproduction")])
def test_an_unknown_name_is_refused_with_the_known_ones(module, what):
    import importlib
    mod = importlib.import_module(f"gan_core.{module}")
    table = mod.SCENARIOS if module == "scenarios" else mod.REPRODUCTIONS
    first = next(iter(table))
    assert mod.get(first) is table[first]
    for bad in ("nope", None, ["a list"]):
        with pytest.raises(ValueError, match=f"unknown {what} .*choose one of: {first}"):
            mod.get(bad)
