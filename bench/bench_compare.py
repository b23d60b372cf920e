"""Side by side at the cost of little more than one run? The six objectives on the default
config, trained batched together (batched.Group) and one after another (six Trainers).

    python bench/bench_compare.py [--steps 200] [--repeats 5] [--losses minimax,hinge,...]

Both ways train the same six runs (same configs, seeds, batches) in one process, in interleaved
repeats: batched Group.step(steps), then each Trainer.step(steps) in turn. Speeds are iterations
of the shared clock per second (one iteration = every variant advanced once). Wall-clock time
suffers from other processes on a shared machine, so the process CPU time is shown too, and the
ratio is given both as best-of and as the median of the paired repeats.

WGAN-GP needs a double backward (the penalty is a function of ∇ₓD). It trains in the same
batched pass as the others; only its gradient-penalty forward and double backward run on its
own row (a sub-batch of the stacked weights), so the other five do not pay for it.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_core import tuning
from gan_core.batched import Group
from gan_core.config import LOSSES, TrainConfig
from gan_core.training import Trainer

NEVER = 10 ** 9          # no replay snapshots inside the timings


def timed(run) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of run()."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="iterations per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--losses", default=",".join(LOSSES),
                        help="comma-separated objectives (default: all six)")
    args = parser.parse_args()
    tuning.for_training()      # one torch thread, malloc kept (what the app and CLI use)
    losses = args.losses.split(",")
    config = TrainConfig()
    group = Group(config, [{"loss": loss} for loss in losses], record_every=NEVER)
    trainers = [Trainer(c, record_every=NEVER) for c in group.configs]
    group.step(10)                         # warm-up: allocator, kernels, Adam state
    for trainer in trainers:
        trainer.step(10)

    batched, one_by_one = [], []
    for _ in range(args.repeats):
        batched.append(timed(lambda: group.step(args.steps)))
        one_by_one.append(timed(lambda: [t.step(args.steps) for t in trainers]))

    def rate(seconds: float) -> float:
        return args.steps / seconds

    print(f"{len(losses)} variants ({', '.join(losses)}), default nets G/D "
          f"{config.g_depth}x{config.g_width}, batch {config.batch_size}, "
          f"{torch.get_num_threads()} thread(s); {args.repeats} interleaved repeats of "
          f"{args.steps} iterations; grouping {group.grouping}")
    print(f"{'':24}{'wall it/s (best)':>18}{'CPU it/s (best)':>18}")
    for name, runs in (("batched (one Group)", batched), ("one after another", one_by_one)):
        print(f"{name:24}{rate(min(r[0] for r in runs)):>18.1f}"
              f"{rate(min(r[1] for r in runs)):>18.1f}")
    for i, label in ((0, "wall"), (1, "CPU")):
        best = min(r[i] for r in one_by_one) / min(r[i] for r in batched)
        paired = statistics.median(s[i] / b[i] for s, b in zip(one_by_one, batched))
        print(f"speed-up ({label:4}): {best:.2f}x best-of, {paired:.2f}x median of pairs")
    alone = min(r[1] for r in one_by_one) / len(losses)
    print(f"one batched iteration of {len(losses)} variants costs "
          f"{min(r[1] for r in batched) / alone:.2f} single-run iterations (CPU)")


if __name__ == "__main__":
    main()
