"""A click on the page (the playback bar, a setting in the sidebar) that the browser sends
together with the player's progress report still acts on the whole page.

The frame player reports what it has drawn several times a second; each report reruns the
player's fragment. When a click on Pause or Step is sent in the same task as a report, the
browser sends both in one rerun of that fragment alone, and before the fix the Pause was lost
there: the runs went on training while the bar showed Pause (1 in ~10 Pause clicks during play
on Compare), and a loss picked in the sidebar waited for the next click to take effect. Here
the click and a report are made in one task on purpose, so that case is hit every time rather
than by chance."""
from __future__ import annotations

import time

from .conftest import (figure_titles, no_exception, player_iteration, playback, wait_for,
                       wait_idle, wait_stable)

# Click the element of `selector` whose text is `text` (or, not `exact`, contains it) and make
# every player on the page report in the same task.
CLICK_WITH_REPORT = """([selector, text, exact]) => {
  const target = Array.from(document.querySelectorAll(selector)).find((e) =>
    (exact ? e.textContent.trim() === text : e.textContent.includes(text)));
  if (!target) return 0;
  const players = Array.from(window.__ganExplorerPlayers.values());
  target.click();
  players.forEach((p) => p.ack(true));
  return players.length;
}"""


def click_with_report(page, selector: str, text: str, exact: bool = False) -> None:
    assert page.evaluate(CLICK_WITH_REPORT, [selector, text, exact]) > 0, \
        f"no {text!r} in {selector} or no player"


def press_with_report(page, prefix: str, label: str) -> None:
    """The playback bar's button `label` (Pause, Step), clicked with a report."""
    click_with_report(page, f".st-key-{prefix}_playback button, .st-key-{prefix}_step button",
                      label)


def stopped_within(page, seconds: float) -> int:
    clicked = time.time()
    at = wait_stable(lambda: player_iteration(page), quiet=1.0, timeout=15)
    assert time.time() - clicked - 1.0 < seconds, "the runs stopped too late"
    return at


def test_pause_and_step_sent_with_a_report_act_on_the_page(page):
    page.wait_for_selector(".gx-player .js-plotly-plot")
    for attempt in range(3):
        playback(page, "live", "Play").click()
        wait_for(lambda: player_iteration(page) > 0, 30, "the run to play")
        time.sleep(1.0)
        press_with_report(page, "live", "Pause")
        paused_at = stopped_within(page, 2.0)
        time.sleep(1.0)
        assert player_iteration(page) == paused_at, f"Pause {attempt + 1} did not hold"
        wait_idle(page)

    playback(page, "live", "Play").click()
    wait_for(lambda: player_iteration(page) > paused_at, 30, "the run to play again")
    time.sleep(1.0)
    press_with_report(page, "live", "Step")       # Step pauses, then adds one iteration
    wait_idle(page)
    stepped_at = wait_stable(lambda: player_iteration(page), quiet=1.0, timeout=15)
    # the page was redrawn paused: Play (not shown selected any more) starts the run again;
    # without the page's rerun the bar still showed Play chosen, and a click on it did nothing
    playback(page, "live", "Play").click()
    wait_for(lambda: player_iteration(page) > stepped_at, 30, "Play after the Step to play")
    playback(page, "live", "Pause").click()
    wait_idle(page)
    no_exception(page)


def test_a_setting_picked_with_a_report_applies_while_playing(page):
    page.wait_for_selector(".gx-player .js-plotly-plot")
    playback(page, "live", "Play").click()
    wait_for(lambda: player_iteration(page) > 0, 30, "the run to play")
    for loss in ("hinge", "lsgan"):
        time.sleep(1.0)
        page.locator(".st-key-cfg_loss input[role='combobox']").click()
        page.wait_for_selector("[role='option']")
        click_with_report(page, "[role='option']", loss, exact=True)
        wait_for(lambda: any(f" · {loss}" in t for t in figure_titles(page)), 5,
                 f"the main figure to show the {loss} loss while playing")
        assert player_iteration(page) > 0
    playback(page, "live", "Pause").click()
    wait_idle(page)
    no_exception(page)
