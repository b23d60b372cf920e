"""The Live page in a real headless chromium: Play animates the frame player smoothly (frames
counted in the page, never a blank figure), Pause stops the counter, Step adds exactly one."""
from __future__ import annotations

import time

from .conftest import (ARTIFACTS, button, figure_titles, no_exception, player_iteration,
                       playback, start_sampler, stop_sampler, wait_for, wait_idle, wait_stable)

PLAY_SECONDS = 15
MIN_FPS = 5.0           # the old page drew 2.5 frames/s on this kind of machine


def test_play_animates_smoothly_pause_stops_and_step_adds_one(page):
    page.wait_for_selector(".gx-player .js-plotly-plot")
    wait_for(lambda: figure_titles(page), 30, "the main figure's title")
    assert player_iteration(page) == 0
    assert figure_titles(page)[0].startswith("iteration 0 · nonsaturating")   # then the verdict

    start_sampler(page)
    playback(page, "live", "Play").click()
    time.sleep(PLAY_SECONDS / 2)
    page.screenshot(path=str(ARTIFACTS / "live_playing.png"))
    time.sleep(PLAY_SECONDS / 2)
    seen = stop_sampler(page)
    print(f"Live: {seen['fps']:.1f} frames/s, {seen['iterations_per_s']:.0f} it/s, "
          f"blank {seen['blank']} of {seen['ticks']} animation frames")
    assert seen["blank"] == 0, "the figure disappeared while playing"
    assert seen["fps"] >= MIN_FPS, seen
    assert player_iteration(page) >= 100

    playback(page, "live", "Pause").click()
    wait_idle(page)
    paused_at = wait_stable(lambda: player_iteration(page), quiet=1.5, timeout=20)
    time.sleep(1.5)
    assert player_iteration(page) == paused_at, "training went on after Pause"
    assert f"iteration {paused_at:,} ·" in figure_titles(page)[0]

    button(page, "live_step", "Step").click()
    wait_for(lambda: player_iteration(page) != paused_at, 20, "Step to advance the counter")
    stepped = wait_stable(lambda: player_iteration(page), quiet=1.0, timeout=20)
    assert stepped == paused_at + 1, "Step did not advance by exactly 1"
    assert f"iteration {stepped:,} ·" in figure_titles(page)[0]
    no_exception(page)
