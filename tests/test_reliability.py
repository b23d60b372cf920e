"""Reliability: a long run keeps bounded memory; custom data at its edges (no points, one point,
too many) and absurd settings through the CLI fail cleanly, naming the field.

The memory figures of a real 100,000-iteration run come from bench/bench_memory.py; here the
*structures* that hold a run's past are checked to stay bounded, fast:
- a real run of a tiny net, with the budgets scaled down so every thinning happens many times;
- a 50,000-iteration run with the app's real budgets (history capacity 20,000, 120 records),
  where the GAN updates themselves are stubbed (the bookkeeping, records and checkpoints are the
  real ones): real updates cost ~2 ms CPU each here, too slow for a unit test.
"""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.config import MAX_CUSTOM_POINTS, ConfigError, TrainConfig
from gan_core.history import History
from gan_core.training import HISTORY_COLUMNS, METRIC_COLUMNS, Trainer
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(g_width=8, d_width=8, g_depth=1, d_depth=1, batch_size=16, seed=3)


def check_bounded(trainer: Trainer, iterations: int, metric_rows_thinned: bool = False) -> None:
    """What a run keeps of its past is within its budgets and still spans the whole run."""
    h, m = trainer.history, trainer.metric_history
    assert trainer.iteration == iterations
    assert len(h) <= h.capacity and len(m) <= m.capacity
    assert len(trainer.records) <= trainer.max_records
    assert len(trainer.checkpoints) == len(trainer.records)
    # every checkpoint belongs to its record: "continue from here" resumes the shown point
    assert [c["iteration"] for c in trainer.checkpoints] == \
        [r.iteration for r in trainer.records]
    iters = h.as_arrays()["iteration"]
    assert iters[0] <= h.stride and iters[-1] > iterations - h.stride
    assert np.all(np.diff(iters) == h.stride), "history rows are not evenly spaced"
    assert iters[-1] <= iterations
    recorded = [r.iteration for r in trainer.records]
    assert recorded[0] == 0 and recorded[-1] > iterations - trainer.record_every
    assert np.all(np.diff(recorded) == trainer.record_every)
    if not metric_rows_thinned:     # one metric row per record made (never thinned in the app)
        metric_iters = m.as_arrays()["iteration"]
        assert metric_iters[0] == 0 and metric_iters[-1] == recorded[-1]


def test_real_run_with_scaled_budgets_stays_bounded_and_forks_from_the_oldest_point():
    trainer = Trainer(TrainConfig(**TINY), record_every=5, max_records=8)
    trainer.history = History(HISTORY_COLUMNS, capacity=100)
    trainer.metric_history = History(METRIC_COLUMNS, capacity=10)
    for _ in range(20):                    # like the app: many short steps
        assert trainer.step(60) == 60
    assert not trainer.status
    check_bounded(trainer, 1_200, metric_rows_thinned=True)
    assert trainer.history.stride == 16 and trainer.record_every >= 160   # thinned many times
    # the oldest kept point still replays and continues
    child = trainer.fork(0)
    assert child.iteration == 0 and child.step(5) == 5


class _Stubbed(Trainer):
    """The real Trainer with its two network updates replaced by cheap fake statistics."""

    def _d_update(self):
        return {"d_loss": 1.0, "d_grad_norm": 0.5, "d_real": 0.6, "d_fake": 0.4}

    def _g_update(self):
        return {"g_loss": 0.7, "g_grad_norm": 0.3}

    def snapshot(self, grid=60, n_samples=1000, manifold=21, w1_samples=0):
        return super().snapshot(grid, n_samples, manifold, w1_samples=0)   # skip exact OT


def test_long_run_with_the_apps_budgets_stays_bounded():
    trainer = _Stubbed(TrainConfig(**TINY))
    assert trainer.history.capacity == 20_000 and trainer.max_records == 120
    sizes = []
    for _ in range(50):
        trainer.step(1_000)
        sizes.append((len(trainer.history), len(trainer.records), len(trainer.checkpoints)))
        assert sizes[-1][0] <= 20_000 and sizes[-1][1] <= 120 and sizes[-1][2] == sizes[-1][1]
    check_bounded(trainer, 50_000)
    assert trainer.history.stride == 4           # thinned at 20,000 and 40,000 iterations
    iters = trainer.history.as_arrays()["iteration"]
    assert iters[0] == 4 and iters[-1] == 50_000 and len(iters) == 12_500
    assert trainer.record_every == 800            # 100 → 200 → 400 → 800
    # the number of records does not keep growing with the run's length
    assert max(s[1] for s in sizes[25:]) <= 120 and sizes[-1][1] >= 60


# ---------------------------------------------------------------------------- custom data
@pytest.mark.parametrize("points", [(), []], ids=["tuple", "list"])
def test_custom_dataset_with_no_points_names_custom_points(points):
    with pytest.raises(ConfigError, match="^custom_points:.*at least 1 point"):
        TrainConfig(dataset="custom", custom_points=points)


def test_custom_dataset_with_a_single_point_trains_and_has_a_real_view_box():
    trainer = Trainer(TrainConfig(dataset="custom", custom_points=[(0.5, -2.0)], **TINY))
    assert trainer.step(20) == 20 and not trainer.status
    x0, x1, y0, y1 = trainer.data.view_box
    assert x1 - x0 >= 1.0 and y1 - y0 >= 1.0
    assert x0 < 0.5 < x1 and y0 < -2.0 < y1
    snap = trainer.snapshot(grid=20, n_samples=100, w1_samples=50)
    assert np.isfinite(snap.surface).all() and np.isfinite(snap.fake).all()
    assert snap.metrics["n_modes"] == 1
    assert np.ptp(snap.grid_x) > 0 and np.ptp(snap.grid_y) > 0


def test_custom_dataset_with_100k_points_names_the_limit():
    points = np.random.default_rng(0).normal(size=(100_000, 2))
    with pytest.raises(ConfigError) as err:
        TrainConfig(dataset="custom", custom_points=points)
    message = str(err.value)
    assert message.startswith("custom_points:")
    assert str(MAX_CUSTOM_POINTS) in message.replace(",", "") and "100000" in message




def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    return lines[-1]


def test_cli_points_files_at_the_edges(capsys, tmp_path):
    empty, header, big = tmp_path / "empty.csv", tmp_path / "header.csv", tmp_path / "big.csv"
    empty.write_text("")
    header.write_text("x,y\n")
    np.savetxt(big, np.random.default_rng(0).normal(size=(100_000, 2)), fmt="%.4f",
               delimiter=",")
    for path, expected in ((empty, "empty"), (header, "two numbers"),
                           (big, str(MAX_CUSTOM_POINTS))):
        code, out, err = run_main(capsys, "train", "--steps", "2", "--dataset", "custom",
                                  "--custom-points", str(path))
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1, err
        line = one_line_error(err)
        assert line.startswith("error: custom_points:") and expected in line, line


def test_cli_single_point_file_trains(capsys, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("3.0, 4.0\n")
    code, out, err = run_main(capsys, "train", "--steps", "20", "--dataset", "custom",
                              "--custom-points", str(one), "--g-width", "8", "--d-width", "8",
                              "--batch-size", "16", "--json")
    assert code == 0, err
    assert '"iterations": 20' in out and '"custom_points": [[3.0, 4.0]]' in out


@pytest.mark.parametrize("args,field", [
    (["--k", str(10**6)], "k"),
    (["--k-g", str(10**6)], "k_g"),
    (["--batch-size", "0"], "batch_size"),
    (["--batch-size", str(10**9)], "batch_size"),
    (["--g-width", str(10**6)], "g_width"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_cli_absurd_sizes_exit_2_naming_the_field(capsys, args, field):
    code, out, err = run_main(capsys, "train", "--steps", "2", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert one_line_error(err).startswith(f"error: {field}:"), err


def test_cli_100k_points_in_a_real_process(tmp_path):
    """The exit code and message as a shell sees them."""
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((100_000, 2)))
    result = subprocess.run([sys.executable, "-m", "gan_core", "train", "--steps", "2",
                             "--dataset", "custom", "--custom-points", str(big)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: custom_points:") and str(MAX_CUSTOM_POINTS) in lines[0]


def test_one_thread_for_every_trainer():
    """Sessions share the process: the app pins torch to one thread (see bench_sessions), by
    opting in (gan_core.tuning.for_app / for_training), and every Trainer then runs on it."""
    from gan_core import tuning

    tuning.for_training()
    Trainer(TrainConfig(**TINY))
    assert torch.get_num_threads() == 1


# ---------------------------------------------------------------------------- two script runs
def _hammer(calls: list, rounds: int) -> list[str]:
    """Run each call `rounds` times, each call in a thread of its own; the errors raised."""
    errors: list[str] = []

    def work(call):
        try:
            for _ in range(rounds):
                call()
        except Exception as err:         # noqa: BLE001 - any error is the finding
            errors.append(repr(err))

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_two_threads_on_one_trainer_take_turns():
    """Streamlit's fast reruns can run a session's new script run while the old one is still
    inside step(): without the Trainer's lock this raised "element 0 of tensors does not require
    grad" (one thread's G step had switched D's gradients off) and once crashed the process."""
    trainer = Trainer(TrainConfig(**TINY))
    errors = _hammer([lambda: trainer.step(3), lambda: trainer.step(3),
                      lambda: trainer.update(k=2 if trainer.config.k == 1 else 1),
                      lambda: trainer.snapshot(grid=10, n_samples=50, w1_samples=0)], 60)
    assert not errors, errors[:3]
    assert trainer.iteration == 360 and len(trainer.history) == 360


def test_two_threads_on_one_group_take_turns():
    from gan_core.batched import Group

    group = Group(TrainConfig(**TINY), [{"loss": "nonsaturating"}, {"loss": "hinge"}])
    errors = _hammer([lambda: group.step(2), lambda: group.step(2),
                      lambda: group.snapshots(grid=10)], 40)
    assert not errors, errors[:3]
    assert group.iteration == 160
    assert [m.iteration for m in group.members] == [160, 160]
