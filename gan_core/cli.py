"""The command line: `python -m gan_core train|...`. Flags are generated from TrainConfig, so
every config field has an option of the same name (lr_d → --lr-d) and the CLI, the UI and the
tests all build the same config."""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig

SUBCOMMANDS: dict[str, tuple] = {}   # name -> (help, add_arguments(parser), run(args) -> int)


def register(name: str, help_text: str, add_arguments, run) -> None:
    SUBCOMMANDS[name] = (help_text, add_arguments, run)


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
    names = {f.name for f in fields(TrainConfig)}
    changes = {k: v for k, v in vars(args).items() if k in names}
    if "custom_points" in changes:
        from .points import read_points

        changes["custom_points"] = read_points(changes["custom_points"])
    return (base or TrainConfig()).replace(**changes)


# ---------------------------------------------------------------------- progress
class Progress:
    """A one-line progress bar on stderr (silent when `enabled` is False)."""

    def __init__(self, total: int, enabled: bool, label: str = "training"):
        self.total, self.label = total, label
        self.enabled = enabled and sys.stderr.isatty()   # no \r-redraw spam in logs and pipes
        self.start = time.perf_counter()

    def show(self, done: int, extra: str = "") -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(self.total, 1))
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{done}/{self.total}  {rate:,.0f} it/s {extra}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


# ---------------------------------------------------------------------- train
def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=3000,
                        help="training iterations (default: 3000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and no bar")
    parser.add_argument("--samples", metavar="PATH.npy",
                        help="write 2,500 final generated samples, float array (2500, 2)")
    parser.add_argument("--save", metavar="PATH", help="write the run record (.zip)")
    add_config_arguments(parser)


def train_run(config: TrainConfig, steps: int, show_progress: bool) -> tuple:
    """Train `steps` iterations in chunks (for the bar); returns (trainer, steps/s)."""
    from .training import Trainer

    trainer = Trainer(config)
    progress = Progress(steps, show_progress)
    elapsed = 0.0
    chunk = max(1, min(250, steps // 50 or 1))
    while trainer.iteration < steps and not trainer.status:
        start = time.perf_counter()
        trainer.step(min(chunk, steps - trainer.iteration))
        elapsed += time.perf_counter() - start
        progress.show(trainer.iteration)
    progress.close()
    return trainer, trainer.iteration / elapsed if elapsed else 0.0


def run_result(trainer, steps: int, steps_per_s: float) -> dict:
    """The JSON of one run: the public contract of `train --json` (and of each compare variant).
    With generator averaging (ema > 0) also "metrics_averaged", those of the averaged G."""
    result = {"config": trainer.config.to_dict(), "dataset": trainer.data.describe(),
              "steps": steps, "iterations": trainer.iteration, "status": trainer.status,
              "metrics": trainer.final_metrics(), "steps_per_s": round(steps_per_s, 1),
              "last": trainer.history.last()}
    if trainer.G_avg is not None:
        result["metrics_averaged"] = trainer.final_metrics(averaged=True)
    return result


def train_command(args) -> int:
    if args.steps < 1:
        raise ConfigError("steps: must be at least 1")
    config = config_from_args(args)
    trainer, rate = train_run(config, args.steps, show_progress=not args.json)
    result = run_result(trainer, args.steps, rate)
    if args.samples:
        np.save(args.samples, trainer.generate(2500))
    if args.save:
        from .records import save_run

        save_run(trainer, args.save)
    if args.json:
        print(json.dumps(_strict(result)))
    else:
        print(summary(result))
    return 0


def _strict(value):
    """`value` with NaN / inf floats as null: json.dumps would write NaN / Infinity, which are
    not JSON (jq, browsers and most parsers reject them). E.g. reverse_kl of a collapsed run."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


register("train", "train one GAN and report its metrics", _train_arguments, train_command)


def summary(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    lines = [f"{c['loss']} GAN on {c['dataset']}: {result['iterations']} iterations "
             f"at {result['steps_per_s']:,.0f} it/s (seed {c['seed']})"]
    if result["status"]:
        lines.append(f"  STOPPED: {result['status']}")
    if m.get("modes_covered") is not None:
        lines.append(f"  modes covered   {m['modes_covered']} / {m['n_modes']}"
                     f"{'   (collapsed)' if m['collapsed'] else ''}")
        lines.append(f"  high quality    {100 * m['high_quality']:.1f} %")
        lines.append(f"  reverse KL      {m['reverse_kl']:.4f}")
    lines.append(f"  w1              {m['w1']:.4f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan_core",
        description="Train small GANs on toy 2D data and measure them.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _) in SUBCOMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv=None) -> int:
    _load_subcommands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return SUBCOMMANDS[args.command][2](args)
    except (ConfigError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _load_subcommands() -> None:
    """Other modules register their own subcommands (compare, dirac, export, sweep) on import."""
    import importlib

    for module in ("compare_cli", "dirac_cli", "export_cli", "sweep_cli", "reproduce_cli"):
        try:
            importlib.import_module(f"gan_core.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"gan_core.{module}":
                raise
