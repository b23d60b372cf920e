"""A long run keeps its memory bounded: peak RSS and the size of everything the Trainer keeps
(loss history, metric history, replay records, their state checkpoints) at checkpoints along
one run of the default config.

    python bench/bench_memory.py                       # 100,000 iterations (~6 min at 300 it/s)
    python bench/bench_memory.py --iterations 5000 --width 16 --batch 64     # a quick look

What is bounded, and why: `History` keeps at most `capacity` rows (when full it keeps every
other row and halves its rate), the trainer keeps at most `max_records` replay snapshots and one
state checkpoint per snapshot (over budget: every other one, and it records half as often). So
after the first doubling the kept structures stop growing; RSS should stop growing with them.
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
import tracemalloc
from dataclasses import fields as dc_fields

import numpy as np
import torch

from gan_core import tuning
from gan_core.config import TrainConfig
from gan_core.snapshot import Snapshot
from gan_core.training import Trainer

MB = 2**20
DEFAULT_CHECKPOINTS = (1_000, 10_000, 25_000, 50_000, 75_000, 100_000)


def current_rss() -> int:
    """Resident set size now, in bytes (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss()


def peak_rss() -> int:
    """Peak resident set size of this process, in bytes (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def nbytes(tree) -> int:
    """Bytes held in the arrays and tensors of a (nested) structure."""
    if isinstance(tree, torch.Tensor):
        return tree.element_size() * tree.nelement()
    if isinstance(tree, np.ndarray):
        return tree.nbytes
    if isinstance(tree, Snapshot):
        return sum(nbytes(getattr(tree, f.name)) for f in dc_fields(tree))
    if isinstance(tree, dict):
        return sum(nbytes(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(nbytes(v) for v in tree)
    return 0


def kept(trainer: Trainer) -> dict:
    """What the trainer keeps, by structure: rows / items and bytes."""
    h, m = trainer.history, trainer.metric_history
    return {
        "history_rows": len(h), "history_capacity": h.capacity, "history_stride": h.stride,
        "history_bytes": h._data.nbytes,
        "metric_rows": len(m), "metric_bytes": m._data.nbytes,
        "records": len(trainer.records), "records_bytes": nbytes(trainer.records),
        "checkpoints": len(trainer.checkpoints),
        "checkpoints_bytes": nbytes(trainer.checkpoints),
        "record_every": trainer.record_every,
        "first_iteration": float(h.as_arrays()["iteration"][0]) if len(h) else float("nan"),
        "last_iteration": float(h.as_arrays()["iteration"][-1]) if len(h) else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=None,
                        help="G and D hidden width (default: the config's, 64)")
    parser.add_argument("--batch", type=int, default=None,
                        help="batch size (default: the config's, 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python/NumPy allocations (slower; torch tensors are "
                             "not traced, see the structure sizes for those)")
    args = parser.parse_args()
    tuning.for_training()      # one torch thread, malloc kept (what the app and CLI use)

    changes = {"seed": args.seed}
    if args.width:
        changes.update(g_width=args.width, d_width=args.width)
    if args.batch:
        changes["batch_size"] = args.batch
    config = TrainConfig(**changes)
    checkpoints = sorted({c for c in DEFAULT_CHECKPOINTS if c < args.iterations}
                         | {args.iterations})
    if args.iterations < 1_000:
        checkpoints = [args.iterations]

    if args.tracemalloc:
        tracemalloc.start()
    rss_start = current_rss()
    trainer = Trainer(config)
    print(f"config: g/d width {config.g_width}, batch {config.batch_size}, seed {config.seed}; "
          f"torch threads {torch.get_num_threads()}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"RSS before the run {current_rss() / MB:.1f} MB (after imports "
          f"{rss_start / MB:.1f} MB)")
    header = (f"{'iteration':>10} {'it/s':>6} {'RSS MB':>7} {'peak MB':>8} "
              f"{'hist rows':>9} {'stride':>6} {'span':>15} {'hist MB':>7} "
              f"{'records':>7} {'rec MB':>6} {'ckpts':>5} {'ckpt MB':>7} {'every':>6}"
              + (f" {'py MB':>6} {'py peak':>7}" if args.tracemalloc else ""))
    print(header)
    rows = []
    start = last_time = time.perf_counter()
    last_it = 0
    for target in checkpoints:
        while trainer.iteration < target and not trainer.status:
            trainer.step(min(1_000, target - trainer.iteration))
        now = time.perf_counter()
        rate = (trainer.iteration - last_it) / max(now - last_time, 1e-9)
        last_time, last_it = now, trainer.iteration
        gc.collect()
        k = kept(trainer)
        row = {"iteration": trainer.iteration, "rate": rate, "rss": current_rss(),
               "peak": peak_rss(), **k}
        line = (f"{trainer.iteration:>10,} {rate:>6.0f} {row['rss'] / MB:>7.1f} "
                f"{row['peak'] / MB:>8.1f} {k['history_rows']:>9,} {k['history_stride']:>6} "
                f"{k['first_iteration']:>7,.0f}..{k['last_iteration']:<7,.0f}"
                f"{k['history_bytes'] / MB:>7.2f} {k['records']:>7} "
                f"{k['records_bytes'] / MB:>6.2f} {k['checkpoints']:>5} "
                f"{k['checkpoints_bytes'] / MB:>7.2f} {k['record_every']:>6,}")
        if args.tracemalloc:
            cur, peak = tracemalloc.get_traced_memory()
            line += f" {cur / MB:>6.1f} {peak / MB:>7.1f}"
        print(line, flush=True)
        rows.append(row)
        if trainer.status:
            print(f"stopped: {trainer.status}")
            break
    total = time.perf_counter() - start

    kept_bound = (trainer.history.capacity * len(trainer.history.columns) * 8
                  + trainer.metric_history.capacity * len(trainer.metric_history.columns) * 8
                  + max(1, max(r["records_bytes"] for r in rows) / max(1, rows[-1]["records"]))
                  * (trainer.max_records + 1)
                  + max(1, rows[-1]["checkpoints_bytes"] / max(1, rows[-1]["checkpoints"]))
                  * (trainer.max_records + 1))
    print(f"\n{trainer.iteration:,} iterations in {total:.0f} s "
          f"({trainer.iteration / total:.0f} it/s); load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"bound on what the trainer keeps (history capacity {trainer.history.capacity:,} "
          f"rows, metric capacity {trainer.metric_history.capacity:,}, at most "
          f"{trainer.max_records + 1} records + checkpoints): {kept_bound / MB:.1f} MB")
    print(f"peak RSS over the run: {rows[-1]['peak'] / MB:.1f} MB; RSS at the checkpoints: "
          + ", ".join(f"{r['iteration']:,}: {r['rss'] / MB:.1f}" for r in rows) + " MB")
    if len(rows) >= 2:
        half = [r for r in rows if r["iteration"] >= trainer.iteration / 2] or rows[-1:]
        growth = (rows[-1]["rss"] - half[0]["rss"]) / MB
        print(f"RSS growth over the second half ({half[0]['iteration']:,} to "
              f"{rows[-1]['iteration']:,} iterations): {growth:+.1f} MB; the structures above "
              f"stop growing once the records first thin out (at "
              f"{(trainer.max_records + 1) * 100:,} iterations)")


if __name__ == "__main__":
    main()
