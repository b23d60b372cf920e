"""What every subcommand shares: one --flag per TrainConfig field, the progress bar, the one
train-with-progress loop and strict JSON output."""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import MISSING, fields

from gan_core.config import ConfigError, TrainConfig
from gan_core.settings import parse_value
from gan_core.strict_json import dumps


# ---------------------------------------------------------------------- config flags
def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field, with its range, choices and default in the help."""
    groups = {}
    for f in fields(TrainConfig):
        meta = f.metadata
        section = _section(f.name)
        group = groups.setdefault(section, parser.add_argument_group(section))
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        help_text = meta["help"]
        if "lo" in meta:
            help_text += f"; range {meta['lo']}..{meta['hi']}"
        help_text += f" (default: {default})"
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text}
        if f.type == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif "choices" in meta:
            kwargs["choices"] = meta["choices"]
        elif f.name == "custom_points":
            kwargs["metavar"] = "FILE.csv|FILE.npy"
        else:
            kwargs["type"] = int if f.type == "int" else float
            kwargs["metavar"] = "N" if f.type == "int" else "X"
        group.add_argument(flag, **kwargs)


def _section(name: str) -> str:
    order = [f.name for f in fields(TrainConfig)]
    i = order.index(name)
    for section, first in (("objective", "loss"), ("training", "k"), ("models", "latent_dim"),
                           ("data", "dataset")):
        if i >= order.index(first):
            return section
    return "data"


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """The config the options describe, on `base` (default: TrainConfig())."""
    names = {f.name for f in fields(TrainConfig)}
    changes = {k: v for k, v in vars(args).items() if k in names}
    if "custom_points" in changes:
        changes["custom_points"] = parse_value("custom_points", changes["custom_points"],
                                               files=True)
    return (base or TrainConfig()).replace(**changes)


def config_options_given(args: argparse.Namespace) -> list[str]:
    names = {f.name for f in fields(TrainConfig)}
    return sorted(k for k in vars(args) if k in names)


def check_steps(steps: int) -> None:
    if steps < 1:
        raise ConfigError("steps: must be at least 1")


# ---------------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on stderr, terminals only (no \\r-redraw spam in logs and
    pipes). unit "it": the rate in it/s; unit "runs": elapsed time and the time left."""

    def __init__(self, total: int, enabled: bool, label: str = "training", unit: str = "it",
                 already: int = 0):
        self.total, self.label, self.unit, self.already = total, label, unit, already
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()

    def show(self, done: int, extra: str = "") -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(self.total, 1))
        elapsed = time.perf_counter() - self.start
        bar = f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}"
        if self.unit == "it":
            tail = f"  {done / max(elapsed, 1e-9):,.0f} it/s {extra}"
        else:
            new = done - self.already
            eta = (f"ETA {duration(elapsed / new * (self.total - done))}" if new > 0
                   else "ETA --")
            tail = f" {self.unit}  {duration(elapsed)} elapsed  {eta}"
        sys.stderr.write(bar + tail + "   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def train_with_progress(run, steps: int, show_progress: bool, label: str = "training",
                        chunk: int = 250) -> float:
    """Advance `run` (a Trainer or a Group: `.iteration`, `.step(n)` -> iterations done) to
    `steps` in chunks, drawing the bar; stops early when nothing advances (diverged).
    Returns the training rate in iterations per second (time spent in step() only)."""
    progress = Progress(steps, show_progress, label=label)
    elapsed = 0.0
    chunk = max(1, min(chunk, steps // 50 or 1))
    while run.iteration < steps:
        start = time.perf_counter()
        done = run.step(min(chunk, steps - run.iteration))
        elapsed += time.perf_counter() - start
        progress.show(run.iteration)
        if not done:
            break
    progress.close()
    return run.iteration / elapsed if elapsed else 0.0


# ---------------------------------------------------------------------- output
def print_json(value) -> None:
    """One strict JSON object on stdout (NaN / inf as null, see gan_core.strict_json)."""
    print(dumps(value))


def run_result(trainer, steps: int, steps_per_s: float) -> dict:
    """The JSON of one run: the public contract of `train --json` (and of each compare variant).

    `verdict` is the final one (gan_core.metrics, on the final metrics' 2,500 samples; null for
    data without modes), `events` where it changed and where a collapsed G hopped, at the
    recorded moments; metrics.collapsed stays, as verdict == "mode collapse". With generator
    averaging (ema > 0) also "metrics_averaged", those of the averaged G."""
    metrics = trainer.final_metrics()
    result = {"config": trainer.config.to_dict(), "dataset": trainer.data.describe(),
              "steps": steps, "iterations": trainer.iteration, "status": trainer.status,
              "verdict": metrics["verdict"], "events": trainer.events(),
              "metrics": metrics, "steps_per_s": round(steps_per_s, 1),
              "last": trainer.history.last()}
    if trainer.G_avg is not None:
        result["metrics_averaged"] = trainer.final_metrics(averaged=True)
    return result
