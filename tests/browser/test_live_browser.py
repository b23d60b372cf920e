"""The Live page in a real headless chromium: Play animates the frame player smoothly (frames
counted in the page, never a blank figure), Pause stops the counter, Step adds exactly one."""
from __future__ import annotations

import time

from .conftest import (ARTIFACTS, button, figure_titles, no_exception, player_iteration,
                       playback, start_sampler, stop_sampler, wait_for, wait_idle, wait_stable)

PLAY_SECONDS = 15
MIN_FPS = 5.0           # the old page drew 2.5 frames/s on this kind of machine
# What the player painted on the main figure's canvas (None: no canvas shown): the share of
# opaque pixels (D's surface), the pixels of the push arrows' orange (#e66100), the canvas's
# size on the page and that of the plot area it must cover (plotly's drag layer).
CANVAS = """() => {
  const plot = document.querySelector('.gx-plot[data-id="main"]');
  const c = plot && plot.querySelector('canvas.gx-canvas');
  if (!c || c.style.display === 'none') return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let opaque = 0, orange = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 255) opaque++;
    if (d[i] > 200 && d[i + 1] > 80 && d[i + 1] < 115 && d[i + 2] < 30) orange++;
  }
  const box = c.getBoundingClientRect(), area = plot.querySelector('.nsewdrag').getBoundingClientRect();
  return {opaque: opaque / (d.length / 4), orange, canvas: [box.left, box.top, box.width, box.height],
          area: [area.left, area.top, area.width, area.height]};
}"""


def test_play_animates_smoothly_pause_stops_and_step_adds_one(page):
    page.wait_for_selector(".gx-player .js-plotly-plot")
    wait_for(lambda: figure_titles(page), 30, "the main figure's title")
    assert player_iteration(page) == 0
    assert figure_titles(page)[0].startswith("iteration 0 · nonsaturating")   # then the verdict

    start_sampler(page)
    playback(page, "live", "Play").click()
    time.sleep(PLAY_SECONDS / 2)
    page.screenshot(path=str(ARTIFACTS / "live_playing.png"))
    painted = page.evaluate(CANVAS)         # playing: the layers are painted on the canvas
    assert painted is not None, "no canvas while playing"
    assert painted["opaque"] > 0.95, painted          # D's surface fills the plot area
    assert painted["orange"] > 50, painted            # the push arrows are drawn
    for got, want in zip(painted["canvas"], painted["area"]):
        assert abs(got - want) <= 2, painted          # exactly over the plot area
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
    # paused, plotly draws the moment itself (the heatmap keeps its hover values)
    assert page.evaluate(CANVAS) is None
    assert page.locator('.gx-plot[data-id="main"] .heatmaplayer image').count() == 1

    button(page, "live_step", "Step").click()
    wait_for(lambda: player_iteration(page) != paused_at, 20, "Step to advance the counter")
    stepped = wait_stable(lambda: player_iteration(page), quiet=1.0, timeout=20)
    assert stepped == paused_at + 1, "Step did not advance by exactly 1"
    assert f"iteration {stepped:,} ·" in figure_titles(page)[0]
    no_exception(page)
