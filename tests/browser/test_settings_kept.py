"""Nothing the user set is lost or silently changed, in a real headless chromium: trips to
other pages and back, dataset round trips (also while playing), drawing custom points on the
canvas, values the widgets cannot show, every bad value named at once, and the projector
layout readable and whole on a laptop's and a projector's screen."""
from __future__ import annotations

import re
import time

import pytest

from .conftest import (figure_titles, no_exception, player_iteration, playback, wait_for,
                       wait_idle)


def new_page(browser, width=1500, height=1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def open_url(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".gx-player .js-plotly-plot, .stPlotlyChart", timeout=60_000)
    wait_idle(page, 60_000)


MARKS = {"Live": ".st-key-cfg_dataset", "Compare": ".st-key-compare_preset",
         "Lecture": ".st-key-lecture_pick", "Dirac-GAN": ".st-key-dirac_objective"}


def go(page, title: str) -> None:
    """Click a page in the top navigation, as a user would (again if a rerun under way
    swallowed the click), and wait for the page's controls."""
    for _ in range(3):
        page.get_by_role("link", name=title, exact=True).first.click()
        try:
            page.wait_for_selector(MARKS[title], timeout=20_000)
            break
        except Exception:          # playwright's TimeoutError: click again
            continue
    else:
        raise AssertionError(f"{title} did not open after 3 clicks; at {page.url} the page "
                             f"shows: {page.inner_text('body')[:600]!r}")
    wait_idle(page, 60_000)


def value(page, key: str) -> str:
    return page.locator(f".st-key-{key} input").first.input_value()


def shows(page, key: str, expected: str, timeout: float = 20) -> bool:
    """True once widget `key` shows `expected` (the rerun of a click may not have started
    when the click returns); the assertion names what it showed instead."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value(page, key) == expected:
            return True
        time.sleep(0.2)
    raise AssertionError(f"{key} shows {value(page, key)!r}, not {expected!r}; the page is at "
                         f"{page.url} and says: {errors(page)!r}")


def choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} input[role='combobox']").click()
    page.locator("[role='option']", has_text=re.compile(f"^{re.escape(option)}$")).click()
    wait_idle(page, 60_000)


def type_number(page, key: str, text: str) -> None:
    field = page.locator(f".st-key-{key} input").first
    field.fill(text)
    field.press("Enter")
    wait_idle(page, 60_000)


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of data point (x, y) on the drawing canvas (plotly's own axes)."""
    return tuple(page.evaluate("""([x, y]) => {
        const gd = document.querySelector("[role='dialog'] .gx-canvas");
        const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis,
              ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)]; }""",
                                [x, y]))


def errors(page) -> str:
    return "\n".join(page.locator("[data-testid='stAlertContentError']").all_inner_texts())


def test_page_trips_keep_every_pages_settings_and_flags(browser, app_server):
    context, page = new_page(browser)
    try:
        open_url(page, f"{app_server}/?classroom=1")
        type_number(page, "cfg_radius", "2")
        choose(page, "cfg_loss", "hinge")
        assert page.locator(".st-key-cfg_g_width").count() == 0       # classroom: basic only
        go(page, "Compare")
        choose(page, "compare_preset", "k = 1 / 5 / 10")
        # as a user would, see the new panels before stepping them (a click in the same
        # instant as the choice can reach the server first)
        wait_for(lambda: (t := figure_titles(page)) and all(x.startswith("k=") for x in t), 30,
                 "the k panels")
        for _ in range(2):
            page.locator(".st-key-compare_step").get_by_role("button", name="Step").click()
            wait_idle(page, 60_000)
        wait_for(lambda: player_iteration(page) == 2, 30, "Compare at iteration 2")
        go(page, "Lecture")
        choose(page, "lecture_pick", "Saturating vs non-saturating generator loss")
        go(page, "Dirac-GAN")
        choose(page, "dirac_objective", "consensus")
        choose(page, "dirac_optimizer", "extragradient")
        go(page, "Live")
        assert shows(page, "cfg_radius", "2") and shows(page, "cfg_loss", "hinge")
        assert shows(page, "cfg_n_modes", "8")
        assert not errors(page), errors(page)
        assert "classroom=1" in page.url and page.locator(".st-key-cfg_g_width").count() == 0
        assert "radius=2.0" in page.url and "loss=hinge" in page.url
        go(page, "Compare")
        assert shows(page, "compare_preset", "k = 1 / 5 / 10")
        wait_for(lambda: player_iteration(page) == 2, 30, "Compare still at iteration 2")
        assert all(t.startswith("k=") for t in figure_titles(page)), figure_titles(page)
        go(page, "Lecture")
        assert shows(page, "lecture_pick", "Saturating vs non-saturating generator loss")
        assert "scenario=saturation" in page.url and "classroom=1" in page.url
        assert "Saturating" in page.locator("h4").first.inner_text()
        go(page, "Dirac-GAN")
        assert shows(page, "dirac_objective", "consensus")
        assert shows(page, "dirac_optimizer", "extragradient")
        assert "classroom=1" in page.url
        no_exception(page)
    finally:
        context.close()


def test_dataset_round_trips_keep_their_settings_even_while_playing(browser, app_server):
    context, page = new_page(browser)
    try:
        open_url(page, app_server)
        type_number(page, "cfg_n_modes", "6")
        choose(page, "cfg_dataset", "moons")
        assert shows(page, "cfg_std", "0.05")
        choose(page, "cfg_dataset", "ring")
        assert shows(page, "cfg_n_modes", "6") and shows(page, "cfg_radius", "1")
        assert shows(page, "cfg_std", "0.01")
        playback(page, "live", "Play").click()
        wait_for(lambda: player_iteration(page) > 0, 30, "training to start")
        for dataset, std in (("grid", "0.05"), ("ring", "0.01"), ("grid", "0.05")):
            choose(page, "cfg_dataset", dataset)
            assert shows(page, "cfg_std", std), f"{dataset} kept another noise level"
        assert not errors(page), errors(page)
        playback(page, "live", "Pause").click()
        wait_idle(page)
        no_exception(page)
    finally:
        context.close()


def test_canvas_clicks_add_and_remove_points(browser, app_server):
    context, page = new_page(browser)
    try:
        open_url(page, app_server)
        choose(page, "cfg_dataset", "custom")

        def count(where) -> int:
            text = where.locator("[data-testid='stCaptionContainer']",
                                 has_text="point(s)").first.inner_text()
            return int(re.search(r"(\d+) point", text).group(1))

        assert count(page.locator(".stSidebar")) == 3
        page.locator(".st-key-custom_draw").get_by_role("button", name="Draw points…").click()
        dialog = page.locator("[role='dialog']")
        dialog.locator(".gx-canvas .nsewdrag").first.wait_for()
        time.sleep(1.0)
        page.mouse.click(*canvas_point(page, 2, 1.5))    # empty space: a point there
        wait_for(lambda: count(dialog) == 4, 30, "the click to add a point")
        time.sleep(1.0)
        page.mouse.click(*canvas_point(page, 1, 0))      # on a point: removes it
        wait_for(lambda: count(dialog) == 3, 30, "the click on the point to remove it")
        page.keyboard.press("Escape")                    # close: the sidebar shows the points
        def typed() -> list[tuple[float, float]]:
            """The points box's value; while the page reruns, the old box (a versioned key)
            can still stand beside the new one: the one that changed is the new one."""
            texts = page.evaluate("""() => Array.from(document.querySelectorAll(
                "[class*='st-key-custom_text'] textarea"), t => t.value)""")
            points = [[tuple(map(float, line.split(","))) for line in text.splitlines()]
                      for text in texts]
            return next((p for p in points if p != before), before)

        before = [(-1, 0), (1, 0), (0, 1)]
        wait_for(lambda: typed() != before, 30, "the text box to show the drawn points")
        (a, b, c) = typed()
        assert a == (-1, 0) and b == (0, 1), typed()
        assert abs(c[0] - 2) < 0.05 and abs(c[1] - 1.5) < 0.05, "the point is where I clicked"
        assert count(page.locator(".stSidebar")) == 3
        no_exception(page)
    finally:
        context.close()


def test_odd_values_are_kept_and_bad_ones_all_named(browser, app_server):
    context, page = new_page(browser)
    try:
        open_url(page, f"{app_server}/?batch_size=100")
        assert shows(page, "cfg_batch_size", "100")
        type_number(page, "cfg_lr_d", "1e999")
        wait_for(lambda: "lr_d: inf is out of range" in errors(page), 20,
                 "1e999 named as too large (not read as 0)")
        type_number(page, "cfg_lr_d", "-1")
        wait_for(lambda: "lr_d: -1.0 is out of range" in errors(page), 20, "lr_d's error")
        type_number(page, "cfg_k", "-3")
        wait_for(lambda: "k: -3 is out of range" in errors(page), 20, "k's error beside lr_d's")
        assert "lr_d: -1.0 is out of range" in errors(page)
        type_number(page, "cfg_k", "1000000")
        wait_for(lambda: "k: 1000000 is out of range" in errors(page), 20, "k's new error")
        type_number(page, "cfg_k", "1")
        type_number(page, "cfg_lr_d", "0.001")
        wait_for(lambda: not errors(page), 20, "the errors to clear")
        choose(page, "cfg_dataset", "custom")
        area = page.locator("[class*='st-key-custom_text'] textarea")
        area.fill("0, 0\n1e30, 1")
        page.locator("h2").first.click()                 # leave the box: it applies
        wait_idle(page)
        wait_for(lambda: "±10,000" in errors(page), 20, "the far point to be refused")
        no_exception(page)
    finally:
        context.close()


@pytest.mark.parametrize("width,height", [(1280, 720), (1920, 1080)])
def test_projector_layout_is_readable_and_whole_on_every_page(browser, app_server, width,
                                                               height):
    context, page = new_page(browser, width, height)
    try:
        for path in ("", "compare", "lecture?scenario=mode-collapse", "dirac"):
            sep = "&" if "?" in path else "?"
            open_url(page, f"{app_server}/{path}{sep}present=1")
            wait_for(lambda: page.evaluate(FITS), 30, f"{path or 'live'} to fit the window")
            sizes = page.evaluate(FONT_SIZES)
            assert sizes and min(sizes) >= 20, (path, sorted(set(sizes)))
            no_exception(page)
    finally:
        context.close()


# the figures a projected page shows first: the player's, or Dirac-GAN's two
FIGURES = "'.gx-player .gx-plot, .st-key-dirac_portrait, .st-key-dirac_distance'"
# every tick label and legend text of those figures, in px
FONT_SIZES = """() => Array.from(document.querySelectorAll(""" + FIGURES + """))
    .flatMap(f => Array.from(f.querySelectorAll(
      '.xtick text, .ytick text, .legendtext, .cbaxis text')))
    .map(e => parseFloat(getComputedStyle(e).fontSize))"""
# each of them lies within the window (nothing cut off), page at the top
FITS = """() => { window.scrollTo(0, 0);
  const plots = Array.from(document.querySelectorAll(""" + FIGURES + """));
  return plots.length > 0 && plots.every(p => { const r = p.getBoundingClientRect();
    const svg = p.querySelector('svg.main-svg');
    return svg && r.bottom <= window.innerHeight + 1 && r.right <= window.innerWidth + 1; }); }"""
