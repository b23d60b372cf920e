"""Game diagnostics within a second? The leading eigenvalues of the game's Jacobian
(gan_core.spectrum.game_spectrum: Hessian-vector products + ARPACK) for the default nets, at a
few points of a default run, against the time of one training iteration as the baseline.

    nice -n 19 python bench/bench_spectrum.py [--at 0,300,1000,3000] [--repeats 3]

Shows wall and process CPU time (the CPU time suffers less from other processes on a shared
machine), the number of eigenvalues found, and the largest real part.
"""
from __future__ import annotations

import argparse
import time

from gan_core import tuning
from gan_core.config import TrainConfig
from gan_core.spectrum import game_spectrum
from gan_core.training import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", default="0,300,1000,3000", help="iterations to measure at")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tuning.for_training()      # one torch thread, malloc kept (what the app and CLI use)
    trainer = Trainer(TrainConfig(), record_every=10 ** 9)
    game_spectrum(trainer)                              # warm-up
    start = time.perf_counter()
    trainer.step(100)
    per_iteration = (time.perf_counter() - start) / 100
    print(f"one training iteration: {1000 * per_iteration:.1f} ms")
    for target in (int(x) for x in args.at.split(",")):
        trainer.step(max(target - trainer.iteration, 0))
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            spectrum = game_spectrum(trainer)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"iteration {trainer.iteration:5d}: best {min(walls):.2f} s wall, "
              f"{min(cpus):.2f} s CPU ({min(walls) / per_iteration:.0f} iterations' time); "
              f"{len(spectrum.eigenvalues)} eigenvalues, max Re {spectrum.max_real:.3g}, "
              f"rotation {spectrum.rotation:.3g}, contracts: {spectrum.contracts}")


if __name__ == "__main__":
    main()
