"""The Phase diagram page in a real headless chromium: a tiny sweep on the server's worker
processes fills the diagram, and clicking a cell then its link opens the Live page with that
cell's settings."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

from .conftest import ARTIFACTS, wait_idle

FIXED = "g_width=8, d_width=8, g_depth=1, d_depth=1, batch_size=32, loss=hinge"


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_a_cell_click_opens_live_with_that_cells_settings(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{app_server}/phase")                 # straight to the page: no Live run
        page.wait_for_selector("text=Phase diagram", timeout=60_000)
        wait_idle(page, timeout=60_000)
        check_cell_opens_live(page)
    finally:
        context.close()


def check_cell_opens_live(page) -> None:
    fill(page, "x values", "1e-3, 3e-3")
    fill(page, "y values", "1e-3, 2e-3")
    fill(page, "Fixed settings (from the Live page; field=value, ...)", FIXED)
    fill(page, "Iterations per run", "20")
    page.get_by_text("4 runs of 20 iterations").wait_for()
    page.locator(".st-key-phase_run_btn button").click()
    page.get_by_text(re.compile(r"4 of 4 runs · \d+ s · done")).wait_for(timeout=240_000)
    # the finished sweep reruns the whole page once (its diagram stops polling): click after it
    page.wait_for_selector(".st-key-phase_stop_btn button:disabled", timeout=60_000)
    wait_idle(page)

    chart = page.locator(".st-key-phase_chart .js-plotly-plot")
    points = chart.locator(".scatterlayer .trace .points path")
    boxes = [points.nth(i).bounding_box() for i in range(points.count())]
    assert len(boxes) == 4, "one square per cell"
    # cell 3 is x = 3e-3 (right column), y = 2e-3 (top row)
    target = max(boxes, key=lambda b: (b["x"], -b["y"]))
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    page.get_by_text("Selected cell").wait_for(timeout=60_000)
    page.get_by_test_id("stMarkdown").filter(has_text="lr_d=0.003, lr_g=0.002").wait_for()
    page.screenshot(path=str(ARTIFACTS / "phase_diagram.png"))

    with page.context.expect_page() as opened:
        page.get_by_text("Open this run on the Live page").click()
    live = opened.value
    live.wait_for_load_state()
    live.wait_for_selector("text=GAN dynamics explorer", timeout=60_000)
    wait_idle(live, timeout=60_000)
    time.sleep(1.0)                     # the Live page writes its run's settings to the URL
    url = urlparse(live.url)
    assert url.path == "/"                              # Live is the default page
    assert live.get_by_text("Page not found").count() == 0
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["lr_d"] == "0.003" and query["lr_g"] == "0.002"
    assert query["loss"] == "hinge" and query["g_width"] == "8"
    live.screenshot(path=str(ARTIFACTS / "phase_opened_live.png"))
