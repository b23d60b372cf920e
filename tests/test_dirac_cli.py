"""`python -m gan_core dirac`: options, JSON contract (equal to gan_core.dirac.run), the paper's
findings through the CLI, and one-line errors with exit code 2."""

import json
import math
import re
import subprocess
import sys
from dataclasses import fields

import pytest

from gan_cli.main import main
from gan_core.dirac import DiracConfig, run
from gan_core.dirac_stability import read, spectral_radius


def dirac(capsys, *argv):
    code = main(["dirac", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def dirac_json(capsys, *argv):
    code, out, err = dirac(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_help_lists_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["dirac", "--help"])
    assert exit_info.value.code == 0
    options = capsys.readouterr().out.split("options:")[1]
    entries = {chunk.split()[0]: " ".join(chunk.split())           # "--flag" -> its help entry
               for chunk in re.split(r"\n  (?=-)", "\n" + options) if chunk.strip()}
    for f in fields(DiracConfig):
        entry = entries["--" + f.name.replace("_", "-")]
        assert f"(default: {f.default})" in entry
        assert len(entry.split(")", 1)[0]) > 25                      # a meaning, not just a flag
    assert "--json" in entries and "--trajectory" in entries


def test_json_equals_run_for_the_same_config(capsys):
    argv = ["--objective", "wgan-gp", "--updates", "alternating", "--h", "0.1", "--steps", "40",
            "--d-steps", "3", "--theta0", "0.5", "--psi0", "-0.25", "--gp-weight", "0.4",
            "--gp-target", "0.8", "--trajectory"]
    got = dirac_json(capsys, *argv)
    config = DiracConfig(objective="wgan-gp", updates="alternating", h=0.1, steps=40, d_steps=3,
                         theta0=0.5, psi0=-0.25, gp_weight=0.4, gp_target=0.8)
    want = run(config)
    for key in ("config", "theta", "psi", "distance", "diverged_at", "trajectory"):
        assert got[key] == want[key], key
    assert len(got["trajectory"]) == 41


@pytest.mark.parametrize("flag, field, value", [
    ("--clip", "clip", 0.5), ("--noise-std", "noise_std", 0.3), ("--r1", "r1", 1.5),
    ("--consensus", "consensus", 0.25), ("--momentum", "momentum", -0.4),
    ("--lr-ratio", "lr_ratio", 2.5), ("--optimizer", "optimizer", "optimistic"),
    ("--objective", "objective", "bilinear")])
def test_each_method_parameter_reaches_the_config(capsys, flag, field, value):
    got = dirac_json(capsys, "--steps", "5", flag, str(value))
    assert got["config"][field] == value
    assert got["theta"] == run(DiracConfig(steps=5, **{field: value}))["theta"]


def test_trajectory_only_on_request(capsys):
    got = dirac_json(capsys, "--steps", "10")
    assert "trajectory" not in got
    assert got["diverged_at"] is None
    assert got["config"] == run(DiracConfig(steps=10))["config"]


def test_paper_unregularised_gan_simultaneous_spirals_out(capsys):
    got = dirac_json(capsys, "--objective", "gan", "--updates", "simultaneous",
                     "--h", "0.2", "--steps", "500")
    assert got["distance"] > math.sqrt(2.0)
    assert got["verdict"] == "diverges (spirals out)"


@pytest.mark.parametrize("updates", ["simultaneous", "alternating"])
def test_paper_gradient_penalty_converges(capsys, updates):
    got = dirac_json(capsys, "--objective", "gradient-penalty", "--updates", updates)
    assert got["distance"] < 1e-2
    assert got["verdict"] == "converges to the equilibrium"


@pytest.mark.parametrize("argv, verdict", [
    (["--objective", "gradient-penalty"], "converges to the equilibrium"),
    (["--objective", "gan"], "diverges (spirals out)"),
    (["--objective", "wgan"], "does not converge (cycles / stalls)"),
])
def test_readable_summary(capsys, argv, verdict):
    code, out, _ = dirac(capsys, *argv)
    assert code == 0
    assert not out.lstrip().startswith("{")
    assert "θ =" in out and "ψ =" in out and "distance" in out
    assert out.rstrip().splitlines()[-1].strip() == verdict


@pytest.mark.parametrize("argv, field", [
    (["--objective", "bogus"], "objective"),
    (["--optimizer", "adam"], "optimizer"),
    (["--momentum", "-0.95"], "momentum"),
    (["--momentum", "1"], "momentum"),
    (["--lr-ratio", "0"], "lr_ratio"),
    (["--updates", "sideways"], "updates"),
    (["--h", "0"], "h"),
    (["--steps", "1.5"], "steps"),
    (["--d-steps", "0"], "d_steps"),
    (["--psi0", "abc"], "psi0"),
    (["--noise-std", "-1"], "noise_std"),
])
def test_bad_values_exit_2_with_a_one_line_message(capsys, argv, field):
    code, out, err = dirac(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field} ")


def test_module_entry_point_exit_code_and_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "gan_core", "dirac", "--h", "0", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "h must be > 0" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gan_core", "dirac", "--objective", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "objective" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [
    ["--objective", "bilinear", "--optimizer", "extragradient", "--h", "0.5"],
    ["--objective", "gan", "--updates", "alternating", "--momentum", "-0.3", "--d-steps", "2"],
    ["--objective", "consensus", "--optimizer", "optimistic", "--lr-ratio", "3"],
])
def test_json_gains_the_spectral_radius_and_the_reading(capsys, argv):
    got = dirac_json(capsys, *argv, "--steps", "300")
    config = DiracConfig(**got["config"])
    assert got["spectral_radius"] == spectral_radius(config)
    reading = read(config, run(config)["trajectory"])
    assert got["outcome"] == reading.outcome and got["verdict"] == reading.verdict
    assert got["envelope_growth"] == pytest.approx(reading.envelope_growth)
    assert got["why"] == reading.reason and got["why"].startswith("ρ = ")


def test_wgan_gp_has_no_spectral_radius_and_cycles(capsys):
    """Issue 14: it used to say "diverges (spirals out)" while circling at distance 1.5-2."""
    got = dirac_json(capsys, "--objective", "wgan-gp")
    assert got["spectral_radius"] is None
    assert got["outcome"] == "cycles" and got["verdict"] == "does not converge (cycles / stalls)"
    json.dumps(got, allow_nan=False)


def test_alternating_gan_cycles_also_after_20000_steps(capsys):
    """Issue 14: "cycles / stalls" at 500 steps but "diverges" at 20,000."""
    for steps in ("500", "20000"):
        got = dirac_json(capsys, "--objective", "gan", "--updates", "alternating", "--h", "0.1",
                         "--steps", steps)
        assert got["outcome"] == "cycles", steps
        assert got["spectral_radius"] == pytest.approx(1.0, abs=1e-12)


def test_readable_summary_names_the_method_and_rho(capsys):
    code, out, _ = dirac(capsys, "--objective", "bilinear", "--optimizer", "optimistic",
                         "--momentum", "-0.1")
    assert code == 0
    assert "bilinear" in out and "optimistic" in out and "momentum=-0.1" in out
    assert "spectral radius at the equilibrium: 0.9" in out
    assert out.rstrip().splitlines()[-1].strip() == "converges to the equilibrium"
