"""A phase diagram's worth of runs: the 4x4x2 sweep (lr_d x lr_g x 2 seeds = 32 runs of 1,000
iterations, default nets) on the local backend vs the same 32 runs one after another with the
single trainer, and the same sweep on a local Ray instance.

    nice -n 19 python bench/bench_sweep.py [--steps 1000] [--workers N] [--no-ray]

Every way trains the same 32 configs and computes the same final metrics (2,500 samples, exact
W1 on 1,000): one after another = Trainer(config).step(steps) then final_metrics() for each
run in this process; the local backend = the sweep's chunks (same-shaped runs batched 8 at a
time) on a pool of one process per core, pool start-up included; Ray = the same chunks as Ray
tasks on a local instance (its start-up shown apart). The Ray results must equal the local
backend's run by run; the single trainer's differ from the batched ones by float32 rounding
only, so their verdict counts are shown side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import time

from gan_core import tuning
from gan_core.config import TrainConfig
from gan_core.sweep import make_spec, run_verdict, strict
from gan_core.sweep_backends import LocalBackend, RayBackend, run_sweep
from gan_core.training import Trainer

RATES = (1e-4, 3e-4, 1e-3, 3e-3)


def one_after_another(spec) -> dict:
    done = {}
    for r, config in enumerate(spec.run_configs()):
        trainer = Trainer(config, record_every=spec.steps)
        trainer.step(spec.steps)
        metrics = trainer.final_metrics()
        done[r] = {"verdict": run_verdict(metrics, trainer.status), "metrics": metrics}
    return done


def verdicts(done: dict) -> dict:
    counts: dict = {}
    for result in done.values():
        counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: str(kv[0])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None,
                        help="local backend processes (default: one per core)")
    parser.add_argument("--no-ray", dest="ray", action="store_false")
    args = parser.parse_args()
    tuning.for_training()      # one torch thread, malloc kept (what the app and CLI use)
    spec = make_spec(TrainConfig(), [("lr_d", RATES), ("lr_g", RATES)], seeds=2,
                     steps=args.steps)
    print(f"{spec.n_runs} runs x {spec.steps} iterations, default nets; {os.cpu_count()} cores;"
          f" chunks of {[len(c) for c in spec.chunks()]}")

    start = time.perf_counter()
    single = one_after_another(spec)
    t_single = time.perf_counter() - start
    print(f"one after another (single trainer): {t_single:7.1f} s   {verdicts(single)}")

    start = time.perf_counter()
    local = run_sweep(spec, LocalBackend(args.workers))
    t_local = time.perf_counter() - start
    print(f"local backend ({LocalBackend(args.workers).workers} processes):   {t_local:7.1f} s"
          f"   {verdicts(local)}   {t_single / t_local:.2f}x faster")

    if args.ray:
        start = time.perf_counter()
        backend = RayBackend()
        t_init = time.perf_counter() - start
        start = time.perf_counter()
        on_ray = run_sweep(spec, backend)
        t_ray = time.perf_counter() - start
        backend.close()
        equal = all(json.dumps(strict(on_ray[r])) == json.dumps(strict(local[r]))
                    for r in local)
        print(f"ray backend (local instance):      {t_ray:7.1f} s   (+ {t_init:.1f} s to start "
              f"Ray)   {t_single / t_ray:.2f}x faster; results equal to local: {equal}")


if __name__ == "__main__":
    main()
