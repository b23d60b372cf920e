"""Sweeps (gan_core.sweep, gan_core.sweep_backends, `python -m gan_core sweep`): the spec and its
chunking, results equal to individual runs of the same chunks, verdicts and cell summaries, bad
input refused before anything starts, and a killed sweep completed by --resume."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_core.batched import Group
from gan_core.config import ConfigError, TrainConfig
from gan_core.sweep import (document, load_done, make_spec, majority, read_results,
                            run_chunk, run_verdict, strict, write_results)
from gan_core.sweep_backends import LocalBackend, run_sweep
from gan_core.training import Trainer
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(g_width=8, d_width=8, g_depth=1, d_depth=1, batch_size=32)
TINY_SET = "g_width=8,d_width=8,g_depth=1,d_depth=1,batch_size=32"
RESULT_KEYS = ("iterations", "status", "verdict", "metrics", "last")
pytestmark = pytest.mark.filterwarnings("ignore:grad and param do not obey")


def tiny_spec(**kwargs):
    options = dict(seeds=2, steps=15, w1_samples=100)
    options.update(kwargs)
    return make_spec(TrainConfig(**TINY), [("lr_d", (1e-3, 3e-3)), ("k", (1, 2))], **options)


@pytest.fixture(scope="module")
def swept():
    """The tiny sweep, trained in this process: (spec, {run: result})."""
    spec = tiny_spec()
    return spec, run_sweep(spec, LocalBackend(workers=0))


# ---------------------------------------------------------------------- the spec
def test_runs_are_the_product_of_the_axes_times_seeds_in_order():
    spec = tiny_spec(seeds=3)
    assert (spec.n_cells, spec.n_runs) == (4, 12)
    assert spec.cells()[1] == {"lr_d": 1e-3, "k": 2}          # the last axis varies fastest
    configs = spec.run_configs()
    assert [(c.lr_d, c.k, c.seed) for c in configs[3:6]] == [
        (1e-3, 2, 0), (1e-3, 2, 1), (1e-3, 2, 2)]
    assert all(c.g_width == 8 for c in configs)


def test_chunks_hold_same_shaped_runs_in_near_equal_pieces():
    spec = make_spec(TrainConfig(**TINY), [("g_width", (8, 16)), ("lr_g", (1e-3, 2e-3, 3e-3,
                                                                          4e-3, 5e-3))],
                     seeds=2, steps=5)
    chunks = spec.chunks()
    assert sorted(len(c) for c in chunks) == [5, 5, 5, 5]       # 10 + 10 runs: 5 + 5 each
    configs = spec.run_configs()
    for chunk in chunks:
        assert len({configs[i].g_width for i in chunk}) == 1
    assert sorted(i for c in chunks for i in c) == list(range(spec.n_runs))
    assert make_spec(TrainConfig(**TINY), [("k", (1, 2, 3))], steps=5).chunks() == [
        [0], [1], [2]]                                          # k changes the schedule


def test_spec_survives_its_json():
    spec = tiny_spec()
    again = type(spec).from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.chunks() == spec.chunks()


# ---------------------------------------------------------------------- results
def test_sweep_results_equal_individual_runs_of_the_same_chunks(swept):
    spec, done = swept
    assert sorted(done) == list(range(spec.n_runs))
    configs = spec.run_configs()
    chunk = max(spec.chunks(), key=len)
    assert len(chunk) == 4                                      # a real batched pass
    base = configs[chunk[0]]
    variants = [{"lr_d": configs[i].lr_d, "seed": configs[i].seed} for i in chunk]
    group = Group(base, variants)
    assert len(group.grouping) == 1
    group.step(spec.steps)
    for i, member in zip(chunk, group.members):
        assert done[i]["metrics"] == member.final_metrics(w1_samples=100)
        assert done[i]["last"] == member.history.last()
        assert done[i]["iterations"] == spec.steps


def test_a_chunk_of_one_is_the_single_trainer():
    config = TrainConfig(**TINY, loss="hinge", seed=4)
    trainer = Trainer(config)
    trainer.step(12)
    (result,) = run_chunk([config.to_dict()], 12, 100)
    assert result["metrics"] == trainer.final_metrics(w1_samples=100)
    assert result["last"] == trainer.history.last()


def test_document_summarises_each_cell_over_its_seeds(swept):
    spec, done = swept
    doc = json.loads(json.dumps(document(spec, done), allow_nan=False))
    assert doc["complete"] and doc["runs_done"] == doc["total_runs"] == 8
    cell = doc["cells"][2]
    assert cell["values"] == {"lr_d": 3e-3, "k": 1}
    runs = [r for r in doc["runs"] if r["cell"] == 2]
    assert [r["seed"] for r in runs] == [0, 1]
    assert all(r["config"]["lr_d"] == 3e-3 and r["config"]["k"] == 1 for r in runs)
    w1 = [r["metrics"]["w1"] for r in runs]
    assert cell["metrics"]["w1"]["mean"] == pytest.approx(sum(w1) / 2)
    assert cell["metrics"]["w1"]["std"] == pytest.approx(abs(w1[0] - w1[1]) / 2)
    assert sum(cell["verdicts"].values()) == 2
    assert cell["verdict"] == majority(cell["verdicts"])


def test_verdicts_from_the_metrics():
    good = {"w1": 0.05, "collapsed": False, "modes_covered": 8, "n_modes": 8,
            "high_quality": 0.95, "reverse_kl": 0.02}
    assert run_verdict(good, "") == "converged"
    assert run_verdict(good, "diverged at iteration 7") == "diverged"
    assert run_verdict({**good, "collapsed": True, "modes_covered": 2}, "") == "mode collapse"
    assert run_verdict({**good, "modes_covered": 6}, "") == "partial"
    assert run_verdict({**good, "modes_covered": 6, "high_quality": 0.3}, "") == "off the data"
    assert run_verdict({"w1": 0.1, "collapsed": None}, "") is None       # moons: no modes
    assert majority({"converged": 1, "mode collapse": 1}) == "mode collapse"
    assert majority({"converged": 2, "mode collapse": 1}) == "converged"


# ---------------------------------------------------------------------- the command
def test_cli_writes_the_file_and_prints_a_table(tmp_path, capsys, swept):
    spec, done = swept
    out = tmp_path / "s.json"
    code, stdout, err = run_main(capsys, "sweep", "--axis", "lr_d=1e-3,3e-3", "--axis",
                                 "k=1,2", "--seeds", "2", "--steps", "15", "--set", TINY_SET,
                                 "--w1-samples", "100",
                                 "--workers", "0", "--out", str(out))
    assert code == 0, err
    doc = read_results(out)
    assert doc["complete"] and doc["spec"] == json.loads(json.dumps(spec.to_dict()))
    assert [r["metrics"] for r in doc["runs"]] == [
        json.loads(json.dumps(strict(done[i]["metrics"]))) for i in range(8)]
    assert "lr_d=0.003, k=2" in stdout and "8 runs (4 cells x 2 seeds" in stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, words", [
    (["--axis", "lr_d=1e-3,20"], ["axis lr_d", "out of range", "(0.0, 10]"]),
    (["--axis", "colour=1,2"], ["unknown setting 'colour'"]),
    (["--axis", "lr_d="], ["axis lr_d", "no values"]),
    (["--axis", "lr_d=1e-3,0.001"], ["axis lr_d", "twice"]),
    (["--axis", "k=1", "--axis", "k=2"], ["axis k", "given twice"]),
    (["--axis", "k=1,two"], ["axis k", "whole number"]),
    (["--axis", "k=1", "--set", "k=2"], ["k", "also an axis"]),
    (["--axis", "k=1", "--seeds", "0"], ["seeds", "[1, 1000]"]),
    (["--axis", "dataset=ring,custom"], ["axis dataset", "custom_points", "at least 1 point"]),
    (["--axis", "seed=" + ",".join(map(str, range(101))), "--axis",
      "lr_d=" + ",".join(f"{(i + 1) * 1e-5:g}" for i in range(100))],
     ["10,100 runs", "101 × 100 × 1 seed", "--yes"]),
    (["--axis", "k=1", "--backend", "ray", "--address", f"127.0.0.1:{_free_port()}"],
     ["--address 127.0.0.1", "no Ray cluster reachable"]),
    (["--axis", "k=1", "--address", "127.0.0.1:6379"], ["--address", "--backend ray"]),
])
def test_bad_input_is_one_sentence_and_nothing_starts(tmp_path, capsys, args, words):
    out = tmp_path / "s.json"
    start = time.perf_counter()
    code, stdout, err = run_main(capsys, "sweep", *args, "--out", str(out), "--workers", "0")
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    assert not out.exists()
    assert time.perf_counter() - start < 5


def test_an_unfinished_sweep_is_never_overwritten_and_resume_checks_the_settings(
        tmp_path, capsys, swept):
    spec, done = swept
    out = tmp_path / "s.json"
    write_results(str(out), document(spec, {r: done[r] for r in (0, 1)}))
    base = ["sweep", "--axis", "lr_d=1e-3,3e-3", "--axis", "k=1,2", "--set", TINY_SET,
            "--workers", "0", "--w1-samples", "100", "--out", str(out)]
    code, _, err = run_main(capsys, *base, "--seeds", "2", "--steps", "15")
    assert code == 2 and "unfinished sweep (2 of 8 runs)" in err and "--resume" in err
    code, _, err = run_main(capsys, *base, "--seeds", "2", "--steps", "16", "--resume")
    assert code == 2 and "holds another sweep (its steps differ)" in err
    assert len(load_done(str(out), spec)) == 2                  # untouched


def test_a_killed_sweep_keeps_its_finished_runs_and_resume_completes_it(tmp_path, capsys):
    """A real sweep on two worker processes, killed (SIGKILL) once some chunks are in the
    file; --resume (in this process) trains only the missing chunks; every run equals the same
    chunk trained here."""
    out = tmp_path / "s.json"
    args = ["--axis", "lr_g=1e-3,2e-3,3e-3,4e-3,5e-3,6e-3", "--steps", "100",
            "--chunk-size", "1", "--w1-samples", "100", "--set", TINY_SET]
    proc = subprocess.Popen([sys.executable, "-m", "gan_core", "sweep", *args, "--workers",
                             "2", "--out", str(out), "--json"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        kept = 0
        while time.time() < deadline and proc.poll() is None:
            if out.exists():
                kept = read_results(str(out))["runs_done"]
                if kept >= 1:
                    break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    doc = read_results(str(out))                                # a whole, valid file
    assert 1 <= doc["runs_done"] < 6 and not doc["complete"]
    kept_runs = {r["run"]: r for r in doc["runs"]}

    spec = make_spec(TrainConfig(**TINY), [("lr_g", (1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3))],
                     steps=100, chunk_size=1, w1_samples=100)
    trained = []
    import gan_core.sweep_backends as backends
    real = backends.run_chunk

    def counting(configs, steps, w1_samples, **kwargs):
        trained.append(configs[0]["lr_g"])
        return real(configs, steps, w1_samples, **kwargs)

    backends.run_chunk = counting
    try:
        code, _, err = run_main(capsys, "sweep", *args, "--workers", "0", "--out", str(out),
                                "--resume")
    finally:
        backends.run_chunk = real
    assert code == 0, err
    assert len(trained) == 6 - len(kept_runs)
    assert not {spec.cells()[r]["lr_g"] for r in kept_runs} & set(trained)
    resumed = read_results(str(out))
    assert resumed["complete"]
    for r, run in kept_runs.items():                            # kept as they were
        assert resumed["runs"][r] == run
    configs = spec.run_configs()
    for r, run in kept_runs.items():                            # the pool's runs = here
        (here,) = run_chunk([configs[r].to_dict()], 100, 100)
        assert {k: run[k] for k in RESULT_KEYS} == json.loads(json.dumps(strict(here)))
