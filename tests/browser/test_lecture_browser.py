"""A lecture scenario opened from a link, played in a real browser, and screenshotted."""
from __future__ import annotations

import re
import time

from .conftest import ARTIFACTS, wait_idle


def test_scenario_link_loads_plays_and_stops(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_server}/lecture?scenario=saturation")
        status = page.locator(".st-key-lecture_status")
        status.wait_for()
        wait_idle(page)
        assert "Saturating" in page.locator("[data-testid='stMarkdownContainer'] h4").first \
            .inner_text()
        assert re.search(r"Iteration 0 of 600 · 2 runs", status.inner_text())
        page.locator(".st-key-lecture_playback button", has_text="Play").click()
        deadline = time.time() + 60
        while time.time() < deadline:
            done = int(re.search(r"Iteration ([\d,]+)", status.inner_text()).group(1)
                       .replace(",", ""))
            if done >= 100:
                break
            time.sleep(0.5)
        assert done >= 100, "the scenario did not play"
        page.locator(".st-key-lecture_playback button", has_text="Pause").click()
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=str(ARTIFACTS / "lecture.png"), full_page=True)
    finally:
        context.close()
