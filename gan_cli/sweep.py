"""`python -m gan_core sweep`: the product of settings' values × seeds, each a full run.

    python -m gan_core sweep --axis lr_d=1e-4,3e-4,1e-3,3e-3 --axis lr_g=1e-4,3e-4,1e-3,3e-3 \\
        --set loss=hinge,k=1 --seeds 3 --steps 2000 --out sweep.json
    python -m gan_core sweep --axis k=1,5 --backend ray --address HOST:6379 --json

The output file is rewritten after every chunk, so an interrupted sweep keeps what finished;
the same command with --resume trains only what is missing. See gan_core.sweep for the file's
fields and gan_core.sweep_backends for the backends.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from gan_core.config import ConfigError, TrainConfig
from gan_core.settings import parse_axis_text, parse_overrides
from gan_core.sweep import (CONFIRM_RUNS, DEFAULT_CHUNK, document, load_done, make_spec,
                            read_results, write_results)
from gan_core.sweep_backends import BACKENDS, make_backend, run_sweep

from .common import Progress, print_json

HELP = "train the product of settings' values x seeds; a phase diagram's data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--axis", action="append", default=[], metavar="FIELD=V1,V2,...",
                        help="one axis of the sweep: a TrainConfig field and its values; "
                             "repeat for more axes (runs = product of the axes x seeds)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE,...",
                        help="fixed settings of every run, e.g. 'loss=hinge,k=1'")
    parser.add_argument("--seeds", type=int, default=1,
                        help="runs per cell, seeds base, base+1, ... (default: 1)")
    parser.add_argument("--steps", type=int, default=2000,
                        help="iterations of every run (default: 2000)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local: this machine's cores (default); ray: Ray tasks on a "
                             "local Ray instance or the cluster at --address")
    parser.add_argument("--address", help="a running Ray cluster (host:port, ray://host:port "
                                          "or auto); with --backend ray")
    parser.add_argument("--workers", type=int, default=None,
                        help="local backend: worker processes (default: one per core; 0: "
                             "train in this process)")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK,
                        help=f"most runs trained as one batched pass (1..{DEFAULT_CHUNK}, "
                             f"default {DEFAULT_CHUNK}); part of the sweep: results depend on it")
    parser.add_argument("--w1-samples", type=int, default=1000,
                        help="exact W1 of the final metrics on this many samples (0..2500, "
                             "default 1000 as `train`; 0 skips it: it can take a second a run)")
    parser.add_argument("--out", default="sweep.json",
                        help="results file, rewritten as chunks finish (default: sweep.json)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON "
                                                            "object and no bar")
    parser.add_argument("--resume", action="store_true",
                        help="complete the unfinished sweep in --out (same settings)")
    parser.add_argument("--yes", action="store_true",
                        help=f"run even if the sweep has more than {CONFIRM_RUNS:,} runs")


def run(args) -> int:
    base = {}
    for text in args.set:
        try:
            overrides = parse_overrides(text, files=True)
        except ConfigError as err:
            raise ConfigError(f"--set {text!r}: {err}") from None
        for name, value in overrides.items():
            if name in base:
                raise ConfigError(f"--set: {name} is given twice")
            base[name] = value
    axes = [parse_axis_text(text, files=True) for text in args.axis]
    both = sorted(set(base) & {name for name, _ in axes})
    if both:
        raise ConfigError(f"--set {both[0]}: it is also an axis; give it in one place")
    spec = make_spec(TrainConfig().replace(**base), axes, seeds=args.seeds, steps=args.steps,
                     chunk_size=args.chunk_size, w1_samples=args.w1_samples,
                     confirmed=args.yes)
    done = _previous_runs(args.out, spec, args.resume)
    backend = make_backend(args.backend, args.address, args.workers)
    start = time.perf_counter()
    progress = Progress(spec.n_runs, not args.json, label="sweep", unit="runs",
                        already=len(done))
    progress.show(len(done))

    def save(now_done, _chunk):
        write_results(args.out, document(spec, now_done, time.perf_counter() - start))
        progress.show(len(now_done))

    save(done, [])
    try:
        done = run_sweep(spec, backend, done, on_chunk=save)
    except KeyboardInterrupt:
        progress.close()
        kept = len(read_results(args.out)["runs"])
        print(f"interrupted: {kept} of {spec.n_runs} runs kept in {args.out}; the same "
              f"command with --resume completes it", file=sys.stderr)
        return 130
    finally:
        if hasattr(backend, "close"):
            backend.close()
    progress.close()
    doc = document(spec, done, time.perf_counter() - start)
    write_results(args.out, doc)
    if args.json:
        print_json(doc)
    else:
        print(table(doc, args.out))
    return 0


def _previous_runs(path: str, spec, resume: bool) -> dict:
    """The finished runs to keep: those in `path` with --resume. Without --resume an unfinished
    sweep in `path` is never overwritten (it would lose its runs)."""
    if not os.path.exists(path):
        if resume:
            print(f"--resume: {path} does not exist yet; starting the sweep", file=sys.stderr)
        return {}
    if resume:
        return load_done(path, spec)
    try:
        old = read_results(path)
    except ConfigError:
        return {}                                   # not a sweep: the user's choice to replace
    if not old.get("complete", True):
        raise ConfigError(f"--out {path}: holds an unfinished sweep ({old.get('runs_done')} of "
                          f"{old.get('total_runs')} runs); add --resume to complete it, or "
                          f"give another --out")
    return {}


def table(doc: dict, path: str) -> str:
    """One line per cell: its values, verdict counts and mean ± std of the metrics."""
    spec = doc["spec"]
    names = [a["field"] for a in spec["axes"]]
    lines = [f"{doc['runs_done']} runs ({len(doc['cells'])} cells x {spec['seeds']} seeds, "
             f"{spec['steps']} iterations each) in {doc['elapsed_s']:.1f} s; results in {path}",
             ""]
    rows = [[", ".join(f"{n}={c['values'][n]}" for n in names) or "base",
             ", ".join(f"{v} {k}" for k, v in sorted(c["verdicts"].items())) or "-",
             _mean_std(c["metrics"]["modes_covered"], "{:.1f}"),
             _mean_std(c["metrics"]["high_quality"], "{:.2f}"),
             _mean_std(c["metrics"]["w1"], "{:.3f}")] for c in doc["cells"]]
    head = ["cell", "verdicts", "modes", "high quality", "w1"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for row in [head] + rows:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _mean_std(stat: dict, fmt: str) -> str:
    if not stat["n"]:
        return "-"
    return fmt.format(stat["mean"]) + (f" ± {fmt.format(stat['std'])}" if stat["n"] > 1 else "")

