"""Frame pacing: never send frames faster than the browser takes them.

Streamlit queues each session's outgoing messages (every chart of a frame is one) and, when
the queue of its websocket reaches 500, drops the session without a word: the page freezes and
Pause no longer answers. A browser that draws slower than the server trains and draws (six
plotly panels in a software-rendering chromium take over a second) falls behind by ~30
messages a frame and is dropped within a minute or two. So before each frame the animated
views look at the queue and, while the browser is behind, keep training instead of drawing,
until it has caught up or the user asked for something (a click must not wait for the
browser's backlog). Paused frames wait too: a browser that is behind has not yet heard that
the timer stopped, and its timer keeps asking for frames.

Both looks are at Streamlit's private state (starlette server, 1.5x-1.6x): where it cannot be
read (AppTest, another server or version) the backlog counts as 0 and nothing waits.
"""
from __future__ import annotations

import time
from typing import Callable

BACKLOG_LIMIT = 60      # messages queued for the browser: about two Compare frames
MAX_WAIT_S = 10.0       # a safety bound; a click ends the wait at once
IDLE_POLL_S = 0.02


def backlog() -> int:
    """Messages of this session waiting to go to the browser (0 when it cannot be known)."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        info = Runtime.instance()._session_mgr.get_active_session_info(ctx.session_id)
        return int(info.client._send_queue.qsize())
    except Exception:           # no server, no session, or Streamlit's internals moved
        return 0


def user_waiting() -> bool:
    """True when a rerun the user caused (a click, a changed setting) is pending, or this run
    was told to stop (Streamlit may start the user's rerun on a new thread meanwhile); the
    timer's own fragment reruns do not count. False when it cannot be known."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        requests = get_script_run_ctx().script_requests
        if requests._state.name == "STOP":
            return True
        if requests._state.name != "RERUN":
            return False
        data = requests._rerun_data
        return bool(data.is_fragment_scoped_rerun or not (data.fragment_id
                                                          or data.fragment_id_queue))
    except Exception:
        return False


def train_while_behind(train: Callable[[], int] | None, behind: Callable[[], int] = backlog,
                       interrupted: Callable[[], bool] = user_waiting,
                       limit: int = BACKLOG_LIMIT, max_wait: float = MAX_WAIT_S) -> int:
    """While more than `limit` messages wait for the browser, call `train()` (iterations it
    ran; 0 when the run cannot go on) or, without it, just wait; stop early when
    `interrupted()`, and after `max_wait` s in any case. Returns the iterations trained."""
    deadline = time.perf_counter() + max_wait
    done = 0
    while behind() > limit and not interrupted() and time.perf_counter() < deadline:
        ran = train() if train is not None else 0
        done += ran
        if not ran:
            time.sleep(IDLE_POLL_S)
    return done
