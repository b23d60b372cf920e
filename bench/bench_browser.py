"""What a viewer sees, end to end: the app under `streamlit run` and headless chromium on the
same machine (as on a lecturer's laptop), each page played for a while.

Per page it prints drawn frames/s (distinct iteration values in the main figure's title per
second, counted in the page on every animation frame), training iterations/s (per run), the
fraction of animation frames with no figure on screen, how many frames the animation still
drew after a click on Pause and when the paused view showed, and (Live) how long a changed
setting (the loss) takes to show. With `--baseline REV` it measures the
app at git revision REV too, in the same run, and prints the ratios.

    python bench/bench_browser.py                      # the three pages, 20 s each
    python bench/bench_browser.py --baseline be79a72   # and the app before the frame player
    python bench/bench_browser.py --repeat 3           # medians of 3 plays, it/s as a range

Needs Debian's chromium and playwright (as the browser tests: `apt-get install chromium`;
never `playwright install`). Close other work first: the server and the browser share the
machine's cores with everything else that runs.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# page -> (path, the play button's label, targets: frames/s, it/s per run)
PAGES = {
    "live": ("", "Play", (10.0, 150.0)),
    "lecture": ("lecture?scenario=mode-collapse", "Play", (8.0, 60.0)),
    "compare": ("compare", "Play all", (5.0, 60.0)),
}
TITLE_ITERATION = re.compile(r"\bit(?:eration)? ([\d,]+)")
SAMPLER = """() => {
  const s = window.__benchSampler = {titles: [], blank: 0, ticks: 0, stop: false};
  const find = () => {
    for (const t of document.querySelectorAll('.gtitle')) {
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
         "true", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the app at {root} did not start")


def measure(browser, url: str, page_name: str, seconds: float) -> dict:
    path, label, _ = PAGES[page_name]
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{url}/{path}")
        page.wait_for_selector(".gtitle", timeout=90_000)
        time.sleep(3)
        page.locator("[class*='playback'] button", has_text=label).first.click()
        time.sleep(3)                        # start-up (first frames, thread, caches)
        page.evaluate(SAMPLER)
        time.sleep(seconds)
        s = page.evaluate("() => { window.__benchSampler.stop = true; "
                          "return window.__benchSampler; }")
        setting_ms = change_setting(page) if page_name == "live" else float("nan")
        after_pause, pause_ms = pause(page, label)
    finally:
        context.close()
    titles = s["titles"]
    its = [int(TITLE_ITERATION.search(t).group(1).replace(",", "")) for _, t in titles]
    span = (titles[-1][0] - titles[0][0]) / 1000 if len(titles) > 1 else 0.0
    return {"fps": (len(titles) - 1) / span if span else 0.0,
            "its": (its[-1] - its[0]) / span if span else 0.0,
            "blank": s["blank"] / max(s["ticks"], 1), "after_pause": after_pause,
            "pause_ms": pause_ms, "setting_ms": setting_ms}


TITLES_AFTER = """() => new Promise((resolve) => {
  const read = () => { for (const t of document.querySelectorAll('.gtitle'))
    if (/\\bit(eration)? [\\d,]+/.test(t.textContent)) return t.textContent; return null; };
  const seen = [], start = performance.now();
  let last = read();
  const loop = () => { const t = read();
    if (t !== last) { last = t; seen.push(performance.now() - start); }
    if (performance.now() - start < 3000) requestAnimationFrame(loop); else resolve(seen); };
  requestAnimationFrame(loop); })"""


def pause(page, label: str) -> tuple[int, float]:
    """After a click on Pause: (frames the animation still drew before the paused view, ms
    until the paused view showed). The paused view shows where the run really is, which may
    be a few frames past the one on screen at the click."""
    page.locator("[class*='playback'] button", has_text="Pause").first.click()
    changes = page.evaluate(TITLES_AFTER)
    return max(len(changes) - 1, 0), (changes[-1] if changes else 0.0)


def change_setting(page) -> float:
    """ms from choosing another loss (while playing) to a figure title naming it."""
    page.locator(".st-key-cfg_loss input[role='combobox']").click()
    option = page.locator("[role='option']", has_text=re.compile("^hinge$"))
    option.wait_for()
    chosen = page.evaluate("() => performance.now()")
    option.click()
    shown = page.evaluate("""() => new Promise((resolve) => {
      const loop = () => { for (const t of document.querySelectorAll('.gtitle'))
          if (t.textContent.includes('· hinge')) return resolve(performance.now());
        requestAnimationFrame(loop); };
      loop(); })""")
    return shown - chosen


def run_all(root: Path, pages: list[str], seconds: float, repeat: int = 1) -> dict:
    """{page: measure(...)} with each figure the median of `repeat` plays, and the it/s range
    ("its_low", "its_high"): with the server and the browser sharing 2 cores, one play's
    training speed varies by up to +-20%."""
    from playwright.sync_api import sync_playwright

    proc, url = start_app(root)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium")
                                        or "/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                out = {}
                for name in pages:
                    plays = [measure(browser, url, name, seconds) for _ in range(repeat)]
                    out[name] = {key: statistics.median(p[key] for p in plays)
                                 for key in plays[0]}
                    out[name]["its_low"] = min(p["its"] for p in plays)
                    out[name]["its_high"] = max(p["its"] for p in plays)
                return out
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(15)


def checkout(rev: str) -> Path:
    """The app at git revision `rev`, in a temporary directory."""
    where = Path(tempfile.mkdtemp(prefix="gan-explorer-baseline-"))
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="live,lecture,compare")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="plays per page; figures are medians, it/s also as a range")
    parser.add_argument("--baseline", metavar="REV",
                        help="also measure the app at this git revision, in the same run")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages {sorted(unknown)}; choose from {', '.join(PAGES)}")
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    results = {"now": run_all(ROOT, pages, args.seconds, args.repeat)}
    if args.baseline:
        old = checkout(args.baseline)
        try:
            results[args.baseline] = run_all(old, pages, args.seconds, args.repeat)
        finally:
            shutil.rmtree(old, ignore_errors=True)
    print(f"{'page':<9}{'run':<10}{'frames/s':>10}{'it/s per run':>14}{'(range)':>11}"
          f"{'blank':>8}{'after Pause':>13}{'setting ms':>12}{'target':>18}")
    for name in pages:
        target_fps, target_its = PAGES[name][2]
        for run, by_page in results.items():
            r = by_page[name]
            spread = f"{r['its_low']:.0f}-{r['its_high']:.0f}"
            print(f"{name:<9}{run:<10}{r['fps']:>10.1f}{r['its']:>14.0f}{spread:>11}"
                  f"{r['blank']:>8.1%}"
                  f"{r['after_pause']:>4} f, {r['pause_ms']:>4.0f} ms{r['setting_ms']:>12.0f}"
                  f"{f'>= {target_fps:g} f/s, {target_its:g} it/s':>24}")
        if args.baseline:
            now, base = results["now"][name], results[args.baseline][name]
            print(f"{'':<9}{'ratio':<10}{now['fps'] / max(base['fps'], 1e-9):>9.1f}x"
                  f"{now['its'] / max(base['its'], 1e-9):>13.1f}x")


if __name__ == "__main__":
    main()
