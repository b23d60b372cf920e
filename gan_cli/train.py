"""`train`: one GAN, its final metrics; --samples and --save write what it learned."""
from __future__ import annotations

import argparse

import numpy as np

from gan_core.training import Trainer

from .common import (add_config_arguments, check_steps, config_from_args, print_json,
                     run_result, train_with_progress)

HELP = "train one GAN and report its metrics"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=3000,
                        help="training iterations (default: 3000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and no bar")
    parser.add_argument("--samples", metavar="PATH.npy",
                        help="write 2,500 final generated samples, float array (2500, 2)")
    parser.add_argument("--save", metavar="PATH", help="write the run record (.zip)")
    add_config_arguments(parser)


def run(args) -> int:
    check_steps(args.steps)
    trainer = Trainer(config_from_args(args))
    rate = train_with_progress(trainer, args.steps, show_progress=not args.json)
    result = run_result(trainer, args.steps, rate)
    if args.samples:
        np.save(args.samples, trainer.generate(2500))
    if args.save:
        from gan_core.records import save_run

        save_run(trainer, args.save)
    if args.json:
        print_json(result)
    else:
        print(summary(result))
    return 0


def summary(result: dict) -> str:
    c, m = result["config"], result["metrics"]
    lines = [f"{c['loss']} GAN on {c['dataset']}: {result['iterations']} iterations "
             f"at {result['steps_per_s']:,.0f} it/s (seed {c['seed']})"]
    if result["status"]:
        lines.append(f"  STOPPED: {result['status']}")
    if result.get("verdict"):
        lines.append(f"  verdict         {result['verdict']}")
    if m.get("modes_covered") is not None:
        lines.append(f"  modes covered   {m['modes_covered']} / {m['n_modes']}")
        lines.append(f"  high quality    {100 * m['high_quality']:.1f} %")
        lines.append(f"  reverse KL      {m['reverse_kl']:.4f}")
    lines.append(f"  w1              {m['w1']:.4f}")
    if result.get("events"):
        shown = ", ".join(f"{e['kind']} at {e['iteration']:,}" for e in result["events"][-8:])
        more = len(result["events"]) - 8
        lines.append(f"  events          {'... ' if more > 0 else ''}{shown}")
    return "\n".join(lines)
