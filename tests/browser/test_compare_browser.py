"""The Compare page in a real headless chromium: it opens on the six-objectives preset, Play all
trains the six runs in lockstep and redraws six panels, Pause stops them even after a long
play (a software-rendering browser draws slower than the server: without frame pacing its
session was dropped within a minute), and "Continue from here" forks every run at a past
point of the timeline."""
from __future__ import annotations

import re
import time

from .conftest import ARTIFACTS, wait_idle, wait_stable

STATUS = re.compile(r"Iteration ([\d,]+)\D.*?(\d+) runs")
PANELS = 6
LONG_PLAY_S = 75       # without pacing, the send queue overflowed after ~35 s


def status(page) -> tuple[int, int]:
    text = page.locator(".st-key-compare_status").first.inner_text()
    match = STATUS.search(text)
    assert match, f"no 'Iteration N · 6 runs' in the compare status: {text!r}"
    return int(match.group(1).replace(",", "")), int(match.group(2))


def playback(page, label: str):
    return page.locator(".st-key-compare_playback button", has_text=label)


def panel_iteration(title: str) -> int:
    match = re.search(r" · it ([\d,]+)", title)
    assert match, f"no iteration in the panel title {title!r}"
    return int(match.group(1).replace(",", ""))


def panel_titles(page) -> list[str]:
    return [page.locator(f".st-key-panel_{i} .js-plotly-plot .gtitle").first.text_content()
            for i in range(PANELS)]


def test_compare_plays_six_runs_and_pauses(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_server}/compare")
        page.wait_for_selector(".st-key-compare_status")
        page.wait_for_selector(f".st-key-panel_{PANELS - 1} .js-plotly-plot")
        wait_idle(page, 60_000)
        assert status(page) == (0, PANELS)
        assert page.locator("[data-testid='stException']").count() == 0
        first = panel_titles(page)
        assert all(t and "it 0" in t for t in first), first

        playback(page, "Play all").click()
        started = time.time()
        deadline = started + 150
        while time.time() < deadline and (status(page)[0] < 150
                                          or time.time() - started < LONG_PLAY_S):
            time.sleep(0.5)
        iterations, runs = status(page)
        assert runs == PANELS and iterations >= 150, "Play all did not advance the runs"
        titled = page.locator(".js-plotly-plot .gtitle", has_text=" · it ")
        deadline = time.time() + 30     # a panel being redrawn has no title for a moment
        while titled.count() < PANELS and time.time() < deadline:
            time.sleep(0.25)
        assert titled.count() >= PANELS
        titles = panel_titles(page)
        assert all(" · it " in t and "it 0" not in t for t in titles), titles
        labels = [t.split(" · it ")[0] for t in titles]
        assert len(set(labels)) == PANELS, f"six different variants expected: {labels}"

        # Six panels a tick keep a software-rendering chromium busy on a loaded 2-core machine:
        # the click can take seconds to land and a few ticks already under way still arrive.
        playback(page, "Pause").click()
        wait_idle(page, 90_000)
        paused_at = wait_stable(lambda: status(page)[0], quiet=2.0, timeout=60)
        time.sleep(1.5)
        assert status(page)[0] == paused_at, "the runs went on after Pause"
        # all six panels show the iteration the status shows: lockstep
        assert all(panel_iteration(t) == paused_at for t in panel_titles(page)), \
            panel_titles(page)
        assert page.locator("[data-testid='stException']").count() == 0
        page.set_viewport_size({"width": 1500, "height": 2300})    # the table and charts too
        wait_idle(page, 60_000)
        time.sleep(1.0)
        page.screenshot(path=str(ARTIFACTS / "compare.png"))

        # back to the first recorded point, continue from there with a change for all
        page.locator(".st-key-compare_timeline input[type='range']").focus()
        page.keyboard.press("Home")
        wait_idle(page, 60_000)
        page.wait_for_selector(".st-key-compare_fork_changes input")
        assert all(panel_iteration(t) == 0 for t in panel_titles(page)), panel_titles(page)
        page.locator(".st-key-compare_fork_changes input").fill("lr_g=0.0005")
        page.keyboard.press("Enter")
        wait_idle(page, 60_000)
        page.locator(".st-key-compare_fork button", has_text="Continue").first.click()
        deadline = time.time() + 60       # the click's rerun may not have started yet
        while time.time() < deadline and status(page)[0] != 0:
            time.sleep(0.5)
        wait_idle(page, 60_000)
        assert status(page) == (0, PANELS)
        titles = panel_titles(page)
        assert all("lr_g=0.0005" in t and panel_iteration(t) == 0 for t in titles), titles
        playback(page, "Play all").click()
        deadline = time.time() + 60
        while time.time() < deadline and status(page)[0] < 5:
            time.sleep(0.5)
        assert status(page)[0] >= 5, "the continued runs did not play"
        playback(page, "Pause").click()
        wait_idle(page, 90_000)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()
