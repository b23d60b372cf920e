"""Training on a thread of its own while a page plays, turned into frames for the browser player.

Why a thread: the browser draws while the server trains. A page's training used to run inside
the script's timer tick, so the two took turns (and a click waited for the tick). Here a
`Stream` trains its Group continuously on a daemon thread, and every `frame_every` iterations
(or `frame_seconds` of training) makes a compact frame (gan_draw.frames) into an outbox. The
page's fragment, rerun each time the player asks for more (explorer/player.py), sends the
frames the browser has not received yet.

Flow control: the player reports the last frame it has drawn. The thread never runs more than
`max_ahead` frames ahead of it (16: the player's queue of ~0.5 s plus the frames made during a
report's round trip, at 15 frames/s; with 8, the thread waited on the browser while the browser
paced itself by the frames arriving, and the two settled near 9 frames/s with both cores idle
half the time): it waits (Live, so frames stay `frame_every` iterations apart)
or trains on without making frames (Compare and Lecture, which show time-based frames). With no
report for STALL_SECONDS (the tab was closed or hidden), it stops training altogether, so an
abandoned session costs nothing; after IDLE_EXIT_SECONDS of that the thread exits and the page
starts a new one when it plays again.

Epochs: what the player shows is rebuilt (new templates) whenever the run, the layers or the
mode change (`rebase`); frames of an older epoch are dropped on both sides.
"""
from __future__ import annotations

import collections
import itertools
import threading
import time

from gan_draw import frames as wire

STALL_SECONDS = 3.0
IDLE_EXIT_SECONDS = 60.0
CHART_SECONDS = 0.5          # side charts and slow figures (the mode bars) change at most
                             # twice a second: redrawing them costs the browser as much as a frame
OUTBOX = 64                  # frames kept for resending (a player asks from what it has)


# Epoch and frame numbers are unique in the process, so a player never mistakes a new run's
# epoch or frames for ones it has already drawn (a page's run is replaced on Reset, a fork...).
_EPOCHS = itertools.count(1)
_FRAMES = itertools.count(1)


class FrameMaker:
    """Turns the state of a group into the player's payloads, through a `view` (explorer/views):
    `static()` is the page's layout and a template of every figure, `frame()` what changed."""

    def __init__(self, view):
        self.view = view
        self.epoch = 0
        self.seq = 0
        self._static: dict = {}
        self._chart_since: dict[str, float] = {}
        self._chart_time = 0.0

    def rebase(self, group, replay=None, still: bool = False) -> dict:
        """A new epoch whose templates are the group's current figures (or those recorded at
        iteration `replay`); returns its static part. A `still` epoch is drawn once (paused),
        not animated."""
        self.epoch = next(_EPOCHS)
        snaps = self.view.snapshots(group, replay)
        figures = self.view.figures(group, snaps, fresh=True, still=still)
        charts = self.view.charts(group, replay)
        # the templates take the frames' form (a still differs, drawn once): play that goes on
        # from a still then changes no trace, which would cost the browser a full replot
        self._templates = (self.view.figures(group, snaps, fresh=False, still=False)
                           if still else figures)
        self._charts = charts
        self._chart_since = {cid: _last_x(fig) for cid, fig in charts.items()}
        self._chart_time = time.perf_counter()
        self._static = {"blocks": self.view.blocks(group),
                        "figures": wire.to_wire(self._templates),
                        "charts": {cid: wire.to_wire(fig, binary=False)
                                   for cid, fig in charts.items()}}
        self._first = self._frame(figures, self.view.texts(group, snaps), {})
        return self._static

    @property
    def static(self) -> dict:
        return self._static

    @property
    def first(self) -> dict:
        """The epoch's own frame (what a still shows)."""
        return self._first

    def frame(self, group, rate: float = 0.0) -> dict:
        """The group now, as changes to this epoch's templates (charts grow every
        CHART_SECONDS)."""
        snaps = self.view.snapshots(group, None)
        now = time.perf_counter()
        slow_turn = now - self._chart_time >= CHART_SECONDS
        figures = self.view.figures(group, snaps, slow=slow_turn)
        charts = {}
        if slow_turn:
            self._chart_time = now
            charts = self._chart_changes(group)
        return self._frame(figures, self.view.texts(group, snaps, rate=rate), charts)

    def _frame(self, figures: dict, texts: dict, charts: dict) -> dict:
        self.seq = next(_FRAMES)
        diffs = {fid: wire.figure_diff(fig, self._templates[fid]) if fid in self._templates
                 else {"data": [[-1, wire.to_wire(t)] for t in fig["data"]],
                       "layout": wire.to_wire(fig["layout"])}
                 for fid, fig in figures.items()}
        return {"seq": self.seq, "figs": diffs, "html": texts, "charts": charts}

    def _chart_changes(self, group) -> dict:
        changes = {}
        for cid, fig in self.view.charts(group, None).items():
            since = self._chart_since.get(cid, float("-inf"))
            template = self._charts.get(cid)
            append = (None if template is None else
                      wire.chart_append(fig, template, since, every=self.view.chart_every))
            if append is None:
                self._charts[cid] = fig
                changes[cid] = {"fig": wire.to_wire(fig, binary=False)}
            elif any(len(x) for x in append["x"]):
                changes[cid] = append
            self._chart_since[cid] = max(since, _last_x(fig))
        return changes


def _last_x(fig: dict) -> float:
    xs = [float(x[-1]) for _, x, _ in wire.line_series(fig) if len(x)]
    return max(xs, default=float("-inf"))


class Stream:
    """A group trained on a daemon thread while `playing`, with frames in an outbox.

    `advance(group) -> int` trains one step of the page's kind and returns the iterations it
    ran (0: the run cannot go on: diverged, or its goal is reached). A frame is made after
    `frame_every` iterations when that is set, else after `frame_seconds` of training.
    """

    def __init__(self, group, view, *, frame_every: int | None = None,
                 frame_seconds: float = 0.12, max_ahead: int = 16,
                 stop_at: int | None = None):
        self.group = group
        self.maker = FrameMaker(view)
        self.frame_every = frame_every
        self.frame_seconds = frame_seconds
        self.max_ahead = max_ahead
        self.stop_at = stop_at
        self.playing = False
        self.finished = False          # the run stopped by itself (diverged, goal reached)
        self.rate = 0.0                # iterations per second while playing (smoothed)
        self._outbox: collections.deque = collections.deque(maxlen=OUTBOX)
        self._cond = threading.Condition()
        self._run_lock = threading.Lock()   # held while the thread trains one step
        self._drawn = 0                # the last frame the player says it drew
        self._heard = time.monotonic()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ the script's side
    def rebase(self, replay=None, still: bool = False) -> None:
        """New templates from the group now (or at recorded iteration `replay`)."""
        with self._run_lock, self._cond:
            self.maker.rebase(self.group, replay, still)
            self._outbox.clear()
            self._drawn = self.maker.seq

    def play(self) -> None:
        with self._cond:
            if self.finished:
                return
            self.playing = True
            self._heard = time.monotonic()
            self._cond.notify_all()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="gan-explorer-stream")
            self._thread.start()

    def pause(self) -> None:
        """Stop training; returns once no step is under way (the group is then still)."""
        with self._cond:
            self.playing = False
            self._cond.notify_all()
        with self._run_lock:
            pass

    def heard(self, drawn: int) -> None:
        """The player drew frame `drawn` (of this epoch or an older one)."""
        with self._cond:
            self._drawn = max(self._drawn, int(drawn))
            self._heard = time.monotonic()
            self._cond.notify_all()

    def frames_after(self, seq: int) -> list[dict]:
        """The outbox's frames newer than `seq` (the player's last received), oldest first."""
        with self._cond:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            return [f for f in self._outbox if f["seq"] > seq]

    def wait_for_frames(self, seq: int, timeout: float) -> list[dict]:
        """frames_after(seq), waiting up to `timeout` s for one while playing."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self.playing and not any(f["seq"] > seq for f in self._outbox)
                   and time.monotonic() < deadline):
                self._cond.wait(max(deadline - time.monotonic(), 0.0))
        return self.frames_after(seq)

    # ------------------------------------------------------------------ the thread's side
    def _may_train(self) -> bool:
        """Wait until training is allowed; False when the thread should exit."""
        with self._cond:
            idle_since = None
            while True:
                if not self.playing:
                    return False
                stalled = time.monotonic() - self._heard > STALL_SECONDS
                if not stalled:
                    return True
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
                    return False
                self._cond.wait(0.25)

    def _behind(self) -> bool:
        """`max_ahead` frames made that the player has not drawn yet."""
        return sum(f["seq"] > self._drawn for f in self._outbox) >= self.max_ahead

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as err:     # shown by the page on its next run
            with self._cond:
                self._error = err
                self.playing = False
                self._cond.notify_all()

    def _loop(self) -> None:
        since_frame, started = 0, time.perf_counter()
        last_t, last_it = time.perf_counter(), self.group.iteration
        while self._may_train():
            with self._cond:
                while self.playing and self.frame_every and self._behind():
                    if time.monotonic() - self._heard > STALL_SECONDS:
                        break
                    self._cond.wait(0.05)       # Live: wait for the browser
                if not self.playing:
                    return
            with self._run_lock:
                if not self.playing:
                    return
                ran = self._advance()
                if not ran:
                    self._finish()
                    return
                since_frame += ran
                due = (since_frame >= self.frame_every if self.frame_every
                       else time.perf_counter() - started >= self.frame_seconds)
                if due and not self._behind():
                    now = time.perf_counter()
                    done = self.group.iteration - last_it
                    if now > last_t and done > 0:
                        self.rate = done / (now - last_t) if not self.rate else \
                            0.7 * self.rate + 0.3 * done / (now - last_t)
                    last_t, last_it = now, self.group.iteration
                    frame = self.maker.frame(self.group, rate=self.rate)
                    with self._cond:
                        self._outbox.append(frame)
                        self._cond.notify_all()
                    since_frame, started = 0, time.perf_counter()

    def _advance(self) -> int:
        if self.stop_at is not None and self.group.iteration >= self.stop_at:
            return 0
        return self.group.step(1)

    def _finish(self) -> None:
        frame = self.maker.frame(self.group, rate=self.rate)
        with self._cond:
            self._outbox.append(frame)
            self.finished = True
            self.playing = False
            self._cond.notify_all()
