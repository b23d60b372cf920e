"""Many users at once: N headless chromium pages (one browser, a context each: N Streamlit
sessions) against one local `streamlit run` server, each with its own seed in the URL
(`?seed=N`), each pressing Play and training its own run for a while.

    python bench/bench_sessions.py [--sessions 8] [--seconds 30] [--no-pause-check]

Checks that there is no cross-talk: every page keeps its own seed (URL and Seed widget), every
counter advances on its own, and pausing one session half-way freezes its counter while the
others keep going. Measures, per session, the frames per second the page shows (changes of the
main figure's title "iteration N · loss" and of the player's status line "Iteration N · ...")
and the training iterations per second; and the server's CPU use and thread count meanwhile
(each playing session trains on a thread of its own, see explorer/stream.py).

Timings are recorded in each page by a MutationObserver (timestamps of every change), so
polling from this script does not slow the pages. Needs Debian's chromium and playwright (as
the browser tests: `apt-get install chromium`); never `playwright install`.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the harness's flags, plus: N users each look at their own foreground tab, so no page may be
# throttled as a background one (that would cap the app's fragment timer at ~1 Hz)
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
ITERATION = re.compile(r"Iteration ([\d,]+)")
TITLE = re.compile(r"iteration ([\d,]+)")

# Installed in each page: records (ms, status text, figure title) whenever either changes.
RECORDER = """
() => {
  window.__frames = [];
  const read = () => {
    const s = document.querySelector('.gx-player .gx-status');
    let title = '';
    for (const t of document.querySelectorAll('.gx-player .gtitle')) {
      if (t.textContent.startsWith('iteration')) { title = t.textContent; break; }
    }
    return [s ? s.textContent : '', title];   // textContent: no forced layout
  };
  let last = read();
  window.__frames.push([performance.now(), last[0], last[1]]);
  new MutationObserver(() => {
    const now = read();
    if (now[0] !== last[0] || now[1] !== last[1]) {
      last = now;
      window.__frames.push([performance.now(), now[0], now[1]]);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_path: Path, script: str = "streamlit_app.py"
                 ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script,
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    sys.exit(f"streamlit did not start; see {log_path}")


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def chromium_cpu_seconds() -> float:
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if "chrom" in Path(f"/proc/{pid}/comm").read_text():
                total += cpu_seconds(int(pid))
        except OSError:
            continue
    return total


def number(pattern: re.Pattern, text: str) -> int | None:
    match = pattern.search(text or "")
    return int(match.group(1).replace(",", "")) if match else None


def iteration(page) -> int:
    value = number(ITERATION, page.locator(".gx-player .gx-status").first.inner_text())
    assert value is not None, "no iteration counter on the page"
    return value


def analyse(frames: list, start_ms: float, end_ms: float) -> dict:
    """Frames/s and iterations/s over [start_ms, end_ms] from a page's recorded changes."""
    inside = [f for f in frames if start_ms <= f[0] <= end_ms]
    statuses = [(t, number(ITERATION, s)) for t, s, _ in inside]
    statuses = [(t, n) for t, n in statuses if n is not None]
    status_changes = sum(1 for a, b in zip(statuses, statuses[1:]) if a[1] != b[1])
    titles = [number(TITLE, title) for _, _, title in inside]
    titles = [n for n in titles if n is not None]
    title_changes = sum(1 for a, b in zip(titles, titles[1:]) if a != b)
    seconds = (end_ms - start_ms) / 1e3
    gaps = [b[0] - a[0] for a, b in zip(statuses, statuses[1:]) if a[1] != b[1]]
    its = (statuses[-1][1] - statuses[0][1]) / seconds if len(statuses) > 1 else 0.0
    return {"fps_figure": title_changes / seconds, "fps_status": status_changes / seconds,
            "it_s": its, "gap_ms": statistics.median(gaps) if gaps else float("nan"),
            "gap_max_ms": max(gaps) if gaps else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--first-seed", type=int, default=101)
    parser.add_argument("--no-pause-check", action="store_true",
                        help="keep every session playing the whole time")
    parser.add_argument("--log", default=str(ROOT / "artifacts" / "streamlit-bench_sessions.log"))
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("needs playwright (pip install playwright) and Debian's chromium")

    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(Path(args.log))
    print(f"server pid {proc.pid} at {url}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    seeds = [args.first_seed + i for i in range(args.sessions)]
    problems: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = []
            for seed in seeds:
                context = browser.new_context(viewport={"width": 1400, "height": 950})
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(f"{url}/?seed={seed}")
                pages.append(page)
            for page in pages:
                page.wait_for_selector(".gx-player .js-plotly-plot")
                page.wait_for_selector("[data-test-script-state='notRunning']")
            threads_idle = threads(proc.pid)
            for page in pages:
                page.evaluate(RECORDER)
            for page in pages:
                page.locator(".st-key-live_playback button", has_text="Play").click()
            # measure from the moment every session is playing and has drawn a frame
            for page in pages:
                deadline = time.time() + 120
                while iteration(page) == 0 and time.time() < deadline:
                    time.sleep(0.2)
            started = {id(pg): pg.evaluate("performance.now()") for pg in pages}
            server_cpu0, chrome_cpu0, wall0 = (cpu_seconds(proc.pid), chromium_cpu_seconds(),
                                               time.time())
            load_start = os.getloadavg()

            check_pause = len(pages) > 1 and not args.no_pause_check
            time.sleep(args.seconds / 2 if check_pause else args.seconds)
            threads_playing = threads(proc.pid)
            if check_pause:
                # cross-talk: pause session 0 only; its counter must freeze, the others go on
                frozen = pages[0]
                frozen.locator(".st-key-live_playback button", has_text="Pause").click()
                frozen.wait_for_selector("[data-test-script-state='notRunning']")
                time.sleep(1.0)
                frozen_at = iteration(frozen)
                others_before = [iteration(pg) for pg in pages[1:]]
                time.sleep(args.seconds / 2)
            ended = {id(pg): pg.evaluate("performance.now()") for pg in pages}
            wall_end = time.time()
            wall = wall_end - wall0
            server_cpu = cpu_seconds(proc.pid) - server_cpu0
            chrome_cpu = chromium_cpu_seconds() - chrome_cpu0
            load_end = os.getloadavg()
            if check_pause:
                if iteration(frozen) != frozen_at:
                    problems.append(f"session 0 went on after its own Pause "
                                    f"({frozen_at} -> {iteration(frozen)})")
                others_after = [iteration(pg) for pg in pages[1:]]
                for i, (a, b) in enumerate(zip(others_before, others_after), start=1):
                    if b <= a:
                        problems.append(f"session {i} stopped when session 0 paused "
                                        f"({a} -> {b})")

            rows = []
            for i, (page, seed) in enumerate(zip(pages, seeds)):
                frames = page.evaluate("window.__frames")
                # with the pause check, session 0 played only the first half
                end = (started[id(page)] + 1e3 * args.seconds / 2 if i == 0 and check_pause
                       else ended[id(page)])
                stats = analyse(frames, started[id(page)], end)
                seed_widget = page.locator(".st-key-cfg_seed input").input_value()
                own_url = f"seed={seed}" in page.url
                if not own_url or seed_widget != str(seed):
                    problems.append(f"session {i}: URL {page.url} / seed widget {seed_widget}, "
                                    f"expected seed {seed}")
                if page.locator("[data-testid='stException']").count():
                    problems.append(f"session {i}: an exception is shown on the page")
                rows.append((i, seed, page.url.split("?")[-1], seed_widget, iteration(page),
                             stats))
            for page in pages[1 if check_pause else 0:]:
                page.locator(".st-key-live_playback button", has_text="Pause").click()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

    print(f"\n{args.sessions} sessions, {args.seconds:.0f} s of play each"
          f"{' (session 0 paused half-way)' if check_pause else ''}; load average at start {' '.join(f'{x:.2f}' for x in load_start)}, "
          f"at end {' '.join(f'{x:.2f}' for x in load_end)}")
    print(f"{'session':>7} {'query':>12} {'seed box':>8} {'iterations':>10} {'fig fps':>7} "
          f"{'status fps':>10} {'it/s':>6} {'median gap ms':>13} {'max gap ms':>10}")
    for i, seed, query, widget, its, s in rows:
        print(f"{i:>7} {query:>12} {widget:>8} {its:>10,} {s['fps_figure']:>7.2f} "
              f"{s['fps_status']:>10.2f} {s['it_s']:>6.0f} {s['gap_ms']:>13.0f} "
              f"{s['gap_max_ms']:>10.0f}")
    playing = [r[5] for r in rows[1 if check_pause else 0:]]
    print(f"mean over the sessions that played throughout: "
          f"{statistics.mean(s['fps_figure'] for s in playing):.2f} figure frames/s, "
          f"{statistics.mean(s['it_s'] for s in playing):.0f} it/s; all sessions together "
          f"{sum(s['it_s'] for s in playing):.0f} it/s")
    print(f"server process: {server_cpu / wall:.0%} of one core over the run, threads "
          f"{threads_idle} idle -> {threads_playing} playing; chromium (all processes): "
          f"{chrome_cpu / wall:.0%} of one core")
    print("no cross-talk: every session kept its seed, counters independent"
          if not problems else "PROBLEMS:\n  " + "\n  ".join(problems))
    log_text = Path(args.log).read_text(errors="replace")
    if "Traceback" in log_text:
        print(f"server log has a traceback: see {args.log}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
