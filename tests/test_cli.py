"""`python -m gan_core train`: help, one flag per config field, the --json contract, --samples,
--save, readable summary, and one-line errors (exit code != 0, no traceback)."""
import dataclasses
import json
import math
import subprocess
import sys
from functools import partialmethod
from pathlib import Path

import numpy as np
import pytest

from gan_cli import common
from gan_cli import main as cli
from gan_core.config import DEFAULT_STD, TrainConfig
from gan_core.metrics import HOPPING, VERDICTS
from gan_core.records import load_run
from gan_core.training import Trainer
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
FIELDS = dataclasses.fields(TrainConfig)
FAST = ["--g-width", "16", "--d-width", "16", "--batch-size", "64"]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def run_module(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "gan_core", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def strict_json(text: str):
    """json.loads that refuses NaN / Infinity, which are not JSON."""
    def refuse(constant):
        raise ValueError(f"not valid JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def quick_w1(monkeypatch):
    """Exact W1 on 1,000 samples of an untrained G can take seconds (Hungarian algorithm on a
    degenerate cost matrix); in-process runs use 200. The subprocess runs keep the real 1,000."""
    monkeypatch.setattr(Trainer, "final_metrics",
                        partialmethod(Trainer.final_metrics, w1_samples=200))




# ---------------------------------------------------------------------------- help
def test_help_lists_the_train_command():
    result = run_module("--help")
    assert result.returncode == 0
    assert "train" in result.stdout
    assert "usage" in result.stdout.lower()


def test_no_command_is_an_error(capsys):
    code, _, err = run_main(capsys)
    assert code != 0
    assert "Traceback" not in err


def test_train_help_has_an_option_for_every_config_field(capsys):
    code, out, _ = run_main(capsys, "train", "--help")
    assert code == 0
    for f in FIELDS:
        assert flag(f.name) in out, f.name
    for option in ("--steps", "--json", "--samples", "--save", "--no-spectral-norm"):
        assert option in out
    assert "--lr-d" in out and "--k-g" in out and "--gp-weight" in out


def non_default_value(f, tmp_path):
    """(command-line words, expected config value) for a valid non-default value of f."""
    if f.name == "custom_points":
        p = tmp_path / "pts.csv"
        p.write_text("x,y\n0.5,1\n-2,3\n")
        return [str(p)], ((0.5, 1.0), (-2.0, 3.0))
    if f.type == "bool":
        return None, True
    meta = f.metadata
    if "choices" in meta:
        choice = next(c for c in meta["choices"] if c != f.default)
        return [choice], choice
    lo, hi = meta["lo"], meta["hi"]
    if f.type == "int":
        value = int(lo) + 1 if int(lo) + 1 != f.default else int(lo) + 2
        return [str(value)], value
    value = (lo + hi) / 3
    return [repr(value)], value


def test_every_config_field_flag_sets_that_field(tmp_path):
    parser = cli.build_parser()
    for f in FIELDS:
        words, expected = non_default_value(f, tmp_path)
        argv = ["train", flag(f.name)] + (words or [])
        if f.name == "custom_points":
            argv += ["--dataset", "custom"]
        config = common.config_from_args(parser.parse_args(argv))
        assert getattr(config, f.name) == expected, f.name
        assert getattr(config, f.name) != getattr(TrainConfig(), f.name), f.name
    no_sn = common.config_from_args(parser.parse_args(["train", "--no-spectral-norm"]))
    assert no_sn.spectral_norm is False
    assert common.config_from_args(parser.parse_args(["train"])) == TrainConfig()


# ---------------------------------------------------------------------------- --json
@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    """The documented command in a real process (its 2,500 samples saved too)."""
    samples = tmp_path_factory.mktemp("cli") / "samples.npy"
    result = run_module("train", "--steps", "30", "--json", "--seed", "0", *FAST,
                        "--samples", str(samples))
    result.samples = samples
    return result


def test_train_json_prints_one_strict_json_object(json_run):
    assert json_run.returncode == 0, json_run.stderr
    lines = [line for line in json_run.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, "exactly one JSON object on stdout"
    data = strict_json(lines[0])
    assert isinstance(data, dict)
    assert "Traceback" not in json_run.stderr
    assert "\r" not in json_run.stderr, "no progress bar with --json"


def test_train_json_contract(json_run):
    data = strict_json(json_run.stdout)
    assert {"config", "dataset", "steps", "metrics", "steps_per_s"} <= set(data)
    # config: every field, std filled in with the dataset's default
    expected = TrainConfig(seed=0, g_width=16, d_width=16, batch_size=64).to_dict()
    assert set(data["config"]) == {f.name for f in FIELDS}
    assert data["config"]["std"] == DEFAULT_STD["ring"] == 0.01
    assert data["config"] == expected
    # dataset: the default ring, 8 modes of radius 1
    ds = data["dataset"]
    assert ds["name"] == "ring"
    assert ds["params"]["n_modes"] == 8 and ds["params"]["radius"] == 1.0
    assert ds["std"] == 0.01
    centers = np.array(ds["centers"])
    hand = np.array([(math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8))
                     for i in range(8)])
    np.testing.assert_allclose(centers, hand, atol=1e-12)
    assert data["steps"] == 30
    m = data["metrics"]
    assert {"modes_covered", "high_quality", "reverse_kl", "w1", "collapsed"} <= set(m)
    assert isinstance(m["modes_covered"], int) and 0 <= m["modes_covered"] <= 8
    assert 0.0 <= m["high_quality"] <= 1.0
    assert m["w1"] > 0
    assert isinstance(m["collapsed"], bool)
    assert data["verdict"] in VERDICTS and data["verdict"] == m["verdict"]
    assert m["collapsed"] == (data["verdict"] == "mode collapse")   # kept for old scripts
    assert isinstance(data["events"], list)
    for event in data["events"]:
        assert isinstance(event["iteration"], int) and 0 < event["iteration"] <= 30
        assert event["kind"] in VERDICTS + (HOPPING,)
    assert m["reverse_kl"] is None or m["reverse_kl"] >= 0
    assert data["steps_per_s"] > 0


def test_train_json_is_deterministic(capsys, json_run, quick_w1, tmp_path):
    """In-process runs reproduce the subprocess's run exactly; another seed does not."""
    full = strict_json(json_run.stdout)
    full_samples = np.load(json_run.samples)
    runs = {}
    for seed in ("0", "1"):
        samples = tmp_path / f"s{seed}.npy"
        code, out, _ = run_main(capsys, "train", "--steps", "30", "--json", "--seed", seed,
                                "--samples", str(samples), *FAST)
        assert code == 0
        runs[seed] = (strict_json(out), np.load(samples))
    same, same_samples = runs["0"]
    np.testing.assert_array_equal(same_samples, full_samples)
    assert same["config"] == full["config"]
    assert same["last"] == full["last"]
    for key in ("modes_covered", "high_quality", "reverse_kl", "collapsed", "mode_counts"):
        assert same["metrics"][key] == full["metrics"][key], key
    other, other_samples = runs["1"]
    assert not np.array_equal(other_samples, full_samples)
    assert other["last"] != full["last"]


def test_train_json_for_a_non_mixture_dataset(capsys, quick_w1):
    code, out, _ = run_main(capsys, "train", "--steps", "5", "--json", "--dataset", "moons",
                            *FAST)
    assert code == 0
    data = strict_json(out)
    assert data["config"]["std"] == DEFAULT_STD["moons"]
    assert data["dataset"]["name"] == "moons"
    assert data["metrics"]["modes_covered"] is None
    assert data["metrics"]["w1"] > 0


# ---------------------------------------------------------------------------- files
def test_samples_and_save(capsys, tmp_path, quick_w1):
    samples, record = tmp_path / "s.npy", tmp_path / "run.zip"
    code, out, err = run_main(capsys, "train", "--steps", "12", "--json", "--seed", "3",
                              "--samples", str(samples), "--save", str(record), *FAST)
    assert code == 0, err
    array = np.load(samples, allow_pickle=False)
    assert array.shape == (2500, 2)
    assert np.issubdtype(array.dtype, np.floating)
    assert np.isfinite(array).all()
    assert array.std(axis=0).min() > 0, "distinct samples, not one repeated point"
    trainer = load_run(record)
    assert trainer.iteration == 12
    assert trainer.config.to_dict() == strict_json(out)["config"]
    assert trainer.config.seed == 3
    np.testing.assert_array_equal(trainer.generate(2500), array)


def test_custom_points_file(capsys, tmp_path, quick_w1):
    p = tmp_path / "pts.csv"
    p.write_text("x,y\n0,0\n1,1\n2,0\n")
    code, out, err = run_main(capsys, "train", "--steps", "3", "--json", "--dataset", "custom",
                              "--custom-points", str(p), *FAST)
    assert code == 0, err
    data = strict_json(out)
    assert data["config"]["custom_points"] == [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]
    assert data["dataset"]["centers"] == [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]


# ---------------------------------------------------------------------------- summary
def test_readable_summary_without_json(capsys, quick_w1):
    code, out, err = run_main(capsys, "train", "--steps", "10", "--loss", "hinge", *FAST)
    assert code == 0, err
    assert not out.lstrip().startswith("{")
    assert "hinge" in out and "ring" in out
    assert "10 iterations" in out
    assert "modes covered" in out and "w1" in out
    assert "/ 8" in out


def test_summary_reports_a_diverged_run(capsys, quick_w1):
    code, out, err = run_main(capsys, "train", "--steps", "50", "--loss", "lsgan", "--opt-d",
                              "sgd", "--opt-g", "sgd", "--lr-d", "10", "--lr-g", "10", *FAST)
    assert code == 0, err
    assert "STOPPED: diverged at iteration" in out
    assert "verdict         diverged" in out


def test_json_of_a_diverged_run_is_strict(capsys, quick_w1):
    code, out, err = run_main(capsys, "train", "--steps", "50", "--json", "--loss", "lsgan",
                              "--opt-d", "sgd", "--opt-g", "sgd", "--lr-d", "10", "--lr-g",
                              "10", *FAST)
    assert code == 0, err
    data = strict_json(out)
    assert data["status"].startswith("diverged at iteration")
    assert data["iterations"] < 50
    assert data["verdict"] == "diverged" and data["metrics"]["collapsed"] is False
    assert data["events"][-1] == {"iteration": data["iterations"], "kind": "diverged"}


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("args,name", [
    (["--lr-d", "-1"], "lr-d"),
    (["--k", "0"], "k"),
    (["--loss", "foo"], "loss"),
    (["--lr-d", "nan"], "lr-d"),
    (["--lr-d", "abc"], "lr-d"),
    (["--batch-size", "1.5"], "batch-size"),
    (["--beta1", "1"], "beta1"),
    (["--dataset", "custom"], "custom"),
    (["--dataset", "custom", "--custom-points", "/no/such/file.csv"], "custom"),
    (["--steps", "0"], "steps"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_bad_values_fail_with_a_message_naming_the_field(capsys, args, name):
    code, out, err = run_main(capsys, "train", "--steps", "2", *args) if args[0] != "--steps" \
        else run_main(capsys, "train", *args)
    assert code != 0
    assert "Traceback" not in err
    assert out == ""
    lowered = err.lower()
    assert name in lowered or name.replace("-", "_") in lowered, err
    assert "error" in lowered


def test_bad_value_in_a_real_process_has_no_traceback():
    result = run_module("train", "--steps", "2", "--lr-d", "-1")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: lr_d:")
    assert result.stdout == ""


def test_bad_points_file_names_custom_points(capsys, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("x,y\n1,2\nfoo,bar\n")
    code, out, err = run_main(capsys, "train", "--steps", "2", "--dataset", "custom",
                              "--custom-points", str(p))
    assert code != 0
    assert "custom_points" in err and "Traceback" not in err
