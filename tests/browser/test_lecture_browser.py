"""A lecture scenario opened from a link, played in a real browser to its end, and
screenshotted."""
from __future__ import annotations

import re
import time

from gan_core import scenarios

from .conftest import (ARTIFACTS, no_exception, player_iteration, player_status, playback,
                       start_sampler, stop_sampler, wait_for, wait_idle)

MIN_FPS = 3.0
# long enough (in seconds) that the 10 s of sampling below sees it playing throughout
SCENARIO = "wgan-clipping-vs-gp"


def test_scenario_link_loads_plays_and_stops(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        steps = scenarios.get(SCENARIO).steps
        page.goto(f"{app_server}/lecture?scenario={SCENARIO}")
        wait_for(lambda: page.locator(".gx-player .gx-status").count(), 60, "the player")
        wait_idle(page)
        assert scenarios.get(SCENARIO).title in page.locator(
            "[data-testid='stMarkdownContainer'] h4").first.inner_text()
        wait_for(lambda: re.search(rf"Iteration 0 of {steps:,} · 2 runs", player_status(page)),
                 30, "the scenario's status line")
        start_sampler(page)
        playback(page, "lecture", "Play").click()
        time.sleep(10)
        seen = stop_sampler(page)
        print(f"Lecture: {seen['fps']:.1f} frames/s, {seen['iterations_per_s']:.0f} it/s per "
              f"run, blank {seen['blank']} of {seen['ticks']}")
        assert seen["blank"] == 0 and seen["fps"] >= MIN_FPS, seen
        wait_for(lambda: player_iteration(page) == steps, 120, "the scenario to reach its end")
        wait_idle(page)
        assert f"scenario={SCENARIO}" in page.url
        no_exception(page)
        page.screenshot(path=str(ARTIFACTS / "lecture.png"), full_page=True)
    finally:
        context.close()
