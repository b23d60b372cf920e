"""TrainConfig validation: every field's range, type and choices, custom points, (de)serialisation.

Ranges are read from each field's metadata ("lo", "hi", "open_lo", "open_hi"), so a field added
later is covered without touching this file.
"""
import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_core.config import (ACTIVATIONS, DATASETS, DEFAULT_STD, LATENTS, LOSSES,
                             MAX_CUSTOM_POINTS, OPTIMIZERS, UPDATES, ConfigError, TrainConfig)

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
NUMERIC = [f for f in dataclasses.fields(TrainConfig) if "lo" in f.metadata]
CHOICE = [f for f in dataclasses.fields(TrainConfig) if "choices" in f.metadata]


def is_int_field(f) -> bool:
    return f.type == "int"


def in_range(f, value) -> bool:
    meta = f.metadata
    lo, hi = meta["lo"], meta["hi"]
    above = value > lo if meta.get("open_lo") else value >= lo
    below = value < hi if meta.get("open_hi") else value <= hi
    return above and below


def raises_for(name, value):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{name: value})
    message = str(info.value)
    assert message.startswith(f"{name}:"), message
    return message


# ---------------------------------------------------------------------------- defaults
def test_defaults_are_valid_and_in_range():
    cfg = TrainConfig()
    for f in NUMERIC:
        value = getattr(cfg, f.name)
        if value is None:
            assert "None" in f.type
            continue
        assert in_range(f, value), f.name
    for f in CHOICE:
        assert getattr(cfg, f.name) in f.metadata["choices"]


def test_field_groups_are_what_the_tests_expect():
    names = {f.name for f in NUMERIC}
    assert {"n_modes", "radius", "std", "seed", "lr_d", "lr_g", "k", "k_g", "beta1", "beta2",
            "momentum", "batch_size", "clip", "gp_weight", "r1", "r2",
            "instance_noise"} <= names
    assert {f.name for f in CHOICE} == {"dataset", "latent", "activation", "loss", "opt_d",
                                        "opt_g", "updates"}
    assert FIELDS["dataset"].metadata["choices"] == DATASETS
    assert FIELDS["loss"].metadata["choices"] == LOSSES
    assert FIELDS["opt_d"].metadata["choices"] == OPTIMIZERS
    assert FIELDS["activation"].metadata["choices"] == ACTIVATIONS
    assert FIELDS["latent"].metadata["choices"] == LATENTS
    assert FIELDS["updates"].metadata["choices"] == UPDATES


# ---------------------------------------------------------------------------- numeric ranges
def out_of_range_values(f):
    meta = f.metadata
    lo, hi = meta["lo"], meta["hi"]
    values = [lo - 1, hi + 1, -1e300, 1e300]
    if meta.get("open_lo"):
        values.append(lo)
    if meta.get("open_hi"):
        values.append(hi)
    if is_int_field(f):
        values = [int(v) for v in values if abs(v) < 1e18] + [10 ** 30, -(10 ** 30)]
    return values


@pytest.mark.parametrize("f", NUMERIC, ids=lambda f: f.name)
def test_numeric_field_rejects_out_of_range(f):
    for value in out_of_range_values(f):
        assert not in_range(f, value)
        message = raises_for(f.name, value)
        assert "range" in message


@pytest.mark.parametrize("f", NUMERIC, ids=lambda f: f.name)
def test_numeric_field_accepts_its_bounds(f):
    meta = f.metadata
    lo, hi = meta["lo"], meta["hi"]
    for value in (lo, hi, (lo + hi) / 2):
        if is_int_field(f):
            value = int(value)
        if not in_range(f, value):
            continue
        cfg = TrainConfig(**{f.name: value})
        assert getattr(cfg, f.name) == value


@pytest.mark.parametrize("f", NUMERIC, ids=lambda f: f.name)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_numeric_field_rejects_non_finite(f, bad):
    raises_for(f.name, bad)


@pytest.mark.parametrize("f", NUMERIC, ids=lambda f: f.name)
@pytest.mark.parametrize("bad", ["1", True, False, [1], b"1"])
def test_numeric_field_rejects_wrong_type(f, bad):
    message = raises_for(f.name, bad)
    assert "expected" in message


@pytest.mark.parametrize("f", [f for f in NUMERIC if is_int_field(f)], ids=lambda f: f.name)
def test_int_field_rejects_fractions(f):
    value = float(f.metadata["lo"]) + 0.5
    message = raises_for(f.name, value)
    assert "whole number" in message


@pytest.mark.parametrize("f", [f for f in NUMERIC if "None" not in f.type], ids=lambda f: f.name)
def test_numeric_field_rejects_none_unless_optional(f):
    raises_for(f.name, None)


def test_std_none_means_dataset_default():
    for name in ("ring", "grid", "gaussian", "moons"):
        cfg = TrainConfig(dataset=name)
        assert cfg.std is None
        assert cfg.resolved_std == DEFAULT_STD[name]
    assert TrainConfig(std=0.3).resolved_std == 0.3


def test_huge_integers_are_config_errors():
    """Python ints beyond float range must not leak OverflowError (or worse) out of validation."""
    for name in ("radius", "lr_d", "seed", "batch_size"):
        raises_for(name, 10 ** 400)
        raises_for(name, -(10 ** 400))
    raises_for("seed", 10 ** 5000)    # repr of this int is refused by Python's digit limit


def test_spectral_norm_takes_only_booleans():
    assert TrainConfig(spectral_norm=True).spectral_norm is True
    for bad in (1, 0, "yes", None):
        raises_for("spectral_norm", bad)


# ---------------------------------------------------------------------------- choices
@pytest.mark.parametrize("f", CHOICE, ids=lambda f: f.name)
def test_bad_choice_names_field_and_lists_choices(f):
    message = raises_for(f.name, "foo")
    assert "'foo'" in message
    for choice in f.metadata["choices"]:
        assert choice in message
    raises_for(f.name, 3)
    raises_for(f.name, None)


def test_bad_loss_message():
    with pytest.raises(ConfigError, match=r"^loss: .*minimax.*nonsaturating.*wgan.*wgan-gp.*"
                                          r"lsgan.*hinge"):
        TrainConfig(loss="foo")


@pytest.mark.parametrize("f", CHOICE, ids=lambda f: f.name)
def test_every_choice_is_accepted(f):
    for choice in f.metadata["choices"]:
        extra = {"custom_points": [(0.0, 0.0)]} if choice == "custom" else {}
        assert getattr(TrainConfig(**{f.name: choice}, **extra), f.name) == choice


# ---------------------------------------------------------------------------- custom points
def test_custom_dataset_needs_points():
    for points in (None, [], ()):
        with pytest.raises(ConfigError, match="^custom_points:"):
            TrainConfig(dataset="custom", custom_points=points)


def test_custom_points_lists_become_tuples_of_float_pairs():
    cfg = TrainConfig(dataset="custom", custom_points=[[1, 2], [3.5, -4]])
    assert cfg.custom_points == ((1.0, 2.0), (3.5, -4.0))
    assert isinstance(cfg.custom_points, tuple)
    for p in cfg.custom_points:
        assert isinstance(p, tuple) and len(p) == 2
        assert all(type(v) is float for v in p)
    hash(cfg)   # frozen and made of tuples: usable as a cache key


@pytest.mark.parametrize("points", [
    [(0.0, math.nan)], [(math.inf, 0.0)], [(0.0, -math.inf)],
    [(1.0,)], [(1.0, 2.0, 3.0)], [("a", "b")], 5, [5, 6], [None], [(10 ** 400, 0)],
])
def test_bad_custom_points_are_rejected(points):
    with pytest.raises(ConfigError, match="^custom_points:"):
        TrainConfig(dataset="custom", custom_points=points)


def test_too_many_custom_points():
    ok = [(float(i), 0.0) for i in range(MAX_CUSTOM_POINTS)]
    assert len(TrainConfig(dataset="custom", custom_points=ok).custom_points) == MAX_CUSTOM_POINTS
    with pytest.raises(ConfigError, match="^custom_points:.*at most"):
        TrainConfig(dataset="custom", custom_points=ok + [(0.0, 1.0)])


# ---------------------------------------------------------------------------- replace / dicts
def test_replace_validates_and_rejects_unknown_names():
    cfg = TrainConfig()
    new = cfg.replace(lr_d=0.01, loss="hinge")
    assert (new.lr_d, new.loss) == (0.01, "hinge")
    assert (cfg.lr_d, cfg.loss) == (1e-3, "nonsaturating"), "the original is unchanged"
    with pytest.raises(ConfigError, match="^lr_d:"):
        cfg.replace(lr_d=-1.0)
    with pytest.raises(ConfigError, match="bogus"):
        cfg.replace(bogus=1)
    with pytest.raises(ConfigError, match="^custom_points:"):
        cfg.replace(dataset="custom")


def test_config_is_frozen():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr_d = 0.5


def test_to_dict_fills_std_and_lists_every_field():
    cfg = TrainConfig(dataset="grid")
    d = cfg.to_dict()
    assert set(d) == set(FIELDS)
    assert d["std"] == DEFAULT_STD["grid"] == 0.05
    assert d["dataset"] == "grid"
    json.dumps(d)    # JSON-ready


@pytest.mark.parametrize("cfg", [
    TrainConfig(),
    TrainConfig(dataset="moons", std=0.2, loss="wgan-gp", lr_d=3e-4, k=5, spectral_norm=True),
    TrainConfig(dataset="custom", custom_points=[(0, 1), (2.5, -3)], std=0.1, latent="uniform"),
    TrainConfig(dataset="custom", custom_points=[(0, 1)]),
], ids=["default", "moons", "custom", "custom-default-std"])
def test_from_dict_to_dict_round_trip_through_json(cfg):
    data = json.loads(json.dumps(cfg.to_dict()))
    back = TrainConfig.from_dict(data)
    assert back.to_dict() == cfg.to_dict()
    for f in dataclasses.fields(TrainConfig):
        if f.name == "std":
            assert back.std == cfg.resolved_std
        else:
            assert getattr(back, f.name) == getattr(cfg, f.name), f.name
    if cfg.std is not None:
        assert back == cfg
    assert TrainConfig.from_dict(back.to_dict()) == back    # a fixed point after one trip


def test_from_dict_rejects_unknown_keys_and_non_mappings():
    with pytest.raises(ConfigError, match="bogus"):
        TrainConfig.from_dict({"bogus": 1})
    for bad in (None, [], "ring", 3):
        with pytest.raises(ConfigError):
            TrainConfig.from_dict(bad)
    with pytest.raises(ConfigError, match="^k:"):
        TrainConfig.from_dict({"k": 0})


# ---------------------------------------------------------------------------- property test
ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5, max_value=5),
    st.integers(min_value=-10, max_value=100),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.sampled_from([10 ** 400, -(10 ** 400), 0, 1, 0.0, 1.0, 2 ** 31, 2 ** 31 - 1, 1e-300]),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)


def value_for(f):
    if "choices" in f.metadata:
        return st.one_of(st.sampled_from(f.metadata["choices"]), ANY_VALUE)
    return ANY_VALUE


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_values_either_validate_or_raise_config_error(data):
    chosen = data.draw(st.lists(st.sampled_from([f.name for f in NUMERIC + CHOICE]
                                                + ["spectral_norm"]),
                                unique=True, max_size=6))
    values = {name: data.draw(value_for(FIELDS[name]), label=name) for name in chosen}
    try:
        cfg = TrainConfig(**values)
    except ConfigError as err:
        message = str(err)
        assert any(message.startswith(f"{name}:") for name in list(values) + ["custom_points"])
        return
    for f in NUMERIC:
        value = getattr(cfg, f.name)
        if value is None:
            assert "None" in f.type
            continue
        assert not isinstance(value, bool)
        assert isinstance(value, int) if is_int_field(f) else isinstance(value, (int, float))
        assert math.isfinite(value) and in_range(f, value), (f.name, value)
    for f in CHOICE:
        assert getattr(cfg, f.name) in f.metadata["choices"]
    assert isinstance(cfg.spectral_norm, bool)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.floats(), st.integers(), st.text(max_size=2)),
                          st.one_of(st.floats(), st.integers())), max_size=5))
def test_any_custom_points_either_validate_or_raise_config_error(points):
    try:
        cfg = TrainConfig(dataset="custom", custom_points=points)
    except ConfigError as err:
        assert str(err).startswith("custom_points:")
        return
    assert len(cfg.custom_points) == len(points) > 0
    for p in cfg.custom_points:
        assert len(p) == 2 and all(type(v) is float and math.isfinite(v) for v in p)
