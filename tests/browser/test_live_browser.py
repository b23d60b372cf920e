"""The live explorer in a real headless chromium: Play trains and animates, Pause stops."""
from __future__ import annotations

import re
import time

from .conftest import ARTIFACTS, wait_idle, wait_stable

ITERATION = re.compile(r"Iteration ([\d,]+)")


def playback(page, label: str):
    return page.locator(".st-key-playback button", has_text=label)


def iteration(page) -> int:
    text = page.locator(".st-key-status_line").first.inner_text()
    match = ITERATION.search(text)
    assert match, f"no iteration counter in the status line: {text!r}"
    return int(match.group(1).replace(",", ""))


def main_figure_title(page) -> str:
    return page.locator(".js-plotly-plot .gtitle", has_text="iteration").first.text_content()


def test_play_animates_and_pause_stops(page):
    page.wait_for_selector(".js-plotly-plot")
    assert iteration(page) == 0
    first_title = main_figure_title(page)

    playback(page, "Play").click()
    deadline = time.time() + 60
    while time.time() < deadline and iteration(page) < 200:
        time.sleep(0.5)
    assert iteration(page) >= 200, "Play did not advance training in the browser"
    assert main_figure_title(page) != first_title, "the figure did not redraw"
    page.screenshot(path=str(ARTIFACTS / "live_playing.png"))

    playback(page, "Pause").click()
    wait_idle(page)
    # a tick already under way when Pause lands may still finish: wait for the counter to settle
    paused_at = wait_stable(lambda: iteration(page), quiet=2.0, timeout=30)
    time.sleep(1.5)
    assert iteration(page) == paused_at, "training went on after Pause"
    assert paused_at >= 200
