"""The server side of an animated page, without a browser: a page's Stream training its group on
its own thread and making frames for the player, against the same group trained bare, in one
run. Prints frames/s, iterations/s and the ratio of training speed kept while making frames.

    python bench/bench_stream.py [--seconds 8]

What the browser then draws is bench/bench_browser.py's measure.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from explorer.stream import Stream
from explorer.state import LiveState
from explorer.views import GroupView, LiveView
from gan_core.batched import PRESETS, Group
from gan_core.config import TrainConfig
from gan_core.tuning import for_app


EVERY = next(f.default for f in dataclasses.fields(LiveState)
             if f.name == "iters_per_frame")      # Live's default iterations per frame


def bare(make_group, seconds: float) -> float:
    group = make_group()
    group.step(20)
    start, it0 = time.perf_counter(), group.iteration
    while time.perf_counter() - start < seconds:
        group.step(10)
    return (group.iteration - it0) / (time.perf_counter() - start)


def streamed(make_group, view, seconds: float, **kwargs) -> tuple[float, float, float]:
    """(frames/s, iterations/s, ms to make one frame) with a player that draws at once."""
    group = make_group()
    group.step(20)
    stream = Stream(group, view, **kwargs)
    stream.rebase()
    last = stream.maker.first["seq"]
    stream.play()
    start, it0, frames = time.perf_counter(), group.iteration, 0
    while time.perf_counter() - start < seconds:
        new = stream.wait_for_frames(last, 0.05)
        if new:
            last, frames = new[-1]["seq"], frames + len(new)
        stream.heard(last)
    elapsed = time.perf_counter() - start
    its = (group.iteration - it0) / elapsed
    stream.pause()
    t = time.perf_counter()
    for _ in range(10):
        stream.maker.frame(group)
    return frames / elapsed, its, 100 * (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    for_app()
    base = TrainConfig().resolved()
    cases = {
        f"live (default, {EVERY} it/frame)": (lambda: Group(base, [{}], labels=[""]),
                                              LiveView(), dict(frame_every=EVERY)),
        "compare (six objectives)": (lambda: Group(base, PRESETS["objectives"]),
                                     GroupView(), {}),
    }
    print(f"{'page':<30}{'bare it/s':>10}{'frames/s':>10}{'it/s':>8}{'kept':>7}"
          f"{'ms/frame':>10}")
    for name, (make, view, kwargs) in cases.items():
        b = bare(make, args.seconds)
        fps, its, ms = streamed(make, view, args.seconds, **kwargs)
        print(f"{name:<30}{b:>10.0f}{fps:>10.1f}{its:>8.0f}{its / b:>7.2f}{ms:>10.1f}")


if __name__ == "__main__":
    main()
