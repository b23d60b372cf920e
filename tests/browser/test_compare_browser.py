"""The Compare page in a real headless chromium: it opens on the six-objectives preset, Play all
trains the six runs in lockstep and the player redraws six panels (never blank), Pause stops
them within 2 s, and "Continue from here" forks every run at a past point of the timeline."""
from __future__ import annotations

import re
import time

from .conftest import (ARTIFACTS, figure_titles, no_exception, player_iteration, player_status,
                       playback, start_sampler, stop_sampler, wait_for, wait_idle, wait_stable)

PANELS = 6
PLAY_SECONDS = 25
MIN_FPS = 2.0


def panel_iteration(title: str) -> int:
    match = re.search(r" · it ([\d,]+)", title)
    assert match, f"no iteration in the panel title {title!r}"
    return int(match.group(1).replace(",", ""))


def panel_titles(page) -> list[str]:
    return [t for t in figure_titles(page) if " · it " in t]


def test_compare_plays_six_runs_pauses_fast_and_continues(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_server}/compare")
        wait_for(lambda: len(panel_titles(page)) == PANELS, 60, "six panels")
        wait_idle(page, 60_000)
        wait_for(lambda: re.search(r"Iteration 0 · 6 runs", player_status(page)), 30,
                 "the status line")
        assert all(panel_iteration(t) == 0 for t in panel_titles(page))

        start_sampler(page)
        playback(page, "compare", "Play all").click()
        time.sleep(PLAY_SECONDS)
        seen = stop_sampler(page)
        print(f"Compare: {seen['fps']:.1f} frames/s, {seen['iterations_per_s']:.0f} it/s per "
              f"run, blank {seen['blank']} of {seen['ticks']}")
        assert seen["blank"] == 0 and seen["fps"] >= MIN_FPS, seen
        titles = panel_titles(page)
        labels = [t.split(" · it ")[0] for t in titles]
        assert len(set(labels)) == PANELS, f"six different variants expected: {labels}"

        clicked = time.time()
        playback(page, "compare", "Pause").click()
        paused_at = wait_stable(lambda: player_iteration(page), quiet=1.0, timeout=30)
        stopped_in = time.time() - clicked - 1.0
        time.sleep(1.5)
        assert player_iteration(page) == paused_at, "the runs went on after Pause"
        assert stopped_in < 2.0, f"Pause took {stopped_in:.1f} s to stop the runs"
        assert all(panel_iteration(t) == paused_at for t in panel_titles(page))   # lockstep
        no_exception(page)
        page.set_viewport_size({"width": 1500, "height": 2300})    # the table and charts too
        time.sleep(1.0)
        page.screenshot(path=str(ARTIFACTS / "compare.png"))

        # back to the first recorded point, continue from there with a change for all
        page.locator(".st-key-compare_timeline input[type='range']").focus()
        page.keyboard.press("Home")
        wait_idle(page, 60_000)
        page.wait_for_selector(".st-key-compare_fork_changes input")
        wait_for(lambda: all(panel_iteration(t) == 0 for t in panel_titles(page)), 20,
                 "the panels to replay iteration 0")
        page.locator(".st-key-compare_fork_changes input").fill("lr_g=0.0005")
        page.keyboard.press("Enter")
        wait_idle(page, 60_000)
        page.locator(".st-key-compare_fork button", has_text="Continue").first.click()
        wait_for(lambda: all("lr_g=0.0005" in t for t in panel_titles(page)), 30,
                 "the forked runs with their change")
        assert player_iteration(page) == 0
        playback(page, "compare", "Play all").click()
        wait_for(lambda: player_iteration(page) >= 5, 60, "the continued runs to play")
        playback(page, "compare", "Pause").click()
        wait_idle(page, 60_000)
        no_exception(page)
    finally:
        context.close()
