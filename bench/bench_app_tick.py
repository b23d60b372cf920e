"""One live-view tick, server side, with the app's default settings; and the training
throughput inside the app as a ratio of the bare trainer's, in one process.

    python bench/bench_app_tick.py [--ticks 40]

A tick = `iters_per_frame` training iterations + snapshot + the main figure (and, once a second,
the side charts) + their JSON serialisation (what Streamlit sends), as explorer.live does. The app ticks
every TICK_SECONDS; a tick that takes longer than that sets the frame rate instead.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.live import SIDE_CHART_SECONDS, TICK_SECONDS, main_frame, side_charts  # noqa: E402
from explorer.figures import LAYERS  # noqa: E402
from gan_core.config import TrainConfig  # noqa: E402
from gan_core.training import Trainer  # noqa: E402

ITERS_PER_FRAME = 20   # the app's default (explorer.controls.display_controls)
GRID = 50
SIDE_EVERY = max(1, round(SIDE_CHART_SECONDS / TICK_SECONDS))


def bare_rate(steps: int) -> float:
    trainer = Trainer(TrainConfig())
    start = time.perf_counter()
    trainer.step(steps)
    return steps / (time.perf_counter() - start)


def tick_costs(ticks: int) -> tuple[float, float]:
    """(mean seconds of one tick, mean seconds of its training part)."""
    trainer = Trainer(TrainConfig())
    total = train = 0.0
    ticks_done = 0
    for _ in range(ticks):
        start = time.perf_counter()
        trainer.step(ITERS_PER_FRAME)
        mid = time.perf_counter()
        snap, main = main_frame(trainer, GRID, LAYERS)
        main.to_json()
        if not ticks_done % SIDE_EVERY:          # side charts refresh about once a second
            for fig in side_charts(trainer, snap).values():
                fig.to_json()
        ticks_done += 1
        end = time.perf_counter()
        total += end - start
        train += mid - start
    return total / ticks, train / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=40)
    args = parser.parse_args()
    bare = bare_rate(ITERS_PER_FRAME * args.ticks)
    tick, train = tick_costs(args.ticks)
    frame_period = max(tick, TICK_SECONDS)
    in_app = ITERS_PER_FRAME / frame_period
    print(f"one tick ({ITERS_PER_FRAME} iterations, grid {GRID}, all layers and charts): "
          f"{1e3 * tick:.1f} ms  (training {1e3 * train:.1f} ms, drawing "
          f"{1e3 * (tick - train):.1f} ms)")
    print(f"server-side frame rate: {1 / frame_period:.1f} frames/s "
          f"(timer period {TICK_SECONDS} s)")
    print(f"training in the app: {in_app:.0f} it/s; bare trainer: {bare:.0f} it/s; "
          f"ratio {in_app / bare:.2f}")


if __name__ == "__main__":
    main()
