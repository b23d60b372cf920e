"""Real-browser fixtures: a `streamlit run` server on a free local port and Debian's chromium
driven by playwright (which must never download a browser of its own).

Without chromium or playwright these tests skip with the reason, unless
GAN_EXPLORER_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser is a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _missing_browser(reason: str):
    if os.environ.get("GAN_EXPLORER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser required here but {reason}")
    pytest.skip(f"{reason} (apt-get install chromium; pip install playwright)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server():
    """Start the app headless; yield its base URL; stop it afterwards."""
    port = _free_port()
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early; see {ARTIFACTS / 'streamlit.log'}")
    else:
        proc.kill()
        pytest.fail("streamlit did not answer /_stcore/health within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing_browser(f"no chromium at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(app_server)
    pg.wait_for_selector("[data-testid='stApp']")
    wait_idle(pg)
    yield pg
    context.close()


def wait_stable(read, quiet: float, timeout: float):
    """The value of `read()` once it has not changed for `quiet` seconds."""
    deadline = time.time() + timeout
    value, since = read(), time.time()
    while time.time() < deadline:
        time.sleep(0.25)
        now = read()
        if now != value:
            value, since = now, time.time()
        elif time.time() - since >= quiet:
            return value
    raise AssertionError(f"still changing after {timeout} s (last {value!r})")


def wait_idle(pg, timeout: float = 30_000) -> None:
    """Wait until the script is not running (Streamlit's own e2e suite does this)."""
    pg.wait_for_selector("[data-test-script-state='notRunning']", timeout=timeout)


# ---------------------------------------------------------------- a server of a test's own
def start_app(log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run` on a free port, its output in `log_path`; wait until it answers.
    Returns (process, base URL). Stop it with stop_app."""
    port = _free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()                 # the child keeps its own handle
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log_path}")
    stop_app(proc)
    raise RuntimeError("streamlit did not answer /_stcore/health within 60 s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


TRACEBACK_SIGNS = ("Traceback", "Uncaught app execution", "Exception in callback",
                   "Failed to display uncaught app exception")


def log_problems(text: str) -> list[str]:
    """Lines of a server log that look like a traceback or an uncaught error."""
    return [line for line in text.splitlines() if any(s in line for s in TRACEBACK_SIGNS)]


@pytest.fixture(scope="module")
def own_server(request):
    """A server for one test module alone, logging to artifacts/streamlit-<module>.log, so the
    module can read a log no other test writes. Yields (base URL, log path)."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    log_path = ARTIFACTS / f"streamlit-{name}.log"
    try:
        proc, url = start_app(log_path)
    except RuntimeError as err:
        pytest.fail(str(err))
    yield url, log_path
    stop_app(proc)


# ---------------------------------------------------------------- the frame player
ITERATION = re.compile(r"Iteration ([\d,]+)")
TITLE_ITERATION = re.compile(r"\bit(?:eration)? ([\d,]+)")

# What a viewer sees, counted in the page: on every animation frame, the text of the first
# figure title that names an iteration ("iteration N · loss" on Live, "label · it N" in a
# panel). Distinct titles per second = frames drawn; an instant with none = a blank figure.
SAMPLER_JS = """() => {
  const s = window.__ganSampler = {titles: [], blank: 0, ticks: 0, stop: false};
  const find = () => {
    for (const t of document.querySelectorAll('.gx-player .gtitle')) {
      if (/\\bit(eration)? [\\d,]+/.test(t.textContent)) return t.textContent; }
    return null; };
  const loop = () => {
    s.ticks++;
    const t = find();
    if (t === null) s.blank++;
    else if (!s.titles.length || s.titles[s.titles.length - 1][1] !== t)
      s.titles.push([performance.now(), t]);
    if (!s.stop) requestAnimationFrame(loop); };
  requestAnimationFrame(loop); }"""


def start_sampler(page) -> None:
    page.evaluate(SAMPLER_JS)


def stop_sampler(page) -> dict:
    """{frames, seconds, fps, iterations_per_s, blank, ticks} since start_sampler."""
    s = page.evaluate("() => { window.__ganSampler.stop = true; return window.__ganSampler; }")
    titles = s["titles"]
    its = [int(TITLE_ITERATION.search(t).group(1).replace(",", "")) for _, t in titles]
    seconds = (titles[-1][0] - titles[0][0]) / 1000 if len(titles) > 1 else 0.0
    return {"frames": len(titles), "seconds": seconds,
            "fps": (len(titles) - 1) / seconds if seconds else 0.0,
            "iterations_per_s": (its[-1] - its[0]) / seconds if seconds else 0.0,
            "blank": s["blank"], "ticks": s["ticks"], "last": titles[-1][1] if titles else ""}


def player_status(page) -> str:
    return page.locator(".gx-player .gx-status").first.inner_text()


def player_iteration(page) -> int:
    text = player_status(page)
    match = ITERATION.search(text)
    assert match, f"no iteration counter in the player's status line: {text!r}"
    return int(match.group(1).replace(",", ""))


def figure_titles(page) -> list[str]:
    """The player's figure titles that name an iteration, read in one go (the player redraws
    its titles while it plays, so reading them one by one can wait on one that is gone)."""
    texts = page.evaluate("""() => Array.from(document.querySelectorAll('.gx-player .gtitle'),
                                              t => t.textContent || '')""")
    return [t for t in texts if TITLE_ITERATION.search(t)]


def playback(page, prefix: str, label: str):
    return page.locator(f".st-key-{prefix}_playback button", has_text=label)


def button(page, key: str, name: str):
    """A Streamlit button by its key and label (its container may hold a hidden copy)."""
    return page.locator(f".st-key-{key}").get_by_role("button", name=name, exact=True)


def wait_for(condition, timeout: float, what: str):
    """condition()'s value once it is true; a condition that cannot be read yet (its
    assertion fails: the element is still being drawn) counts as not yet."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = condition()
        except AssertionError as err:
            value, last = None, err
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f" ({last})" if last else ""))


def no_exception(page) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, shown.first.inner_text()
