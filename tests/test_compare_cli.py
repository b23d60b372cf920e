"""`python -m gan_core compare`: --variant parsing, presets, the --json contract (each variant as
`train --json` plus its label), the readable table, and one-line errors with exit code 2."""
import dataclasses
import json
import subprocess
import sys
from functools import partialmethod
from pathlib import Path

import pytest

from gan_core.batched import PRESETS
from gan_cli.compare import parse_variant
from gan_core.strict_json import strict
from gan_core.config import ConfigError, TrainConfig
from gan_core.training import Trainer
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--g-width", "16", "--d-width", "16", "--batch-size", "64"]
TRAIN_FIELDS = {"config", "dataset", "steps", "iterations", "status", "verdict", "events",
                "metrics", "steps_per_s", "last"}
pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")


def strict_json(text: str):
    """json.loads that refuses NaN / Infinity, which are not JSON."""
    def refuse(constant):
        raise ValueError(f"not valid JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(autouse=True)
def quick_w1(monkeypatch):
    """Exact W1 on 1,000 samples of a barely trained G can take seconds; in-process runs
    use 200 (the subprocess run keeps the real 1,000)."""
    monkeypatch.setattr(Trainer, "final_metrics",
                        partialmethod(Trainer.final_metrics, w1_samples=200))




# ---------------------------------------------------------------------------- parsing
def test_variant_values_are_parsed_to_each_fields_type():
    parsed = parse_variant("loss=wgan, k=5,lr-d=4e-3,spectral_norm=true,std=none,"
                           "instance_noise=0.1,updates=simultaneous")
    assert parsed == {"loss": "wgan", "k": 5, "lr_d": 4e-3, "spectral_norm": True, "std": None,
                      "instance_noise": 0.1, "updates": "simultaneous"}
    assert type(parsed["k"]) is int and type(parsed["lr_d"]) is float
    assert parse_variant("") == {} and parse_variant("base") == {}
    assert parse_variant("spectral_norm=no") == {"spectral_norm": False}


@pytest.mark.parametrize("text, field", [("bogus=1", "bogus"), ("k=x", "k"),
                                         ("lr_d=fast", "lr_d"), ("spectral_norm=maybe",
                                                                  "spectral_norm"),
                                         ("k=1,k=2", "k"), ("loss", "loss")])
def test_bad_variant_text_names_the_field(text, field):
    with pytest.raises(ConfigError, match=field):
        parse_variant(text)


def test_custom_points_variant_reads_a_file(tmp_path):
    points = tmp_path / "pts.csv"
    points.write_text("0,0\n1,1\n")
    assert parse_variant(f"custom_points={points}") == {
        "custom_points": ((0.0, 0.0), (1.0, 1.0))}


def test_strict_turns_non_finite_numbers_into_null():
    assert strict({"a": [float("inf"), 1.0], "b": float("nan"), "c": "x"}) == {
        "a": [None, 1.0], "b": None, "c": "x"}


# ---------------------------------------------------------------------------- --json
def test_compare_help_has_variant_preset_and_every_config_field(capsys):
    code, out, _ = run_main(capsys, "compare", "--help")
    assert code == 0
    for option in ("--variant", "--preset", "--steps", "--json", "--no-batch"):
        assert option in out
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in out, f.name
    for name in PRESETS:
        assert name in out


def test_compare_json_has_one_train_result_per_variant(capsys):
    code, out, err = run_main(capsys, "compare", "--variant", "loss=minimax",
                              "--variant", "loss=wgan,lr_d=2e-3", "--variant", "g_width=8",
                              "--variant", "k=2", "--steps", "12", "--seed", "3", *FAST,
                              "--json")
    assert code == 0, err
    data = strict_json(out)
    assert data["steps"] == 12 and data["iterations"] == 12
    assert data["steps_per_s"] > 0
    assert data["batched"] == [[0, 1], [2], [3]]
    base = TrainConfig(g_width=16, d_width=16, batch_size=64, seed=3)
    assert data["base"] == base.to_dict()
    overrides = [{"loss": "minimax"}, {"loss": "wgan", "lr_d": 2e-3}, {"g_width": 8}, {"k": 2}]
    assert [v["label"] for v in data["variants"]] == [
        "loss=minimax", "loss=wgan, lr_d=0.002", "g_width=8", "k=2"]
    for variant, override in zip(data["variants"], overrides, strict=True):
        assert TRAIN_FIELDS <= set(variant)
        assert variant["overrides"] == override
        assert variant["config"] == base.replace(**override).to_dict()
        assert variant["iterations"] == 12 and variant["status"] == ""
        assert variant["last"]["iteration"] == 12
        assert set(variant["metrics"]) >= {"w1", "modes_covered", "high_quality"}


def test_one_variant_compare_reports_what_train_reports(capsys):
    """The same run through `compare` (a lone Trainer) and `train`: identical results."""
    code, out, _ = run_main(capsys, "compare", "--variant", "loss=hinge", "--steps", "15",
                            *FAST, "--json")
    assert code == 0
    compared = strict_json(out)["variants"][0]
    code, out, _ = run_main(capsys, "train", "--loss", "hinge", "--steps", "15", *FAST,
                            "--json")
    assert code == 0
    trained = strict_json(out)
    assert set(compared) - {"label", "overrides"} == set(trained)
    for key in ("config", "dataset", "iterations", "status", "metrics", "last"):
        assert compared[key] == trained[key], key


def test_preset_objectives_trains_the_six_losses_together(capsys):
    code, out, _ = run_main(capsys, "compare", "--preset", "objectives", "--steps", "3",
                            *FAST, "--json")
    assert code == 0
    data = strict_json(out)
    assert [v["config"]["loss"] for v in data["variants"]] == [
        "minimax", "nonsaturating", "wgan", "wgan-gp", "lsgan", "hinge"]
    assert data["batched"] == [[0, 1, 2, 3, 4, 5]]
    code, out, _ = run_main(capsys, "compare", "--preset", "ttur", "--variant", "lr_d=1e-2",
                            "--steps", "2", *FAST, "--json", "--no-batch")
    data = strict_json(out)
    assert [v["config"]["lr_d"] for v in data["variants"]] == [1e-3, 4e-3, 1e-2]
    assert data["batched"] == [[0], [1], [2]]


def test_compare_without_json_prints_a_table(capsys):
    code, out, _ = run_main(capsys, "compare", "--preset", "r1", "--steps", "4", *FAST)
    assert code == 0
    assert "2 variants" in out and "4 iterations" in out
    assert "r1=0" in out and "r1=1" in out
    assert "modes" in out and "w1" in out


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("args, words", [
    (["--variant", "bogus=1"], ["bogus"]),
    (["--variant", "k=x"], ["k", "whole number"]),
    (["--variant", "loss=minimax", "--variant", "k=0"], ["variant 2", "k"]),
    (["--variant", "loss=nope"], ["loss"]),
    (["--variant", "lr_d"], ["lr_d"]),
    ([], ["--variant"]),
    (["--preset", "objectives", "--variant", "k=2", "--variant", "k=3", "--variant", "k=4"],
     ["between 1 and 8"]),
    (["--variant", "", "--steps", "0"], ["steps"]),
])
def test_bad_arguments_exit_2_with_one_line_naming_the_problem(capsys, args, words):
    code, out, err = run_main(capsys, "compare", *args, *FAST)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    for word in words:
        assert word in err


def test_unknown_preset_is_an_argparse_error(capsys):
    code, _, err = run_main(capsys, "compare", "--preset", "nope")
    assert code == 2 and "nope" in err


def test_compare_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "gan_core", "compare", "--variant",
                             "loss=lsgan", "--variant", "loss=hinge", "--steps", "10", *FAST,
                             "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = strict_json(result.stdout)
    assert [v["label"] for v in data["variants"]] == ["loss=lsgan", "loss=hinge"]
    assert data["batched"] == [[0, 1]]
    assert "Traceback" not in result.stderr
