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
from gan_draw.figures import LAYERS, main_figure  # noqa: E402
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


def compare_tick_ms(ticks: int) -> tuple[float, float]:
    """(ms per Compare tick with the six objectives, iterations per tick): training within the
    page's time budget plus six panels, as explorer.compare_view draws them."""
    from explorer import compare_view
    from gan_core.batched import PRESETS, Group

    group = Group(TrainConfig(), PRESETS["objectives"])
    start = time.perf_counter()
    iterations = 0
    for _ in range(ticks):
        iterations += compare_view.advance(group)
        snaps = [m.snapshot(grid=compare_view.PANEL_GRID, n_samples=compare_view.PANEL_SAMPLES,
                            w1_samples=0) for m in group.members]
        zmin, zmax = compare_view.shared_range(snaps)
        for snap in snaps:
            main_figure(snap, compare_view.PANEL_LAYERS, zmin=zmin, zmax=zmax).to_json()
    return 1e3 * (time.perf_counter() - start) / ticks, iterations / ticks


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
    from explorer.compare_view import TICK_SECONDS as COMPARE_PERIOD
    ms, per_tick = compare_tick_ms(max(5, args.ticks // 4))
    print(f"Compare, six objectives: one tick {ms:.0f} ms ({per_tick:.1f} iterations, six "
          f"panels): {1e3 / max(ms, 1e3 * COMPARE_PERIOD):.1f} frames/s server-side")


if __name__ == "__main__":
    main()
