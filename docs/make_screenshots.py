"""Regenerate the README's screenshots: start the app headless, drive Debian's chromium.

    python docs/make_screenshots.py [--iterations 3000] [--pages live,compare,lecture,dirac]
"""
from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                             "--server.headless", "true", "--server.port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start")


def iteration(page, status: str) -> int:
    text = page.locator(status).first.inner_text()
    return int(re.search(r"Iteration ([\d,]+)", text).group(1).replace(",", ""))


def play_until(page, status: str, playback: str, iterations: int, timeout: float) -> None:
    page.wait_for_selector(status, timeout=60_000)
    page.locator(f"{playback} button", has_text="Play").click()
    deadline = time.time() + timeout
    while iteration(page, status) < iterations and time.time() < deadline:
        time.sleep(1)
    page.locator(f"{playback} button", has_text="Pause").click()
    time.sleep(3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--pages", default="live,compare,lecture,dirac")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    proc, url = start_app()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            for name in args.pages.split(","):
                page.goto(url if name == "live" else f"{url}/{name}")   # Live is the default
                time.sleep(2)
                if name == "live":
                    play_until(page, ".st-key-status_line", ".st-key-playback",
                               args.iterations, args.timeout)
                elif name in ("compare", "lecture"):
                    play_until(page, f".st-key-{name}_status", f".st-key-{name}_playback",
                               args.iterations // 3, args.timeout)
                else:
                    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
                    time.sleep(2)
                page.screenshot(path=str(ROOT / "docs" / f"{name}.png"), full_page=True)
                print("wrote", ROOT / "docs" / f"{name}.png")
            browser.close()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
